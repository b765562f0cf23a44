import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesToHex, readUint128, writeUint128 } from "../../core/bytes.js";
import {
  buildSumTree,
  buildSumTreeLevels,
  FixedLengthSha256,
  hashLeaves,
  levelWidth,
  paddingHash,
  type SumTreeLevels,
  sha256,
  topNode,
} from "../../core/liabilities/index.js";

describe("sha256", () => {
  it("matches @noble/hashes on random inputs of every block boundary", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (m) => {
        expect(bytesToHex(sha256(m))).toBe(bytesToHex(nobleSha256(m)));
      }),
      { numRuns: 200 },
    );
    for (const len of [0, 55, 56, 63, 64, 65, 119, 120, 128]) {
      const m = Uint8Array.from({ length: len }, (_, i) => (i * 13 + len) & 0xff);
      expect(bytesToHex(sha256(m))).toBe(bytesToHex(nobleSha256(m)));
    }
  });

  it("a fixed-length hasher reused many times keeps no state between messages", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        (len, seeds) => {
          const hasher = new FixedLengthSha256(len);
          const out = new Uint8Array(32 * seeds.length + 3);
          seeds.forEach((seed, j) => {
            const m = Uint8Array.from({ length: len }, (_, i) => (seed + i * 7) & 0xff);
            hasher.input.set(m);
            hasher.digestInto(out, 3 + 32 * j);
            expect(bytesToHex(out.subarray(3 + 32 * j, 35 + 32 * j))).toBe(bytesToHex(nobleSha256(m)));
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** Random leaves as the core takes them: flat commitments and enc128 balances. */
function randomLeaves(n: number, k: number, seed: number): { commitments: Uint8Array; balances: Uint8Array } {
  const commitments = new Uint8Array(n * 32);
  const balances = new Uint8Array(n * 16 * k);
  let x = seed >>> 0 || 1;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < commitments.length; i++) commitments[i] = next() >>> 24;
  for (let i = 0; i < n * k; i++) writeUint128(balances, i * 16, BigInt(next()) * BigInt(next()));
  return { commitments, balances };
}

/** Node `index` (within the whole level) of stored level `offset`. */
function node(tree: SumTreeLevels, offset: number, index: number) {
  const lv = tree.levels[offset]!;
  const i = index - lv.index;
  const sb = 16 * tree.assets;
  return { hash: lv.hashes.slice(i * 32, i * 32 + 32), sums: lv.sums.slice(i * sb, i * sb + sb) };
}

describe("sharded builds combine to the single build", () => {
  it("shards of 2^s leaves, topped at level s, then built from level s, give the same levels and root", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 260 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        (n, s, k, seed) => {
          const { commitments, balances } = randomLeaves(n, k, seed);
          const single = buildSumTree(commitments, balances, n, k);
          const size = 2 ** s;
          const shardCount = Math.ceil(n / size);
          const topLevel = Math.min(s, single.levels.length - 1);
          const tops = { hashes: new Uint8Array(shardCount * 32), sums: new Uint8Array(shardCount * 16 * k) };
          for (let j = 0; j < shardCount; j++) {
            const first = j * size;
            const count = Math.min(size, n - first);
            const hashes = hashLeaves(
              commitments.subarray(first * 32, (first + count) * 32),
              balances.subarray(first * 16 * k, (first + count) * 16 * k),
              count,
              k,
            );
            const shard = buildSumTreeLevels(
              { hashes, sums: balances.slice(first * 16 * k, (first + count) * 16 * k), count },
              k,
              { level: 0, index: first, width: n, stopLevel: s },
            );
            // Every stored level of the shard equals the single build at the same place (padding included).
            for (const lv of shard.levels) {
              for (let i = lv.index; i < lv.index + lv.count; i++) {
                expect(node(shard, lv.level, i)).toEqual(node(single, lv.level, i));
              }
            }
            const top = shard.levels[shard.levels.length - 1]!;
            expect(top.level).toBe(topLevel);
            expect(top.count).toBe(1);
            tops.hashes.set(top.hashes.subarray(0, 32), j * 32);
            tops.sums.set(top.sums.subarray(0, 16 * k), j * 16 * k);
          }
          expect(shardCount).toBe(levelWidth(n, topLevel));
          const combined = buildSumTreeLevels({ ...tops, count: shardCount }, k, {
            level: topLevel,
            index: 0,
            width: shardCount,
          });
          expect(bytesToHex(topNode(combined).hash)).toBe(bytesToHex(topNode(single).hash));
          expect(bytesToHex(topNode(combined).sums)).toBe(bytesToHex(topNode(single).sums));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("building from any stored level of a tree gives its root, with padding from the true level", () => {
    const n = 45;
    const k = 2;
    const { commitments, balances } = randomLeaves(n, k, 7);
    const single = buildSumTree(commitments, balances, n, k);
    for (let l = 1; l < single.levels.length; l++) {
      const width = levelWidth(n, l);
      const lv = single.levels[l]!;
      const rebuilt = buildSumTreeLevels(
        { hashes: lv.hashes.slice(0, width * 32), sums: lv.sums.slice(0, width * 16 * k), count: width },
        k,
        { level: l, index: 0, width },
      );
      expect(bytesToHex(topNode(rebuilt).hash)).toBe(bytesToHex(topNode(single).hash));
      // The same nodes taken as level 0 would be padded with (0, width) and give another root.
      if (width > 1 && width % 2 === 1) {
        const wrongLevel = buildSumTreeLevels(
          { hashes: lv.hashes.slice(0, width * 32), sums: lv.sums.slice(0, width * 16 * k), count: width },
          k,
        );
        expect(bytesToHex(topNode(wrongLevel).hash)).not.toBe(bytesToHex(topNode(single).hash));
      }
    }
    // 45 → 23 → 12 → 6 → 3 → 2 → 1: levels 0, 1 and 4 are padded.
    expect(single.levels.map((lv) => lv.count)).toEqual([46, 24, 12, 6, 4, 2, 1]);
    expect(bytesToHex(node(single, 4, 3).hash)).toBe(bytesToHex(paddingHash(4, 3)));
    expect(readUint128(node(single, 4, 3).sums, 0)).toBe(0n);
  });

  it("rejects shards that are not aligned to their sibling pairs", () => {
    const { commitments, balances } = randomLeaves(8, 1, 3);
    const hashes = hashLeaves(commitments.subarray(32, 96), balances.subarray(16, 48), 2, 1);
    expect(() =>
      buildSumTreeLevels({ hashes, sums: balances.slice(16, 48), count: 2 }, 1, {
        level: 0,
        index: 1,
        width: 8,
        stopLevel: 1,
      }),
    ).toThrow(/aligned/);
    expect(() =>
      buildSumTreeLevels({ hashes, sums: balances.slice(16, 48), count: 2 }, 1, { level: 0, index: 7, width: 8 }),
    ).toThrow(/fit/);
  });
});
