import { keccak256 } from "viem";
import type { Attestation } from "./attestation.js";
import { bytesToHex, type Hex } from "./bytes.js";
import { fail } from "./errors.js";
import { SCHEME as PRIVATE_SCHEME, parsePoint, parseScalar } from "./liabilities/private/group.js";
import { VALUE_LIMIT } from "./liabilities/private/quantise.js";
import { parseAmount, parseSafeInteger } from "./numbers.js";

/** What a signed report says of the ledger it attests (SPEC §4 `liabilities.ledger`). */
export interface AttestedLedger {
  id: string;
  asOf: bigint;
  leafCount: number;
  /** "commitment" when absence is provable (SPEC §2.1); null for ledgers built before that rule. */
  order: "commitment" | null;
  scheme: string;
  root: string;
  /** The ledger's asset ids in its order (the proof's `assets` are not hashed into the root, so a verifier takes them from here); null when the report omits them. */
  assets: string[] | null;
  /** The root's public opening of a private ledger (SPEC §11, docs/spec.md §4); null for a plain one. */
  private: AttestedPrivateLedger | null;
}

/** What the report publishes of a private ledger's root, one entry per asset in `assets` order. */
export interface AttestedPrivateLedger {
  /** Decimals of each asset's private unit (one unit = 10^(decimals − unitDecimals) base units). */
  unitDecimals: number[];
  /** The root's Pedersen commitments, canonical encodings, lowercase 0x-hex. */
  rootCommitments: Hex[];
  /** The totals in private units, each below 2^64. */
  totals: bigint[];
  /** The total blindings, canonical scalars. */
  totalBlindings: bigint[];
}

/**
 * Reads `liabilities.ledger` from the exact report bytes an attestation signs
 * (keccak256 of the bytes must be its reportHash). Throws SolventError naming
 * the field when the bytes are not that report or it names no usable ledger.
 */
export function attestedLedger(reportBytes: Uint8Array, attestation: Attestation): AttestedLedger {
  const hash = keccak256(reportBytes);
  if (hash.toLowerCase() !== attestation.reportHash.toLowerCase()) {
    fail(
      "INVALID_DOCUMENT",
      "report",
      `keccak256 of the report is ${hash}, the attestation signs reportHash ${attestation.reportHash}`,
    );
  }
  let report: unknown;
  try {
    report = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(reportBytes));
  } catch (e) {
    fail("INVALID_DOCUMENT", "report", `is not UTF-8 JSON: ${(e as Error).message}`);
  }
  const liabilities = (report as { liabilities?: { ledger?: unknown; root?: unknown } } | null)?.liabilities;
  const ledger = liabilities?.ledger as Record<string, unknown> | null | undefined;
  if (ledger === null || typeof ledger !== "object")
    fail("INVALID_DOCUMENT", "report.liabilities.ledger", "the attested report names no user ledger");
  if (typeof ledger.id !== "string") {
    fail(
      "INVALID_DOCUMENT",
      "report.liabilities.ledger",
      "has no id and asOf: the report predates ledger versions (SPEC §4), so it cannot be disputed or prove absence",
    );
  }
  const asOf = parseAmount(ledger.asOf, "report.liabilities.ledger.asOf");
  const leafCount = Number(parseAmount(ledger.leafCount, "report.liabilities.ledger.leafCount"));
  if (!Number.isSafeInteger(leafCount) || leafCount < 1)
    fail("INVALID_DOCUMENT", "report.liabilities.ledger.leafCount", "must be a positive integer");
  if (ledger.order !== undefined && ledger.order !== "commitment")
    fail("INVALID_DOCUMENT", "report.liabilities.ledger.order", `unknown order ${String(ledger.order)}`);
  if (typeof ledger.scheme !== "string")
    fail("INVALID_DOCUMENT", "report.liabilities.ledger.scheme", "must be a string");
  const assets = ledger.assets ?? null;
  if (
    assets !== null &&
    (!Array.isArray(assets) || assets.length === 0 || !assets.every((a): a is string => typeof a === "string"))
  ) {
    fail("INVALID_DOCUMENT", "report.liabilities.ledger.assets", "must be the ledger's asset ids");
  }
  return {
    id: ledger.id,
    asOf,
    leafCount,
    order: ledger.order === "commitment" ? "commitment" : null,
    scheme: ledger.scheme,
    root: String(liabilities?.root ?? "").toLowerCase(),
    assets,
    private: ledger.scheme === PRIVATE_SCHEME ? privateFigures(ledger, assets, leafCount) : null,
  };
}

const PRIVATE_FIELD = "report.liabilities.ledger";

/** A list of one entry per asset, each read by `read`; throws naming the field and entry otherwise. */
function perAsset<T>(
  ledger: Record<string, unknown>,
  name: string,
  count: number,
  read: (v: unknown, field: string) => T,
): T[] {
  const value = ledger[name];
  if (!Array.isArray(value) || value.length !== count)
    fail(
      "INVALID_DOCUMENT",
      `${PRIVATE_FIELD}.${name}`,
      `a private ledger's report must hold ${count} entries, one per asset`,
    );
  return value.map((v, k) => read(v, `${PRIVATE_FIELD}.${name}[${k}]`));
}

function hexString(v: unknown, field: string): string {
  if (typeof v !== "string") fail("INVALID_DOCUMENT", field, "must be a 0x-hex string");
  return v;
}

/** The private fields of a `pedersen-ristretto255-v2` ledger (docs/spec.md §4 and §11), read strictly. */
function privateFigures(
  ledger: Record<string, unknown>,
  assets: string[] | null,
  leafCount: number,
): AttestedPrivateLedger {
  if (2 ** Math.round(Math.log2(leafCount)) !== leafCount)
    fail(
      "INVALID_DOCUMENT",
      `${PRIVATE_FIELD}.leafCount`,
      `${leafCount} is not a power of two: a private ledger is padded to 2^depth leaves`,
    );
  if (assets === null)
    fail("INVALID_DOCUMENT", `${PRIVATE_FIELD}.assets`, "a private ledger's report must list its asset ids");
  if (ledger.rootSums !== undefined)
    fail("INVALID_DOCUMENT", `${PRIVATE_FIELD}.rootSums`, "a private ledger publishes no sums but its totals");
  const k = assets.length;
  return {
    unitDecimals: perAsset(ledger, "unitDecimals", k, (v, field) => parseSafeInteger(v, field, 77)),
    rootCommitments: perAsset(ledger, "rootCommitments", k, (v, field) =>
      bytesToHex(parsePoint(hexString(v, field), field).toBytes()),
    ),
    totals: perAsset(ledger, "totals", k, (v, field) => parseAmount(v, field, VALUE_LIMIT - 1n)),
    totalBlindings: perAsset(ledger, "totalBlindings", k, (v, field) => parseScalar(hexString(v, field), field)),
  };
}
