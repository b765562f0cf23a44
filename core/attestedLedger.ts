import { keccak256 } from "viem";
import type { Attestation } from "./attestation.js";
import { fail } from "./errors.js";
import { parseAmount } from "./numbers.js";

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
  };
}
