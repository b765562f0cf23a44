/**
 * The high-s twin of a secp256k1 signature (r, n - s, the other v): it
 * recovers the same key as the original, which is exactly why SPEC §9 allows
 * only the low-s one. The group order is written out here from SEC 2 rather
 * than imported from the code under test.
 */
import type { Hex } from "../../core/bytes.js";

const N = BigInt("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");

export function highSTwin(signature: Hex): Hex {
  const body = signature.slice(2);
  if (body.length !== 130) throw new Error("expected a 65-byte signature");
  const r = body.slice(0, 64);
  const s = BigInt(`0x${body.slice(64, 128)}`);
  const v = parseInt(body.slice(128), 16);
  if (s > N / 2n) throw new Error("the signature is already high-s");
  const flipped = v === 27 ? 28 : v === 28 ? 27 : v ^ 1;
  return `0x${r}${(N - s).toString(16).padStart(64, "0")}${flipped.toString(16).padStart(2, "0")}`;
}
