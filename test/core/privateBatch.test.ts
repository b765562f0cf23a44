/**
 * The private build's fast paths (fixed-base tables, encodings of doubles with
 * one shared inversion, keyed HMAC reuse) against the plain computation with
 * @noble/curves and @noble/hashes, on many pseudorandom inputs and the edges.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { bytesToHex, concatBytes, utf8 } from "../../core/bytes.js";
import { addExtended, doubled, encodeDoubles, halfCommitment } from "../../core/liabilities/private/batch.js";
import { Point } from "../../core/liabilities/private/group.js";
import {
  blindingDeriver,
  buildPrivateLevels,
  deriveBlinding,
  GROUP_ORDER,
  pedersen,
  privateLeaf,
  privateLeaves,
  privateParent,
  publicParent,
} from "../../core/liabilities/private/index.js";
import type { PrivateNode } from "../../core/liabilities/private/tree.js";

let counter = 0;
/** Deterministic pseudorandom integers below 2^bits (SHA-512 of a counter). */
function pseudo(bits: number): bigint {
  const bytes = sha512(utf8(`privateBatch ${counter++}`));
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v & ((1n << BigInt(bits)) - 1n);
}
const scalar = () => pseudo(512) % GROUP_ORDER;
const hex = (p: Point) => bytesToHex(p.toBytes());

describe("SPEC §11 build fast paths equal the plain computation", () => {
  const cases: [bigint, bigint][] = [
    [0n, 1n],
    [1n, 0n],
    [0n, 0n],
    [2n ** 64n - 1n, GROUP_ORDER - 1n],
    [2n ** 64n, 5n], // wider than a quantised value: takes the full-width table
    [GROUP_ORDER - 1n, GROUP_ORDER - 1n],
    ...Array.from({ length: 40 }, (): [bigint, bigint] => [pseudo(64), scalar()]),
    ...Array.from({ length: 10 }, (): [bigint, bigint] => [scalar(), scalar()]),
  ];

  it("halfCommitment doubled is v·G + r·H, and its batched encoding is the canonical one", () => {
    const halves = cases.map(([v, r]) => halfCommitment(v, r));
    const encoded = encodeDoubles(halves);
    cases.forEach(([v, r], i) => {
      const plain = pedersen(v, r);
      expect(doubled(halves[i]!).equals(plain)).toBe(true);
      expect(bytesToHex(encoded[i]!)).toBe(hex(plain));
    });
    // sums of halves (what a parent holds), including the identity
    const sums = halves.map((h, i) => addExtended(h, halves[(i + 3) % halves.length]!));
    encodeDoubles(sums).forEach((e, i) => {
      const [v1, r1] = cases[i]!;
      const [v2, r2] = cases[(i + 3) % cases.length]!;
      expect(bytesToHex(e)).toBe(hex(pedersen(v1, r1).add(pedersen(v2, r2))));
    });
    expect(bytesToHex(encodeDoubles([halfCommitment(0n, 0n)])[0]!)).toBe(hex(Point.ZERO));
  });

  it("refuses a value or blinding outside 0..l-1", () => {
    expect(() => halfCommitment(-1n, 1n)).toThrow(RangeError);
    expect(() => halfCommitment(1n, GROUP_ORDER)).toThrow(RangeError);
  });

  it("leaves and levels built in batches equal nodes built one by one, and parents of nodes from elsewhere", () => {
    const rows = Array.from({ length: 8 }, (_, i) => ({
      commitment: sha512(utf8(`row ${i}`)).slice(0, 32),
      values: [pseudo(40), BigInt(i)],
      blindings: [scalar(), scalar()],
    }));
    const batch = privateLeaves(rows);
    rows.forEach((row, i) => {
      const one = privateLeaf(row.commitment, row.values, row.blindings);
      expect(bytesToHex(batch[i]!.hash)).toBe(bytesToHex(one.hash));
      expect(batch[i]!.encoded.map(bytesToHex)).toEqual(row.values.map((v, k) => hex(pedersen(v, row.blindings[k]!))));
    });
    const levels = buildPrivateLevels(batch);
    // the verifier's way (no halves, plain encodings) reaches the same root
    let plain: PrivateNode[] = batch.map((n) => ({ ...n, commitments: [...n.commitments] }));
    while (plain.length > 1) {
      const up: PrivateNode[] = [];
      for (let i = 0; i < plain.length; i += 2) {
        const pub = publicParent(plain[i]!, plain[i + 1]!);
        up.push({ ...pub, values: [], blindings: [] });
      }
      plain = up;
    }
    const root = levels[levels.length - 1]![0]!;
    expect(bytesToHex(root.hash)).toBe(bytesToHex(plain[0]!.hash));
    expect(root.encoded.map(bytesToHex)).toEqual(plain[0]!.encoded.map(bytesToHex));
    // a parent of a node decoded from storage (no halves) and a built one
    const decoded: PrivateNode = { ...batch[0]!, commitments: batch[0]!.encoded.map((e) => Point.fromBytes(e)) };
    const mixed = privateParent(decoded, batch[1]!);
    expect(bytesToHex(mixed.hash)).toBe(bytesToHex(levels[1]![0]!.hash));
    expect(mixed.encoded.map(bytesToHex)).toEqual(levels[1]![0]!.encoded.map(bytesToHex));
  });

  it("blindingDeriver gives deriveBlinding's values, which are the spec's HMAC", () => {
    const secret = new Uint8Array(32).fill(3);
    const derive = blindingDeriver(secret, "ledger-é");
    for (const [leaf, asset] of [
      [0, 0],
      [1, 1],
      [2 ** 32 + 5, 255],
      [2 ** 53 - 1, 7],
    ] as const) {
      const id = utf8("ledger-é");
      const index = new Uint8Array(8);
      new DataView(index.buffer).setBigUint64(0, BigInt(leaf));
      const mac = hmac(
        sha512,
        secret,
        concatBytes(
          utf8("solvent/pedersen-ristretto255-v2/blinding"),
          new Uint8Array([0, 0, id.length]),
          id,
          index,
          new Uint8Array([asset]),
        ),
      );
      let le = 0n;
      for (let i = mac.length - 1; i >= 0; i--) le = (le << 8n) | BigInt(mac[i]!);
      expect(derive(leaf, asset)).toBe(le % GROUP_ORDER);
      expect(deriveBlinding(secret, "ledger-é", leaf, asset)).toBe(le % GROUP_ORDER);
    }
    // deriveBlinding keeps the last keyed state: another secret, even the same array changed in place, is not served from it
    const before = deriveBlinding(secret, "ledger-é", 0, 0);
    secret[0] = 4;
    expect(deriveBlinding(secret, "ledger-é", 0, 0)).not.toBe(before);
    expect(deriveBlinding(secret, "ledger-é", 0, 0)).toBe(blindingDeriver(secret, "ledger-é")(0, 0));
    expect(deriveBlinding(secret, "ledger-f", 0, 0)).not.toBe(deriveBlinding(secret, "ledger-é", 0, 0));
  });
});
