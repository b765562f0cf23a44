/**
 * The sharded build's compute, step by step, at a given size, in Node:
 * `npx tsx scripts/bench/shardSteps.ts [--rows 10000000] [--assets 2]`
 *
 * Runs the same pure step functions the queue consumer runs
 * (worker/ledger/shardedBuild.ts: orderBucket, shardObject, indexObjects,
 * combineTops) over random rows spread over the 64 spool buckets as an upload
 * would, without R2, D1 or the queue, and checks that the combined root equals
 * the single-machine build (core buildSumTree) of the same leaves in the same
 * order. Prints per-step times (median and max) and the totals, which
 * docs/scaling.md turns into wall time on N parallel consumers.
 * One JSON object per line.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { bytesToHex, writeUint128 } from "../../core/bytes.js";
import { buildSumTree, HASH_BYTES, SUM_BYTES, topNode } from "../../core/liabilities/sumTreeCore.js";
import { defaultShardSize, SPOOL_ENTRY } from "../../worker/ledger/buildLedger.js";
import { nodeBytes, SPOOL_BUCKETS } from "../../worker/ledger/ledgerFormat.js";
import { recordBytes } from "../../worker/ledger/parseLedger.js";
import { indexObjects, orderBucket, shardObject } from "../../worker/ledger/shardedBuild.js";
import { blockBitsFor, shardTopOffset } from "../../worker/ledger/shardLayout.js";
import { bucketSlices, combineTops, makePlan, shardLevelCounts } from "../../worker/ledger/shardPlan.js";

const { values } = parseArgs({
  options: { rows: { type: "string", default: "10000000" }, assets: { type: "string", default: "2" } },
});
const N = Number(values.rows);
const K = Number(values.assets);
const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));
const rb = recordBytes(K);
const sb = SUM_BYTES * K;

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    count: ms.length,
    medianMs: round(sorted[Math.floor(sorted.length / 2)]!),
    maxMs: round(sorted[sorted.length - 1]!),
    totalMs: Math.round(total),
  };
}
const round = (x: number) => Math.round(x * 10) / 10;
function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
}

// Rows as the upload spools them: each to a uniformly random bucket.
let t = performance.now();
const bucketOf = new Uint8Array(randomBytes(N)).map((x) => x & (SPOOL_BUCKETS - 1));
const counts = new Array<number>(SPOOL_BUCKETS).fill(0);
for (const b of bucketOf) counts[b]! += 1;
const buckets = counts.map((rows) => new Uint8Array(rows * rb));
const fill = new Array<number>(SPOOL_BUCKETS).fill(0);
const commitments = randomBytes(N * HASH_BYTES);
const words = new Uint32Array(randomBytes(N * K * 4).buffer);
for (let i = 0; i < N; i++) {
  const b = bucketOf[i]!;
  const at = fill[b]!++ * rb;
  const rec = buckets[b]!;
  new DataView(rec.buffer).setUint32(at, i + 1);
  rec.set(commitments.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), at + 4);
  for (let k = 0; k < K; k++) writeUint128(rec, at + 4 + HASH_BYTES + k * SUM_BYTES, BigInt(words[i * K + k]!) << 20n);
}
const shardSize = defaultShardSize(K);
const plan = makePlan(
  { ledgerId: "lg_bench", buildId: "bench", assets: Array.from({ length: K }, (_, k) => `A${k}`) },
  { recordBytes: rb, rows: N, buckets: counts.map((rows) => ({ rows, parts: 1 })) },
  shardSize,
  bytesToHex(randomBytes(32)),
);
emit({
  bench: "shard-steps-setup",
  rows: N,
  assets: K,
  shardSize,
  shards: plan.shardCount,
  indexGroups: 2 ** plan.groupBits,
  indexBits: plan.indexBits,
  ms: Math.round(performance.now() - t),
});

// shuffle: one step per spool bucket.
const ordered: Uint8Array[] = [];
const indexParts: Uint8Array[] = [];
const shuffleMs: number[] = [];
for (let b = 0; b < SPOOL_BUCKETS; b++) {
  const [out, ms] = time(() => orderBucket(plan, b, buckets[b]!));
  ordered.push(out.ordered);
  indexParts.push(out.index);
  shuffleMs.push(ms);
}
emit({ bench: "shard-steps", step: "shuffle", rowsPerStep: Math.round(N / SPOOL_BUCKETS), ...stats(shuffleMs) });

// shard: one step per shard, from the ordered buckets' slices (as the ranged reads give them).
const shardMs: number[] = [];
const k = K;
const nb = nodeBytes(k);
const topHashes = new Uint8Array(plan.shardCount * HASH_BYTES);
const topSums = new Uint8Array(plan.shardCount * sb);
const allCommitments = new Uint8Array(N * HASH_BYTES);
const allBalances = new Uint8Array(N * sb);
let maxShardBytes = 0;
for (let s = 0; s < plan.shardCount; s++) {
  const lo = s * shardSize;
  const hi = Math.min(N, lo + shardSize);
  const c = new Uint8Array((hi - lo) * HASH_BYTES);
  const bal = new Uint8Array((hi - lo) * sb);
  let leaf = 0;
  for (const slice of bucketSlices(plan, lo, hi)) {
    const bytes = ordered[slice.bucket]!.subarray(slice.from * rb, slice.to * rb);
    for (let j = 0; j < slice.to - slice.from; j++, leaf++) {
      c.set(bytes.subarray(j * rb + 4, j * rb + 4 + HASH_BYTES), leaf * HASH_BYTES);
      bal.set(bytes.subarray(j * rb + 4 + HASH_BYTES, (j + 1) * rb), leaf * sb);
    }
  }
  allCommitments.set(c, lo * HASH_BYTES);
  allBalances.set(bal, lo * sb);
  const [obj, ms] = time(() => shardObject(plan, s, c, bal));
  shardMs.push(ms);
  maxShardBytes = Math.max(maxShardBytes, obj.length);
  const levels = shardLevelCounts(N, shardSize, s);
  const at = shardTopOffset({ counts: levels, leaves: hi - lo, blockBits: blockBitsFor(levels.length - 1), assets: k });
  const top = obj.subarray(at, at + nb);
  topHashes.set(top.subarray(0, HASH_BYTES), s * HASH_BYTES);
  topSums.set(top.subarray(HASH_BYTES), s * sb);
}
emit({ bench: "shard-steps", step: "shard", leavesPerStep: shardSize, objectBytes: maxShardBytes, ...stats(shardMs) });

// index: one step per commitment group, from every bucket's part of that group.
const groups = 2 ** plan.groupBits;
const indexMs: number[] = [];
let indexObjectsWritten = 0;
const headerBytes = 4 * (groups + 1);
for (let g = 0; g < groups; g++) {
  const pieces = indexParts.map((part) => {
    const v = new DataView(part.buffer, part.byteOffset);
    return part.subarray(
      headerBytes + v.getUint32(4 * g) * SPOOL_ENTRY,
      headerBytes + v.getUint32(4 * g + 4) * SPOOL_ENTRY,
    );
  });
  const entries = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pieces) {
    entries.set(p, o);
    o += p.length;
  }
  const [objects, ms] = time(() => indexObjects(plan, entries));
  indexObjectsWritten += objects.length;
  indexMs.push(ms);
}
emit({
  bench: "shard-steps",
  step: "index",
  entriesPerStep: Math.round(N / groups),
  objects: indexObjectsWritten,
  ...stats(indexMs),
});

const [combined, combineMs] = time(() => combineTops(plan, topHashes, topSums));
emit({
  bench: "shard-steps",
  step: "combine",
  shardTops: plan.shardCount,
  topBytes: combined.top.length,
  ...stats([combineMs]),
});

// The single-machine build of the same leaves in the same order.
t = performance.now();
const single = bytesToHex(topNode(buildSumTree(allCommitments, allBalances, N, K)).hash);
const singleMs = performance.now() - t;
const stepTotal = [...shuffleMs, ...shardMs, ...indexMs, combineMs].reduce((a, b) => a + b, 0);
emit({
  bench: "shard-steps-root",
  rows: N,
  shardedRoot: combined.manifest.root,
  singleMachineRoot: single,
  equal: single === combined.manifest.root,
  singleBuildMs: Math.round(singleMs),
  allStepsSequentialMs: Math.round(stepTotal),
});
if (single !== combined.manifest.root) process.exit(1);
