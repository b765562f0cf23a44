/** SPEC §2 user commitment: `c = H(0x02 || salt || utf8(userId))`. */
import { bytesToHex, type Hex, hexToBytes, utf8 } from "../bytes.js";
import { fail } from "../errors.js";
import { sha256 } from "./sha256.js";

export const SALT_MIN_BYTES = 16;
export const SALT_MAX_BYTES = 32;
const COMMITMENT_PREFIX = 0x02;

/** Accepts salt bytes or 0x-hex and checks the SPEC length (16..32 bytes); `field` names it in errors. */
export function parseSalt(salt: Uint8Array | string, field = "salt"): Uint8Array {
  const bytes = typeof salt === "string" ? hexToBytes(salt, field) : salt;
  if (!(bytes instanceof Uint8Array)) fail("INVALID_BYTES", field, "must be bytes or 0x-hex");
  if (bytes.length < SALT_MIN_BYTES || bytes.length > SALT_MAX_BYTES) {
    fail("INVALID_BYTES", field, `must be ${SALT_MIN_BYTES} to ${SALT_MAX_BYTES} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function userCommitment(salt: Uint8Array, userId: string, field = "salt"): Uint8Array {
  const s = parseSalt(salt, field);
  if (typeof userId !== "string") fail("INVALID_ARGUMENT", "userId", "must be a string");
  const id = utf8(userId);
  const m = new Uint8Array(1 + s.length + id.length);
  m[0] = COMMITMENT_PREFIX;
  m.set(s, 1);
  m.set(id, 1 + s.length);
  return sha256(m);
}

/** `userCommitment` taking the salt as bytes or 0x-hex and returning 0x-hex (what a user asks the API for). */
export function userCommitmentHex(salt: Uint8Array | Hex, userId: string): Hex {
  return bytesToHex(userCommitment(parseSalt(salt), userId));
}
