/**
 * SPEC §12 balance receipts: what an issuer's account system signs for one
 * user and one ledger, so that a user left out of (or shrunk in) that ledger
 * holds evidence anyone can check. Exact bytes: docs/spec.md.
 */
import { type Address, hashTypedData, keccak256, recoverTypedDataAddress } from "viem";
import type { LocalAccount } from "viem/accounts";
import { z } from "zod";
import { type Hex, utf8 } from "./bytes.js";
import { fail, SolventError } from "./errors.js";
import { type KeysDocument, keyValidFor, parseKeysDocument } from "./keysDocument.js";
import { UINT64_MAX, UINT256_MAX } from "./numbers.js";
import { assertLowS } from "./signature.js";

/** SPEC §12 domain: no chainId, no verifyingContract (a receipt is a statement of fact). */
export const RECEIPT_DOMAIN = { name: "Solvent Balance Receipt", version: "1" } as const;

/** SPEC §12 struct, fields in SPEC order (the order is part of the type hash). */
export const RECEIPT_TYPES = {
  BalanceReceipt: [
    { name: "issuer", type: "bytes32" },
    { name: "commitment", type: "bytes32" },
    { name: "assets", type: "bytes32" },
    { name: "balances", type: "uint256[]" },
    { name: "asOf", type: "uint64" },
  ],
} as const;

/** Most assets a ledger has (SPEC §2), so most a receipt lists. */
export const MAX_RECEIPT_ASSETS = 64;

/** A receipt as people handle it: ids as strings, numbers as bigint. */
export interface BalanceReceipt {
  issuer: string;
  /** The user's SPEC §2 commitment c in the ledger of `asOf` (lowercase 0x-hex). */
  commitment: Hex;
  /** The ledger's asset ids, in the ledger's order. */
  assets: string[];
  /** Base units, one per asset, in the order of `assets`. */
  balances: bigint[];
  /** Unix seconds: the asOf of the ledger the receipt is for. */
  asOf: bigint;
}

/** The JSON of a receipt (SPEC §1: integers as decimal strings). */
export interface BalanceReceiptJson {
  issuer: string;
  commitment: string;
  assets: string[];
  balances: string[];
  asOf: string;
}

/** What `solvent receipt sign` writes and a dispute carries: the receipt and its 65-byte signature. */
export interface SignedReceiptJson {
  receipt: BalanceReceiptJson;
  signature: string;
}

const decimal = (max: bigint, what: string) =>
  z
    .string({ error: `must be a decimal string (${what})` })
    .regex(/^(0|[1-9][0-9]*)$/, {
      error: "must be a decimal integer string: no sign, point, exponent or leading zeros (SPEC §1)",
    })
    .refine((s) => s.length <= 78 && BigInt(s) <= max, { error: `is over the range of a ${what}` });

const assetId = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(64, { error: "is longer than 64 characters" })
  .refine((s) => !s.includes(","), { error: 'must not contain ",": the receipt hashes the asset ids joined by ","' });

const receiptSchema = z
  .strictObject(
    {
      issuer: z
        .string({ error: "must be the issuer id, a string" })
        .min(1, { error: "must not be empty" })
        .max(128, { error: "is longer than 128 characters" }),
      commitment: z.string({ error: "must be 0x-hex" }).regex(/^0x[0-9a-f]{64}$/, {
        error: "must be 0x followed by 64 lowercase hex digits (the SPEC §2 commitment)",
      }),
      assets: z
        .array(assetId, { error: "must be an array of asset ids" })
        .min(1, { error: "must list at least one asset" })
        .max(MAX_RECEIPT_ASSETS, { error: `must list at most ${MAX_RECEIPT_ASSETS} assets` })
        .refine((a) => new Set(a).size === a.length, { error: "lists an asset twice" }),
      balances: z.array(decimal(UINT256_MAX, "uint256"), {
        error: "must be an array of decimal strings, one per asset",
      }),
      asOf: decimal(UINT64_MAX, "uint64 (unix seconds)"),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `has a field SPEC §12 does not define: ${issue.keys.join(", ")}`
          : "must be a JSON object",
    },
  )
  .refine((r) => r.balances.length === r.assets.length, {
    error: "must hold one balance per asset",
    path: ["balances"],
  });

const signedReceiptSchema = z.strictObject(
  {
    receipt: z.unknown(),
    signature: z
      .string({ error: "must be 0x-hex" })
      .regex(/^0x[0-9a-fA-F]{130}$/, { error: "must be a 65-byte signature: 0x followed by 130 hex digits" }),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has a field a signed receipt does not have: ${issue.keys.join(", ")}`
        : "must be a JSON object { receipt, signature }",
  },
);

/** The first zod issue as a SolventError naming the field, e.g. `receipt.balances[1]: must be a decimal …`. */
export function zodFailure(error: z.ZodError, root: string, input: unknown): never {
  const issue = error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  // A missing field reads better as "is missing" than as zod's type complaint.
  const missing = issue.code === "invalid_type" && valueAt(input, issue.path) === undefined;
  fail("INVALID_DOCUMENT", `${root}${path}`, missing ? "is missing" : issue.message);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = input;
  for (const key of path) {
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** Strict parse of a receipt's JSON: every field present, nothing extra, numbers in range. */
export function parseReceipt(json: unknown, record = "receipt"): BalanceReceipt {
  const parsed = receiptSchema.safeParse(json);
  if (!parsed.success) zodFailure(parsed.error, record, json);
  const r = parsed.data;
  return {
    issuer: r.issuer,
    commitment: r.commitment as Hex,
    assets: r.assets,
    balances: r.balances.map(BigInt),
    asOf: BigInt(r.asOf),
  };
}

/** Strict parse of `{ receipt, signature }`; the signature must also be low-s (SPEC §9). */
export function parseSignedReceipt(json: unknown, record = "receipt"): { receipt: BalanceReceipt; signature: Hex } {
  const parsed = signedReceiptSchema.safeParse(json);
  if (!parsed.success) zodFailure(parsed.error, record, json);
  const receipt = parseReceipt(parsed.data.receipt, `${record}.receipt`);
  const signature = parsed.data.signature.toLowerCase() as Hex;
  assertLowS(signature, `${record}.signature`);
  return { receipt, signature };
}

export function receiptToJson(r: BalanceReceipt): BalanceReceiptJson {
  const json = {
    issuer: r.issuer,
    commitment: r.commitment,
    assets: [...r.assets],
    balances: r.balances.map((b) => b.toString(10)),
    asOf: r.asOf.toString(10),
  };
  parseReceipt(json); // the same rules a reader applies, so nothing is signed that a verifier would refuse
  return json;
}

/** `keccak256(utf8(assets.join(",")))`, the §12 `assets` field. */
export function receiptAssetsHash(assets: readonly string[]): Hex {
  return keccak256(utf8(assets.join(",")));
}

export function receiptTypedData(r: BalanceReceipt) {
  receiptToJson(r);
  return {
    domain: RECEIPT_DOMAIN,
    types: RECEIPT_TYPES,
    primaryType: "BalanceReceipt",
    message: {
      issuer: keccak256(utf8(r.issuer)),
      commitment: r.commitment,
      assets: receiptAssetsHash(r.assets),
      balances: [...r.balances],
      asOf: r.asOf,
    },
  } as const;
}

/** The EIP-712 digest a receipts key signs. */
export function receiptDigest(r: BalanceReceipt): Hex {
  return hashTypedData(receiptTypedData(r));
}

export async function signReceipt(r: BalanceReceipt, account: LocalAccount): Promise<SignedReceiptJson> {
  const signature = await account.signTypedData(receiptTypedData(r));
  assertLowS(signature, "signature");
  return { receipt: receiptToJson(r), signature };
}

/** The key that signed `r`. A signature that is not 65 bytes, not in range or high-s (SPEC §9) is refused before recovery. */
export async function recoverReceiptSigner(
  r: BalanceReceipt,
  signature: Hex,
  record = "receipt.signature",
): Promise<Address> {
  assertLowS(signature, record);
  try {
    return await recoverTypedDataAddress({ ...receiptTypedData(r), signature });
  } catch (error) {
    if (error instanceof SolventError) throw error;
    fail("INVALID_SIGNATURE", record, `does not recover to a public key: ${(error as Error).message.split("\n")[0]}`);
  }
}

export type ReceiptCheck =
  | { ok: true; receipt: BalanceReceipt; signature: Hex; signer: Address; digest: Hex }
  | { ok: false; record: string; reason: string };

/**
 * Checks a signed receipt (`{ receipt, signature }` JSON) against a keys
 * document: the signer must be listed with role "receipts" for the
 * receipt's issuer and be valid at the receipt's asOf (SPEC §7, §12). Never
 * throws on bad input; a failure names the field and the reason.
 */
export async function verifyReceipt(signed: unknown, keys: unknown, record = "receipt"): Promise<ReceiptCheck> {
  try {
    const { receipt, signature } = parseSignedReceipt(signed, record);
    const doc: KeysDocument = parseKeysDocument(keys);
    const signer = await recoverReceiptSigner(receipt, signature, `${record}.signature`);
    if (!keyValidFor(doc, signer, receipt.asOf, { role: "receipts", issuer: receipt.issuer })) {
      const listed = doc.keys.filter((k) => k.address === signer.toLowerCase());
      const why =
        listed.length === 0
          ? "is not in the keys document"
          : listed.some((k) => k.role !== "receipts")
            ? 'is listed as an attestations key, and a key signs only for its role (SPEC §7): receipts need a key with role "receipts"'
            : listed.some((k) => k.issuer !== receipt.issuer)
              ? `is a receipts key of another issuer (${listed.map((k) => k.issuer).join(", ")}), not of "${receipt.issuer}"`
              : `is a receipts key of "${receipt.issuer}" but not valid at the receipt's asOf ${receipt.asOf}`;
      return { ok: false, record: `${record}.signature`, reason: `${record}.signature: signer ${signer} ${why}` };
    }
    return { ok: true, receipt, signature, signer, digest: receiptDigest(receipt) };
  } catch (e) {
    if (e instanceof SolventError) return { ok: false, record: e.record, reason: e.message };
    throw e;
  }
}
