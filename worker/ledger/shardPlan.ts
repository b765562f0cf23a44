/**
 * The plan of one sharded build (shardedBuild.ts): what every step of the
 * fan-out needs to do its part alone, written once to R2 before the build is
 * claimed in D1, and never changed. Pure helpers only (the plan, step bounds, and
 * the tree above the shards: combineTops); no I/O but the keys.
 *
 * Extra R2 objects of a sharded build, under `builds/{buildId}/` (ledgerFormat.ts):
 *
 *   plan.json            BuildPlan (holds the secret seed of the leaf order).
 *   order/{b}.bin        spool bucket b's records (parseLedger.ts layout) in leaf
 *                        order (sorted by commitment, or shuffled in plans without
 *                        `order`): leaves plan.buckets[b].first .. +rows-1.
 *   idxparts/{b}.bin     bucket b's index entries (commitment 32 || uint32be leaf ||
 *                        uint32be upload row) grouped by the commitment's first
 *                        `groupBits` bits, after a header of groups+1 uint32be entry
 *                        offsets (group g is entries header[g] .. header[g+1]-1).
 *
 * All three are scratch: deleted once the ledger is complete.
 */
import { bytesToHex, readUint128 } from "../../core/bytes.js";
import { buildSumTreeLevels, HASH_BYTES, SUM_BYTES, sha256 } from "../../core/liabilities/index.js";
import { buildPrefix, INDEX_BUCKET_TARGET, type SpoolManifest, type TreeManifest } from "./ledgerFormat.js";
import { blockBitsFor, SHARD_LAYOUT, serializeLevels } from "./shardLayout.js";

export const planKey = (ledgerId: string, buildId: string) => `${buildPrefix(ledgerId, buildId)}plan.json`;
export const orderKey = (ledgerId: string, buildId: string, bucket: number) =>
  `${buildPrefix(ledgerId, buildId)}order/${bucket}.bin`;
export const indexPartKey = (ledgerId: string, buildId: string, bucket: number) =>
  `${buildPrefix(ledgerId, buildId)}idxparts/${bucket}.bin`;

/**
 * Index groups: at least 64 (when the index has that many objects), and enough
 * that one group holds about GROUP_ENTRIES_TARGET entries (10 MiB of spool
 * entries), at most 4,096: an index step's memory stays far below 128 MB.
 */
export const MIN_GROUP_BITS = 6;
export const MAX_GROUP_BITS = 12;
export const GROUP_ENTRIES_TARGET = 1 << 18;

export function groupBitsFor(rows: number, indexBits: number): number {
  const wanted = Math.max(MIN_GROUP_BITS, Math.ceil(Math.log2(rows / GROUP_ENTRIES_TARGET)));
  return Math.min(indexBits, MAX_GROUP_BITS, wanted);
}

export interface BuildPlan {
  version: 1;
  ledgerId: string;
  buildId: string;
  assets: string[];
  rows: number;
  recordBytes: number;
  /** 32 random bytes, 0x hex: the leaf order within each bucket is derived from it, so a retried step redoes exactly the same order. */
  seed: string;
  shardSize: number;
  shardCount: number;
  /** Spool buckets in leaf order: bucket b holds leaves first .. first+rows-1. */
  buckets: { rows: number; parts: number; first: number }[];
  /** Index objects are keyed by the first `indexBits` bits of the commitment (as TreeManifest). */
  indexBits: number;
  /** Index steps: one per `groupBits`-bit commitment prefix; each writes the index objects under its prefix. */
  groupBits: number;
  /** A multi-part upload's rows per part (SpoolManifest.partRows): errors name part and row. */
  partRows?: number[];
  /** True when the spool manifest lists each bucket's objects (a multi-part upload): the shuffle reads them from there. */
  pieces?: boolean;
  /** Shard object layout the build writes (shardLayout.ts); absent in plans made before layout 2, whose builds finish in layout 1. */
  layout?: 2;
  /**
   * "commitment": the spool buckets are commitment ranges and each is sorted
   * (SPEC §2 commitment order); absent: each bucket is shuffled with the seed
   * (plans and spools made before that rule).
   */
  order?: "commitment";
}

/** Step totals of a plan, as counted in the D1 progress. */
export function planTotals(plan: BuildPlan): { buckets: number; shards: number; groups: number } {
  return { buckets: plan.buckets.length, shards: plan.shardCount, groups: 2 ** plan.groupBits };
}

export function indexBitsFor(rows: number): number {
  return Math.min(16, Math.max(0, Math.ceil(Math.log2(rows / INDEX_BUCKET_TARGET))));
}

export function makePlan(
  id: { ledgerId: string; buildId: string; assets: string[] },
  spool: SpoolManifest,
  shardSize: number,
  seed: string,
): BuildPlan {
  if (!Number.isInteger(Math.log2(shardSize)) || shardSize < 2)
    throw new Error("shardSize must be a power of two >= 2");
  let first = 0;
  const buckets = spool.buckets.map((b) => {
    const at = first;
    first += b.rows;
    return { rows: b.rows, parts: b.parts, first: at };
  });
  if (first !== spool.rows) throw new Error(`spool buckets hold ${first} rows, the spool manifest says ${spool.rows}`);
  const indexBits = indexBitsFor(spool.rows);
  return {
    version: 1,
    ...id,
    rows: spool.rows,
    recordBytes: spool.recordBytes,
    seed,
    shardSize,
    shardCount: Math.ceil(spool.rows / shardSize),
    buckets,
    indexBits,
    groupBits: groupBitsFor(spool.rows, indexBits),
    layout: SHARD_LAYOUT,
    ...(spool.order === "commitment" ? { order: "commitment" as const } : {}),
    ...(spool.partRows === undefined ? {} : { partRows: spool.partRows }),
    ...(spool.buckets.some((b) => b.pieces !== undefined) ? { pieces: true } : {}),
  };
}

/** The buckets holding leaves lo .. hi-1, with the record range of each. */
export function bucketSlices(plan: BuildPlan, lo: number, hi: number): { bucket: number; from: number; to: number }[] {
  const out: { bucket: number; from: number; to: number }[] = [];
  plan.buckets.forEach((b, bucket) => {
    const from = Math.max(lo, b.first);
    const to = Math.min(hi, b.first + b.rows);
    if (from < to) out.push({ bucket, from: from - b.first, to: to - b.first });
  });
  return out;
}

/**
 * Node counts per stored level of shard `shard` (padding included), exactly as
 * `buildSumTreeLevels` stores them for leaves shard*S .. of a tree of `rows` leaves.
 */
export function shardLevelCounts(rows: number, shardSize: number, shard: number): number[] {
  const stop = Math.log2(shardSize);
  let index = shard * shardSize;
  let count = Math.min(shardSize, rows - index);
  let width = rows;
  const counts: number[] = [];
  for (let level = 0; ; level++) {
    const pad = level < stop && width > 1 && width % 2 === 1 && index + count === width ? 1 : 0;
    count += pad;
    counts.push(count);
    if (width <= 1 || level >= stop) return counts;
    count /= 2;
    index /= 2;
    width = Math.ceil(width / 2);
  }
}

/**
 * Random words for bucket `bucket`'s permutation: SHA-256(seed || uint32be(bucket)
 * || uint32be(counter)), 8 words per hash. Unpredictable without the seed,
 * identical on every retry.
 */
export function seededWords(seed: Uint8Array, bucket: number): (words: Uint32Array) => void {
  const message = new Uint8Array(seed.length + 8);
  message.set(seed);
  const v = new DataView(message.buffer);
  v.setUint32(seed.length, bucket);
  let counter = 0;
  return (words) => {
    for (let i = 0; i < words.length; i += 8) {
      v.setUint32(seed.length + 4, counter++);
      const d = sha256(message);
      const h = new DataView(d.buffer, d.byteOffset, d.byteLength);
      for (let j = 0; j < 8 && i + j < words.length; j++) words[i + j] = h.getUint32(4 * j);
    }
  };
}

/** top.bin and the manifest, from the shard tops (SPEC level `topLevel`, padding from the true level and index). */
export function combineTops(
  plan: Pick<
    BuildPlan,
    "ledgerId" | "buildId" | "assets" | "rows" | "shardSize" | "shardCount" | "indexBits" | "layout" | "order"
  >,
  topHashes: Uint8Array,
  topSums: Uint8Array,
): { top: Uint8Array; manifest: TreeManifest } {
  const k = plan.assets.length;
  const fullShardCounts = shardLevelCounts(plan.rows, plan.shardSize, 0);
  const lastShardCounts = shardLevelCounts(plan.rows, plan.shardSize, plan.shardCount - 1);
  const topLevel = fullShardCounts.length - 1;
  const top = buildSumTreeLevels({ hashes: topHashes, sums: topSums, count: plan.shardCount }, k, {
    level: topLevel,
    index: 0,
    width: plan.shardCount,
  });
  const root = top.levels[top.levels.length - 1]!;
  const manifest: TreeManifest = {
    version: 1,
    ledgerId: plan.ledgerId,
    buildId: plan.buildId,
    assets: plan.assets,
    leafCount: plan.rows,
    root: bytesToHex(root.hashes.subarray(0, HASH_BYTES)),
    rootSums: plan.assets.map((_, a) => readUint128(root.sums, a * SUM_BYTES).toString(10)),
    shardSize: plan.shardSize,
    shardCount: plan.shardCount,
    fullShardCounts,
    lastShardCounts,
    topLevel,
    topCounts: top.levels.map((l) => l.count),
    indexBits: plan.indexBits,
    ...(plan.layout === SHARD_LAYOUT ? { layout: SHARD_LAYOUT, blockBits: blockBitsFor(topLevel) } : {}),
    ...(plan.order === "commitment" ? { order: "commitment" as const } : {}),
  };
  return { top: serializeLevels(top, new Uint8Array(0)), manifest };
}
