import type { Address } from "viem";
import type { Hex } from "../../core/bytes.js";
import type { IssuerConfig } from "../../core/config/schema.js";
import {
  type CustodianStatement,
  type CustodianStatementRejection,
  checkCustodianStatement,
  custodianStatementDigest,
} from "../../core/custodianStatement.js";
import { echo } from "../../core/errors.js";
import {
  insertStatement,
  lastAcceptedNonce,
  NonceNotNewerError,
  type StoredStatement,
} from "../storage/statementStore.js";

/** Why a statement was refused: the SPEC §9 checks plus the configuration checks done here. */
export type StatementRejectionReason = CustodianStatementRejection | "UNKNOWN_CUSTODIAN" | "UNKNOWN_ACCOUNT";

/** A statement that is well-formed but not accepted; `reason` says which check refused it. */
export class StatementRejectedError extends Error {
  override readonly name = "StatementRejectedError";
  constructor(
    readonly reason: StatementRejectionReason,
    message: string,
  ) {
    super(message);
  }
}

function reject(reason: StatementRejectionReason, message: string): never {
  throw new StatementRejectedError(reason, message);
}

/**
 * Checks a custodian's signed statement against the issuer's configuration
 * and SPEC §9 (signer, issuer, time window, a nonce newer than any accepted),
 * then stores it to be counted at the next publish. Throws
 * StatementRejectedError naming the failed check; stores nothing then.
 */
export async function acceptStatement(
  db: D1Database,
  issuer: IssuerConfig,
  input: { statement: CustodianStatement; signature: Hex; now: number },
): Promise<StoredStatement> {
  const { statement, signature, now } = input;
  const custodian = issuer.reserves.custodians.find((x) => x.id === statement.custodian);
  if (!custodian)
    reject("UNKNOWN_CUSTODIAN", `custodian "${echo(statement.custodian)}" is not configured for issuer "${issuer.id}"`);
  if (!custodian.accounts.some((a) => a.account === statement.account && a.asset === statement.asset)) {
    reject(
      "UNKNOWN_ACCOUNT",
      `custodian "${custodian.id}" has no configured account "${echo(statement.account)}" for asset "${echo(statement.asset)}"`,
    );
  }
  const check = await checkCustodianStatement({
    statement,
    signature,
    issuerId: issuer.id,
    registeredSigners: custodian.signers as Address[],
    now: BigInt(now),
    maxAgeSeconds: BigInt(issuer.policy.statementMaxAgeSeconds),
    lastAcceptedNonce: await lastAcceptedNonce(db, issuer.id, statement.custodian, statement.account, statement.asset),
  });
  if (!check.ok) reject(check.code, check.reason);
  const stored: StoredStatement = {
    statement,
    signature: signature.toLowerCase() as Hex,
    signer: check.signer.toLowerCase() as Hex,
    digest: custodianStatementDigest(statement),
    receivedAt: now,
  };
  try {
    await insertStatement(db, stored);
  } catch (error) {
    // A concurrent request with this nonce (or a newer one) won the insert.
    if (error instanceof NonceNotNewerError) reject("REPLAYED_NONCE", error.message);
    throw error;
  }
  return stored;
}
