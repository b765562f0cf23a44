import type { Hex } from "../../core/bytes.js";
import {
  type CustodianStatement,
  custodianStatementToJson,
  parseCustodianStatement,
} from "../../core/custodianStatement.js";

/** A SPEC §9 statement as accepted and stored (migrations/0001_init.sql `custodian_statements`). */
export interface StoredStatement {
  statement: CustodianStatement;
  signature: Hex;
  /** Lowercase address that signed it. */
  signer: Hex;
  /** EIP-712 digest of the statement. */
  digest: Hex;
  /** Unix seconds when it was accepted. */
  receivedAt: number;
}

/** The (issuer, custodian, account, asset) already has this nonce or a newer one: nothing was written. */
export class NonceNotNewerError extends Error {
  override readonly name = "NonceNotNewerError";
  constructor(readonly statement: CustodianStatement) {
    super(
      `nonce ${statement.nonce} is not newer than one already stored for ${statement.custodian}/${statement.account}/${statement.asset}`,
    );
  }
}

interface StatementRow {
  statement_json: string;
  signature: string;
  signer: string;
  digest: string;
  received_at: number;
}

/** uint64 as 20 zero-padded digits, so SQL text order is numeric order. */
export function nonceColumn(nonce: bigint): string {
  if (nonce < 0n || nonce >= 1n << 64n) throw new RangeError(`nonce ${nonce} is not a uint64`);
  return nonce.toString(10).padStart(20, "0");
}

function fromRow(row: StatementRow): StoredStatement {
  return {
    statement: parseCustodianStatement(JSON.parse(row.statement_json)),
    signature: row.signature as Hex,
    signer: row.signer as Hex,
    digest: row.digest as Hex,
    receivedAt: row.received_at,
  };
}

/**
 * Appends an accepted statement. The database refuses a nonce that is not
 * strictly newer than every stored one for the same (issuer, custodian,
 * account, asset), inside the INSERT, so concurrent submissions of one nonce
 * cannot both land: the loser gets NonceNotNewerError.
 */
export async function insertStatement(db: D1Database, record: StoredStatement): Promise<void> {
  const s = record.statement;
  const json = custodianStatementToJson(s);
  if (s.asOf > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`asOf ${s.asOf} does not fit the INTEGER column`);
  try {
    await db
      .prepare(
        `INSERT INTO custodian_statements (issuer_id, custodian, account, asset, nonce, amount, as_of, signer, signature,
           digest, statement_json, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
      )
      .bind(
        s.issuer,
        s.custodian,
        s.account,
        s.asset,
        nonceColumn(s.nonce),
        json.amount,
        Number(s.asOf),
        record.signer.toLowerCase(),
        record.signature.toLowerCase(),
        record.digest.toLowerCase(),
        JSON.stringify(json),
        record.receivedAt,
      )
      .run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes("NONCE_NOT_NEWER") || /UNIQUE constraint failed: custodian_statements\./.test(message)) {
      throw new NonceNotNewerError(s);
    }
    throw error;
  }
}

/** The highest stored nonce for (issuer, custodian, account, asset), or null when there is none. */
export async function lastAcceptedNonce(
  db: D1Database,
  issuerId: string,
  custodian: string,
  account: string,
  asset: string,
): Promise<bigint | null> {
  const row = await db
    .prepare(
      `SELECT MAX(nonce) AS nonce FROM custodian_statements
       WHERE issuer_id = ?1 AND custodian = ?2 AND account = ?3 AND asset = ?4`,
    )
    .bind(issuerId, custodian, account, asset)
    .first<{ nonce: string | null }>();
  return row?.nonce == null ? null : BigInt(row.nonce);
}

/** For every (custodian, account, asset) of the issuer, its highest-nonce statement. */
export async function latestStatements(db: D1Database, issuerId: string): Promise<StoredStatement[]> {
  const { results } = await db
    .prepare(
      `SELECT s.statement_json, s.signature, s.signer, s.digest, s.received_at
       FROM custodian_statements s
       WHERE s.issuer_id = ?1 AND s.nonce = (
         SELECT MAX(t.nonce) FROM custodian_statements t
         WHERE t.issuer_id = s.issuer_id AND t.custodian = s.custodian AND t.account = s.account AND t.asset = s.asset)
       ORDER BY s.custodian, s.account, s.asset`,
    )
    .bind(issuerId)
    .all<StatementRow>();
  return results.map(fromRow);
}
