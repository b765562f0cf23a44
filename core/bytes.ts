import { fail } from "./errors.js";

/** `0x` + lowercase hex, as every byte string is written in SPEC JSON. */
export type Hex = `0x${string}`;

const HEX_BODY = /^(?:[0-9a-fA-F]{2})*$/;
const HEX_DIGITS = "0123456789abcdef";
const utf8Encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export function bytesToHex(bytes: Uint8Array): Hex {
  let out = "0x";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  }
  return out as Hex;
}

/**
 * Parses `0x`-prefixed hex. `length` (in bytes) is checked when given.
 * Upper-case digits are accepted on input; output is always lower-case.
 */
export function hexToBytes(hex: string, field: string, length?: number): Uint8Array {
  if (typeof hex !== "string" || !hex.startsWith("0x")) fail("INVALID_BYTES", field, "must be 0x-prefixed hex");
  const body = hex.slice(2);
  if (!HEX_BODY.test(body)) fail("INVALID_BYTES", field, "must contain an even number of hex digits");
  if (length !== undefined && body.length !== length * 2) {
    fail("INVALID_BYTES", field, `must be ${length} bytes, got ${body.length / 2}`);
  }
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(body.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Fills `out[offset..offset+16)` with `value` big-endian; value must be < 2^128. */
export function writeUint128(out: Uint8Array, offset: number, value: bigint): void {
  let v = value;
  for (let i = 15; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

export function readUint128(bytes: Uint8Array, offset: number): bigint {
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}

/** SPEC §2 `enc128`: 16 bytes big-endian. Caller guarantees value < 2^128. */
export function enc128(value: bigint): Uint8Array {
  const out = new Uint8Array(16);
  writeUint128(out, 0, value);
  return out;
}
