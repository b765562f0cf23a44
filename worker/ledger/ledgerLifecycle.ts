/**
 * A ledger's life (SPEC §4 ledger versions): admitted for an asOf newer than
 * every ledger of its issuer that still counts, validated, built, then either
 * complete (current until a ledger with a newer asOf completes), superseded
 * (its build completed after a ledger at least as new: never current, never
 * attested) or failed. Complete and superseded ledgers are kept forever; a
 * failed one loses its objects. The rules that must hold under races live in
 * single SQL statements (ledgerStore.ts insertLedger, markLedgerComplete);
 * this module words them and reads the public history.
 */

import { isoSeconds } from "../../core/time.js";
import type { LedgerReading } from "../../core/valuation/readings.js";
import { LedgerError } from "./ledgerErrors.js";
import { type LedgerFailure, type LedgerStatus, ledgerPrefix } from "./ledgerFormat.js";
import {
  deletePrefix,
  insertLedger,
  type LedgerHistoryEntry,
  ledgerHistory,
  markLedgerFailed,
  newestCompleteLedger,
  type PrivateLedgerParams,
} from "./ledgerStore.js";
import type { LedgerFormat } from "./parseLedger.js";

/** Why a superseded ledger is never attested (its status answer). */
export const SUPERSEDED_REASON =
  "its build completed after a ledger with an asOf at least as new: it is never attested";

/** Built ledgers (complete or superseded) are immutable and kept forever. */
export const isBuilt = (status: LedgerStatus): status is "complete" | "superseded" =>
  status === "complete" || status === "superseded";

/** A time for people: unix seconds and its UTC date. */
export function describeTime(seconds: number): string {
  return `${seconds} (${isoSeconds(seconds)})`;
}

/**
 * Inserts the ledger row of a new upload for `asOf` (the upload's time `now`
 * when absent) and returns that asOf. Refuses (CONFLICT, naming both times)
 * an asOf after `now`: SPEC §4 says a ledger is never true later than its
 * upload, and no clock skew is allowed, unlike custodian statements, since a
 * ledger dated ahead of the publisher's clock could be attested by a tick
 * observing before its asOf, which every verifier would then refuse. Refuses
 * an asOf not newer than a complete, validating or building ledger of the issuer.
 */
export async function admitLedger(
  db: D1Database,
  ledger: {
    ledgerId: string;
    issuerId: string;
    format: LedgerFormat;
    assets: readonly string[];
    private?: PrivateLedgerParams;
  },
  asOf: number | undefined,
  now: number,
): Promise<number> {
  const at = asOf ?? now;
  if (at > now) {
    throw new LedgerError(
      "CONFLICT",
      `asOf ${describeTime(at)} is in the future: the publisher's clock says ${describeTime(now)}, and a ledger cannot be true later than its upload; give the time the balances were true`,
      { field: "asOf", asOf: at, now },
    );
  }
  const newer = await insertLedger(db, { ...ledger, asOf: at });
  if (newer === null) return at;
  const what =
    newer.status === "complete"
      ? `the issuer's current ledger ${newer.ledgerId} has asOf ${describeTime(newer.asOf)}`
      : `ledger ${newer.ledgerId}, still ${newer.status}, has asOf ${describeTime(newer.asOf)} (abandon it with DELETE if it should not count)`;
  throw new LedgerError(
    "CONFLICT",
    `asOf ${describeTime(at)} is not newer than ${what}: an upload must be newer than every ledger before it`,
    {
      field: "asOf",
      asOf: at,
      newerLedger: { ledgerId: newer.ledgerId, status: newer.status, asOf: newer.asOf },
    },
  );
}

/**
 * Fails an unfinished ledger (failed is final) and deletes its objects, best
 * effort; false when it was already complete, superseded or failed (then
 * nothing is deleted: a built ledger never loses its objects).
 */
export async function failLedger(
  store: { DB: D1Database; BUCKET: R2Bucket },
  ledgerId: string,
  failure: LedgerFailure,
  what = "ledger cleanup",
): Promise<boolean> {
  if (!(await markLedgerFailed(store.DB, ledgerId, failure))) return false;
  await deletePrefix(store.BUCKET, ledgerPrefix(ledgerId)).catch((e) => console.warn(what, ledgerId, e));
  return true;
}

/**
 * The ledger a publishing tick attests to: the issuer's current one, the
 * complete ledger with the newest asOf, or null when it has none. Validating,
 * building, failed and superseded ledgers are never current. Complete ledgers
 * are immutable and never deleted, and a build completing for an asOf no newer
 * than a complete ledger's ends superseded (ledgerStore.ts markLedgerComplete,
 * one statement), so once a ledger is complete no ledger with an older asOf can
 * be current again, whatever order builds finish or resume in.
 *
 * @example
 * const ledger = await latestCompleteLedger(env.DB, "example-stable");
 */
export async function latestCompleteLedger(db: D1Database, issuerId: string): Promise<LedgerReading | null> {
  const ledger = await newestCompleteLedger(db, issuerId);
  if (ledger === null || ledger.root === null || ledger.rootSums === null) return null;
  const reading: LedgerReading = {
    ledgerId: ledger.ledgerId,
    assets: ledger.assets,
    root: ledger.root,
    rootSums: ledger.rootSums,
    // A private ledger is published with its padded leaf count only.
    users: ledger.leafCount,
    asOf: ledger.asOf,
    order: ledger.leafOrder,
  };
  const facts = ledger.private?.result;
  if (facts) {
    reading.private = {
      unitDecimals: facts.unitDecimals,
      rootCommitments: facts.rootCommitments,
      totals: facts.totals.map((t) => BigInt(t)),
      totalBlindings: facts.totalBlindings,
    };
  }
  return reading;
}

/** One page of an issuer's ledger history: each entry says whether it is the current ledger. */
export interface LedgerHistoryPage {
  entries: (LedgerHistoryEntry & { current: boolean })[];
  /** The cursor of the next (older) page; null on the last page. */
  next: { asOf: number; ledgerId: string } | null;
}

/**
 * The issuer's ledgers, newest asOf first, `limit` per page after `after` (the
 * previous page's `next`); `current` marks the ledger new attestations name.
 */
export async function ledgerHistoryPage(
  db: D1Database,
  issuerId: string,
  options: { limit: number; after?: { asOf: number; ledgerId: string } },
): Promise<LedgerHistoryPage> {
  const [entries, current] = await Promise.all([
    ledgerHistory(db, issuerId, { limit: options.limit + 1, ...(options.after ? { after: options.after } : {}) }),
    latestCompleteLedger(db, issuerId),
  ]);
  const page = entries.slice(0, options.limit).map((e) => ({ ...e, current: e.ledgerId === current?.ledgerId }));
  const last = page[page.length - 1];
  return {
    entries: page,
    next: entries.length > options.limit && last ? { asOf: last.asOf, ledgerId: last.ledgerId } : null,
  };
}
