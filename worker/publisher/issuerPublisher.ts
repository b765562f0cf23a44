import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";

/**
 * One instance per issuer (idFromName(issuerId)). Every publish of that
 * issuer runs here, strictly one after another.
 */
export class IssuerPublisher extends DurableObject<Env> {
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled. */
  protected serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
