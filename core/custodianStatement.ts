import { type Address, hashTypedData, keccak256, recoverTypedDataAddress } from "viem";
import type { LocalAccount } from "viem/accounts";
import { type Hex, utf8 } from "./bytes.js";
import { echo, fail } from "./errors.js";
import { parseAmount, UINT64_MAX, UINT256_MAX } from "./numbers.js";
import { assertLowS } from "./signature.js";

/** SPEC §9 domain. */
export const CUSTODIAN_DOMAIN = { name: "Solvent Custodian Statement", version: "1" } as const;

export const CUSTODIAN_STATEMENT_TYPES = {
  CustodianStatement: [
    { name: "issuer", type: "bytes32" },
    { name: "custodian", type: "bytes32" },
    { name: "account", type: "bytes32" },
    { name: "asset", type: "bytes32" },
    { name: "amount", type: "uint256" },
    { name: "asOf", type: "uint64" },
    { name: "nonce", type: "uint64" },
  ],
} as const;

/**
 * A statement as people write it: string ids (hashed only inside the typed
 * data) and integers as bigint. In JSON `amount`, `asOf` and `nonce` are
 * decimal strings.
 */
export interface CustodianStatement {
  issuer: string;
  custodian: string;
  account: string;
  asset: string;
  amount: bigint;
  asOf: bigint;
  nonce: bigint;
}

export interface CustodianStatementJson {
  issuer: string;
  custodian: string;
  account: string;
  asset: string;
  amount: string;
  asOf: string;
  nonce: string;
}

/** How far in the future `asOf` may lie before a statement is refused: clocks drift, but not by minutes. */
export const FUTURE_SKEW_SECONDS = 300n;

const ID_FIELDS = ["issuer", "custodian", "account", "asset"] as const;
const FIELDS = [...ID_FIELDS, "amount", "asOf", "nonce"] as const;
const MAX_BY_FIELD = { amount: UINT256_MAX, asOf: UINT64_MAX, nonce: UINT64_MAX } as const;

function parseId(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") fail("INVALID_ARGUMENT", field, "must be a non-empty string id");
  return value;
}

/** Strict parse: every field present, nothing extra, integers as in-range decimal strings. */
export function parseCustodianStatement(json: unknown): CustodianStatement {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    fail("INVALID_DOCUMENT", "statement", "must be a JSON object");
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(FIELDS as readonly string[]).includes(key))
      fail("INVALID_DOCUMENT", `statement.${echo(key)}`, "is not a SPEC §9 field");
  }
  for (const name of FIELDS) if (!(name in obj)) fail("INVALID_DOCUMENT", `statement.${name}`, "is missing");
  return {
    issuer: parseId(obj.issuer, "statement.issuer"),
    custodian: parseId(obj.custodian, "statement.custodian"),
    account: parseId(obj.account, "statement.account"),
    asset: parseId(obj.asset, "statement.asset"),
    amount: parseAmount(obj.amount, "statement.amount", MAX_BY_FIELD.amount),
    asOf: parseAmount(obj.asOf, "statement.asOf", MAX_BY_FIELD.asOf),
    nonce: parseAmount(obj.nonce, "statement.nonce", MAX_BY_FIELD.nonce),
  };
}

export function custodianStatementToJson(s: CustodianStatement): CustodianStatementJson {
  assertStatement(s);
  return {
    issuer: s.issuer,
    custodian: s.custodian,
    account: s.account,
    asset: s.asset,
    amount: s.amount.toString(10),
    asOf: s.asOf.toString(10),
    nonce: s.nonce.toString(10),
  };
}

function assertStatement(s: CustodianStatement): void {
  for (const name of ID_FIELDS) parseId(s[name], `statement.${name}`);
  for (const name of ["amount", "asOf", "nonce"] as const) {
    const value: unknown = s[name];
    if (typeof value !== "bigint" || value < 0n || value > MAX_BY_FIELD[name]) {
      fail("OUT_OF_RANGE", `statement.${name}`, `${String(value)} is out of range`);
    }
  }
}

export function custodianStatementTypedData(s: CustodianStatement) {
  assertStatement(s);
  return {
    domain: CUSTODIAN_DOMAIN,
    types: CUSTODIAN_STATEMENT_TYPES,
    primaryType: "CustodianStatement",
    message: {
      issuer: keccak256(utf8(s.issuer)),
      custodian: keccak256(utf8(s.custodian)),
      account: keccak256(utf8(s.account)),
      asset: keccak256(utf8(s.asset)),
      amount: s.amount,
      asOf: s.asOf,
      nonce: s.nonce,
    },
  } as const;
}

export function custodianStatementDigest(s: CustodianStatement): Hex {
  return hashTypedData(custodianStatementTypedData(s));
}

export async function signCustodianStatement(s: CustodianStatement, account: LocalAccount): Promise<Hex> {
  return account.signTypedData(custodianStatementTypedData(s));
}

/** The key that signed `s`. A signature that is not 65 bytes, not in range or high-s (SPEC §9) is refused before recovery. */
export async function recoverCustodianStatementSigner(s: CustodianStatement, signature: Hex): Promise<Address> {
  assertLowS(signature, "signature");
  try {
    return await recoverTypedDataAddress({ ...custodianStatementTypedData(s), signature });
  } catch (error) {
    fail(
      "INVALID_SIGNATURE",
      "signature",
      `does not recover to a public key: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}

export type CustodianStatementRejection =
  | "BAD_SIGNATURE"
  | "UNKNOWN_SIGNER"
  | "STALE"
  | "FUTURE"
  | "REPLAYED_NONCE"
  | "WRONG_ISSUER";

export type CustodianStatementCheck =
  | { ok: true; signer: Address }
  | { ok: false; code: CustodianStatementRejection; reason: string };

/**
 * Decides whether a statement may count as status 2 (SPEC §9). Checks run in
 * this order and the first failure is returned: signature, signer, issuer,
 * future `asOf` (beyond FUTURE_SKEW_SECONDS), age (`now - asOf > maxAgeSeconds`
 * is stale), nonce (must be strictly greater than the last accepted one for
 * this custodian, account and asset; the caller keeps that record).
 */
export async function checkCustodianStatement(params: {
  statement: CustodianStatement;
  signature: Hex;
  issuerId: string;
  registeredSigners: readonly Address[];
  now: bigint;
  maxAgeSeconds: bigint;
  lastAcceptedNonce: bigint | null;
}): Promise<CustodianStatementCheck> {
  const { statement, signature, issuerId, registeredSigners, now, maxAgeSeconds, lastAcceptedNonce } = params;
  let signer: Address;
  try {
    signer = await recoverCustodianStatementSigner(statement, signature);
  } catch (error) {
    return { ok: false, code: "BAD_SIGNATURE", reason: error instanceof Error ? error.message : String(error) };
  }
  if (!registeredSigners.some((a) => a.toLowerCase() === signer.toLowerCase())) {
    return {
      ok: false,
      code: "UNKNOWN_SIGNER",
      reason: `${signer} is not registered for custodian ${echo(statement.custodian)}`,
    };
  }
  if (statement.issuer !== issuerId) {
    return {
      ok: false,
      code: "WRONG_ISSUER",
      reason: `statement is for issuer "${echo(statement.issuer)}", not "${issuerId}"`,
    };
  }
  if (statement.asOf > now + FUTURE_SKEW_SECONDS) {
    return {
      ok: false,
      code: "FUTURE",
      reason: `asOf ${statement.asOf} is more than ${FUTURE_SKEW_SECONDS}s after now ${now}`,
    };
  }
  if (now - statement.asOf > maxAgeSeconds) {
    return {
      ok: false,
      code: "STALE",
      reason: `asOf ${statement.asOf} is ${now - statement.asOf}s old, over the ${maxAgeSeconds}s limit`,
    };
  }
  if (lastAcceptedNonce !== null && statement.nonce <= lastAcceptedNonce) {
    return {
      ok: false,
      code: "REPLAYED_NONCE",
      reason: `nonce ${statement.nonce} is not newer than the last accepted ${lastAcceptedNonce}`,
    };
  }
  return { ok: true, signer };
}
