/**
 * Stored ledgers for tests of worker/ledger/proofLookup.ts without a build:
 * a writer of the layout 1 shard objects that builds before layout 2 stored
 * (a complete ledger stored then must stay provable), and an in-memory R2
 * bucket that counts its reads, for Node-side tests.
 */
import { buildSumTreeLevels, HASH_BYTES, hashLeaves, SUM_BYTES } from "../../core/liabilities/index.js";
import {
  buildPrefix,
  indexKey,
  indexPrefix,
  shardKey,
  type TreeManifest,
  topKey,
  treeManifestKey,
} from "../../worker/ledger/ledgerFormat.js";
import { serializeLevels } from "../../worker/ledger/shardLayout.js";
import { combineTops, indexBitsFor } from "../../worker/ledger/shardPlan.js";

/**
 * Writes the leaves (commitments n*32, balances n*16k, in leaf order) as a
 * complete ledger in layout 1, as buildLedger.ts wrote it before layout 2:
 * level-major shards, top.bin, index objects, the manifest (no `layout`) and
 * its pointer.
 */
export async function writeLayout1Ledger(
  bucket: R2Bucket,
  id: { ledgerId: string; buildId: string; assets: string[] },
  commitments: Uint8Array,
  balances: Uint8Array,
  shardSize: number,
): Promise<TreeManifest> {
  const k = id.assets.length;
  const sb = SUM_BYTES * k;
  const n = commitments.length / HASH_BYTES;
  const shardLevel = Math.log2(shardSize);
  const shardCount = Math.ceil(n / shardSize);
  const topHashes = new Uint8Array(shardCount * HASH_BYTES);
  const topSums = new Uint8Array(shardCount * sb);
  for (let s = 0; s < shardCount; s++) {
    const lo = s * shardSize;
    const hi = Math.min(n, lo + shardSize);
    const c = commitments.subarray(lo * HASH_BYTES, hi * HASH_BYTES);
    const b = balances.subarray(lo * sb, hi * sb);
    const tree = buildSumTreeLevels({ hashes: hashLeaves(c, b, hi - lo, k), sums: b, count: hi - lo }, k, {
      level: 0,
      index: lo,
      width: n,
      stopLevel: shardLevel,
    });
    await bucket.put(shardKey(id.ledgerId, id.buildId, s), serializeLevels(tree, c));
    const top = tree.levels[tree.levels.length - 1]!;
    topHashes.set(top.hashes.subarray(0, HASH_BYTES), s * HASH_BYTES);
    topSums.set(top.sums.subarray(0, sb), s * sb);
  }
  const indexBits = indexBitsFor(n);
  // top.bin and a manifest without `layout`, as builds wrote them before layout 2.
  const { top, manifest } = combineTops(
    { ledgerId: id.ledgerId, buildId: id.buildId, assets: id.assets, rows: n, shardSize, shardCount, indexBits },
    topHashes,
    topSums,
  );
  await bucket.put(topKey(id.ledgerId, id.buildId), top);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    for (let j = 0; j < HASH_BYTES; j++) {
      const d = commitments[a * HASH_BYTES + j]! - commitments[b * HASH_BYTES + j]!;
      if (d !== 0) return d;
    }
    return 0;
  });
  const groups = new Map<number, number[]>();
  for (const i of order) {
    const p = indexPrefix(commitments.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), indexBits);
    groups.set(p, [...(groups.get(p) ?? []), i]);
  }
  for (const [p, leaves] of groups) {
    const entries = new Uint8Array(leaves.length * (HASH_BYTES + 4));
    const v = new DataView(entries.buffer);
    leaves.forEach((leaf, e) => {
      entries.set(commitments.subarray(leaf * HASH_BYTES, (leaf + 1) * HASH_BYTES), e * (HASH_BYTES + 4));
      v.setUint32(e * (HASH_BYTES + 4) + HASH_BYTES, leaf);
    });
    await bucket.put(indexKey(id.ledgerId, id.buildId, p), entries);
  }

  await bucket.put(`${buildPrefix(id.ledgerId, id.buildId)}manifest.json`, JSON.stringify(manifest));
  await bucket.put(treeManifestKey(id.ledgerId), JSON.stringify(manifest));
  return manifest;
}

/** The part of R2 proofLookup.ts and the builders' pure steps use, in memory; `gets` counts reads. */
export class MemoryBucket {
  readonly objects = new Map<string, Uint8Array>();
  gets = 0;

  async put(key: string, value: Uint8Array | string): Promise<object> {
    this.objects.set(key, typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array(value));
    return {};
  }

  async get(key: string, options?: { range?: { offset: number; length: number } }) {
    this.gets += 1;
    const bytes = this.objects.get(key);
    if (bytes === undefined) return null;
    const r = options?.range;
    const body = r === undefined ? bytes.slice() : bytes.slice(r.offset, r.offset + r.length);
    return {
      size: bytes.length,
      arrayBuffer: async () => body.buffer,
      json: async () => JSON.parse(new TextDecoder().decode(body)) as unknown,
    };
  }

  /** As the R2Bucket binding, for code that takes one. */
  get r2(): R2Bucket {
    return this as unknown as R2Bucket;
  }
}
