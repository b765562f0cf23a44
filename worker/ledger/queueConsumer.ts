/**
 * Consumer of "solvent-ledger-builds" (wrangler.toml: max_batch_size 1,
 * max_retries 3, dead-lettered): builds ledgers too large for the upload request.
 */
import type { Env } from "../env.js";
import { buildLedger, type BuildLedgerOptions } from "./buildLedger.js";
import { markLedgerFailed } from "./ledgerStore.js";

/** The body of one queue message: which ledger to build. */
export interface LedgerBuildMessage {
  ledgerId: string;
  issuerId: string;
}

/** Deliveries per message: the first plus wrangler.toml's max_retries (3). */
export const LEDGER_BUILD_MAX_ATTEMPTS = 4;

export function isLedgerBuildMessage(body: unknown): body is LedgerBuildMessage {
  return (
    typeof body === "object" && body !== null && typeof (body as LedgerBuildMessage).ledgerId === "string" &&
    typeof (body as LedgerBuildMessage).issuerId === "string"
  );
}

/** Seconds before the next attempt: 30 s, 120 s, 480 s. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 4 ** Math.max(0, attempts - 1), 3600);
}

/**
 * Builds the ledger each message names. A build that ends (complete, or
 * failed for its rows) is acked; transient trouble is retried with backoff,
 * and on the last attempt the ledger is marked failed so it is never used.
 */
export async function handleLedgerBuild(
  // Bodies are checked (isLedgerBuildMessage), so any batch of the queue is accepted.
  batch: MessageBatch<LedgerBuildMessage> | MessageBatch<unknown>,
  env: Pick<Env, "DB" | "BUCKET">,
  options: BuildLedgerOptions & { maxAttempts?: number } = {},
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? LEDGER_BUILD_MAX_ATTEMPTS;
  for (const message of batch.messages) {
    if (!isLedgerBuildMessage(message.body)) {
      console.error("ledger build: malformed message", message.id);
      message.ack();
      continue;
    }
    const { ledgerId } = message.body;
    try {
      const result = await buildLedger({ db: env.DB, bucket: env.BUCKET }, ledgerId, undefined, options);
      if (result.status === "failed") console.warn("ledger build failed", ledgerId, result.reason);
      message.ack();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (message.attempts >= maxAttempts) {
        console.error("ledger build: giving up", ledgerId, reason);
        try {
          await markLedgerFailed(env.DB, ledgerId, { reason: `build failed after ${message.attempts} attempts: ${reason}` });
          message.ack();
        } catch (e) {
          // Still building (never used); the message goes to the dead-letter queue.
          console.error("ledger build: could not mark failed", ledgerId, e);
          message.retry();
        }
      } else {
        console.warn("ledger build: will retry", ledgerId, reason);
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }
  }
}
