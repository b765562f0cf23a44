/**
 * Builds a ledger's SPEC §2 sum tree from its normalized rows with the core,
 * writes it in the layout of ledgerFormat.ts (shards: shardLayout.ts), and marks the ledger complete.
 * Memory is bounded by one spool bucket, one shard and the index buffers, so
 * the same code serves the in-request build and the queue consumer.
 */
import { bytesToHex, type Hex } from "../../core/bytes.js";
import { SolventError } from "../../core/errors.js";
import { buildSumTreeLevels, HASH_BYTES, hashLeaves, SUM_BYTES } from "../../core/liabilities/index.js";
import {
  buildPrefix,
  indexKey,
  indexPrefix,
  nodeBytes,
  randomHex,
  shardKey,
  type TreeManifest,
  topKey,
  treeManifestKey,
} from "./ledgerFormat.js";
import { openRowSpool } from "./ledgerSpool.js";
import {
  claimLedgerBuild,
  deletePrefix,
  getLedger,
  markLedgerComplete,
  markLedgerFailed,
  readJson,
  setLedgerProgress,
} from "./ledgerStore.js";
import { recordBytes } from "./parseLedger.js";
import { blockBitsFor, SHARD_LAYOUT, serializeShard } from "./shardLayout.js";
import { combineTops, indexBitsFor } from "./shardPlan.js";

/**
 * Normalized rows (parseLedger.ts records), handed over bucket by bucket. With
 * `ranges` the buckets come in ascending, disjoint commitment ranges (one
 * bucket holding every row qualifies) and the leaves are built in commitment
 * order (SPEC §2); without, in a random order (spools written before that rule).
 */
export interface LedgerRowSource {
  rows: number;
  ranges: boolean;
  buckets(): AsyncIterable<Uint8Array>;
}

export interface BuildLedgerOptions {
  /** Leaves per shard object (a power of two); default from the asset count, at most 2^16. */
  shardSize?: number;
}

export type BuildLedgerResult =
  | { status: "complete" | "superseded"; ledgerId: string; root: Hex; rootSums: bigint[]; rows: number }
  | { status: "failed"; ledgerId: string; reason: string };

/** A build that can never succeed for these rows (do not retry). */
export class LedgerBuildError extends Error {
  override readonly name = "LedgerBuildError";
}

/**
 * Builds ledger `ledgerId` (status `building`) from `source`, or from its
 * spooled rows in R2 when no source is given. Safe to run again: every attempt
 * writes under its own build id and only the attempt holding the claim in D1
 * can complete. A ledger already complete or failed is returned as it is.
 * Throws on transient trouble (R2, D1); rows that cannot make a tree mark the
 * ledger failed.
 *
 * @example
 * const result = await buildLedger({ db: env.DB, bucket: env.BUCKET }, ledgerId);
 */
export async function buildLedger(
  store: { db: D1Database; bucket: R2Bucket },
  ledgerId: string,
  source?: LedgerRowSource,
  options: BuildLedgerOptions = {},
): Promise<BuildLedgerResult> {
  const { db, bucket } = store;
  const ledger = await getLedger(db, ledgerId);
  if (ledger === null) return { status: "failed", ledgerId, reason: "no such ledger" };
  if (ledger.status === "complete" || ledger.status === "superseded" || ledger.status === "failed")
    return settled(store, ledgerId, null);
  if (ledger.status !== "building") throw new Error(`ledger ${ledgerId} is still ${ledger.status}`);

  const buildId = randomHex(8);
  if (!(await claimLedgerBuild(db, ledgerId, buildId))) return settled(store, ledgerId, buildId);
  try {
    const rows = source ?? (await openRowSpool(bucket, ledgerId));
    if (rows === null) throw new LedgerBuildError("the ledger's rows are missing from storage");
    if (rows.rows !== ledger.rows)
      throw new LedgerBuildError(`storage holds ${rows.rows} rows, the ledger has ${ledger.rows}`);
    let lastProgress = 0;
    const manifest = await writeTree(
      bucket,
      { ledgerId, buildId, assets: ledger.assets },
      rows,
      options,
      async (done) => {
        if (Date.now() - lastProgress < 2000) return;
        lastProgress = Date.now();
        await setLedgerProgress(db, ledgerId, buildId, { phase: "build", done, total: ledger.rows });
      },
    );
    // The pointer goes first so a complete ledger always has one; a losing
    // attempt repairs it below.
    await bucket.put(treeManifestKey(ledgerId), JSON.stringify(manifest));
    const rootSums = manifest.rootSums.map((s) => BigInt(s));
    const reached = await markLedgerComplete(db, ledgerId, buildId, {
      root: manifest.root,
      rootSums,
      rows: manifest.leafCount,
      order: manifest.order ?? null,
    });
    if (reached === null) {
      await deletePrefix(bucket, buildPrefix(ledgerId, buildId));
      return settled(store, ledgerId, buildId);
    }
    await bucket.put(treeManifestKey(ledgerId), JSON.stringify(manifest));
    await deletePrefix(bucket, `ledgers/${ledgerId}/spool/`).catch((e) =>
      console.warn("ledger spool cleanup", ledgerId, e),
    );
    return { status: reached, ledgerId, root: manifest.root, rootSums, rows: manifest.leafCount };
  } catch (e) {
    // Transient trouble: rethrow and leave this attempt's objects (the D1
    // update may have landed even if its answer did not).
    if (!(e instanceof LedgerBuildError || e instanceof SolventError)) throw e;
    await markLedgerFailed(db, ledgerId, { reason: e.message });
    await deletePrefix(bucket, buildPrefix(ledgerId, buildId)).catch(() => {});
    return settled(store, ledgerId, buildId);
  }
}

/** The outcome once the ledger is decided (by this call's attempt, another attempt, or a failure). */
async function settled(
  store: { db: D1Database; bucket: R2Bucket },
  ledgerId: string,
  buildId: string | null,
): Promise<BuildLedgerResult> {
  const ledger = await getLedger(store.db, ledgerId);
  if (ledger?.status === "complete" || ledger?.status === "superseded") {
    await ensureManifestPointer(store.bucket, ledgerId, ledger.buildId!);
    return { status: ledger.status, ledgerId, root: ledger.root!, rootSums: ledger.rootSums!, rows: ledger.rows };
  }
  if (ledger?.status === "failed") return { status: "failed", ledgerId, reason: ledger.error?.reason ?? "failed" };
  throw new Error(`build ${buildId} of ledger ${ledgerId} lost its claim to another attempt`);
}

/** Makes the ledger's manifest pointer name the build D1 recorded as complete. */
export async function ensureManifestPointer(bucket: R2Bucket, ledgerId: string, buildId: string): Promise<void> {
  const pointer = await readJson<TreeManifest>(bucket, treeManifestKey(ledgerId));
  if (pointer?.buildId === buildId) return;
  const own = await readJson<TreeManifest>(bucket, `${buildPrefix(ledgerId, buildId)}manifest.json`);
  if (own === null) throw new Error(`manifest of build ${buildId} of ledger ${ledgerId} is missing`);
  await bucket.put(treeManifestKey(ledgerId), JSON.stringify(own));
}

/** Largest power of two (64 .. 2^16) whose shard object stays near 4 MiB. */
export function defaultShardSize(assets: number): number {
  const perLeaf = HASH_BYTES + 2 * nodeBytes(assets);
  let s = 1 << 16;
  while (s > 64 && s * perLeaf > 4 * 1024 * 1024) s >>= 1;
  return s;
}

/**
 * Order of the `recordSize`-byte records (parseLedger.ts layout: uint32be row,
 * then the 32-byte commitment) ascending by commitment, unsigned byte-wise
 * (SPEC §2). Equal commitments stay in input order (the index step reports them).
 */
export function commitmentOrder(records: Uint8Array, recordSize: number): Uint32Array {
  const count = records.length / recordSize;
  const v = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const keys = new Uint32Array(count);
  for (let i = 0; i < count; i++) keys[i] = v.getUint32(i * recordSize + 4);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => {
    if (keys[a] !== keys[b]) return keys[a]! - keys[b]!;
    return compareCommitments(records, a * recordSize + 4, b * recordSize + 4) || a - b;
  });
  return order;
}

/**
 * Uniformly random permutation of 0..n-1 (Fisher-Yates, no modulo bias) from
 * `fill`'s random words: crypto randomness by default, a seeded stream when
 * every retry of a step must produce the same order (shardedBuild.ts).
 */
export function randomPermutation(
  n: number,
  fill: (words: Uint32Array) => void = (w) => void crypto.getRandomValues(w),
): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const random = new Uint32Array(1024);
  let used = random.length;
  for (let i = n - 1; i > 0; i--) {
    const bound = i + 1;
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
    let r: number;
    do {
      if (used === random.length) {
        fill(random);
        used = 0;
      }
      r = random[used++]!;
    } while (r >= limit);
    const j = r % bound;
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

async function writeTree(
  bucket: R2Bucket,
  id: { ledgerId: string; buildId: string; assets: string[] },
  source: LedgerRowSource,
  options: BuildLedgerOptions,
  progress: (leaves: number) => Promise<void>,
): Promise<TreeManifest> {
  const k = id.assets.length;
  const sb = SUM_BYTES * k;
  const rb = recordBytes(k);
  const n = source.rows;
  if (n < 1) throw new LedgerBuildError("a ledger needs at least one row");
  const shardSize = options.shardSize ?? defaultShardSize(k);
  if (!Number.isInteger(Math.log2(shardSize)) || shardSize < 2)
    throw new Error("shardSize must be a power of two >= 2");
  const shardLevel = Math.log2(shardSize);
  const shardCount = Math.ceil(n / shardSize);

  const commitments = new Uint8Array(shardSize * HASH_BYTES);
  const balances = new Uint8Array(shardSize * sb);
  const topHashes = new Uint8Array(shardCount * HASH_BYTES);
  const topSums = new Uint8Array(shardCount * sb);
  const index = new IndexSpool(bucket, `${buildPrefix(id.ledgerId, id.buildId)}idxspool/`);
  let shard = 0;
  let fill = 0;
  let leaf = 0;

  const flushShard = async () => {
    const tree = buildSumTreeLevels(
      {
        hashes: hashLeaves(commitments.subarray(0, fill * HASH_BYTES), balances.subarray(0, fill * sb), fill, k),
        sums: balances.subarray(0, fill * sb),
        count: fill,
      },
      k,
      { level: 0, index: shard * shardSize, width: n, stopLevel: shardLevel },
    );
    const shardBytes = serializeShard(
      tree,
      commitments.subarray(0, fill * HASH_BYTES),
      blockBitsFor(tree.levels.length - 1),
    );
    await bucket.put(shardKey(id.ledgerId, id.buildId, shard), shardBytes);
    const top = tree.levels[tree.levels.length - 1]!;
    topHashes.set(top.hashes.subarray(0, HASH_BYTES), shard * HASH_BYTES);
    topSums.set(top.sums.subarray(0, sb), shard * sb);
    shard += 1;
    fill = 0;
    await progress(leaf);
  };

  for await (const records of source.buckets()) {
    const count = records.length / rb;
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const perm = source.ranges ? commitmentOrder(records, rb) : randomPermutation(count);
    for (let j = 0; j < count; j++) {
      const off = perm[j]! * rb;
      const commitment = records.subarray(off + 4, off + 4 + HASH_BYTES);
      commitments.set(commitment, fill * HASH_BYTES);
      balances.set(records.subarray(off + 4 + HASH_BYTES, off + rb), fill * sb);
      await index.add(commitment, leaf, view.getUint32(off));
      fill += 1;
      leaf += 1;
      if (leaf > n) throw new LedgerBuildError(`storage holds more than ${n} rows`);
      if (fill === shardSize) await flushShard();
    }
  }
  if (fill > 0) await flushShard();
  if (leaf !== n) throw new LedgerBuildError(`storage holds ${leaf} rows, the ledger has ${n}`);

  const indexBits = indexBitsFor(n);
  await index.write(indexBits, (prefix, entries) => bucket.put(indexKey(id.ledgerId, id.buildId, prefix), entries));
  // The levels above the shards and the manifest, exactly as the sharded build's combine step makes them.
  const { top, manifest } = combineTops(
    {
      ledgerId: id.ledgerId,
      buildId: id.buildId,
      assets: id.assets,
      rows: n,
      shardSize,
      shardCount,
      indexBits,
      layout: SHARD_LAYOUT,
      ...(source.ranges ? { order: "commitment" as const } : {}),
    },
    topHashes,
    topSums,
  );
  await bucket.put(topKey(id.ledgerId, id.buildId), top);
  await bucket.put(`${buildPrefix(id.ledgerId, id.buildId)}manifest.json`, JSON.stringify(manifest));
  return manifest;
}

const INDEX_GROUPS = 64;
/** Spool entry: commitment (32) || uint32be leaf || uint32be upload row. */
export const SPOOL_ENTRY = HASH_BYTES + 8;
/** Stored entry: commitment (32) || uint32be leaf. */
export const INDEX_ENTRY = HASH_BYTES + 4;

/**
 * Commitment -> leaf entries grouped by the commitment's first 6 bits, in
 * memory up to `spillBytes` a group, then spilled to R2 under `prefix`.
 * Writing sorts one group at a time and finds repeated commitments exactly.
 */
class IndexSpool {
  private buffers: Uint8Array[] = Array.from({ length: INDEX_GROUPS }, () => new Uint8Array(SPOOL_ENTRY * 64));
  private fill = new Array<number>(INDEX_GROUPS).fill(0);
  private parts = new Array<number>(INDEX_GROUPS).fill(0);

  constructor(
    private readonly bucket: R2Bucket,
    private readonly prefix: string,
    private readonly spillBytes = 256 * SPOOL_ENTRY * 28,
  ) {}

  async add(commitment: Uint8Array, leaf: number, row: number): Promise<void> {
    const g = commitment[0]! >> 2;
    let buf = this.buffers[g]!;
    const at = this.fill[g]!;
    if (at + SPOOL_ENTRY > buf.length) {
      if (buf.length < this.spillBytes) {
        const bigger = new Uint8Array(Math.min(this.spillBytes, buf.length * 2));
        bigger.set(buf.subarray(0, at));
        this.buffers[g] = buf = bigger;
      } else {
        await this.bucket.put(`${this.prefix}${g}-${this.parts[g]}.bin`, buf.slice(0, at));
        this.parts[g]! += 1;
        this.fill[g] = 0;
        return this.add(commitment, leaf, row);
      }
    }
    buf.set(commitment, at);
    const v = new DataView(buf.buffer, at + HASH_BYTES, 8);
    v.setUint32(0, leaf);
    v.setUint32(4, row);
    this.fill[g] = at + SPOOL_ENTRY;
  }

  /** Writes every non-empty index bucket (sorted), prefix by prefix in ascending order. */
  async write(bits: number, put: (prefix: number, entries: Uint8Array) => Promise<unknown>): Promise<void> {
    let current = -1;
    let pending: Uint8Array[] = [];
    const emit = async () => {
      if (current < 0 || pending.length === 0) return;
      const size = pending.reduce((s, p) => s + p.length, 0);
      const out = new Uint8Array(size);
      let o = 0;
      for (const p of pending) {
        out.set(p, o);
        o += p.length;
      }
      await put(current, out);
      pending = [];
    };
    for (let g = 0; g < INDEX_GROUPS; g++) {
      const entries = await this.loadGroup(g);
      const count = entries.length / SPOOL_ENTRY;
      const order = sortEntries(entries, count);
      let start = 0;
      for (let i = 0; i < count; i++) {
        const e = order[i]! * SPOOL_ENTRY;
        if (i > 0) {
          const prev = order[i - 1]! * SPOOL_ENTRY;
          if (compareCommitments(entries, prev, e) === 0) {
            const v = new DataView(entries.buffer, entries.byteOffset);
            const [a, b] = [v.getUint32(prev + HASH_BYTES + 4), v.getUint32(e + HASH_BYTES + 4)].sort((x, y) => x - y);
            throw new LedgerBuildError(
              `rows ${a} and ${b} have the same commitment ${bytesToHex(entries.subarray(e, e + HASH_BYTES))}`,
            );
          }
        }
        const p = indexPrefix(entries.subarray(e, e + HASH_BYTES), bits);
        if (p !== current) {
          if (i > start) pending.push(packEntries(entries, order, start, i));
          await emit();
          current = p;
          start = i;
        }
      }
      if (count > start) pending.push(packEntries(entries, order, start, count));
      await this.bucket.delete(Array.from({ length: this.parts[g]! }, (_, p) => `${this.prefix}${g}-${p}.bin`));
    }
    await emit();
  }

  private async loadGroup(g: number): Promise<Uint8Array> {
    const pieces: Uint8Array[] = [];
    for (let p = 0; p < this.parts[g]!; p++) {
      const obj = await this.bucket.get(`${this.prefix}${g}-${p}.bin`);
      if (obj === null) throw new Error(`index spill ${g}-${p} is missing`);
      pieces.push(new Uint8Array(await obj.arrayBuffer()));
    }
    pieces.push(this.buffers[g]!.subarray(0, this.fill[g]!));
    const out = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of pieces) {
      out.set(p, o);
      o += p.length;
    }
    this.buffers[g] = new Uint8Array(0);
    return out;
  }
}

export function compareCommitments(entries: Uint8Array, a: number, b: number): number {
  for (let i = 0; i < HASH_BYTES; i++) {
    const d = entries[a + i]! - entries[b + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Order of `count` spool entries by commitment. */
export function sortEntries(entries: Uint8Array, count: number): Uint32Array {
  const v = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const keys = new Uint32Array(count);
  for (let i = 0; i < count; i++) keys[i] = v.getUint32(i * SPOOL_ENTRY);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => keys[a]! - keys[b]! || compareCommitments(entries, a * SPOOL_ENTRY, b * SPOOL_ENTRY));
  return order;
}

export function packEntries(entries: Uint8Array, order: Uint32Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array((to - from) * INDEX_ENTRY);
  for (let i = from; i < to; i++) {
    const e = order[i]! * SPOOL_ENTRY;
    out.set(entries.subarray(e, e + INDEX_ENTRY), (i - from) * INDEX_ENTRY);
  }
  return out;
}
