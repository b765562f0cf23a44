import { type Hex, hexToBytes } from "./bytes.js";
import { fail } from "./errors.js";

/** The order n of the secp256k1 group (SEC 2, §2.4.1). */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** The largest `s` SPEC §9 accepts: floor(n / 2). */
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

function bigFrom(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/**
 * Checks the shape of a 65-byte `r ‖ s ‖ v` secp256k1 signature before anyone
 * recovers a key from it: r and s in [1, n-1], v one of 27, 28 (or 0, 1), and
 * s <= n/2. For every signature (r, s) the twin (r, n - s) with the other v
 * recovers the same key; SPEC §9 accepts only the low-s one, so a high-s
 * signature is refused here, never normalised into its twin.
 */
export function assertLowS(signature: string, record = "signature"): void {
  const bytes = hexToBytes(signature, record, 65);
  const r = bigFrom(bytes.subarray(0, 32));
  const s = bigFrom(bytes.subarray(32, 64));
  const v = bytes[64]!;
  if (r === 0n || r >= SECP256K1_N) fail("INVALID_SIGNATURE", record, "r is not in [1, n-1] of secp256k1");
  if (s === 0n || s >= SECP256K1_N) fail("INVALID_SIGNATURE", record, "s is not in [1, n-1] of secp256k1");
  if (v !== 27 && v !== 28 && v !== 0 && v !== 1)
    fail("INVALID_SIGNATURE", record, `v is ${v}; expected 27 or 28 (or 0 or 1)`);
  if (s > SECP256K1_HALF_N) {
    fail(
      "INVALID_SIGNATURE",
      record,
      "has a high s (s > n/2): SPEC §9 accepts only low-s signatures, whose twin is never normalised here; sign again with a library that produces low-s signatures (viem, ethers, noble and most wallets do)",
    );
  }
}

/** Why `signature` fails {@link assertLowS}, or null when it passes. */
export function lowSProblem(signature: Hex, record = "signature"): string | null {
  try {
    assertLowS(signature, record);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
