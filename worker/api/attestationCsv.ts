import { attestationToJson } from "../../core/attestation.js";
import { DEFINED_FLAGS_MASK, decodeFlags } from "../../core/flags.js";
import { formatUsd18 } from "../../core/numbers.js";
import type { StoredAttestation } from "../storage/attestationStore.js";
import { signedAttestationJson } from "./schemas.js";

/**
 * The history as CSV (RFC 4180, CRLF line ends): the issuer id, then every
 * signed field exactly as in the JSON answer (`issuerKey` is the signed
 * bytes32 `issuer`, keccak256 of the id), so a row verifies from its own
 * cells, then columns for people.
 */
const SIGNED = [
  "sequence",
  "observedAt",
  "validUntil",
  "reservesUsd",
  "onchainReservesUsd",
  "offchainReservesUsd",
  "liabilitiesUsd",
  "ratioBps",
  "flags",
  "previous",
  "reservesRoot",
  "liabilitiesRoot",
  "reportHash",
  "issuerKey",
] as const;

export const CSV_COLUMNS = [
  "issuer",
  ...SIGNED,
  "digest",
  "signer",
  "signature",
  "reportUrl",
  "observedAtUtc",
  "reservesDollars",
  "liabilitiesDollars",
  "ratioPercent",
  "flagNames",
] as const;

/** Quotes a field only when it needs it; none of ours can start a spreadsheet formula. */
function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Names of the defined bits, then any reserved bits as hex (never dropped). */
function flagNames(bits: bigint): string {
  const reserved = bits & ~DEFINED_FLAGS_MASK;
  const names: string[] = decodeFlags(bits & DEFINED_FLAGS_MASK);
  if (reserved !== 0n) names.push(`reserved bits 0x${reserved.toString(16)}`);
  return names.join(" ");
}

export function attestationsCsv(oldestFirst: readonly StoredAttestation[], origin: string): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const stored of oldestFirst) {
    const a = stored.attestation;
    const json = attestationToJson(a);
    const signed = signedAttestationJson(stored, origin);
    const ratio =
      a.ratioBps === 4294967295 ? "" : `${Math.floor(a.ratioBps / 100)}.${String(a.ratioBps % 100).padStart(2, "0")}`;
    lines.push(
      [
        stored.issuerId,
        ...SIGNED.map((k) => (k === "issuerKey" ? json.issuer : json[k])),
        signed.digest,
        signed.signer,
        signed.signature,
        signed.reportUrl,
        new Date(Number(a.observedAt) * 1000).toISOString(),
        formatUsd18(a.reservesUsd, 18),
        formatUsd18(a.liabilitiesUsd, 18),
        ratio,
        flagNames(a.flags),
      ]
        .map(field)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}
