import { DurableObject } from "cloudflare:workers";
import type { SolventConfig } from "../../core/config/schema.js";
import { alertAfterPublish, type PublishAttempt } from "../alerts/afterPublish.js";
import { loadConfig } from "../config/loadConfig.js";
import type { Env } from "../env.js";
import { type PublishOutcome, publishTickWithFacts } from "./publishTick.js";

/** What the object remembers of its last attempt, for the status route. */
export interface PublisherStatus {
  lastAttemptAt: number | null;
  lastOutcome: PublishOutcome | { published: false; issuerId: string; code: "FAILED"; reason: string } | null;
}

/**
 * One instance per issuer (idFromName(issuerId)). Every publish of that
 * issuer runs here, strictly one after another: an overlapping cron tick or a
 * retried admin trigger waits for the running one and then publishes the
 * next sequence (or finds nothing new to do), never the same one twice.
 */
export class IssuerPublisher extends DurableObject<Env> {
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled. */
  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Publishes the issuer's next attestation (RPC method). */
  async publish(issuerId: string): Promise<PublishOutcome> {
    return this.serialised(async () => {
      const attemptAt = Math.floor(Date.now() / 1000);
      let config: SolventConfig | undefined;
      try {
        config = loadConfig(this.env);
        const { outcome, published } = await publishTickWithFacts({
          env: this.env,
          config,
          issuerId,
          now: BigInt(attemptAt),
        });
        await this.remember(attemptAt, outcome);
        // The alerts get what this publish computed (the stored row, its predecessor, the flag reasons) instead of reading it back.
        this.alertAfter(config, issuerId, attemptAt, { outcome, published });
        return outcome;
      } catch (e) {
        // Nothing was committed: the D1 row is written last. Say why, keep the object healthy.
        const reason = e instanceof Error ? e.message : String(e);
        console.error(`publish ${issuerId} failed`, reason);
        await this.remember(attemptAt, { published: false, issuerId, code: "FAILED", reason });
        if (config) this.alertAfter(config, issuerId, attemptAt, { error: e });
        throw e;
      }
    });
  }

  /**
   * Alerts of the attempt (worker/alerts), after it is over and outside the
   * serialised queue: the answer and the next publish never wait for them,
   * and alertAfterPublish never throws.
   */
  private alertAfter(config: SolventConfig, issuerId: string, now: number, attempt: PublishAttempt): void {
    try {
      if (!config.issuers.find((i) => i.id === issuerId)?.alerts) return;
      this.ctx.waitUntil(alertAfterPublish({ env: this.env, config, issuerId, attempt, now }));
    } catch (e) {
      console.error(`alerts of ${issuerId} not started`, e instanceof Error ? e.message : String(e));
    }
  }

  async status(): Promise<PublisherStatus> {
    return (await this.ctx.storage.get<PublisherStatus>("status")) ?? { lastAttemptAt: null, lastOutcome: null };
  }

  private async remember(at: number, outcome: PublisherStatus["lastOutcome"]): Promise<void> {
    await this.ctx.storage.put<PublisherStatus>("status", { lastAttemptAt: at, lastOutcome: outcome });
  }
}

/** The issuer's publisher object (the PUBLISHER binding is declared with this class in wrangler.toml). */
export function publisherFor(env: Pick<Env, "PUBLISHER">, issuerId: string): DurableObjectStub<IssuerPublisher> {
  const namespace = env.PUBLISHER as unknown as DurableObjectNamespace<IssuerPublisher>;
  return namespace.get(namespace.idFromName(issuerId));
}
