/** The ledger a publishing tick attests to: the issuer's current one (SPEC §4). */
import type { LedgerReading } from "../../core/valuation/readings.js";
import { toLedgerRecord, type LedgerDbRow } from "./ledgerStore.js";

/**
 * The issuer's current ledger: the complete one with the newest asOf (ties,
 * which uploads refuse, go to the one completed last), or null when it has
 * none. Validating, building, failed and superseded ledgers are never
 * returned. Complete ledgers are immutable and never deleted, so once a ledger
 * is complete no ledger with an older asOf can be current again, whatever
 * order builds finish or resume in.
 *
 * @example
 * const ledger = await latestCompleteLedger(env.DB, "example-stable");
 */
export async function latestCompleteLedger(db: D1Database, issuerId: string): Promise<LedgerReading | null> {
  const row = await db
    .prepare(
      `SELECT * FROM ledgers WHERE issuer_id = ?1 AND status = 'complete'
       ORDER BY as_of DESC, completed_at DESC, rowid DESC LIMIT 1`,
    )
    .bind(issuerId)
    .first<LedgerDbRow>();
  if (row === null) return null;
  const ledger = toLedgerRecord(row);
  if (ledger.root === null || ledger.rootSums === null) return null;
  return {
    ledgerId: ledger.ledgerId,
    assets: ledger.assets,
    root: ledger.root,
    rootSums: ledger.rootSums,
    users: ledger.rows,
    asOf: ledger.asOf,
    order: ledger.leafOrder,
  };
}
