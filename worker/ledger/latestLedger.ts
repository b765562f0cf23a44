/** The ledger a publishing tick attests to: the issuer's newest complete one. */
import type { LedgerReading } from "../../core/valuation/readings.js";
import { toLedgerRecord, type LedgerDbRow } from "./ledgerStore.js";

/**
 * The issuer's most recently completed ledger, or null when it has none.
 * Validating, building and failed ledgers are never returned.
 *
 * @example
 * const ledger = await latestCompleteLedger(env.DB, "example-stable");
 */
export async function latestCompleteLedger(db: D1Database, issuerId: string): Promise<LedgerReading | null> {
  const row = await db
    .prepare(
      `SELECT * FROM ledgers WHERE issuer_id = ?1 AND status = 'complete'
       ORDER BY completed_at DESC, rowid DESC LIMIT 1`,
    )
    .bind(issuerId)
    .first<LedgerDbRow>();
  if (row === null) return null;
  const ledger = toLedgerRecord(row);
  if (ledger.root === null || ledger.rootSums === null) return null;
  return { ledgerId: ledger.ledgerId, assets: ledger.assets, root: ledger.root, rootSums: ledger.rootSums, users: ledger.rows };
}
