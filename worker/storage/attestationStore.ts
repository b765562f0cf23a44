import {
  type Attestation,
  attestationDigest,
  attestationFromJson,
  attestationToJson,
  issuerKey,
} from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";

/** One published attestation as stored in D1 (migrations/0001_init.sql `attestations`). */
export interface StoredAttestation {
  issuerId: string;
  attestation: Attestation;
  /** EIP-712 digest of `attestation` (SPEC §5). */
  digest: Hex;
  /** 65-byte signature over `digest`. */
  signature: Hex;
  /** Lowercase address of the key that signed (SPEC §7). */
  signer: Hex;
  /** R2 key of the report bytes (worker/storage/reportStore.ts). */
  reportKey: string;
  reportHash: Hex;
  /** The liability ledger snapshot this attestation commits to, if any. */
  ledgerId: string | null;
  /** Unix seconds when it was stored. */
  publishedAt: number;
}

/** The latest attestation of one issuer, for `GET /v1/issuers`. */
export interface IssuerSummary {
  issuerId: string;
  sequence: bigint;
  ratioBps: number;
  flags: bigint;
  observedAt: bigint;
}

export interface AttestationPage {
  /** Newest first. */
  attestations: StoredAttestation[];
  /** Pass as `before` for the next (older) page; null when this page reaches sequence 1. */
  nextBefore: bigint | null;
}

/** Another attestation already holds (issuer, sequence): nothing was written. */
export class SequenceTakenError extends Error {
  override readonly name = "SequenceTakenError";
  constructor(
    readonly issuerId: string,
    readonly sequence: bigint,
  ) {
    super(`issuer ${issuerId} already has an attestation with sequence ${sequence}`);
  }
}

/** The attestation does not follow the stored one before it (SPEC §5 hash chain): nothing was written. */
export class ChainBrokenError extends Error {
  override readonly name = "ChainBrokenError";
  constructor(
    readonly issuerId: string,
    readonly sequence: bigint,
  ) {
    super(
      `attestation ${sequence} of issuer ${issuerId} does not commit to the stored digest of sequence ${sequence - 1n}`,
    );
  }
}

interface AttestationRow {
  issuer_id: string;
  sequence: number;
  digest: string;
  signer: string;
  signature: string;
  attestation_json: string;
  report_key: string;
  report_hash: string;
  ledger_id: string | null;
  published_at: number;
}

const COLUMNS =
  "issuer_id, sequence, digest, signer, signature, attestation_json, report_key, report_hash, ledger_id, published_at";

function safeInteger(value: bigint, field: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${field} ${value} does not fit the INTEGER column (max 2^53 - 1)`);
  }
  return Number(value);
}

function fromRow(row: AttestationRow): StoredAttestation {
  return {
    issuerId: row.issuer_id,
    attestation: attestationFromJson(JSON.parse(row.attestation_json)),
    digest: row.digest as Hex,
    signature: row.signature as Hex,
    signer: row.signer as Hex,
    reportKey: row.report_key,
    reportHash: row.report_hash as Hex,
    ledgerId: row.ledger_id,
    publishedAt: row.published_at,
  };
}

/** The sequence as a bind value, or null when it is beyond anything storable (so nothing can match). */
function sequenceParam(sequence: bigint): number | null {
  return sequence >= 1n && sequence <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sequence) : null;
}

/**
 * Appends one attestation. The record must be self-consistent (digest,
 * issuer and reportHash are re-derived and compared); the database refuses a
 * taken (issuer, sequence) with SequenceTakenError and a broken hash chain
 * with ChainBrokenError. Nothing is ever overwritten.
 */
export async function insertAttestation(db: D1Database, record: StoredAttestation): Promise<void> {
  const a = record.attestation;
  const json = attestationToJson(a);
  if (attestationDigest(a) !== record.digest.toLowerCase())
    throw new Error(`digest ${record.digest} is not the EIP-712 digest of the attestation`);
  if (issuerKey(record.issuerId) !== a.issuer)
    throw new Error(`attestation.issuer is not keccak256("${record.issuerId}")`);
  if (record.reportHash.toLowerCase() !== a.reportHash)
    throw new Error(`reportHash ${record.reportHash} differs from attestation.reportHash`);
  const statement = db
    .prepare(
      `INSERT INTO attestations (issuer_id, sequence, digest, previous, signer, signature, attestation_json, observed_at,
         valid_until, ratio_bps, flags, reserves_usd, liabilities_usd, report_key, report_hash, ledger_id, published_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)`,
    )
    .bind(
      record.issuerId,
      safeInteger(a.sequence, "sequence"),
      record.digest.toLowerCase(),
      a.previous,
      record.signer.toLowerCase(),
      record.signature.toLowerCase(),
      JSON.stringify(json),
      safeInteger(a.observedAt, "observedAt"),
      safeInteger(a.validUntil, "validUntil"),
      a.ratioBps,
      json.flags,
      json.reservesUsd,
      json.liabilitiesUsd,
      record.reportKey,
      a.reportHash,
      record.ledgerId,
      record.publishedAt,
    );
  try {
    await statement.run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes("SEQUENCE_TAKEN") || /UNIQUE constraint failed: attestations\./.test(message)) {
      throw new SequenceTakenError(record.issuerId, a.sequence);
    }
    if (message.includes("CHAIN_BROKEN")) throw new ChainBrokenError(record.issuerId, a.sequence);
    throw error;
  }
}

export async function latestAttestation(db: D1Database, issuerId: string): Promise<StoredAttestation | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM attestations WHERE issuer_id = ?1 ORDER BY sequence DESC LIMIT 1`)
    .bind(issuerId)
    .first<AttestationRow>();
  return row ? fromRow(row) : null;
}

export async function attestationBySequence(
  db: D1Database,
  issuerId: string,
  sequence: bigint,
): Promise<StoredAttestation | null> {
  const seq = sequenceParam(sequence);
  if (seq === null) return null;
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM attestations WHERE issuer_id = ?1 AND sequence = ?2`)
    .bind(issuerId, seq)
    .first<AttestationRow>();
  return row ? fromRow(row) : null;
}

/** Up to `limit` attestations with sequence < `before` (all when absent), newest first. */
export async function attestationPage(
  db: D1Database,
  issuerId: string,
  options: { before?: bigint; limit: number },
): Promise<AttestationPage> {
  const { before, limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit ${limit} must be a positive integer`);
  // Any `before` beyond the INTEGER range is past every stored sequence.
  const beforeParam = before === undefined || before > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(before);
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM attestations WHERE issuer_id = ?1 AND (?2 IS NULL OR sequence < ?2)
       ORDER BY sequence DESC LIMIT ?3`,
    )
    .bind(issuerId, beforeParam, limit)
    .all<AttestationRow>();
  const attestations = results.map(fromRow);
  const last = attestations.at(-1);
  // Sequences have no gaps, so the page is the last one exactly when it ends at 1.
  const nextBefore =
    last !== undefined && attestations.length === limit && last.attestation.sequence > 1n
      ? last.attestation.sequence
      : null;
  return { attestations, nextBefore };
}

/**
 * Attestations `from` to `to` (inclusive), oldest first. The caller bounds the
 * span; sequences beyond the INTEGER range match nothing.
 */
export async function attestationRange(
  db: D1Database,
  issuerId: string,
  from: bigint,
  to: bigint,
): Promise<StoredAttestation[]> {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (from > max || to < from) return [];
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM attestations WHERE issuer_id = ?1 AND sequence >= ?2 AND sequence <= ?3 ORDER BY sequence ASC`,
    )
    .bind(issuerId, Number(from), Number(to > max ? max : to))
    .all<AttestationRow>();
  return results.map(fromRow);
}

/** The latest attestation of every issuer that has one. */
export async function issuerSummaries(db: D1Database): Promise<IssuerSummary[]> {
  const { results } = await db
    .prepare(
      `SELECT a.issuer_id, a.sequence, a.ratio_bps, a.flags, a.observed_at
       FROM attestations a
       JOIN (SELECT issuer_id, MAX(sequence) AS sequence FROM attestations GROUP BY issuer_id) m
         ON a.issuer_id = m.issuer_id AND a.sequence = m.sequence
       ORDER BY a.issuer_id`,
    )
    .all<{ issuer_id: string; sequence: number; ratio_bps: number; flags: string; observed_at: number }>();
  return results.map((r) => ({
    issuerId: r.issuer_id,
    sequence: BigInt(r.sequence),
    ratioBps: r.ratio_bps,
    flags: BigInt(r.flags),
    observedAt: BigInt(r.observed_at),
  }));
}
