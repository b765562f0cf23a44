/**
 * The one rule for an issuer's headline status, shown in the legend and on
 * every badge's tooltip so nobody has to guess what "flagged" means.
 */
import { decodeFlags } from "../core/flags.js";

export type IssuerStatus = "healthy" | "flagged" | "stale";

export const STATUS_RULES: Record<IssuerStatus, string> = {
  stale: "no attestation yet, or the latest one is past its validUntil time: treat its numbers as out of date",
  flagged:
    "a current attestation with at least one warning raised (each is named, with its reason, on the issuer's page)",
  healthy: "a current attestation with no warnings raised",
};

export const STATUS_ORDER_NOTE =
  "Stale is checked first, then flagged; an attestation can be both and is then shown as stale with its warnings listed.";

export interface StatusInput {
  validUntil: bigint;
  flags: bigint;
}

export function issuerStatus(latest: StatusInput | null, nowSeconds: bigint): { status: IssuerStatus; why: string } {
  if (latest === null) return { status: "stale", why: "no attestation has been published yet" };
  if (nowSeconds > latest.validUntil)
    return { status: "stale", why: "the latest attestation is past its validUntil time" };
  if (latest.flags !== 0n) return { status: "flagged", why: `flags raised: ${flagNames(latest.flags).join(", ")}` };
  return { status: "healthy", why: "current, and no flags raised" };
}

/** Flag names of a bit set; reserved bits are named as such rather than thrown on (display only). */
export function flagNames(bits: bigint): string[] {
  try {
    return decodeFlags(bits);
  } catch {
    return [`unknown bits 0x${bits.toString(16)}`];
  }
}

export function nowSeconds(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}
