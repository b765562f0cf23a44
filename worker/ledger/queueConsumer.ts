/**
 * Consumer of "solvent-ledger-builds" (wrangler.toml: max_batch_size 1,
 * max_retries 3, dead-lettered): builds ledgers too large for the upload
 * request, fanned out over this same queue (message kinds: shardedBuild.ts).
 */
import { SolventError } from "../../core/errors.js";
import { blindingSecret } from "../config/secrets.js";
import type { Env } from "../env.js";
import { LedgerBuildError } from "./buildLedger.js";
import { buildPrefix } from "./ledgerFormat.js";
import { deletePrefix, getLedger, markLedgerFailed } from "./ledgerStore.js";
import {
  describeStep,
  type LedgerBuildMessage,
  type LedgerStartMessage,
  runBuildStep,
  startShardedBuild,
} from "./shardedBuild.js";

export type { LedgerBuildMessage, LedgerStartMessage, LedgerStepMessage } from "./shardedBuild.js";

/** Deliveries per message: the first plus wrangler.toml's max_retries (3). */
export const LEDGER_BUILD_MAX_ATTEMPTS = 4;
/** Queue batches carry at most 100 messages. */
const SEND_BATCH = 100;

const isId = (v: unknown) => typeof v === "string";
const isIndex = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export function isLedgerBuildMessage(body: unknown): body is LedgerBuildMessage {
  if (typeof body !== "object" || body === null) return false;
  const m = body as Record<string, unknown>;
  if (!isId(m.ledgerId)) return false;
  switch (m.kind) {
    case undefined:
    case "start":
      return isId(m.issuerId);
    case "shuffle":
      return isId(m.buildId) && isIndex(m.bucket);
    case "shard":
      return isId(m.buildId) && isIndex(m.shard);
    case "index":
      return isId(m.buildId) && isIndex(m.group);
    case "combine":
      return isId(m.buildId);
    default:
      return false;
  }
}

function isStartMessage(m: LedgerBuildMessage): m is LedgerStartMessage {
  return m.kind === undefined || m.kind === "start";
}

/** Seconds before the next attempt: 30 s, 120 s, 480 s. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 4 ** Math.max(0, attempts - 1), 3600);
}

export interface LedgerConsumerOptions {
  /** Leaves per shard for builds this consumer starts (default from the asset count). */
  shardSize?: number;
  maxAttempts?: number;
  /** Where follow-up messages go (default: env.LEDGER_QUEUE.sendBatch, 100 at a time). */
  send?: (messages: LedgerBuildMessage[]) => Promise<void>;
}

/**
 * Runs each message's step and sends the messages it fans out to. A step that
 * ends (done, stale, or failed for its rows, which fails the ledger) is acked;
 * transient trouble is retried with backoff, and on the last attempt the
 * ledger is marked failed so it is never used or published.
 */
export async function handleLedgerBuild(
  // Bodies are checked (isLedgerBuildMessage), so any batch of the queue is accepted.
  batch: MessageBatch<LedgerBuildMessage> | MessageBatch<unknown>,
  env: Pick<Env, "DB" | "BUCKET"> & Partial<Pick<Env, "LEDGER_QUEUE" | "LEDGER_BLINDING_SECRET">>,
  options: LedgerConsumerOptions = {},
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? LEDGER_BUILD_MAX_ATTEMPTS;
  // Private builds read the blinding secret when a step needs it; a missing one is retried, then fails the ledger saying so.
  const store = { db: env.DB, bucket: env.BUCKET, secret: () => blindingSecret(env as Record<string, unknown>) };
  const send =
    options.send ??
    (async (messages: LedgerBuildMessage[]) => {
      if (!env.LEDGER_QUEUE) throw new Error("LEDGER_QUEUE is not bound");
      for (let i = 0; i < messages.length; i += SEND_BATCH) {
        await env.LEDGER_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body })));
      }
    });
  for (const message of batch.messages) {
    const body = message.body;
    if (!isLedgerBuildMessage(body)) {
      console.error("ledger build: malformed message", message.id);
      message.ack();
      continue;
    }
    const { ledgerId } = body;
    const step = describeStep(body);
    try {
      const next = isStartMessage(body)
        ? await startShardedBuild(
            store,
            ledgerId,
            options.shardSize === undefined ? {} : { shardSize: options.shardSize },
          )
        : await runBuildStep(store, body);
      if (next.length > 0) await send(next);
      message.ack();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof LedgerBuildError || error instanceof SolventError) {
        // These rows can never make a tree: fail now, without retrying.
        console.warn("ledger build failed", ledgerId, step, reason);
        await failLedger(store, ledgerId, reason);
        message.ack();
      } else if (message.attempts >= maxAttempts) {
        console.error("ledger build: giving up", ledgerId, step, reason);
        try {
          await failLedger(store, ledgerId, `${step} failed after ${message.attempts} attempts: ${reason}`);
          message.ack();
        } catch (e) {
          // Still building (never used); the message goes to the dead-letter queue.
          console.error("ledger build: could not mark failed", ledgerId, e);
          message.retry();
        }
      } else {
        console.warn("ledger build: will retry", ledgerId, step, reason);
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }
  }
}

/** Marks the ledger failed (final) and drops the failed build's objects, best effort. */
async function failLedger(
  store: { db: D1Database; bucket: R2Bucket },
  ledgerId: string,
  reason: string,
): Promise<void> {
  if (!(await markLedgerFailed(store.db, ledgerId, { reason }))) return;
  const ledger = await getLedger(store.db, ledgerId);
  if (ledger?.buildId) await deletePrefix(store.bucket, buildPrefix(ledgerId, ledger.buildId)).catch(() => {});
}
