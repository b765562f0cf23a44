/** The SPEC §12 dispute log in D1 (migrations/0008_disputes.sql): append-only, one row per receipt. */
import { type DisputeSummary, disputeSummaryToJson } from "../../core/dispute.js";
import type { LedgerReading, StandingDisputes } from "../../core/valuation/readings.js";

export interface StoredDispute {
  summary: ReturnType<typeof disputeSummaryToJson>;
  /** The bundle as it was filed (its exact JSON text), for `solvent dispute verify`. */
  bundle: unknown;
  filedAt: number;
}

interface DisputeRow {
  summary_json: string;
  bundle_json: string;
  filed_at: number;
}

function toStored(row: DisputeRow): StoredDispute {
  return {
    summary: JSON.parse(row.summary_json) as StoredDispute["summary"],
    bundle: JSON.parse(row.bundle_json) as unknown,
    filedAt: row.filed_at,
  };
}

/**
 * Stores a checked dispute unless one for the same receipt is stored already.
 * Returns the stored row and whether this call created it. A second filing of
 * the same receipt (any bundle) changes nothing: the first one stays.
 */
export async function insertDispute(
  db: D1Database,
  params: { dispute: DisputeSummary; bundleText: string; filedAt: number },
): Promise<{ created: boolean; stored: StoredDispute }> {
  const { dispute, bundleText, filedAt } = params;
  const summary = JSON.stringify(disputeSummaryToJson(dispute));
  const [insert, selected] = await db.batch<DisputeRow>([
    db
      .prepare(
        `INSERT INTO disputes (issuer_id, receipt_digest, commitment, as_of, kind, sequence, attestation_digest, ledger_id, summary_json, bundle_json, filed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
      )
      .bind(
        dispute.issuer,
        dispute.id,
        dispute.commitment,
        Number(dispute.asOf),
        dispute.kind,
        Number(dispute.sequence),
        dispute.attestationDigest,
        dispute.ledgerId,
        summary,
        bundleText,
        filedAt,
      ),
    db
      .prepare("SELECT summary_json, bundle_json, filed_at FROM disputes WHERE issuer_id = ?1 AND receipt_digest = ?2")
      .bind(dispute.issuer, dispute.id),
  ]);
  const row = selected?.results[0];
  if (row === undefined) throw new Error(`dispute ${dispute.id} of ${dispute.issuer} was not stored`);
  return { created: (insert?.meta.changes ?? 0) > 0, stored: toStored(row) };
}

/** One page of an issuer's disputes, oldest filing first, after the cursor `after` (`<filedAt>.<receiptDigest>`). */
export async function disputePage(
  db: D1Database,
  issuerId: string,
  options: { after?: { filedAt: number; id: string }; limit: number },
): Promise<{ disputes: StoredDispute[]; nextAfter: string | null }> {
  const after = options.after ?? { filedAt: -1, id: "" };
  const { results } = await db
    .prepare(
      `SELECT summary_json, bundle_json, filed_at, receipt_digest FROM disputes
       WHERE issuer_id = ?1 AND (filed_at > ?2 OR (filed_at = ?2 AND receipt_digest > ?3))
       ORDER BY filed_at, receipt_digest LIMIT ?4`,
    )
    .bind(issuerId, after.filedAt, after.id, options.limit + 1)
    .all<DisputeRow & { receipt_digest: string }>();
  const page = results.slice(0, options.limit);
  const last = page[page.length - 1];
  return {
    disputes: page.map(toStored),
    nextAfter: results.length > options.limit && last ? `${last.filed_at}.${last.receipt_digest}` : null,
  };
}

/** The disputes standing against a ledger of `asOf`: those stored for that asOf or a later one. */
export async function standingDisputes(
  db: D1Database,
  issuerId: string,
  asOf: number,
): Promise<StandingDisputes | undefined> {
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS count, SUM(kind = 'absent') AS absent, SUM(kind = 'balance-differs') AS differs, MAX(as_of) AS as_of
       FROM disputes WHERE issuer_id = ?1 AND as_of >= ?2`,
    )
    .bind(issuerId, asOf)
    .first<{ count: number; absent: number | null; differs: number | null; as_of: number | null }>();
  if (row === null || row.count === 0) return undefined;
  return { count: row.count, absent: row.absent ?? 0, balanceDiffers: row.differs ?? 0, asOf: row.as_of ?? asOf };
}

/** The ledger a tick attests, with the disputes standing against it (they raise DISPUTED). */
export async function withStandingDisputes(
  db: D1Database,
  issuerId: string,
  ledger: LedgerReading | null,
): Promise<LedgerReading | null> {
  if (ledger === null) return null;
  const disputes = await standingDisputes(db, issuerId, ledger.asOf);
  return disputes === undefined ? ledger : { ...ledger, disputes };
}
