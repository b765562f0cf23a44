/**
 * The cron's sweep of unfinished ledgers, so none stays unfinished forever:
 *
 * - a ledger building whose build has not moved for `resumeAfterSeconds`
 *   (lost fan-out messages, a send that failed after the ledger was marked
 *   building, a dead in-request build) gets its start message again; the start
 *   sends only the steps its marks lack (shardedBuild.ts resumeMessages), or
 *   fails the ledger when its rows are gone;
 * - a ledger still validating or building `maxAgeSeconds` after its creation
 *   (an abandoned multi-part upload, a build that never finishes) is failed,
 *   and its objects deleted. Complete ledgers are never touched.
 *
 * A resumed build that completes for an asOf no newer than the current
 * ledger's ends superseded (ledgerStore.ts markLedgerComplete): resuming never
 * makes an older ledger current. The wait before resuming is 10 minutes, or
 * the LEDGER_RESUME_AFTER_SECONDS variable (whole seconds; the fault suite
 * sets it low so a killed build resumes within a test).
 */
import { failLedger } from "./ledgerLifecycle.js";
import { getLedger, listIdleLedgers, touchLedger } from "./ledgerStore.js";
import type { LedgerStartMessage } from "./shardedBuild.js";

export interface SweepOptions {
  /** Unix seconds (default: the clock). */
  now?: number;
  /** A build idle this long is resumed (default 10 minutes). */
  resumeAfterSeconds?: number;
  /** An unfinished ledger this old is failed (default 24 hours). */
  maxAgeSeconds?: number;
}

export interface SweepResult {
  resumed: string[];
  failed: string[];
}

export const LEDGER_RESUME_AFTER_SECONDS = 600;
export const LEDGER_MAX_AGE_SECONDS = 24 * 3600;

/** LEDGER_RESUME_AFTER_SECONDS when it is whole seconds (1 .. 86400), else the default (a bad value is logged, never fatal). */
export function resumeAfterFromEnv(raw: unknown): number {
  if (raw === undefined || raw === "") return LEDGER_RESUME_AFTER_SECONDS;
  if (typeof raw === "string" && /^[1-9][0-9]{0,4}$/.test(raw) && Number(raw) <= 86400) return Number(raw);
  console.warn(
    `LEDGER_RESUME_AFTER_SECONDS must be whole seconds from 1 to 86400; using ${LEDGER_RESUME_AFTER_SECONDS}`,
  );
  return LEDGER_RESUME_AFTER_SECONDS;
}

export async function sweepLedgers(
  env: { DB: D1Database; BUCKET: R2Bucket; LEDGER_QUEUE: Queue<unknown>; LEDGER_RESUME_AFTER_SECONDS?: unknown },
  options: SweepOptions = {},
): Promise<SweepResult> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const resumeAfter = options.resumeAfterSeconds ?? resumeAfterFromEnv(env.LEDGER_RESUME_AFTER_SECONDS);
  const maxAge = options.maxAgeSeconds ?? LEDGER_MAX_AGE_SECONDS;
  const result: SweepResult = { resumed: [], failed: [] };
  for (const idle of await listIdleLedgers(env.DB, now - resumeAfter, now - maxAge)) {
    if (idle.createdAt <= now - maxAge) {
      const hours = Math.round(maxAge / 360) / 10;
      const reason = `not complete ${hours} hours after its creation (${idle.status === "validating" ? "the upload was never completed" : "the build did not finish"})`;
      if (await failLedger(env, idle.ledgerId, { reason }, "ledger sweep cleanup")) result.failed.push(idle.ledgerId);
      continue;
    }
    if (idle.status !== "building" || idle.updatedAt > now - resumeAfter) continue;
    // Re-read: it may have moved since the list.
    const ledger = await getLedger(env.DB, idle.ledgerId);
    if (ledger?.status !== "building") continue;
    await touchLedger(env.DB, idle.ledgerId);
    const message: LedgerStartMessage = { ledgerId: idle.ledgerId, issuerId: idle.issuerId };
    await env.LEDGER_QUEUE.send(message);
    result.resumed.push(idle.ledgerId);
  }
  return result;
}
