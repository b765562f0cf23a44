/**
 * The queue path's build, fanned out over LEDGER_QUEUE messages so that
 * consumers work in parallel and no step holds more than one spool bucket,
 * one shard or one index group in memory:
 *
 *   start    (the upload's message) plan the build, claim it in D1, send one
 *            `shuffle` per spool bucket;
 *   shuffle  put bucket b's rows in leaf order (sorted by commitment; older
 *            plans: a seeded permutation) and its
 *            index entries grouped by commitment prefix; the last one sends
 *            one `shard` per shard and one `index` per commitment group;
 *   shard    build shard s's subtree from its true position (SPEC §2 padding
 *            from the true level and index) and store it;
 *   index    sort one commitment group, find repeated commitments, store its
 *            index objects; the last shard or index step sends `combine`;
 *   combine  build the levels above the shards from the shard tops, write the
 *            manifest, mark the ledger complete, delete the scratch objects.
 *
 * Every step reads only its own build's objects, writes only its own output
 * (the same bytes on every retry: the order comes from the plan's seed) and
 * records itself in D1 with json_set, so retries, duplicates and concurrent
 * consumers converge. A step of a build that is no longer the ledger's
 * building one does nothing. The plan and layout: shardPlan.ts, ledgerFormat.ts.
 */
import { bytesToHex, hexToBytes } from "../../core/bytes.js";
import { buildSumTreeLevels, HASH_BYTES, hashLeaves, SUM_BYTES } from "../../core/liabilities/index.js";
import type { BlindingSecret } from "../config/secrets.js";
import {
  commitmentOrder,
  compareCommitments,
  defaultShardSize,
  ensureManifestPointer,
  LedgerBuildError,
  packEntries,
  randomPermutation,
  SPOOL_ENTRY,
  sortEntries,
} from "./buildLedger.js";
import {
  buildPrefix,
  countMarks,
  indexKey,
  indexPrefix,
  nodeBytes,
  randomHex,
  renumberRows,
  rowOffsets,
  type ShardedProgress,
  type SpoolManifest,
  shardKey,
  spoolManifestKey,
  spoolObjects,
  spoolPartKey,
  topKey,
  treeManifestKey,
} from "./ledgerFormat.js";
import {
  claimShardedBuild,
  deletePrefix,
  getLedger,
  getShardedProgress,
  markBuildStep,
  markLedgerComplete,
  PRIVATE_SCHEME,
  readJson,
  readObject,
  readRange,
} from "./ledgerStore.js";
import {
  buildPrivateShard,
  combinePrivate,
  isPrivatePlan,
  type PrivateBuildPlan,
  paddedSpoolKey,
  planPrivateBuild,
  privateRowName,
} from "./privateBuild.js";
import { blockBitsFor, SHARD_LAYOUT, serializeShard, shardTopOffset } from "./shardLayout.js";
import {
  type BuildPlan,
  bucketSlices,
  combineTops,
  indexPartKey,
  makePlan,
  orderKey,
  planKey,
  planTotals,
  seededWords,
  shardLevelCounts,
} from "./shardPlan.js";

/** The upload's message (no kind, as before sharding): build this ledger. */
export interface LedgerStartMessage {
  kind?: "start";
  ledgerId: string;
  issuerId: string;
}
export interface LedgerShuffleMessage {
  kind: "shuffle";
  ledgerId: string;
  buildId: string;
  bucket: number;
}
export interface LedgerShardMessage {
  kind: "shard";
  ledgerId: string;
  buildId: string;
  shard: number;
}
export interface LedgerIndexMessage {
  kind: "index";
  ledgerId: string;
  buildId: string;
  group: number;
}
export interface LedgerCombineMessage {
  kind: "combine";
  ledgerId: string;
  buildId: string;
}
export type LedgerStepMessage = LedgerShuffleMessage | LedgerShardMessage | LedgerIndexMessage | LedgerCombineMessage;
export type LedgerBuildMessage = LedgerStartMessage | LedgerStepMessage;

export interface LedgerStore {
  db: D1Database;
  bucket: R2Bucket;
  /** The blinding secret, read only by private builds (throws when it is not set or unusable). */
  secret?: () => BlindingSecret;
}

function privateSecret(store: LedgerStore): BlindingSecret {
  if (!store.secret) throw new Error("a private ledger build needs LEDGER_BLINDING_SECRET and none was given");
  return store.secret();
}

/** Ranged reads in flight per step (Workers allows 6 open connections per invocation). */
const READ_CONCURRENCY = 6;

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** What one shuffle step may hold of its bucket (records, their ordered copy, index entries, order): well inside 128 MB. */
export const SHUFFLE_MEMORY_BYTES = 96 * 1024 * 1024;

/** The most rows one spool bucket may hold for its shuffle step to fit SHUFFLE_MEMORY_BYTES. */
export function maxBucketRows(recordBytes: number): number {
  return Math.floor(SHUFFLE_MEMORY_BYTES / (2 * recordBytes + SPOOL_ENTRY + 10));
}

/**
 * Fails a spool whose largest bucket would not fit one step. Buckets are
 * commitment ranges: SHA-256 commitments fill them evenly, so only a ledger
 * beyond about 64 × maxBucketRows rows, or commitments that were not made as
 * SPEC §2 says (given directly and bunched in one range), gets here.
 */
function checkBucketSizes(spool: SpoolManifest, limit: number): void {
  const rows = spool.buckets.map((b) => b.rows);
  const largest = rows.indexOf(Math.max(...rows));
  if (rows[largest]! <= limit) return;
  const range =
    spool.order === "commitment"
      ? ` (commitments starting with the 6 bits ${largest.toString(2).padStart(6, "0")})`
      : "";
  throw new LedgerBuildError(
    `spool bucket ${largest} holds ${rows[largest]} of ${spool.rows} rows${range}, more than the ${limit} one build step can hold: ` +
      "SPEC §2 commitments (SHA-256) spread evenly, so either the ledger is too large for one build or its commitments were not computed as SPEC §2 says",
  );
}

/**
 * Handles the upload's message: plans and claims a sharded build and returns
 * the `shuffle` messages to send. A repeated start of a build already claimed
 * returns them again (every step is idempotent). Nothing for a ledger already
 * complete or failed.
 */
export async function startShardedBuild(
  store: LedgerStore,
  ledgerId: string,
  options: { shardSize?: number; maxBucketRows?: number } = {},
): Promise<LedgerBuildMessage[]> {
  const { db, bucket } = store;
  const ledger = await getLedger(db, ledgerId);
  if (ledger === null) return [];
  if (ledger.status === "complete" || ledger.status === "superseded") {
    await ensureManifestPointer(bucket, ledgerId, ledger.buildId!);
    return [];
  }
  if (ledger.status === "failed") return [];
  if (ledger.status !== "building") throw new Error(`ledger ${ledgerId} is still ${ledger.status}`);

  if (ledger.buildId !== null) {
    const existing = await readJson<BuildPlan>(bucket, planKey(ledgerId, ledger.buildId));
    if (existing !== null) return resumeMessages(store, existing);
  }
  const spool = await readJson<SpoolManifest>(bucket, spoolManifestKey(ledgerId));
  if (spool === null) throw new LedgerBuildError("the ledger's rows are missing from storage");
  if (spool.rows !== ledger.rows)
    throw new LedgerBuildError(`storage holds ${spool.rows} rows, the ledger has ${ledger.rows}`);
  if (spool.rows < 1) throw new LedgerBuildError("a ledger needs at least one row");
  if (ledger.scheme === PRIVATE_SCHEME) {
    const buildId = randomHex(8);
    const { plan, padded } = await planPrivateBuild(bucket, ledger, spool, privateSecret(store), {
      buildId,
      ...(options.shardSize === undefined ? {} : { shardSize: options.shardSize }),
    });
    try {
      checkBucketSizes(padded, options.maxBucketRows ?? maxBucketRows(spool.recordBytes));
    } catch (e) {
      await deletePrefix(bucket, buildPrefix(ledgerId, buildId)).catch(() => {});
      throw e;
    }
    await bucket.put(plan.spoolKey, JSON.stringify(padded));
    // A start that loses the claim drops its padding and plan with it.
    return claimPlan(store, plan, ledger.buildId, () => deletePrefix(bucket, buildPrefix(ledgerId, buildId)));
  }
  checkBucketSizes(spool, options.maxBucketRows ?? maxBucketRows(spool.recordBytes));

  const buildId = randomHex(8);
  const shardSize = options.shardSize ?? defaultShardSize(ledger.assets.length);
  const plan = makePlan({ ledgerId, buildId, assets: ledger.assets }, spool, shardSize, `0x${randomHex(32)}`);
  return claimPlan(store, plan, ledger.buildId, () => bucket.delete(planKey(ledgerId, buildId)));
}

/** Writes the plan and claims the ledger for it; the shuffles to send, or none when another start claimed it first. */
async function claimPlan(
  store: LedgerStore,
  plan: BuildPlan,
  previous: string | null,
  dropLoser: () => Promise<void>,
): Promise<LedgerBuildMessage[]> {
  await store.bucket.put(planKey(plan.ledgerId, plan.buildId), JSON.stringify(plan));
  const progress: ShardedProgress = { rows: plan.rows, totals: planTotals(plan), marks: {} };
  if (!(await claimShardedBuild(store.db, plan.ledgerId, previous, plan.buildId, progress))) {
    // Another start claimed it first and fans out itself.
    await dropLoser();
    return [];
  }
  return shuffleMessages(plan);
}

/**
 * The steps a claimed build still lacks, from its marks in D1: the missing
 * shuffles; once every bucket is shuffled, the missing shards and index
 * groups; once those are done, combine. What a repeated start (or the cron's
 * sweep of a build that stopped moving) sends.
 */
export async function resumeMessages(store: LedgerStore, plan: BuildPlan): Promise<LedgerBuildMessage[]> {
  const progress = await getShardedProgress(store.db, plan.ledgerId, plan.buildId);
  if (progress === null) return [];
  const id = { ledgerId: plan.ledgerId, buildId: plan.buildId };
  const missing = (prefix: string, total: number) =>
    Array.from({ length: total }, (_, i) => i).filter((i) => progress.marks[`${prefix}${i}`] !== 1);
  const buckets = missing("b", plan.buckets.length);
  if (buckets.length > 0) return buckets.map((bucket) => ({ kind: "shuffle", ...id, bucket }));
  const shards = missing("s", plan.shardCount);
  const groups = missing("i", 2 ** plan.groupBits);
  if (shards.length + groups.length > 0) {
    return [
      ...shards.map((shard) => ({ kind: "shard" as const, ...id, shard })),
      ...groups.map((group) => ({ kind: "index" as const, ...id, group })),
    ];
  }
  return [{ kind: "combine", ...id }];
}

function shuffleMessages(plan: BuildPlan): LedgerShuffleMessage[] {
  return plan.buckets.map((_, b) => ({ kind: "shuffle", ledgerId: plan.ledgerId, buildId: plan.buildId, bucket: b }));
}

/** The plan of `buildId` when it is still the ledger's building build, else null (a stale step). */
async function activePlan(store: LedgerStore, ledgerId: string, buildId: string): Promise<BuildPlan | null> {
  const ledger = await getLedger(store.db, ledgerId);
  if (ledger?.status !== "building" || ledger.buildId !== buildId) return null;
  const plan = await readJson<BuildPlan>(store.bucket, planKey(ledgerId, buildId));
  if (plan === null) throw new Error(`plan of build ${buildId} of ledger ${ledgerId} is missing`);
  return plan;
}

/** Runs one step message; returns the messages to send next. */
export async function runBuildStep(store: LedgerStore, message: LedgerStepMessage): Promise<LedgerBuildMessage[]> {
  const plan = await activePlan(store, message.ledgerId, message.buildId);
  if (plan === null) return [];
  switch (message.kind) {
    case "shuffle":
      return shuffleBucket(store, plan, message.bucket);
    case "shard":
      if (isPrivatePlan(plan)) {
        checkStep("shard", message.shard, plan.shardCount);
        await buildPrivateShard(store.bucket, plan, message.shard, privateSecret(store), (b) =>
          orderKey(plan.ledgerId, plan.buildId, b),
        );
        return afterFanOutStep(store, plan, `s${message.shard}`);
      }
      return buildShard(store, plan, message.shard);
    case "index":
      return writeIndexGroup(store, plan, message.group);
    case "combine":
      return combine(store, plan);
  }
}

function checkStep(what: string, n: number, total: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n >= total)
    throw new LedgerBuildError(`${what} ${n} is not in this build (0..${total - 1})`);
}

/**
 * Bucket b's records in leaf order (the plan's seeded permutation), and its
 * index entries grouped by commitment prefix after their offsets header
 * (layout: shardPlan.ts). Pure: the same bytes for the same plan and records.
 */
export function orderBucket(
  plan: BuildPlan,
  b: number,
  records: Uint8Array,
): { ordered: Uint8Array; index: Uint8Array } {
  const { first } = plan.buckets[b]!;
  const rb = plan.recordBytes;
  const rows = records.length / rb;
  const perm =
    plan.order === "commitment"
      ? commitmentOrder(records, rb)
      : randomPermutation(rows, seededWords(hexToBytes(plan.seed, "seed", 32), b));
  const ordered = new Uint8Array(rows * rb);
  const groups = 2 ** plan.groupBits;
  const groupOf = new Uint16Array(rows);
  const header = new Uint32Array(groups + 1);
  for (let j = 0; j < rows; j++) {
    const from = perm[j]! * rb;
    ordered.set(records.subarray(from, from + rb), j * rb);
    const g = indexPrefix(records.subarray(from + 4, from + 4 + HASH_BYTES), plan.groupBits);
    groupOf[j] = g;
    header[g + 1]! += 1;
  }
  for (let g = 0; g < groups; g++) header[g + 1]! += header[g]!;
  const headerBytes = 4 * (groups + 1);
  const index = new Uint8Array(headerBytes + rows * SPOOL_ENTRY);
  const iv = new DataView(index.buffer);
  for (let g = 0; g <= groups; g++) iv.setUint32(4 * g, header[g]!);
  const cursor = header.slice(0, groups);
  const ov = new DataView(ordered.buffer);
  for (let j = 0; j < rows; j++) {
    const at = headerBytes + cursor[groupOf[j]!]!++ * SPOOL_ENTRY;
    index.set(ordered.subarray(j * rb + 4, j * rb + 4 + HASH_BYTES), at);
    iv.setUint32(at + HASH_BYTES, first + j);
    iv.setUint32(at + HASH_BYTES + 4, ov.getUint32(j * rb));
  }
  return { ordered, index };
}

async function shuffleBucket(store: LedgerStore, plan: BuildPlan, b: number): Promise<LedgerBuildMessage[]> {
  checkStep("bucket", b, plan.buckets.length);
  const { rows, parts } = plan.buckets[b]!;
  let pieces = Array.from({ length: parts }, (_, p) => ({ key: spoolPartKey(plan.ledgerId, b, p), part: 0 }));
  if (plan.pieces) {
    // A private build lists its padding beside the upload's objects in its own spool manifest.
    const spool = await readJson<SpoolManifest>(
      store.bucket,
      (plan as Partial<PrivateBuildPlan>).spoolKey ?? spoolManifestKey(plan.ledgerId),
    );
    if (spool === null) throw new LedgerBuildError(`the spool manifest of ledger ${plan.ledgerId} is missing`);
    pieces = spoolObjects(spool, plan.ledgerId, b);
  }
  const offsets = rowOffsets(plan.partRows);
  const records = new Uint8Array(rows * plan.recordBytes);
  let o = 0;
  for (const piece of pieces) {
    const part = await readObject(store.bucket, piece.key);
    if (part === null) throw new LedgerBuildError(`spool object ${piece.key} of ledger ${plan.ledgerId} is missing`);
    if (o + part.length > records.length) throw new LedgerBuildError(`spool bucket ${b} holds more than ${rows} rows`);
    // Rows are numbered within their upload part; across parts they follow each other.
    renumberRows(part, plan.recordBytes, offsets[piece.part]!);
    records.set(part, o);
    o += part.length;
  }
  if (o !== records.length)
    throw new LedgerBuildError(`spool bucket ${b} holds ${o} bytes, expected ${records.length}`);

  const { ordered, index } = orderBucket(plan, b, records);
  await store.bucket.put(orderKey(plan.ledgerId, plan.buildId, b), ordered);
  await store.bucket.put(indexPartKey(plan.ledgerId, plan.buildId, b), index);

  const progress = await markBuildStep(store.db, plan.ledgerId, plan.buildId, `b${b}`);
  if (progress === null || countMarks(progress).buckets < progress.totals.buckets) return [];
  // Every bucket is in leaf order: fan out the shards and index groups.
  const id = { ledgerId: plan.ledgerId, buildId: plan.buildId };
  return [
    ...Array.from({ length: plan.shardCount }, (_, shard) => ({ kind: "shard" as const, ...id, shard })),
    ...Array.from({ length: 2 ** plan.groupBits }, (_, group) => ({ kind: "index" as const, ...id, group })),
  ];
}

/**
 * The stored object of shard s (its commitments and its SPEC §2 subtree from its
 * true position, padding included, in layout 2: shardLayout.ts) from its leaves'
 * commitments and balances.
 */
export function shardObject(plan: BuildPlan, s: number, commitments: Uint8Array, balances: Uint8Array): Uint8Array {
  const k = plan.assets.length;
  const fill = commitments.length / HASH_BYTES;
  const tree = buildSumTreeLevels(
    { hashes: hashLeaves(commitments, balances, fill, k), sums: balances, count: fill },
    k,
    {
      level: 0,
      index: s * plan.shardSize,
      width: plan.rows,
      stopLevel: Math.log2(plan.shardSize),
    },
  );
  return serializeShard(tree, commitments, planBlockBits(plan, tree.levels.length - 1));
}

/**
 * Block bits of a build's shards: from the plan's layout, so a build planned
 * before layout 2 (a plan without `layout`) finishes in layout 1 after an
 * upgrade, and its manifest says so.
 */
function planBlockBits(plan: BuildPlan, topLevel: number): number {
  return plan.layout === SHARD_LAYOUT ? blockBitsFor(topLevel) : 0;
}

async function buildShard(store: LedgerStore, plan: BuildPlan, s: number): Promise<LedgerBuildMessage[]> {
  checkStep("shard", s, plan.shardCount);
  const k = plan.assets.length;
  const sb = SUM_BYTES * k;
  const rb = plan.recordBytes;
  const lo = s * plan.shardSize;
  const hi = Math.min(plan.rows, lo + plan.shardSize);
  const fill = hi - lo;
  const commitments = new Uint8Array(fill * HASH_BYTES);
  const balances = new Uint8Array(fill * sb);
  let leaf = 0;
  for (const slice of bucketSlices(plan, lo, hi)) {
    const bytes = await readRange(
      store.bucket,
      orderKey(plan.ledgerId, plan.buildId, slice.bucket),
      slice.from * rb,
      (slice.to - slice.from) * rb,
    );
    for (let j = 0; j < slice.to - slice.from; j++, leaf++) {
      commitments.set(bytes.subarray(j * rb + 4, j * rb + 4 + HASH_BYTES), leaf * HASH_BYTES);
      balances.set(bytes.subarray(j * rb + 4 + HASH_BYTES, (j + 1) * rb), leaf * sb);
    }
  }
  if (leaf !== fill) throw new Error(`shard ${s}: read ${leaf} leaves, expected ${fill}`);
  await store.bucket.put(shardKey(plan.ledgerId, plan.buildId, s), shardObject(plan, s, commitments, balances));
  return afterFanOutStep(store, plan, `s${s}`);
}

/**
 * The index objects of one commitment group from its spool entries (any
 * order): sorted by commitment, split by `indexBits` prefix. Throws naming both
 * rows when two rows share a commitment.
 */
export function indexObjects(plan: BuildPlan, entries: Uint8Array): { prefix: number; entries: Uint8Array }[] {
  const count = entries.length / SPOOL_ENTRY;
  const order = sortEntries(entries, count);
  const v = new DataView(entries.buffer);
  const puts: { prefix: number; from: number; to: number }[] = [];
  let start = 0;
  let current = -1;
  for (let i = 0; i < count; i++) {
    const e = order[i]! * SPOOL_ENTRY;
    if (i > 0) {
      const prev = order[i - 1]! * SPOOL_ENTRY;
      if (compareCommitments(entries, prev, e) === 0) {
        const [a, b] = [v.getUint32(prev + HASH_BYTES + 4), v.getUint32(e + HASH_BYTES + 4)].sort((x, y) => x - y);
        const rows =
          plan.partRows || isPrivatePlan(plan)
            ? `${privateRowName(plan, a!)} and ${privateRowName(plan, b!)}`
            : `rows ${a} and ${b}`;
        throw new LedgerBuildError(
          `${rows} have the same commitment ${bytesToHex(entries.subarray(e, e + HASH_BYTES))}`,
        );
      }
    }
    const p = indexPrefix(entries.subarray(e, e + HASH_BYTES), plan.indexBits);
    if (p !== current) {
      if (i > start) puts.push({ prefix: current, from: start, to: i });
      current = p;
      start = i;
    }
  }
  if (count > start) puts.push({ prefix: current, from: start, to: count });
  return puts.map((p) => ({ prefix: p.prefix, entries: packEntries(entries, order, p.from, p.to) }));
}

async function writeIndexGroup(store: LedgerStore, plan: BuildPlan, g: number): Promise<LedgerBuildMessage[]> {
  const groups = 2 ** plan.groupBits;
  checkStep("index group", g, groups);
  const headerBytes = 4 * (groups + 1);
  const pieces = await mapLimit(plan.buckets, READ_CONCURRENCY, async (b, bucket) => {
    if (b.rows === 0) return new Uint8Array(0);
    const key = indexPartKey(plan.ledgerId, plan.buildId, bucket);
    const bounds = new DataView((await readRange(store.bucket, key, 4 * g, 8)).buffer);
    const [from, to] = [bounds.getUint32(0), bounds.getUint32(4)];
    return to > from
      ? readRange(store.bucket, key, headerBytes + from * SPOOL_ENTRY, (to - from) * SPOOL_ENTRY)
      : new Uint8Array(0);
  });
  const entries = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pieces) {
    entries.set(p, o);
    o += p.length;
  }
  const objects = indexObjects(plan, entries);
  await mapLimit(objects, READ_CONCURRENCY, (o) =>
    store.bucket.put(indexKey(plan.ledgerId, plan.buildId, o.prefix), o.entries),
  );
  return afterFanOutStep(store, plan, `i${g}`);
}

/** Marks a shard or index step done; the step that completes the set asks for `combine`. */
async function afterFanOutStep(store: LedgerStore, plan: BuildPlan, mark: string): Promise<LedgerBuildMessage[]> {
  const progress = await markBuildStep(store.db, plan.ledgerId, plan.buildId, mark);
  if (progress === null) return [];
  const done = countMarks(progress);
  if (done.shards < progress.totals.shards || done.groups < progress.totals.groups) return [];
  return [{ kind: "combine", ledgerId: plan.ledgerId, buildId: plan.buildId }];
}

async function combine(store: LedgerStore, plan: BuildPlan): Promise<LedgerBuildMessage[]> {
  const { db, bucket } = store;
  const { ledgerId, buildId } = plan;
  const ledger = await getLedger(db, ledgerId);
  if (ledger?.status !== "building" || ledger.buildId !== buildId || ledger.progress?.phase !== "combine") return [];
  if (isPrivatePlan(plan)) {
    const shards = Array.from({ length: plan.shardCount }, (_, s) => s);
    const { reached } = await combinePrivate(db, bucket, plan, (fn) => mapLimit(shards, READ_CONCURRENCY, fn));
    return afterCombine(store, plan, reached);
  }

  const k = plan.assets.length;
  const sb = SUM_BYTES * k;
  const nb = nodeBytes(k);
  const last = plan.shardCount - 1;
  const fullShardCounts = shardLevelCounts(plan.rows, plan.shardSize, 0);
  const lastShardCounts = shardLevelCounts(plan.rows, plan.shardSize, last);
  const topLevel = fullShardCounts.length - 1;
  if (lastShardCounts.length !== fullShardCounts.length) throw new Error("shards end at different levels");
  const topHashes = new Uint8Array(plan.shardCount * HASH_BYTES);
  const topSums = new Uint8Array(plan.shardCount * sb);
  const shards = Array.from({ length: plan.shardCount }, (_, s) => s);
  await mapLimit(shards, READ_CONCURRENCY, async (s) => {
    const counts = s === last ? lastShardCounts : fullShardCounts;
    const leaves = s === last ? plan.rows - s * plan.shardSize : plan.shardSize;
    const at = shardTopOffset({ counts, leaves, blockBits: planBlockBits(plan, topLevel), assets: k });
    const node = await readRange(bucket, shardKey(ledgerId, buildId, s), at, nb);
    topHashes.set(node.subarray(0, HASH_BYTES), s * HASH_BYTES);
    topSums.set(node.subarray(HASH_BYTES), s * sb);
  });
  const { top, manifest } = combineTops(plan, topHashes, topSums);
  await bucket.put(topKey(ledgerId, buildId), top);
  await bucket.put(`${buildPrefix(ledgerId, buildId)}manifest.json`, JSON.stringify(manifest));
  // The pointer goes first so a complete ledger always has one.
  await bucket.put(treeManifestKey(ledgerId), JSON.stringify(manifest));
  const rootSums = manifest.rootSums.map((s) => BigInt(s));
  // Superseded when a complete ledger of the issuer is at least as new: never current (ledgerStore.ts).
  const reached = await markLedgerComplete(db, ledgerId, buildId, {
    root: manifest.root,
    rootSums,
    rows: plan.rows,
    order: manifest.order ?? null,
  });
  return afterCombine(store, plan, reached);
}

/** After the completing statement: repair the manifest pointer, and drop the scratch objects once complete. */
async function afterCombine(
  store: LedgerStore,
  plan: BuildPlan,
  reached: "complete" | "superseded" | null,
): Promise<LedgerBuildMessage[]> {
  const { db, bucket } = store;
  const { ledgerId, buildId } = plan;
  if (reached === null) {
    // A duplicate combine of this build completed it, or the ledger failed meanwhile.
    const now = await getLedger(db, ledgerId);
    if (now?.status === "complete" || now?.status === "superseded")
      await ensureManifestPointer(bucket, ledgerId, now.buildId!);
    return [];
  }
  await ensureManifestPointer(bucket, ledgerId, buildId);
  await deleteScratch(bucket, ledgerId, buildId).catch((e) => console.warn("ledger scratch cleanup", ledgerId, e));
  return [];
}

/** The spool and the build's order, index parts, padding and plan: not needed once complete. */
async function deleteScratch(bucket: R2Bucket, ledgerId: string, buildId: string): Promise<void> {
  await deletePrefix(bucket, `${buildPrefix(ledgerId, buildId)}order/`);
  await deletePrefix(bucket, `${buildPrefix(ledgerId, buildId)}idxparts/`);
  await deletePrefix(bucket, `${buildPrefix(ledgerId, buildId)}padding/`);
  await bucket.delete(paddedSpoolKey(ledgerId, buildId));
  await bucket.delete(planKey(ledgerId, buildId));
  await deletePrefix(bucket, `ledgers/${ledgerId}/spool/`);
}

/** Human name of a message's step, for logs and failure reasons. */
export function describeStep(message: LedgerBuildMessage): string {
  switch (message.kind) {
    case undefined:
    case "start":
      return "build";
    case "shuffle":
      return `bucket ${message.bucket}`;
    case "shard":
      return `shard ${message.shard}`;
    case "index":
      return `index group ${message.group}`;
    case "combine":
      return "combine";
  }
}
