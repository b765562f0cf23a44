/**
 * The blocked shard layout (worker/ledger/shardLayout.ts): offsets by hand for
 * the edge cases, layout invariants over random shapes, and proofs read through
 * proofLookup.ts from ledgers stored in layout 2 (by the sharded build's own
 * step functions) and in layout 1 (as older builds stored them), each equal to
 * the proof of core's in-memory tree.
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesToHex, writeUint128 } from "../../core/bytes.js";
import {
  buildSumTreeLevels,
  HASH_BYTES,
  hashLeaves,
  LiabilityTree,
  SUM_BYTES,
  type SumTreeLevels,
  siblingPath,
} from "../../core/liabilities/index.js";
import { SPOOL_ENTRY } from "../../worker/ledger/buildLedger.js";
import {
  buildPrefix,
  indexKey,
  nodeBytes,
  shardKey,
  shardNodeOffset,
  type TreeManifest,
  topKey,
  treeManifestKey,
} from "../../worker/ledger/ledgerFormat.js";
import { recordBytes } from "../../worker/ledger/parseLedger.js";
import { readInclusionProof, readLedgerLeaves } from "../../worker/ledger/proofLookup.js";
import { indexObjects, shardObject } from "../../worker/ledger/shardedBuild.js";
import {
  blockBitsFor,
  blockCount,
  blockRange,
  commitmentOffset,
  fullBlockBytes,
  nodeOffset,
  parseProofReads,
  proofReads,
  type ShardGeometry,
  serializeLevels,
  serializeShard,
  shardBytes,
  shardGeometry,
  shardLeaves,
  shardTopOffset,
  upperLevelOffset,
} from "../../worker/ledger/shardLayout.js";
import { combineTops, makePlan, shardLevelCounts } from "../../worker/ledger/shardPlan.js";
import { MemoryBucket, writeLayout1Ledger } from "../support/storedLedger.js";

/** Random leaves: distinct commitments, balances below 2^40. */
function randomLeaves(
  n: number,
  k: number,
): { commitments: Uint8Array; balances: Uint8Array; rows: { commitment: Uint8Array; balances: bigint[] }[] } {
  const commitments = new Uint8Array(randomBytes(n * HASH_BYTES));
  const balances = new Uint8Array(n * SUM_BYTES * k);
  const rows = Array.from({ length: n }, (_, i) => {
    const b = Array.from({ length: k }, () => BigInt(randomBytes(5).readUIntBE(0, 5)));
    b.forEach((v, a) => {
      writeUint128(balances, (i * k + a) * SUM_BYTES, v);
    });
    return { commitment: commitments.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), balances: b };
  });
  return { commitments, balances, rows };
}

/** Shard s of a tree of n leaves with shards of `size` leaves, as the builders compute it. */
function shardTree(
  commitments: Uint8Array,
  balances: Uint8Array,
  k: number,
  n: number,
  size: number,
  s: number,
): { tree: SumTreeLevels; c: Uint8Array; lo: number } {
  const sb = SUM_BYTES * k;
  const lo = s * size;
  const hi = Math.min(n, lo + size);
  const c = commitments.subarray(lo * HASH_BYTES, hi * HASH_BYTES);
  const b = balances.subarray(lo * sb, hi * sb);
  const tree = buildSumTreeLevels({ hashes: hashLeaves(c, b, hi - lo, k), sums: b, count: hi - lo }, k, {
    level: 0,
    index: lo,
    width: n,
    stopLevel: Math.log2(size),
  });
  return { tree, c, lo };
}

function nodeOf(tree: SumTreeLevels, level: number, local: number): Uint8Array {
  const lv = tree.levels[level]!;
  const sb = SUM_BYTES * tree.assets;
  const out = new Uint8Array(nodeBytes(tree.assets));
  out.set(lv.hashes.subarray(local * HASH_BYTES, (local + 1) * HASH_BYTES));
  out.set(lv.sums.subarray(local * sb, (local + 1) * sb), HASH_BYTES);
  return out;
}

const geometry = (counts: number[], leaves: number, blockBits: number, assets = 1): ShardGeometry => ({
  counts,
  leaves,
  blockBits,
  assets,
});

describe("shard layout offsets", () => {
  it("places a full shard of 8 leaves in two blocks of 4 (b = 2) and the upper levels 2..3 after them", () => {
    // One asset: a node is 48 bytes. A full block: 4 commitments, 4 + 2 nodes.
    const g = geometry([8, 4, 2, 1], 8, 2);
    expect(blockBitsFor(3)).toBe(2);
    expect(blockCount(g)).toBe(2);
    expect(fullBlockBytes(g)).toBe(4 * 32 + 6 * 48);
    expect(blockRange(g, 0)).toEqual({ offset: 0, length: 416 });
    expect(blockRange(g, 1)).toEqual({ offset: 416, length: 416 });
    expect(commitmentOffset(g, 0)).toBe(0);
    expect(commitmentOffset(g, 5)).toBe(416 + 32);
    expect(nodeOffset(g, 0, 0)).toBe(128);
    expect(nodeOffset(g, 0, 5)).toBe(416 + 128 + 48);
    expect(nodeOffset(g, 1, 1)).toBe(128 + 4 * 48 + 48);
    expect(nodeOffset(g, 1, 3)).toBe(416 + 128 + 4 * 48 + 48);
    expect(upperLevelOffset(g, 2)).toBe(832);
    expect(nodeOffset(g, 2, 1)).toBe(832 + 48);
    expect(shardTopOffset(g)).toBe(832 + 96);
    expect(shardBytes(g)).toBe(832 + 96 + 48);
    // Leaf 5: block 1, then levels 2..2 of upper (level 3 is the top, not on the path).
    expect(proofReads(g, 5)).toEqual({ block: { offset: 416, length: 416 }, upper: { offset: 832, length: 96 } });
  });

  it("puts the padding nodes of the last partial shard in its last block", () => {
    // 13 leaves, shards of 8: shard 1 holds leaves 8..12 (5), padded at levels 0 and 1.
    const counts = shardLevelCounts(13, 8, 1);
    expect(counts).toEqual([6, 4, 2, 1]);
    const g = geometry(counts, 5, 2);
    expect(blockCount(g)).toBe(2);
    expect(blockRange(g, 0)).toEqual({ offset: 0, length: 416 });
    // Block 1: leaf 4 (1 commitment), level 0 nodes 4..5 (5 is padding), level 1 nodes 2..3 (3 is padding).
    expect(blockRange(g, 1)).toEqual({ offset: 416, length: 32 + 4 * 48 });
    expect(nodeOffset(g, 0, 5)).toBe(416 + 32 + 48);
    expect(nodeOffset(g, 1, 3)).toBe(416 + 32 + 2 * 48 + 48);
    expect(upperLevelOffset(g, 2)).toBe(5 * 32 + 10 * 48);
    expect(shardBytes(g)).toBe(5 * 32 + 13 * 48);
    expect(proofReads(g, 4)).toEqual({ block: { offset: 416, length: 224 }, upper: { offset: 640, length: 96 } });
  });

  it("handles a one-leaf ledger (b = 0: the leaf node is the top, read from upper)", () => {
    const g = geometry([1], 1, blockBitsFor(0));
    expect(g.blockBits).toBe(0);
    expect(blockRange(g, 0)).toEqual({ offset: 0, length: 32 });
    expect(nodeOffset(g, 0, 0)).toBe(32);
    expect(shardTopOffset(g)).toBe(32);
    expect(shardBytes(g)).toBe(80);
    expect(proofReads(g, 0)).toEqual({ block: { offset: 0, length: 32 }, upper: { offset: 32, length: 48 } });
  });

  it("handles a two-leaf ledger and shards of 2 (b = 1: one block, no upper read)", () => {
    const g = geometry([2, 1], 2, blockBitsFor(1));
    expect(g.blockBits).toBe(1);
    expect(blockRange(g, 0)).toEqual({ offset: 0, length: 64 + 96 });
    expect(proofReads(g, 1)).toEqual({ block: { offset: 0, length: 160 }, upper: null });
    // Shards of 2 over 5 leaves: the last holds leaf 4 and a padding node.
    expect(shardLevelCounts(5, 2, 2)).toEqual([2, 1]);
    const last = geometry([2, 1], 1, 1);
    expect(blockRange(last, 0)).toEqual({ offset: 0, length: 32 + 96 });
    expect(nodeOffset(last, 0, 1)).toBe(32 + 48);
    expect(shardTopOffset(last)).toBe(128);
  });

  it("handles odd counts in a single shard (3 leaves: b = 1, padding at level 0)", () => {
    const counts = shardLevelCounts(3, 64, 0);
    expect(counts).toEqual([4, 2, 1]);
    const g = geometry(counts, 3, blockBitsFor(2));
    expect(blockCount(g)).toBe(2);
    expect(blockRange(g, 1)).toEqual({ offset: 160, length: 32 + 96 });
    expect(nodeOffset(g, 0, 3)).toBe(160 + 32 + 48);
    expect(proofReads(g, 2)).toEqual({ block: { offset: 160, length: 128 }, upper: { offset: 288, length: 96 } });
  });

  it("reads the manifest: layout 2 with its block bits, layout 1 as b = 0, and refuses other layouts", () => {
    const m = {
      ledgerId: "lg_x",
      assets: ["A", "B"],
      leafCount: 13,
      shardSize: 8,
      shardCount: 2,
      fullShardCounts: [8, 4, 2, 1],
      lastShardCounts: [6, 4, 2, 1],
      layout: 2,
      blockBits: 2,
    } as unknown as TreeManifest;
    expect(shardGeometry(m, 0)).toEqual({ counts: [8, 4, 2, 1], leaves: 8, blockBits: 2, assets: 2 });
    expect(shardGeometry(m, 1)).toEqual({ counts: [6, 4, 2, 1], leaves: 5, blockBits: 2, assets: 2 });
    expect(shardGeometry({ ...m, layout: undefined, blockBits: undefined }, 1).blockBits).toBe(0);
    expect(() => shardGeometry({ ...m, layout: 3 } as unknown as TreeManifest, 0)).toThrow(/unknown shard layout 3/);
    expect(() => shardGeometry(m, 2)).toThrow(/no shard 2/);
    expect(() => shardGeometry({ ...m, blockBits: 4 }, 0)).toThrow(/block bits/);
  });

  const shapes = fc.record({
    rows: fc.integer({ min: 1, max: 300 }),
    sizeBits: fc.integer({ min: 1, max: 7 }),
    assets: fc.integer({ min: 1, max: 3 }),
    pick: fc.nat(),
    b: fc.nat(),
  });

  it("partitions the object: every commitment and node has its own bytes, together exactly the object (any b)", () => {
    fc.assert(
      fc.property(shapes, ({ rows, sizeBits, assets, pick, b }) => {
        const size = 2 ** sizeBits;
        const shards = Math.ceil(rows / size);
        const s = pick % shards;
        const counts = shardLevelCounts(rows, size, s);
        const g = geometry(counts, Math.min(size, rows - s * size), b % counts.length, assets);
        const nb = nodeBytes(assets);
        const spans: [number, number][] = [];
        for (let i = 0; i < g.leaves; i++) spans.push([commitmentOffset(g, i), HASH_BYTES]);
        counts.forEach((count, l) => {
          for (let i = 0; i < count; i++) spans.push([nodeOffset(g, l, i), nb]);
        });
        spans.sort((x, y) => x[0] - y[0]);
        let at = 0;
        for (const [o, len] of spans) {
          expect(o).toBe(at);
          at += len;
        }
        expect(at).toBe(shardBytes(g));
        expect(shardTopOffset(g)).toBe(shardBytes(g) - nb);
        // Blocks tile the bytes below upper, in order.
        let end = 0;
        for (let j = 0; j < blockCount(g); j++) {
          const r = blockRange(g, j);
          expect(r.offset).toBe(end);
          end += r.length;
        }
        expect(end).toBe(upperLevelOffset(g, g.blockBits));
      }),
      { numRuns: 300 },
    );
  });

  it("is layout 1 when b = 0: the same offsets as shardNodeOffset, the same bytes as serializeLevels", () => {
    fc.assert(
      fc.property(shapes, ({ rows, sizeBits, assets, pick }) => {
        const size = 2 ** sizeBits;
        const s = pick % Math.ceil(rows / size);
        const { commitments, balances } = randomLeaves(rows, assets);
        const { tree, c } = shardTree(commitments, balances, assets, rows, size, s);
        const counts = tree.levels.map((l) => l.count);
        const g = geometry(counts, c.length / HASH_BYTES, 0, assets);
        counts.forEach((count, l) => {
          for (let i = 0; i < count; i++)
            expect(nodeOffset(g, l, i)).toBe(shardNodeOffset(counts, g.leaves, l, i, assets));
        });
        expect(serializeShard(tree, c, 0)).toEqual(serializeLevels(tree, c));
      }),
      { numRuns: 60 },
    );
  });

  it("serializes every node and commitment where the offsets say; a proof's two reads give the core's sibling path (any b)", () => {
    fc.assert(
      fc.property(shapes, ({ rows, sizeBits, assets, pick, b }) => {
        const size = 2 ** sizeBits;
        const s = pick % Math.ceil(rows / size);
        const { commitments, balances } = randomLeaves(rows, assets);
        const { tree, c, lo } = shardTree(commitments, balances, assets, rows, size, s);
        const counts = tree.levels.map((l) => l.count);
        const g = geometry(counts, c.length / HASH_BYTES, b % counts.length, assets);
        const obj = serializeShard(tree, c, g.blockBits);
        expect(obj.length).toBe(shardBytes(g));
        const nb = nodeBytes(assets);
        counts.forEach((count, l) => {
          for (let i = 0; i < count; i++)
            expect(obj.subarray(nodeOffset(g, l, i), nodeOffset(g, l, i) + nb)).toEqual(nodeOf(tree, l, i));
        });
        const leaves = shardLeaves(obj, g);
        expect(leaves.commitments).toEqual(c);
        expect(leaves.balances).toEqual(
          balances.subarray(lo * SUM_BYTES * assets, (lo + g.leaves) * SUM_BYTES * assets),
        );
        for (let i = 0; i < g.leaves; i++) {
          const reads = proofReads(g, i);
          const slice = (r: { offset: number; length: number }) => obj.slice(r.offset, r.offset + r.length);
          const got = parseProofReads(g, i, reads, slice(reads.block), reads.upper && slice(reads.upper));
          expect(got.commitment).toEqual(c.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
          expect(got.leafNode).toEqual(nodeOf(tree, 0, i));
          const core = siblingPath(tree, lo + i).map((n) => {
            const out = new Uint8Array(nb);
            out.set(n.hash);
            out.set(n.sums, HASH_BYTES);
            return out;
          });
          expect(got.path).toEqual(core);
        }
      }),
      { numRuns: 80 },
    );
  });
});

let ledgers = 0;

/**
 * Stores the leaves as the sharded build does (shardObject per shard, the shard
 * tops read back at shardTopOffset, combineTops, indexObjects) in `bucket`.
 */
async function storeLayout2(
  bucket: MemoryBucket,
  ledgerId: string,
  assets: string[],
  commitments: Uint8Array,
  balances: Uint8Array,
  shardSize: number,
  /** Build from a plan made before layout 2 (no `layout`), as a build started before an upgrade. */
  legacyPlan = false,
): Promise<TreeManifest> {
  const k = assets.length;
  const sb = SUM_BYTES * k;
  const n = commitments.length / HASH_BYTES;
  const plan = makePlan(
    { ledgerId, buildId: "b2", assets },
    { recordBytes: recordBytes(k), rows: n, buckets: [{ rows: n, parts: 1 }] },
    shardSize,
    bytesToHex(randomBytes(32)),
  );
  if (legacyPlan) delete plan.layout;
  const topHashes = new Uint8Array(plan.shardCount * HASH_BYTES);
  const topSums = new Uint8Array(plan.shardCount * sb);
  for (let s = 0; s < plan.shardCount; s++) {
    const lo = s * shardSize;
    const hi = Math.min(n, lo + shardSize);
    const obj = shardObject(
      plan,
      s,
      commitments.slice(lo * HASH_BYTES, hi * HASH_BYTES),
      balances.slice(lo * sb, hi * sb),
    );
    await bucket.put(shardKey(ledgerId, "b2", s), obj);
    const counts = shardLevelCounts(n, shardSize, s);
    const at = shardTopOffset({
      counts,
      leaves: hi - lo,
      blockBits: legacyPlan ? 0 : blockBitsFor(counts.length - 1),
      assets: k,
    });
    topHashes.set(obj.subarray(at, at + HASH_BYTES), s * HASH_BYTES);
    topSums.set(obj.subarray(at + HASH_BYTES, at + HASH_BYTES + sb), s * sb);
  }
  const { top, manifest } = combineTops(plan, topHashes, topSums);
  await bucket.put(topKey(ledgerId, "b2"), top);
  const entries = new Uint8Array(n * SPOOL_ENTRY);
  const v = new DataView(entries.buffer);
  for (let i = 0; i < n; i++) {
    entries.set(commitments.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), i * SPOOL_ENTRY);
    v.setUint32(i * SPOOL_ENTRY + HASH_BYTES, i);
    v.setUint32(i * SPOOL_ENTRY + HASH_BYTES + 4, i + 1);
  }
  for (const o of indexObjects(plan, entries)) await bucket.put(indexKey(ledgerId, "b2", o.prefix), o.entries);
  await bucket.put(`${buildPrefix(ledgerId, "b2")}manifest.json`, JSON.stringify(manifest));
  await bucket.put(treeManifestKey(ledgerId), JSON.stringify(manifest));
  return manifest;
}

describe("proofs read from stored ledgers", () => {
  for (const layout of [2, 1] as const) {
    it(`layout ${layout}: every leaf's proof equals the core's in-memory tree's, for random row counts and shard sizes`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 150 }),
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 3 }),
          async (rows, sizeBits, k) => {
            const assets = Array.from({ length: k }, (_, a) => `A${a}`);
            const { commitments, balances, rows: leaves } = randomLeaves(rows, k);
            const bucket = new MemoryBucket();
            const ledgerId = `lg_layout${layout}_${ledgers++}`;
            const manifest =
              layout === 2
                ? await storeLayout2(bucket, ledgerId, assets, commitments, balances, 2 ** sizeBits)
                : await writeLayout1Ledger(
                    bucket.r2,
                    { ledgerId, buildId: "b1", assets },
                    commitments,
                    balances,
                    2 ** sizeBits,
                  );
            expect(manifest.layout).toBe(layout === 2 ? 2 : undefined);
            if (layout === 2) expect(manifest.blockBits).toBe(blockBitsFor(manifest.topLevel));
            const tree = LiabilityTree.fromRows(assets, leaves);
            expect(manifest.root).toBe(tree.root);
            const stored = (await readLedgerLeaves(bucket.r2, ledgerId))!;
            expect(stored).toEqual(leaves.map((l) => ({ commitment: bytesToHex(l.commitment), balances: l.balances })));
            for (let i = 0; i < rows; i++) {
              const before = bucket.gets;
              const proof = await readInclusionProof(bucket.r2, ledgerId, bytesToHex(leaves[i]!.commitment));
              expect(proof).toEqual(tree.proof(i));
              // Past the first proof (manifest and top.bin cached): index bucket, block, upper span.
              if (layout === 2 && i > 0) expect(bucket.gets - before).toBeLessThanOrEqual(3);
            }
            expect(await readInclusionProof(bucket.r2, ledgerId, `0x${"00".repeat(32)}`)).toBeNull();
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it("a build planned before layout 2 finishes in layout 1 after an upgrade: its manifest says so and every proof still verifies", async () => {
    const assets = ["USD", "ETH"];
    const { commitments, balances, rows: leaves } = randomLeaves(77, 2);
    const bucket = new MemoryBucket();
    const manifest = await storeLayout2(bucket, "lg_legacy_plan", assets, commitments, balances, 16, true);
    expect(manifest.layout).toBeUndefined();
    expect(manifest.blockBits).toBeUndefined();
    const tree = LiabilityTree.fromRows(assets, leaves);
    expect(manifest.root).toBe(tree.root);
    for (let i = 0; i < leaves.length; i++)
      expect(await readInclusionProof(bucket.r2, "lg_legacy_plan", bytesToHex(leaves[i]!.commitment))).toEqual(
        tree.proof(i),
      );
  });

  it("layout 2 reads 3 objects per proof at the benchmark's shape (shards of 16,384, 2 assets), layout 1 about one per level", async () => {
    const rows = 16_384 * 2 + 1000;
    const assets = ["USD", "ETH"];
    const { commitments, balances, rows: leaves } = randomLeaves(rows, 2);
    const tree = LiabilityTree.fromRows(assets, leaves);
    for (const layout of [2, 1] as const) {
      const bucket = new MemoryBucket();
      const ledgerId = `lg_big_${layout}`;
      if (layout === 2) await storeLayout2(bucket, ledgerId, assets, commitments, balances, 16_384);
      else await writeLayout1Ledger(bucket.r2, { ledgerId, buildId: "b1", assets }, commitments, balances, 16_384);
      await readInclusionProof(bucket.r2, ledgerId, bytesToHex(leaves[0]!.commitment));
      const picks = [1, 16_383, 16_384, 20_000, rows - 1];
      const before = bucket.gets;
      for (const i of picks)
        expect(await readInclusionProof(bucket.r2, ledgerId, bytesToHex(leaves[i]!.commitment))).toEqual(tree.proof(i));
      const perProof = (bucket.gets - before) / picks.length;
      if (layout === 2) expect(perProof).toBe(3);
      else expect(perProof).toBeGreaterThanOrEqual(10);
    }
  });
});
