/**
 * SPEC §11 group arithmetic: ristretto255 (RFC 9496) through @noble/curves,
 * the two Pedersen generators and the byte encodings of points and scalars.
 */
import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8 } from "../../bytes.js";
import { fail } from "../../errors.js";

export const SCHEME = "pedersen-ristretto255-v2";
export type Point = InstanceType<typeof ristretto255.Point>;
export const Point = ristretto255.Point;

/** The order l of the ristretto255 group; scalars are integers mod l. */
export const GROUP_ORDER: bigint = Point.Fn.ORDER;
export const POINT_BYTES = 32;
export const SCALAR_BYTES = 32;

/** The domain string H is derived from (docs/spec.md §11). */
export const H_DOMAIN = "solvent/pedersen-ristretto255-v2/H";

/** `G`: the standard ristretto255 base point. */
export const G: Point = Point.BASE;
/**
 * `H`: RFC 9496 §4.3.4 element derivation (the one-way map of 64 uniform
 * bytes) applied to SHA-512(utf8(H_DOMAIN)). Nobody knows log_G(H).
 */
export const H: Point = ristretto255_hasher.deriveToCurve!(sha512(utf8(H_DOMAIN)));

/** Pedersen commitment `v·G + r·H` (0 ≤ v < l, 0 ≤ r < l). */
export function pedersen(value: bigint, blinding: bigint): Point {
  const vg = value === 0n ? Point.ZERO : G.multiply(value);
  const rh = blinding === 0n ? Point.ZERO : H.multiply(blinding);
  return vg.add(rh);
}

/** A scalar as 32 bytes little-endian (the ristretto255 convention). */
export function scalarToBytes(scalar: bigint): Uint8Array {
  if (scalar < 0n || scalar >= GROUP_ORDER) fail("OUT_OF_RANGE", "scalar", "must be reduced modulo the group order");
  const out = new Uint8Array(SCALAR_BYTES);
  let v = scalar;
  for (let i = 0; i < SCALAR_BYTES; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Little-endian bytes as an integer (any length). */
export function bytesToIntLE(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let hex = "0x";
  for (let i = bytes.length - 1; i >= 0; i--) hex += BYTE_HEX[bytes[i]!];
  return BigInt(hex);
}

/** Parses a canonical scalar (0x + 32 bytes little-endian, < l); `field` names it in errors. */
export function parseScalar(hex: string, field: string): bigint {
  const v = bytesToIntLE(hexToBytes(hex, field, SCALAR_BYTES));
  if (v >= GROUP_ORDER) fail("INVALID_BYTES", field, "is not a canonical scalar (must be below the group order)");
  return v;
}

export function scalarToHex(scalar: bigint): `0x${string}` {
  return bytesToHex(scalarToBytes(scalar));
}

/** Decodes a canonical ristretto255 encoding; `field` names it in errors. */
export function parsePoint(hex: string, field: string): Point {
  const bytes = hexToBytes(hex, field, POINT_BYTES);
  try {
    return Point.fromBytes(bytes);
  } catch {
    return fail("INVALID_BYTES", field, "is not a canonical ristretto255 point encoding");
  }
}

export function addScalars(a: bigint, b: bigint): bigint {
  return (a + b) % GROUP_ORDER;
}
