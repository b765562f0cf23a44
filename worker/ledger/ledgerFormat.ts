/**
 * The ledger's formats: R2 object keys, the shapes of its manifests, upload
 * markers and progress, and the byte encodings of shards, index and spool. Pure
 * (no bindings): ledgerStore.ts reads and writes D1 and R2 with these,
 * ledgerSpool.ts spools upload rows, the builds and proofs lay out bytes by them.
 *
 * R2 layout, all under `ledgers/{ledgerId}/`:
 *
 *   spool/{b}-{part}.bin      normalized rows of a large upload, before the build:
 *   spool/manifest.json       `b` is one of SPOOL_BUCKETS buckets, the first 6 bits
 *                             of the row's commitment (manifest `order: "commitment"`;
 *                             spools written before hold uniformly random buckets), records as in
 *                             parseLedger.ts `recordBytes` (row number, commitment,
 *                             enc128 balances). Deleted once the ledger is complete.
 *   spool/upload.json         UploadMarker: this ledger is a multi-part upload.
 *   spool/parts/{part}.json   PartManifest of a received part, written once
 *                             (conditional put): a part is never replaced.
 *   spool/parts/{part}/{attempt}/{b}-{k}.bin
 *                             the part's normalized rows (rows numbered within the
 *                             part) in spool bucket b. An attempt that fails or loses
 *                             the race for its part is deleted; anything left over
 *                             goes with the spool once the ledger is complete.
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
import { HASH_BYTES, SUM_BYTES } from "../../core/liabilities/index.js";
import type { AmountUnits } from "../../core/numbers.js";
import type { LedgerFormat, LedgerRowError } from "./parseLedger.js";

export const SPOOL_BUCKETS = 64;
export const INDEX_BUCKET_TARGET = 2048;
/** Parts per multi-part upload: part numbers 0 .. MAX_UPLOAD_PARTS - 1. */
export const MAX_UPLOAD_PARTS = 1000;

/** superseded: the build completed for an asOf no newer than a complete ledger of its issuer (never attested). */
export type LedgerStatus = "validating" | "building" | "complete" | "failed" | "superseded";

/** SPEC §2 leaf order of a ledger: ascending commitments, or null for ledgers built before that rule (random order). */
export type LeafOrder = "commitment" | null;

export const ledgerPrefix = (ledgerId: string) => `ledgers/${ledgerId}/`;
export const spoolManifestKey = (ledgerId: string) => `ledgers/${ledgerId}/spool/manifest.json`;
export const spoolPartKey = (ledgerId: string, b: number, part: number) => `ledgers/${ledgerId}/spool/${b}-${part}.bin`;
export const uploadMarkerKey = (ledgerId: string) => `ledgers/${ledgerId}/spool/upload.json`;
export const partsPrefix = (ledgerId: string) => `ledgers/${ledgerId}/spool/parts/`;
export const partManifestKey = (ledgerId: string, part: number) => `${partsPrefix(ledgerId)}${part}.json`;
export const partAttemptPrefix = (ledgerId: string, part: number, attempt: string) =>
  `${partsPrefix(ledgerId)}${part}/${attempt}/`;
export const partObjectKey = (ledgerId: string, part: number, attempt: string, b: number, k: number) =>
  `${partAttemptPrefix(ledgerId, part, attempt)}${b}-${k}.bin`;
export const buildPrefix = (ledgerId: string, buildId: string) => `ledgers/${ledgerId}/builds/${buildId}/`;
export const treeManifestKey = (ledgerId: string) => `ledgers/${ledgerId}/manifest.json`;
export const shardKey = (ledgerId: string, buildId: string, shard: number) =>
  `${buildPrefix(ledgerId, buildId)}shards/${shard}.bin`;
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
export function shardNodeOffset(
  counts: readonly number[],
  leaves: number,
  level: number,
  local: number,
  assets: number,
): number {
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

/** A fresh ledger id: `lg_` + 16 random bytes hex. */
export function newLedgerId(): string {
  return `lg_${randomHex(16)}`;
}

export function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// ------------------------------------------------------------------ spool

export interface SpoolManifest {
  recordBytes: number;
  /** "commitment": bucket b holds the rows whose commitment starts with the 6 bits b (spoolBucketOf); absent: random buckets (older spools). */
  order?: "commitment";
  rows: number;
  /**
   * Per spool bucket, its rows and its objects: `parts` objects named by
   * spoolPartKey (a single-request upload), or the listed `pieces` (a
   * multi-part upload, ledgerSpool.ts joinParts).
   */
  buckets: SpoolBucket[];
  /** Per-asset totals of the rows in base units (decimal strings): a private build picks its unit from them. Absent in older spools. */
  totals?: string[];
  /** A single-request upload's last row number: a private build numbers its padding rows after it. */
  lastRow?: number;
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
  return (
    bucket.pieces ?? Array.from({ length: bucket.parts }, (_, p) => ({ key: spoolPartKey(ledgerId, b, p), part: 0 }))
  );
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

// ------------------------------------------------------------------ multi-part uploads

/** The spool's marker of a multi-part upload, written when the upload is created. */
export interface UploadMarker {
  version: 1;
  format: LedgerFormat;
  createdAt: number;
  /**
   * How every part writes amounts, fixed when the upload is created. Absent in
   * uploads created before amounts could be decimals: those are base units.
   */
  units?: AmountUnits;
  /** The ledger assets' decimals when the upload was created (with `units`). */
  decimals?: number[];
}

/** The units of an upload: an upload created before units were recorded is in base units. */
export const markerUnits = (marker: UploadMarker): AmountUnits => marker.units ?? "base";

/** A received part: where its rows are and how many. */
export interface PartManifest {
  version: 1;
  part: number;
  attempt: string;
  /** Valid rows. */
  rows: number;
  /** Its last row number (blank lines count): the next part's rows are numbered after it. */
  lastRow: number;
  bytes: number;
  recordBytes: number;
  /** Per spool bucket, the rows and objects this part wrote there. */
  buckets: { rows: number; parts: number }[];
  /** "commitment": the part's buckets are commitment ranges (spoolBucketOf); absent in parts received before. */
  order?: "commitment";
  /** Per-asset totals of the part's rows in base units (decimal strings); absent in parts received before. */
  totals?: string[];
  receivedAt: number;
}
