/**
 * Verification coverage in D1 (migrations/0009_coverage.sql): which
 * commitments of a ledger had their inclusion proof served, and per ledger
 * how many. SQL lives here only.
 */
import { PUBLIC_LEAF_COUNT_SQL } from "../ledger/ledgerStore.js";

/**
 * Records that the inclusion proof of `commitment` in the ledger attested at
 * (`issuerId`, `sequence`) was served. The ledger is resolved in the same
 * statement; a commitment already recorded for that ledger writes nothing
 * (so the count is of distinct commitments), and an attestation without a
 * ledger records nothing.
 */
export async function recordProofServed(
  db: D1Database,
  issuerId: string,
  sequence: number,
  commitment: string,
): Promise<void> {
  await db
    .prepare(
      `INSERT OR IGNORE INTO coverage_checks (ledger_id, commitment)
       SELECT ledger_id, ?3 FROM attestations WHERE issuer_id = ?1 AND sequence = ?2 AND ledger_id IS NOT NULL`,
    )
    .bind(issuerId, sequence, commitment)
    .run();
}

export interface LedgerCoverage {
  ledgerId: string;
  asOf: number;
  leafCount: number;
  /** Distinct commitments of this ledger whose inclusion proof was served. */
  checked: number;
  /** The first and last attestation sequences naming this ledger. */
  attested: { from: number; to: number };
}

/**
 * The issuer's attested ledgers with their coverage, newest asOf first (ties:
 * ledger id descending), at most `limit`, after the cursor `after` (the last
 * entry of the previous page). A ledger never attested has no proofs to serve
 * and is not listed.
 */
export async function ledgerCoverage(
  db: D1Database,
  issuerId: string,
  options: { limit: number; after?: { asOf: number; ledgerId: string } },
): Promise<LedgerCoverage[]> {
  const after = options.after;
  const { results } = await db
    .prepare(
      `SELECT l.ledger_id, l.as_of, ${PUBLIC_LEAF_COUNT_SQL} AS rows, MIN(a.sequence) AS first_sequence, MAX(a.sequence) AS last_sequence,
              COALESCE((SELECT checked FROM coverage_counts c WHERE c.ledger_id = l.ledger_id), 0) AS checked
       FROM ledgers l JOIN attestations a ON a.issuer_id = l.issuer_id AND a.ledger_id = l.ledger_id
       WHERE l.issuer_id = ?1 AND (?2 IS NULL OR l.as_of < ?2 OR (l.as_of = ?2 AND l.ledger_id < ?3))
       GROUP BY l.ledger_id
       ORDER BY l.as_of DESC, l.ledger_id DESC LIMIT ?4`,
    )
    .bind(issuerId, after?.asOf ?? null, after?.ledgerId ?? "", options.limit)
    .all<{
      ledger_id: string;
      as_of: number;
      rows: number;
      first_sequence: number;
      last_sequence: number;
      checked: number;
    }>();
  return results.map((r) => ({
    ledgerId: r.ledger_id,
    asOf: r.as_of,
    leafCount: r.rows,
    checked: r.checked,
    attested: { from: r.first_sequence, to: r.last_sequence },
  }));
}
