/**
 * SPEC §11 blindings and padding commitments, derived from the publisher's
 * secret so a proof can be regenerated on demand and every ledger gets fresh
 * blindings. HMAC-SHA-512 (RFC 2104) keyed with the secret; docs/spec.md §11
 * fixes the message bytes.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesEqual, concatBytes, utf8 } from "../../bytes.js";
import { fail } from "../../errors.js";
import { bytesToIntLE, GROUP_ORDER } from "./group.js";

export const SECRET_MIN_BYTES = 32;
const BLINDING_LABEL = "solvent/pedersen-ristretto255-v2/blinding";
const PADDING_LABEL = "solvent/pedersen-ristretto255-v2/padding";

export function checkSecret(secret: Uint8Array): Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length < SECRET_MIN_BYTES) {
    fail("INVALID_ARGUMENT", "blinding secret", `must be at least ${SECRET_MIN_BYTES} random bytes`);
  }
  return secret;
}

function ledgerBytes(ledgerId: string): Uint8Array {
  const id = utf8(ledgerId);
  if (id.length === 0 || id.length > 0xffff) fail("INVALID_ARGUMENT", "ledgerId", "must be 1 to 65535 bytes of UTF-8");
  const len = new Uint8Array(2);
  len[0] = id.length >> 8;
  len[1] = id.length & 0xff;
  return concatBytes(len, id);
}

function uint64be(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) fail("INVALID_ARGUMENT", "index", "must be a non-negative safe integer");
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(n / 0x1_0000_0000));
  view.setUint32(4, n >>> 0);
  return out;
}

/** `r = LE(HMAC-SHA-512(secret, label || 0x00 || uint16be(len) || ledgerId || uint64be(leaf) || uint8(asset))) mod l`. */
export function deriveBlinding(secret: Uint8Array, ledgerId: string, leafIndex: number, assetIndex: number): bigint {
  // Callers derive leaf after leaf of one ledger: keep the last ledger's keyed state (keyed by the secret's bytes).
  const last = lastDeriver;
  if (last && last.ledgerId === ledgerId && bytesEqual(last.secret, secret)) return last.derive(leafIndex, assetIndex);
  const derive = blindingDeriver(secret, ledgerId);
  lastDeriver = { secret: secret.slice(), ledgerId, derive };
  return derive(leafIndex, assetIndex);
}
let lastDeriver: { secret: Uint8Array; ledgerId: string; derive: (leaf: number, asset: number) => bigint } | undefined;

/**
 * `deriveBlinding` for one (secret, ledger), many leaves: the HMAC state after
 * the key and the message's fixed prefix is computed once and copied per leaf,
 * so each blinding costs the hash of its last block and the outer hash.
 */
export function blindingDeriver(
  secret: Uint8Array,
  ledgerId: string,
): (leafIndex: number, assetIndex: number) => bigint {
  const keyed = hmac.create(sha512, checkSecret(secret));
  keyed.update(concatBytes(utf8(BLINDING_LABEL), new Uint8Array([0]), ledgerBytes(ledgerId)));
  const tail = new Uint8Array(9);
  return (leafIndex, assetIndex) => {
    if (!Number.isInteger(assetIndex) || assetIndex < 0 || assetIndex > 255)
      fail("INVALID_ARGUMENT", "assetIndex", "must be 0..255");
    tail.set(uint64be(leafIndex));
    tail[8] = assetIndex;
    return bytesToIntLE(keyed.clone().update(tail).digest()) % GROUP_ORDER;
  };
}

/** The user commitment of padding leaf j: the first 32 bytes of `HMAC-SHA-512(secret, label || 0x00 || uint16be(len) || ledgerId || uint64be(j))`. */
export function paddingCommitment(secret: Uint8Array, ledgerId: string, paddingIndex: number): Uint8Array {
  const msg = concatBytes(utf8(PADDING_LABEL), new Uint8Array([0]), ledgerBytes(ledgerId), uint64be(paddingIndex));
  return hmac(sha512, checkSecret(secret), msg).slice(0, 32);
}
