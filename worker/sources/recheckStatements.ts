import type { Address, Hex } from "viem";
import type { CustodianConfig } from "../../core/config/schema.js";
import { type CustodianStatement, checkCustodianStatement } from "../../core/custodianStatement.js";
import type { StatementReading } from "../../core/valuation/readings.js";

/** A statement accepted at ingest, as stored: the latest per (custodian, account, asset). */
export interface StoredStatement {
  statement: CustodianStatement;
  signature: Hex;
}

export interface RecheckStatementsParameters {
  issuerId: string;
  custodians: readonly CustodianConfig[];
  statements: readonly StoredStatement[];
  /** Unix seconds of the tick. */
  now: bigint;
  /** policy.statementMaxAgeSeconds. */
  maxAgeSeconds: number;
}

/**
 * One StatementReading per configured (custodian, account, asset) that has a
 * stored statement: that statement re-checked at `now` (it may have gone stale,
 * or its signer been removed from the config, since ingest). An account with no
 * statement gets no reading; valuation reports it as `statement-missing`.
 * The nonce is not re-checked: the stored statement is the last accepted one.
 * Stored statements for pairs no longer configured are ignored; when several
 * are given for one pair, the highest nonce is used.
 *
 * @example
 * const statements = await recheckStatements({ issuerId: issuer.id, custodians: issuer.reserves.custodians, statements: stored, now, maxAgeSeconds: issuer.policy.statementMaxAgeSeconds });
 */
export async function recheckStatements(parameters: RecheckStatementsParameters): Promise<StatementReading[]> {
  const { issuerId, custodians, statements, now } = parameters;
  const latest = new Map<string, StoredStatement>();
  for (const stored of statements) {
    const { custodian, account, asset, nonce } = stored.statement;
    const key = keyOf(custodian, account, asset);
    const seen = latest.get(key);
    if (!seen || nonce > seen.statement.nonce) latest.set(key, stored);
  }
  const readings: Promise<StatementReading>[] = [];
  for (const custodian of custodians) {
    for (const { account, asset } of custodian.accounts) {
      const base = { custodian: custodian.id, account, asset };
      const stored = latest.get(keyOf(custodian.id, account, asset));
      if (!stored) continue;
      readings.push(
        checkCustodianStatement({
          statement: stored.statement,
          signature: stored.signature,
          issuerId,
          registeredSigners: custodian.signers as Address[],
          now,
          maxAgeSeconds: BigInt(parameters.maxAgeSeconds),
          lastAcceptedNonce: null,
        }).then((check): StatementReading => {
          if (!check.ok) return { ...base, result: { ok: false, reason: `${check.code}: ${check.reason}` } };
          const { amount, asOf, nonce } = stored.statement;
          return {
            ...base,
            result: { ok: true, value: { amount, asOf, nonce, signer: check.signer, signature: stored.signature } },
          };
        }),
      );
    }
  }
  return Promise.all(readings);
}

const keyOf = (custodian: string, account: string, asset: string): string =>
  JSON.stringify([custodian, account, asset]);
