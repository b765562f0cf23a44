/**
 * Where a ledger lives: one D1 row (migrations/0002_ledgers.sql) and R2 objects.
 *
 * R2 layout, all under `ledgers/{ledgerId}/`:
 *
 *   spool/{b}-{part}.bin      normalized rows of a large upload, before the build:
 *   spool/manifest.json       `b` is one of SPOOL_BUCKETS buckets, the first 6 bits
 *                             of the row's commitment (manifest `order: "commitment"`;
 *                             spools written before hold uniformly random buckets), records as in
 *                             parseLedger.ts `recordBytes` (row number, commitment,
 *                             enc128 balances). Deleted once the ledger is complete.
 *   builds/{buildId}/         one build attempt; a retry writes a new buildId, so a
 *                             retry never overwrites objects a complete ledger uses.
 *     shards/{s}.bin          leaves s*S .. s*S+S-1 (S = manifest.shardSize), the
 *                             normalized rows in leaf order and their subtree, SPEC §2
 *                             padding nodes included; a node is hash (32) || enc128 sums
 *                             (16 per asset). Layout (manifest.layout): shardLayout.ts.
 *                             Layout 2 (blocked): [block 0]…[block B-1][upper levels],
 *                             a block being 2^blockBits leaves' commitments and nodes up
 *                             to level blockBits-1. Layout 1 (no `layout`, older ledgers):
 *                             [commitments c*32][level 0 nodes][level 1 nodes]…[shard top].
 *     top.bin                 every level above the shards, from the shard tops
 *                             (level log2 S, or the root level when one shard) to the root.
 *     index/{p}.bin           commitment -> leaf index: the entries whose commitment
 *                             starts with the `indexBits`-bit prefix p (hex), sorted by
 *                             commitment; an entry is commitment (32) || uint32be leaf.
 *     manifest.json           TreeManifest: sizes, per-level node counts, root.
 *     plan.json, order/, idxparts/   scratch of a sharded (queue) build: shardPlan.ts.
 *   manifest.json             copy of the manifest of the build the D1 row names
 *                             (build_id): what proofs read.
 *
 * A proof reads the manifest and top.bin (both cached per isolate), one index
 * bucket (about INDEX_BUCKET_TARGET entries), the leaf's block and one span of
 * the shard's upper levels (layout 2, shardLayout.ts): 3 R2 reads of
 * O(sqrt(shard size) + log N) bytes. Layout 1 ledgers read one node per level.
 * The leaf order is ascending by commitment (SPEC §2, `leaf_order` in D1 and
 * `order` in the manifest): the spool buckets are contiguous commitment ranges,
 * each sorted by the build. Ledgers built before that rule are in a uniformly
 * random order (random buckets, each shuffled) and say nothing about order.
 */
import type { Hex } from "../../core/bytes.js";
import type { LedgerFormat, LedgerRowBatch, LedgerRowError } from "./parseLedger.js";

export const HASH_BYTES = 32;
export const SUM_BYTES = 16;
export const SPOOL_BUCKETS = 64;
export const INDEX_BUCKET_TARGET = 2048;

/** superseded: the build completed for an asOf no newer than a complete ledger of its issuer (never attested). */
export type LedgerStatus = "validating" | "building" | "complete" | "failed" | "superseded";

/** SPEC §2 leaf order of a ledger: ascending commitments, or null for ledgers built before that rule (random order). */
export type LeafOrder = "commitment" | null;

export const ledgerPrefix = (ledgerId: string) => `ledgers/${ledgerId}/`;
export const spoolManifestKey = (ledgerId: string) => `ledgers/${ledgerId}/spool/manifest.json`;
export const buildPrefix = (ledgerId: string, buildId: string) => `ledgers/${ledgerId}/builds/${buildId}/`;
export const treeManifestKey = (ledgerId: string) => `ledgers/${ledgerId}/manifest.json`;
export const shardKey = (ledgerId: string, buildId: string, shard: number) => `${buildPrefix(ledgerId, buildId)}shards/${shard}.bin`;
export const topKey = (ledgerId: string, buildId: string) => `${buildPrefix(ledgerId, buildId)}top.bin`;
export const indexKey = (ledgerId: string, buildId: string, prefix: number) =>
  `${buildPrefix(ledgerId, buildId)}index/${prefix.toString(16)}.bin`;

export function nodeBytes(assets: number): number {
  return HASH_BYTES + SUM_BYTES * assets;
}

/** Everything a proof needs to find its nodes. */
export interface TreeManifest {
  version: 1;
  ledgerId: string;
  buildId: string;
  assets: string[];
  leafCount: number;
  root: Hex;
  rootSums: string[];
  /** Leaves per shard, a power of two. */
  shardSize: number;
  shardCount: number;
  /** Node counts per level of a full shard (level 0 first, its top last). */
  fullShardCounts: number[];
  /** Node counts per level of the last shard (equal to fullShardCounts when it is full). */
  lastShardCounts: number[];
  /** SPEC level of top.bin's first level (the shard tops). */
  topLevel: number;
  /** Node counts per level of top.bin; the last is the root (1). */
  topCounts: number[];
  /** Index buckets are keyed by the first `indexBits` bits of the commitment. */
  indexBits: number;
  /** Shard object layout (shardLayout.ts): 2 = blocked; absent = 1 (level-major, ledgers stored before layout 2). */
  layout?: 2;
  /** Layout 2: a block holds 2^blockBits leaves (ceil(topLevel / 2)). */
  blockBits?: number;
  /** "commitment": leaves ascending by commitment (SPEC §2); absent in ledgers built before, in random order. */
  order?: "commitment";
}

/** Byte offset of node `local` of level `level` in a shard object with `leaves` leaves and `counts` per level. */
export function shardNodeOffset(counts: readonly number[], leaves: number, level: number, local: number, assets: number): number {
  let offset = leaves * HASH_BYTES;
  for (let l = 0; l < level; l++) offset += counts[l]! * nodeBytes(assets);
  return offset + local * nodeBytes(assets);
}

export function topNodeOffset(counts: readonly number[], level: number, local: number, assets: number): number {
  let offset = 0;
  for (let l = 0; l < level; l++) offset += counts[l]! * nodeBytes(assets);
  return offset + local * nodeBytes(assets);
}

export function indexPrefix(commitment: Uint8Array, bits: number): number {
  if (bits === 0) return 0;
  const v = ((commitment[0]! << 16) | (commitment[1]! << 8) | commitment[2]!) >>> 0;
  return v >>> (24 - bits);
}

// ------------------------------------------------------------------ D1

export interface LedgerRecord {
  ledgerId: string;
  issuerId: string;
  status: LedgerStatus;
  format: LedgerFormat;
  rows: number;
  assets: string[];
  root: Hex | null;
  rootSums: bigint[] | null;
  error: LedgerFailure | null;
  buildId: string | null;
  progress: LedgerProgress | null;
  createdAt: number;
  completedAt: number | null;
  /** Unix seconds: when the balances were true (declared at upload). */
  asOf: number;
  leafOrder: LeafOrder;
}

/** Why a ledger failed: row errors from validation, or one reason from the build. */
export interface LedgerFailure {
  reason: string;
  errors?: LedgerRowError[];
  errorCount?: number;
}

export interface LedgerProgress {
  phase: "upload" | "build" | "index" | "shuffle" | "shards" | "combine";
  done: number;
  total: number;
  /** Sharded builds: rows, and done/total of each step kind. */
  rows?: number;
  steps?: { buckets: StepCount; shards: StepCount; index: StepCount };
}

export interface StepCount {
  done: number;
  total: number;
}

/**
 * What a sharded build keeps in progress_json: step totals and one mark per
 * finished step ("b3" bucket 3 shuffled, "s17" shard 17 built, "i5" index
 * group 5 written). Marks are set with json_set, so a retried or duplicated
 * step sets the same key again and concurrent steps converge.
 */
export interface ShardedProgress {
  rows: number;
  totals: { buckets: number; shards: number; groups: number };
  marks: Record<string, 1>;
}

/** Done counts of a sharded build from its marks. */
export function countMarks(p: ShardedProgress): { buckets: number; shards: number; groups: number } {
  const done = { buckets: 0, shards: 0, groups: 0 };
  for (const key of Object.keys(p.marks)) {
    if (key[0] === "b") done.buckets += 1;
    else if (key[0] === "s") done.shards += 1;
    else if (key[0] === "i") done.groups += 1;
  }
  return done;
}

function toProgress(raw: LedgerProgress | ShardedProgress): LedgerProgress {
  if (!("marks" in raw)) return raw;
  const done = countMarks(raw);
  const t = raw.totals;
  const steps = {
    buckets: { done: done.buckets, total: t.buckets },
    shards: { done: done.shards, total: t.shards },
    index: { done: done.groups, total: t.groups },
  };
  const phase = done.buckets < t.buckets ? "shuffle" : done.shards < t.shards || done.groups < t.groups ? "shards" : "combine";
  const current = phase === "shuffle" ? steps.buckets : steps.shards;
  return { phase, done: current.done, total: current.total, rows: raw.rows, steps };
}

export interface LedgerDbRow {
  ledger_id: string;
  issuer_id: string;
  status: LedgerStatus;
  format: LedgerFormat;
  rows: number;
  assets_json: string;
  root: string | null;
  root_sums_json: string | null;
  error_json: string | null;
  build_id: string | null;
  progress_json: string | null;
  created_at: number;
  completed_at: number | null;
  as_of: number;
  leaf_order: "commitment" | null;
}

export function toLedgerRecord(r: LedgerDbRow): LedgerRecord {
  return {
    ledgerId: r.ledger_id,
    issuerId: r.issuer_id,
    status: r.status,
    format: r.format,
    rows: r.rows,
    assets: JSON.parse(r.assets_json) as string[],
    root: r.root as Hex | null,
    rootSums: r.root_sums_json === null ? null : (JSON.parse(r.root_sums_json) as string[]).map((s) => BigInt(s)),
    error: r.error_json === null ? null : (JSON.parse(r.error_json) as LedgerFailure),
    buildId: r.build_id,
    progress: r.progress_json === null ? null : toProgress(JSON.parse(r.progress_json) as LedgerProgress | ShardedProgress),
    createdAt: r.created_at,
    completedAt: r.completed_at,
    asOf: r.as_of,
    leafOrder: r.leaf_order ?? null,
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** A fresh ledger id: `lg_` + 16 random bytes hex. */
export function newLedgerId(): string {
  return `lg_${randomHex(16)}`;
}

export function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The ledger that stops an upload for `asOf`: one of the issuer's complete or unfinished ledgers with an asOf at least as new. */
export interface NewerLedger {
  ledgerId: string;
  status: LedgerStatus;
  asOf: number;
}

/**
 * Inserts a new ledger (status validating) for `asOf`, unless the issuer has a
 * complete, validating or building ledger with an asOf at least as new: then
 * nothing is inserted and that ledger (the newest) is returned. One statement,
 * so two uploads racing cannot both pass the check for the same asOf.
 */
export async function insertLedger(
  db: D1Database,
  ledger: { ledgerId: string; issuerId: string; format: LedgerFormat; assets: readonly string[]; asOf: number },
): Promise<NewerLedger | null> {
  const res = await db
    .prepare(
      `INSERT INTO ledgers (ledger_id, issuer_id, status, format, rows, assets_json, created_at, updated_at, as_of)
       SELECT ?1, ?2, 'validating', ?3, 0, ?4, ?5, ?5, ?6
       WHERE NOT EXISTS (SELECT 1 FROM ledgers WHERE issuer_id = ?2 AND status IN ('validating', 'building', 'complete') AND as_of >= ?6)`,
    )
    .bind(ledger.ledgerId, ledger.issuerId, ledger.format, JSON.stringify(ledger.assets), now(), ledger.asOf)
    .run();
  if (res.meta.changes === 1) return null;
  const row = await db
    .prepare(
      `SELECT ledger_id, status, as_of FROM ledgers WHERE issuer_id = ?1 AND status IN ('validating', 'building', 'complete') AND as_of >= ?2
       ORDER BY as_of DESC, rowid DESC LIMIT 1`,
    )
    .bind(ledger.issuerId, ledger.asOf)
    .first<{ ledger_id: string; status: LedgerStatus; as_of: number }>();
  if (row === null) throw new Error(`ledger ${ledger.ledgerId} was not stored`);
  return { ledgerId: row.ledger_id, status: row.status, asOf: row.as_of };
}

export async function getLedger(db: D1Database, ledgerId: string): Promise<LedgerRecord | null> {
  const row = await db.prepare("SELECT * FROM ledgers WHERE ledger_id = ?1").bind(ledgerId).first<LedgerDbRow>();
  return row === null ? null : toLedgerRecord(row);
}

/** validating -> building, recording the row count; false when the ledger is no longer validating. */
export async function markLedgerBuilding(db: D1Database, ledgerId: string, rows: number): Promise<boolean> {
  const res = await db
    .prepare("UPDATE ledgers SET status = 'building', rows = ?2, progress_json = NULL, updated_at = ?3 WHERE ledger_id = ?1 AND status = 'validating'")
    .bind(ledgerId, rows, now())
    .run();
  return res.meta.changes === 1;
}

/** Takes the build for `buildId` (the latest attempt wins); false when the ledger is not building. */
export async function claimLedgerBuild(db: D1Database, ledgerId: string, buildId: string): Promise<boolean> {
  const res = await db
    .prepare("UPDATE ledgers SET build_id = ?2, updated_at = ?3 WHERE ledger_id = ?1 AND status = 'building'")
    .bind(ledgerId, buildId, now())
    .run();
  return res.meta.changes === 1;
}

export async function setLedgerProgress(db: D1Database, ledgerId: string, buildId: string, progress: LedgerProgress): Promise<void> {
  await db
    .prepare("UPDATE ledgers SET progress_json = ?3, updated_at = ?4 WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2")
    .bind(ledgerId, buildId, JSON.stringify(progress), now())
    .run();
}

/**
 * Takes the ledger for sharded build `buildId` if the claim is still `previous`
 * (null: never claimed), starting its progress; false when another start got
 * there first or the ledger is not building.
 */
export async function claimShardedBuild(
  db: D1Database,
  ledgerId: string,
  previous: string | null,
  buildId: string,
  progress: ShardedProgress,
): Promise<boolean> {
  const res = await db
    .prepare("UPDATE ledgers SET build_id = ?3, progress_json = ?4, updated_at = ?5 WHERE ledger_id = ?1 AND status = 'building' AND build_id IS ?2")
    .bind(ledgerId, previous, buildId, JSON.stringify(progress), now())
    .run();
  return res.meta.changes === 1;
}

/**
 * Records step `mark` of build `buildId` as done and returns the build's
 * progress after it, in one transaction; null when the ledger is no longer
 * building that build (the step is stale).
 */
export async function markBuildStep(db: D1Database, ledgerId: string, buildId: string, mark: string): Promise<ShardedProgress | null> {
  if (!/^[bsi][0-9]+$/.test(mark)) throw new Error(`bad step mark ${mark}`);
  const [update, select] = await db.batch([
    db
      .prepare(
        `UPDATE ledgers SET progress_json = json_set(progress_json, '$.marks.' || ?3, 1), updated_at = ?4
         WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2 AND json_valid(progress_json)`,
      )
      .bind(ledgerId, buildId, mark, now()),
    db.prepare("SELECT progress_json FROM ledgers WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2").bind(ledgerId, buildId),
  ]);
  if (update!.meta.changes !== 1) return null;
  const row = select!.results[0] as { progress_json: string | null } | undefined;
  return row?.progress_json ? (JSON.parse(row.progress_json) as ShardedProgress) : null;
}

/** The sharded build's raw progress (its step marks) while the ledger is building build `buildId`; else null. */
export async function getShardedProgress(db: D1Database, ledgerId: string, buildId: string): Promise<ShardedProgress | null> {
  const row = await db
    .prepare("SELECT progress_json FROM ledgers WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2")
    .bind(ledgerId, buildId)
    .first<{ progress_json: string | null }>();
  if (!row?.progress_json) return null;
  const raw = JSON.parse(row.progress_json) as ShardedProgress | LedgerProgress;
  return "marks" in raw ? raw : null;
}

/**
 * Unfinished ledgers the sweep acts on, oldest first: building ones that have
 * not moved since `idleBefore`, and any unfinished one created before
 * `createdBefore` (unix seconds). Uploads still receiving parts are not listed
 * until they are that old, so they never crowd out a stalled build.
 */
export async function listIdleLedgers(
  db: D1Database,
  idleBefore: number,
  createdBefore: number,
  limit = 100,
): Promise<{ ledgerId: string; issuerId: string; status: "validating" | "building"; createdAt: number; updatedAt: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT ledger_id, issuer_id, status, created_at, COALESCE(updated_at, created_at) AS moved FROM ledgers
       WHERE (status = 'building' AND COALESCE(updated_at, created_at) < ?1) OR (status IN ('validating', 'building') AND created_at <= ?2)
       ORDER BY moved LIMIT ?3`,
    )
    .bind(idleBefore, createdBefore, limit)
    .all<{ ledger_id: string; issuer_id: string; status: "validating" | "building"; created_at: number; moved: number }>();
  return results.map((r) => ({ ledgerId: r.ledger_id, issuerId: r.issuer_id, status: r.status, createdAt: r.created_at, updatedAt: r.moved }));
}

/** Records that the sweep looked at a building ledger now (it waits a full interval before resuming it again). */
export async function touchLedger(db: D1Database, ledgerId: string): Promise<void> {
  await db.prepare("UPDATE ledgers SET updated_at = ?2 WHERE ledger_id = ?1 AND status IN ('validating', 'building')").bind(ledgerId, now()).run();
}

/**
 * building -> complete for the attempt holding the claim, or -> superseded
 * when a complete ledger of the same issuer already has an asOf at least as
 * new (then this one is never current: SPEC §4). One statement, so two builds
 * finishing together cannot both become current out of order. Returns the
 * status reached, or null when another attempt or a failure got there.
 */
export async function markLedgerComplete(
  db: D1Database,
  ledgerId: string,
  buildId: string,
  result: { root: Hex; rootSums: readonly bigint[]; rows: number; order: LeafOrder },
): Promise<"complete" | "superseded" | null> {
  const [update, select] = await db.batch([
    db
      .prepare(
        `UPDATE ledgers SET
           status = CASE WHEN EXISTS (SELECT 1 FROM ledgers AS o WHERE o.issuer_id = ledgers.issuer_id AND o.status = 'complete'
                                        AND o.as_of >= ledgers.as_of AND o.ledger_id <> ledgers.ledger_id)
                    THEN 'superseded' ELSE 'complete' END,
           root = ?3, root_sums_json = ?4, rows = ?5, completed_at = ?6, updated_at = ?6, progress_json = NULL, leaf_order = ?7
         WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2`,
      )
      .bind(ledgerId, buildId, result.root, JSON.stringify(result.rootSums.map(String)), result.rows, now(), result.order),
    db.prepare("SELECT status FROM ledgers WHERE ledger_id = ?1 AND build_id = ?2").bind(ledgerId, buildId),
  ]);
  if (update!.meta.changes !== 1) return null;
  const status = (select!.results[0] as { status: LedgerStatus } | undefined)?.status;
  return status === "superseded" ? "superseded" : "complete";
}

/** One ledger of an issuer's public history: never its rows, errors or storage ids. */
export interface LedgerHistoryEntry {
  ledgerId: string;
  status: LedgerStatus;
  asOf: number;
  root: Hex | null;
  leafCount: number;
  order: LeafOrder;
  createdAt: number;
  completedAt: number | null;
  /** The first and last attestation sequences naming this ledger; null when none does. */
  attested: { from: number; to: number } | null;
}

/**
 * An issuer's ledgers, newest asOf first (ties: newest upload first), at most
 * `limit`, after the cursor `after` (the last entry of the previous page).
 */
export async function ledgerHistory(
  db: D1Database,
  issuerId: string,
  options: { limit: number; after?: { asOf: number; ledgerId: string } },
): Promise<LedgerHistoryEntry[]> {
  const after = options.after;
  const { results } = await db
    .prepare(
      `SELECT l.ledger_id, l.status, l.as_of, l.root, l.rows, l.leaf_order, l.created_at, l.completed_at,
              (SELECT MIN(sequence) FROM attestations a WHERE a.issuer_id = l.issuer_id AND a.ledger_id = l.ledger_id) AS first_sequence,
              (SELECT MAX(sequence) FROM attestations a WHERE a.issuer_id = l.issuer_id AND a.ledger_id = l.ledger_id) AS last_sequence
       FROM ledgers l
       WHERE l.issuer_id = ?1 AND (?2 IS NULL OR l.as_of < ?2 OR (l.as_of = ?2 AND l.ledger_id < ?3))
       ORDER BY l.as_of DESC, l.ledger_id DESC LIMIT ?4`,
    )
    .bind(issuerId, after?.asOf ?? null, after?.ledgerId ?? "", options.limit)
    .all<{
      ledger_id: string;
      status: LedgerStatus;
      as_of: number;
      root: string | null;
      rows: number;
      leaf_order: "commitment" | null;
      created_at: number;
      completed_at: number | null;
      first_sequence: number | null;
      last_sequence: number | null;
    }>();
  return results.map((r) => ({
    ledgerId: r.ledger_id,
    status: r.status,
    asOf: r.as_of,
    root: r.root as Hex | null,
    leafCount: r.rows,
    order: r.leaf_order ?? null,
    createdAt: r.created_at,
    completedAt: r.completed_at,
    attested: r.first_sequence === null || r.last_sequence === null ? null : { from: r.first_sequence, to: r.last_sequence },
  }));
}

/** A ledger that ended without becoming current: superseded or failed. */
export interface EndedLedger {
  ledgerId: string;
  status: "superseded" | "failed";
  asOf: number;
  rows: number;
  reason: string | null;
  endedAt: number;
}

/** The issuer's ledgers that became superseded or failed at or after `since` (unix seconds), oldest first. */
export async function endedLedgers(db: D1Database, issuerId: string, since: number, limit = 50): Promise<EndedLedger[]> {
  const { results } = await db
    .prepare(
      `SELECT ledger_id, status, as_of, rows, error_json, completed_at FROM ledgers
       WHERE issuer_id = ?1 AND status IN ('superseded', 'failed') AND completed_at >= ?2
       ORDER BY completed_at, rowid LIMIT ?3`,
    )
    .bind(issuerId, since, limit)
    .all<{ ledger_id: string; status: "superseded" | "failed"; as_of: number; rows: number; error_json: string | null; completed_at: number }>();
  return results.map((r) => ({
    ledgerId: r.ledger_id,
    status: r.status,
    asOf: r.as_of,
    rows: r.rows,
    reason: r.error_json === null ? null : ((JSON.parse(r.error_json) as LedgerFailure).reason ?? null),
    endedAt: r.completed_at,
  }));
}

/** Any state but complete -> failed (failed is final). False when already complete or failed. */
export async function markLedgerFailed(db: D1Database, ledgerId: string, failure: LedgerFailure): Promise<boolean> {
  const res = await db
    .prepare("UPDATE ledgers SET status = 'failed', error_json = ?2, completed_at = ?3 WHERE ledger_id = ?1 AND status IN ('validating', 'building')")
    .bind(ledgerId, JSON.stringify(failure), now())
    .run();
  return res.meta.changes === 1;
}

// ------------------------------------------------------------------ R2

/** Deletes every object under `prefix` (best effort callers catch). */
export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const list = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    if (list.objects.length > 0) await bucket.delete(list.objects.map((o) => o.key));
    cursor = list.truncated ? list.cursor : undefined;
  } while (cursor !== undefined);
}

export async function readRange(bucket: R2Bucket, key: string, offset: number, length: number): Promise<Uint8Array> {
  const obj = await bucket.get(key, { range: { offset, length } });
  if (obj === null) throw new Error(`${key} is missing`);
  const bytes = new Uint8Array(await obj.arrayBuffer());
  if (bytes.length !== length) throw new Error(`${key}: expected ${length} bytes at ${offset}, got ${bytes.length}`);
  return bytes;
}

export async function readObject(bucket: R2Bucket, key: string): Promise<Uint8Array | null> {
  const obj = await bucket.get(key);
  return obj === null ? null : new Uint8Array(await obj.arrayBuffer());
}

export async function readJson<T>(bucket: R2Bucket, key: string): Promise<T | null> {
  const obj = await bucket.get(key);
  return obj === null ? null : ((await obj.json()) as T);
}

export interface SpoolManifest {
  recordBytes: number;
  /** "commitment": bucket b holds the rows whose commitment starts with the 6 bits b (spoolBucketOf); absent: random buckets (older spools). */
  order?: "commitment";
  rows: number;
  /**
   * Per spool bucket, its rows and its objects: `parts` objects named by
   * spoolPartKey (a single-request upload), or the listed `pieces` (a
   * multi-part upload, uploadParts.ts).
   */
  buckets: SpoolBucket[];
  /**
   * Multi-part uploads: the last row number of each upload part, in part
   * order. Records hold their row within their part; the build numbers rows
   * across parts with these (rowOffsets) so errors can name part and row.
   */
  partRows?: number[];
}

export interface SpoolBucket {
  rows: number;
  parts: number;
  pieces?: SpoolPiece[];
}

/** One spooled object of a multi-part upload: its key and the upload part its records came from. */
export interface SpoolPiece {
  key: string;
  part: number;
}

/** The objects of spool bucket `b` (keys and upload part; part 0 for a single-request upload). */
export function spoolObjects(manifest: SpoolManifest, ledgerId: string, b: number): SpoolPiece[] {
  const bucket = manifest.buckets[b]!;
  return bucket.pieces ?? Array.from({ length: bucket.parts }, (_, p) => ({ key: spoolPartKey(ledgerId, b, p), part: 0 }));
}

/** Row number offsets of upload parts: part p's rows follow the rows of parts 0..p-1. */
export function rowOffsets(partRows: readonly number[] | undefined): number[] {
  const out = [0];
  for (const r of partRows ?? []) out.push(out[out.length - 1]! + r);
  return out;
}

/** Adds `offset` to the row number of every record (in place). */
export function renumberRows(records: Uint8Array, recordSize: number, offset: number): void {
  if (offset === 0) return;
  const v = new DataView(records.buffer, records.byteOffset, records.byteLength);
  for (let o = 0; o < records.length; o += recordSize) v.setUint32(o, v.getUint32(o) + offset);
}

/** How errors name a row of the ledger: "row r", or "part p row r" for a multi-part upload. */
export function describeRow(row: number, partRows: readonly number[] | undefined): string {
  if (partRows === undefined || partRows.length === 0) return `row ${row}`;
  let first = 0;
  for (let p = 0; p < partRows.length; p++) {
    if (row <= first + partRows[p]! || p === partRows.length - 1) return `part ${p} row ${row - first}`;
    first += partRows[p]!;
  }
  return `row ${row}`;
}

/**
 * The spool bucket of a record (parseLedger.ts layout): the first 6 bits of its
 * commitment, so bucket b holds one contiguous commitment range and buckets in
 * order, each sorted, are the leaves in SPEC §2 commitment order. Commitments
 * are SHA-256 outputs, so the buckets are about equal.
 */
export function spoolBucketOf(records: Uint8Array, offset: number): number {
  return records[offset + 4]! >> 2;
}

/**
 * Normalized rows of an upload. Held in memory while there are at most
 * `memoryRows` rows (the in-request build reads them from there); past that
 * every row goes to the spool bucket of its commitment (spoolBucketOf), each
 * written to R2 in parts of about `partBytes`.
 */
export class RowSpool {
  private memory: Uint8Array[] = [];
  private spilled = false;
  private buffers: Uint8Array[] = [];
  private fill: number[] = [];
  private parts: number[] = [];
  private bucketRows: number[] = [];
  rows = 0;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly ledgerId: string,
    private readonly recordSize: number,
    private readonly memoryRows: number,
    private readonly partBytes = 256 * 1024,
    /** Key of bucket b's object number `part` (a multi-part upload's part writes under its own prefix). */
    private readonly keyOf: (b: number, part: number) => string = (b, part) => spoolPartKey(ledgerId, b, part),
  ) {}

  /** True while every row is still in memory. */
  get inMemory(): boolean {
    return !this.spilled;
  }

  async add(batch: LedgerRowBatch): Promise<void> {
    this.rows += batch.count;
    if (!this.spilled) {
      this.memory.push(batch.records);
      if (this.rows <= this.memoryRows) return;
      this.spilled = true;
      const held = this.memory;
      this.memory = [];
      const per = Math.max(this.recordSize, Math.floor(this.partBytes / this.recordSize) * this.recordSize);
      for (let b = 0; b < SPOOL_BUCKETS; b++) {
        this.buffers.push(new Uint8Array(per));
        this.fill.push(0);
        this.parts.push(0);
        this.bucketRows.push(0);
      }
      for (const records of held) await this.scatter(records);
      return;
    }
    await this.scatter(batch.records);
  }

  /** The rows held in memory, in upload order (only while `inMemory`). */
  memoryRecords(): Uint8Array {
    const total = this.memory.reduce((n, r) => n + r.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const r of this.memory) {
      out.set(r, o);
      o += r.length;
    }
    return out;
  }

  private async scatter(records: Uint8Array): Promise<void> {
    const n = records.length / this.recordSize;
    for (let i = 0; i < n; i++) {
      const b = spoolBucketOf(records, i * this.recordSize);
      const buf = this.buffers[b]!;
      buf.set(records.subarray(i * this.recordSize, (i + 1) * this.recordSize), this.fill[b]!);
      this.fill[b]! += this.recordSize;
      this.bucketRows[b]! += 1;
      if (this.fill[b] === buf.length) await this.flush(b);
    }
  }

  private async flush(b: number): Promise<void> {
    const len = this.fill[b]!;
    if (len === 0) return;
    await this.bucket.put(this.keyOf(b, this.parts[b]!), this.buffers[b]!.slice(0, len));
    this.parts[b]! += 1;
    this.fill[b] = 0;
  }

  /** Writes what is buffered (only when spilled) and returns the buckets' rows and object counts. */
  async flushAll(): Promise<{ rows: number; parts: number }[]> {
    if (!this.spilled) return [];
    for (let b = 0; b < SPOOL_BUCKETS; b++) await this.flush(b);
    return this.bucketRows.map((rows, b) => ({ rows, parts: this.parts[b]! }));
  }

  /** Writes what is buffered and the spool manifest (only when spilled). */
  async finish(): Promise<void> {
    if (!this.spilled) return;
    const manifest: SpoolManifest = { recordBytes: this.recordSize, order: "commitment", rows: this.rows, buckets: await this.flushAll() };
    await this.bucket.put(spoolManifestKey(this.ledgerId), JSON.stringify(manifest));
  }
}

export const spoolPartKey = (ledgerId: string, b: number, part: number) => `ledgers/${ledgerId}/spool/${b}-${part}.bin`;

/**
 * The spooled rows of a large upload, bucket by bucket (each bucket fully in
 * memory, its rows in no particular order; `ranges` when the buckets are
 * ascending commitment ranges). Null when the spool manifest is missing.
 */
export async function openRowSpool(
  bucket: R2Bucket,
  ledgerId: string,
): Promise<{ rows: number; recordBytes: number; ranges: boolean; buckets: () => AsyncGenerator<Uint8Array> } | null> {
  const manifest = await readJson<SpoolManifest>(bucket, spoolManifestKey(ledgerId));
  if (manifest === null) return null;
  return {
    rows: manifest.rows,
    recordBytes: manifest.recordBytes,
    ranges: manifest.order === "commitment",
    buckets: async function* () {
      for (let b = 0; b < manifest.buckets.length; b++) {
        const { rows } = manifest.buckets[b]!;
        const offsets = rowOffsets(manifest.partRows);
        const out = new Uint8Array(rows * manifest.recordBytes);
        let o = 0;
        for (const piece of spoolObjects(manifest, ledgerId, b)) {
          const part = await readObject(bucket, piece.key);
          if (part === null) throw new Error(`spool object ${piece.key} is missing`);
          if (o + part.length > out.length) throw new Error(`spool bucket ${b} of ledger ${ledgerId} holds more than ${rows} rows`);
          renumberRows(part, manifest.recordBytes, offsets[piece.part]!);
          out.set(part, o);
          o += part.length;
        }
        if (o !== out.length) throw new Error(`spool bucket ${b} of ledger ${ledgerId} holds ${o} bytes, expected ${out.length}`);
        yield out;
      }
    },
  };
}
