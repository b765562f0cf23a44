/**
 * Where a ledger is stored: its D1 row (migrations/0002_ledgers.sql) and the
 * reads and writes of its R2 objects (keys and shapes: ledgerFormat.ts). Every
 * SQL statement of the ledgers table is here; no workflow is (intake and
 * lifecycle decide, this stores).
 */
import type { Hex } from "../../core/bytes.js";
import {
  countMarks,
  type LeafOrder,
  type LedgerFailure,
  type LedgerProgress,
  type LedgerStatus,
  type PartManifest,
  partManifestKey,
  partsPrefix,
  type ShardedProgress,
  type UploadMarker,
  uploadMarkerKey,
} from "./ledgerFormat.js";
import type { LedgerFormat } from "./parseLedger.js";

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
  /** The tree scheme: SPEC §2 sum tree, or SPEC §11 private (migrations/0010_private_ledgers.sql). */
  scheme: LedgerScheme;
  /** Leaves as published: `rows` for a plain ledger; a private ledger's padded 2^depth once building (0 before). */
  leafCount: number;
  /** A private ledger's build parameters and, once complete, its root facts; null for plain ledgers. */
  private: PrivateLedgerRecord | null;
}

export type LedgerScheme = "sum-sha256-v1" | "pedersen-ristretto255-v2";
export const PRIVATE_SCHEME = "pedersen-ristretto255-v2";

/** What a private ledger was admitted with (from the issuer's configuration at upload). */
export interface PrivateLedgerParams {
  /** The ledger assets' decimals (base units of the uploaded balances). */
  decimals: number[];
  minDepth: number;
  /** Per ledger asset, the configured unit decimals, or null for the automatic choice. */
  unitDecimals: (number | null)[];
}

/** A complete private ledger's public root facts (report, status), plus its depth and secret id. */
export interface PrivateLedgerFacts {
  depth: number;
  leafCount: number;
  unitDecimals: number[];
  rootCommitments: Hex[];
  /** Quantised units, decimal strings. */
  totals: string[];
  totalBlindings: Hex[];
  secretId: Hex;
}

export interface PrivateLedgerRecord {
  params: PrivateLedgerParams;
  result?: PrivateLedgerFacts;
}

/** A private ledger's leaf count: the smallest power of two holding `rows` and at least 2^minDepth. */
export function privateLeafCount(rows: number, minDepth: number): number {
  let depth = minDepth;
  while (2 ** depth < rows) depth++;
  return 2 ** depth;
}

/** SQL for the leaf count the public may see of ledger row `l` (never a private ledger's user count). */
export const PUBLIC_LEAF_COUNT_SQL = "(CASE WHEN l.scheme IS NULL THEN l.rows ELSE COALESCE(l.leaf_count, 0) END)";

function toProgress(raw: LedgerProgress | ShardedProgress): LedgerProgress {
  if (!("marks" in raw)) return raw;
  const done = countMarks(raw);
  const t = raw.totals;
  const steps = {
    buckets: { done: done.buckets, total: t.buckets },
    shards: { done: done.shards, total: t.shards },
    index: { done: done.groups, total: t.groups },
  };
  const phase =
    done.buckets < t.buckets ? "shuffle" : done.shards < t.shards || done.groups < t.groups ? "shards" : "combine";
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
  scheme?: string | null;
  leaf_count?: number | null;
  private_json?: string | null;
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
    progress:
      r.progress_json === null ? null : toProgress(JSON.parse(r.progress_json) as LedgerProgress | ShardedProgress),
    createdAt: r.created_at,
    completedAt: r.completed_at,
    asOf: r.as_of,
    leafOrder: r.leaf_order ?? null,
    scheme: r.scheme === PRIVATE_SCHEME ? PRIVATE_SCHEME : "sum-sha256-v1",
    leafCount: r.scheme === PRIVATE_SCHEME ? (r.leaf_count ?? 0) : r.rows,
    private: r.private_json ? (JSON.parse(r.private_json) as PrivateLedgerRecord) : null,
  };
}

const now = () => Math.floor(Date.now() / 1000);

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
  ledger: {
    ledgerId: string;
    issuerId: string;
    format: LedgerFormat;
    assets: readonly string[];
    asOf: number;
    /** A private ledger's parameters; absent for a plain one. */
    private?: PrivateLedgerParams;
  },
): Promise<NewerLedger | null> {
  const res = await db
    .prepare(
      `INSERT INTO ledgers (ledger_id, issuer_id, status, format, rows, assets_json, created_at, updated_at, as_of, scheme, private_json)
       SELECT ?1, ?2, 'validating', ?3, 0, ?4, ?5, ?5, ?6, ?7, ?8
       WHERE NOT EXISTS (SELECT 1 FROM ledgers WHERE issuer_id = ?2 AND status IN ('validating', 'building', 'complete') AND as_of >= ?6)`,
    )
    .bind(
      ledger.ledgerId,
      ledger.issuerId,
      ledger.format,
      JSON.stringify(ledger.assets),
      now(),
      ledger.asOf,
      ledger.private ? PRIVATE_SCHEME : null,
      ledger.private ? JSON.stringify({ params: ledger.private }) : null,
    )
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

/** The issuer's complete ledger with the newest asOf (ties, which uploads refuse, go to the one completed last), or null. */
export async function newestCompleteLedger(db: D1Database, issuerId: string): Promise<LedgerRecord | null> {
  const row = await db
    .prepare(
      `SELECT * FROM ledgers WHERE issuer_id = ?1 AND status = 'complete'
       ORDER BY as_of DESC, completed_at DESC, rowid DESC LIMIT 1`,
    )
    .bind(issuerId)
    .first<LedgerDbRow>();
  return row === null ? null : toLedgerRecord(row);
}

/**
 * validating -> building, recording the row count (and a private ledger's
 * padded leaf count, from the minDepth it was admitted with); false when the
 * ledger is no longer validating.
 */
export async function markLedgerBuilding(db: D1Database, ledgerId: string, rows: number): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE ledgers SET status = 'building', rows = ?2, progress_json = NULL, updated_at = ?3,
         leaf_count = CASE WHEN scheme IS NULL THEN NULL ELSE ?4 END
       WHERE ledger_id = ?1 AND status = 'validating'`,
    )
    .bind(ledgerId, rows, now(), await admittedLeafCount(db, ledgerId, rows))
    .run();
  return res.meta.changes === 1;
}

/** The padded leaf count of a private ledger about to build `rows` rows; null for a plain one. */
async function admittedLeafCount(db: D1Database, ledgerId: string, rows: number): Promise<number | null> {
  const row = await db
    .prepare("SELECT private_json FROM ledgers WHERE ledger_id = ?1")
    .bind(ledgerId)
    .first<{ private_json: string | null }>();
  if (!row?.private_json) return null;
  const { params } = JSON.parse(row.private_json) as PrivateLedgerRecord;
  return privateLeafCount(rows, params.minDepth);
}

/** Takes the build for `buildId` (the latest attempt wins); false when the ledger is not building. */
export async function claimLedgerBuild(db: D1Database, ledgerId: string, buildId: string): Promise<boolean> {
  const res = await db
    .prepare("UPDATE ledgers SET build_id = ?2, updated_at = ?3 WHERE ledger_id = ?1 AND status = 'building'")
    .bind(ledgerId, buildId, now())
    .run();
  return res.meta.changes === 1;
}

export async function setLedgerProgress(
  db: D1Database,
  ledgerId: string,
  buildId: string,
  progress: LedgerProgress,
): Promise<void> {
  await db
    .prepare(
      "UPDATE ledgers SET progress_json = ?3, updated_at = ?4 WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2",
    )
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
    .prepare(
      "UPDATE ledgers SET build_id = ?3, progress_json = ?4, updated_at = ?5 WHERE ledger_id = ?1 AND status = 'building' AND build_id IS ?2",
    )
    .bind(ledgerId, previous, buildId, JSON.stringify(progress), now())
    .run();
  return res.meta.changes === 1;
}

/**
 * Records step `mark` of build `buildId` as done and returns the build's
 * progress after it, in one transaction; null when the ledger is no longer
 * building that build (the step is stale).
 */
export async function markBuildStep(
  db: D1Database,
  ledgerId: string,
  buildId: string,
  mark: string,
): Promise<ShardedProgress | null> {
  if (!/^[bsi][0-9]+$/.test(mark)) throw new Error(`bad step mark ${mark}`);
  const [update, select] = await db.batch([
    db
      .prepare(
        `UPDATE ledgers SET progress_json = json_set(progress_json, '$.marks.' || ?3, 1), updated_at = ?4
         WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2 AND json_valid(progress_json)`,
      )
      .bind(ledgerId, buildId, mark, now()),
    db
      .prepare("SELECT progress_json FROM ledgers WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2")
      .bind(ledgerId, buildId),
  ]);
  if (update!.meta.changes !== 1) return null;
  const row = select!.results[0] as { progress_json: string | null } | undefined;
  return row?.progress_json ? (JSON.parse(row.progress_json) as ShardedProgress) : null;
}

/** The sharded build's raw progress (its step marks) while the ledger is building build `buildId`; else null. */
export async function getShardedProgress(
  db: D1Database,
  ledgerId: string,
  buildId: string,
): Promise<ShardedProgress | null> {
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
): Promise<
  { ledgerId: string; issuerId: string; status: "validating" | "building"; createdAt: number; updatedAt: number }[]
> {
  const { results } = await db
    .prepare(
      `SELECT ledger_id, issuer_id, status, created_at, COALESCE(updated_at, created_at) AS moved FROM ledgers
       WHERE (status = 'building' AND COALESCE(updated_at, created_at) < ?1) OR (status IN ('validating', 'building') AND created_at <= ?2)
       ORDER BY moved LIMIT ?3`,
    )
    .bind(idleBefore, createdBefore, limit)
    .all<{
      ledger_id: string;
      issuer_id: string;
      status: "validating" | "building";
      created_at: number;
      moved: number;
    }>();
  return results.map((r) => ({
    ledgerId: r.ledger_id,
    issuerId: r.issuer_id,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.moved,
  }));
}

/** Records that the sweep looked at a building ledger now (it waits a full interval before resuming it again). */
export async function touchLedger(db: D1Database, ledgerId: string): Promise<void> {
  await db
    .prepare("UPDATE ledgers SET updated_at = ?2 WHERE ledger_id = ?1 AND status IN ('validating', 'building')")
    .bind(ledgerId, now())
    .run();
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
  result: {
    root: Hex;
    rootSums: readonly bigint[];
    rows: number;
    order: LeafOrder;
    /** A private ledger's root facts (kept under private_json "result"). */
    private?: PrivateLedgerFacts;
  },
): Promise<"complete" | "superseded" | null> {
  const [update, select] = await db.batch([
    db
      .prepare(
        `UPDATE ledgers SET
           status = CASE WHEN EXISTS (SELECT 1 FROM ledgers AS o WHERE o.issuer_id = ledgers.issuer_id AND o.status = 'complete'
                                        AND o.as_of >= ledgers.as_of AND o.ledger_id <> ledgers.ledger_id)
                    THEN 'superseded' ELSE 'complete' END,
           root = ?3, root_sums_json = ?4, rows = ?5, completed_at = ?6, updated_at = ?6, progress_json = NULL, leaf_order = ?7,
           private_json = CASE WHEN ?8 IS NULL THEN private_json ELSE json_set(COALESCE(private_json, '{}'), '$.result', json(?8)) END,
           leaf_count = COALESCE(?9, leaf_count)
         WHERE ledger_id = ?1 AND status = 'building' AND build_id = ?2`,
      )
      .bind(
        ledgerId,
        buildId,
        result.root,
        JSON.stringify(result.rootSums.map(String)),
        result.rows,
        now(),
        result.order,
        result.private ? JSON.stringify(result.private) : null,
        result.private?.leafCount ?? null,
      ),
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
      `SELECT l.ledger_id, l.status, l.as_of, l.root, ${PUBLIC_LEAF_COUNT_SQL} AS rows, l.leaf_order, l.created_at, l.completed_at,
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
    attested:
      r.first_sequence === null || r.last_sequence === null ? null : { from: r.first_sequence, to: r.last_sequence },
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
export async function endedLedgers(
  db: D1Database,
  issuerId: string,
  since: number,
  limit = 50,
): Promise<EndedLedger[]> {
  const { results } = await db
    .prepare(
      `SELECT ledger_id, status, as_of, rows, error_json, completed_at FROM ledgers
       WHERE issuer_id = ?1 AND status IN ('superseded', 'failed') AND completed_at >= ?2
       ORDER BY completed_at, rowid LIMIT ?3`,
    )
    .bind(issuerId, since, limit)
    .all<{
      ledger_id: string;
      status: "superseded" | "failed";
      as_of: number;
      rows: number;
      error_json: string | null;
      completed_at: number;
    }>();
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
    .prepare(
      "UPDATE ledgers SET status = 'failed', error_json = ?2, completed_at = ?3 WHERE ledger_id = ?1 AND status IN ('validating', 'building')",
    )
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

/** The marker of a multi-part upload, or null when the ledger was not created as one (or its spool is gone). */
export function readUploadMarker(bucket: R2Bucket, ledgerId: string): Promise<UploadMarker | null> {
  return readJson<UploadMarker>(bucket, uploadMarkerKey(ledgerId));
}

/** Records `manifest` unless its part was already received; false when it was. */
export async function putPartManifest(bucket: R2Bucket, ledgerId: string, manifest: PartManifest): Promise<boolean> {
  const written = await bucket.put(partManifestKey(ledgerId, manifest.part), JSON.stringify(manifest), {
    onlyIf: { etagDoesNotMatch: "*" },
    httpMetadata: { contentType: "application/json" },
  });
  return written !== null;
}

/** Part numbers received so far, ascending. */
export async function listReceivedParts(bucket: R2Bucket, ledgerId: string): Promise<number[]> {
  const prefix = partsPrefix(ledgerId);
  const parts: number[] = [];
  let cursor: string | undefined;
  do {
    const list = await bucket.list({ prefix, delimiter: "/", ...(cursor ? { cursor } : {}) });
    for (const o of list.objects) {
      const m = /^(0|[1-9][0-9]*)\.json$/.exec(o.key.slice(prefix.length));
      if (m) parts.push(Number(m[1]));
    }
    cursor = list.truncated ? list.cursor : undefined;
  } while (cursor !== undefined);
  return parts.sort((a, b) => a - b);
}

export function readPartManifest(bucket: R2Bucket, ledgerId: string, part: number): Promise<PartManifest | null> {
  return readJson<PartManifest>(bucket, partManifestKey(ledgerId, part));
}
