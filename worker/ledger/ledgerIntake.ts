/**
 * Ledger intake: how a user ledger arrives and what an operator can ask about
 * it. A whole ledger in one request body (putLedger), or a multi-part upload
 * (createUpload, putUploadPart, completeUpload, abortUpload) whose parts arrive
 * in any order and in parallel, each validated alone (its errors name rows
 * within the part) and received once; completing checks that exactly parts
 * 0..n-1 arrived and builds the ledger like a large single-request upload,
 * rows numbered across parts in part order. Then its status and, once
 * complete, its stored tree (layout: ledgerFormat.ts).
 *
 * Every refusal is a LedgerError naming the ledger and the reason; a ledger
 * this module fails loses its objects, a built one never does.
 */
import { type IssuerConfig, ledgerScheme } from "../../core/config/schema.js";
import { echo } from "../../core/errors.js";
import type { AmountUnits } from "../../core/numbers.js";
import { type BuildLedgerOptions, buildLedger } from "./buildLedger.js";
import { LedgerError } from "./ledgerErrors.js";
import {
  buildPrefix,
  type LedgerFailure,
  type LedgerProgress,
  type LedgerStatus,
  ledgerPrefix,
  MAX_UPLOAD_PARTS,
  markerUnits,
  newLedgerId,
  type PartManifest,
  partAttemptPrefix,
  partObjectKey,
  randomHex,
  shardKey,
  spoolManifestKey,
  type UploadMarker,
  uploadMarkerKey,
} from "./ledgerFormat.js";
import { admitLedger, failLedger, isBuilt, SUPERSEDED_REASON } from "./ledgerLifecycle.js";
import { joinParts, missingOrExtraParts, RowSpool } from "./ledgerSpool.js";
import {
  deletePrefix,
  getLedger,
  type LedgerRecord,
  listReceivedParts,
  markLedgerBuilding,
  markLedgerFailed,
  type PrivateLedgerParams,
  putPartManifest,
  readPartManifest,
  readUploadMarker,
} from "./ledgerStore.js";
import {
  type LedgerFormat,
  type LedgerRowError,
  LedgerTooLargeError,
  parseLedger,
  recordBytes,
} from "./parseLedger.js";
import type { LedgerBuildMessage } from "./shardedBuild.js";

/** Ledgers with at most this many rows are built inside the upload request. */
export const LEDGER_SYNC_ROW_LIMIT = 100_000;
/** Upload size cap. */
export const LEDGER_MAX_BYTES = 2 * 1024 ** 3;
/** Largest accepted part body (Workers' own request limit is usually lower: 100 MB on Free/Pro). */
export const LEDGER_PART_MAX_BYTES = 512 * 1024 * 1024;
/** Normalized rows held in memory for an in-request build (bytes). */
const SYNC_MEMORY_BYTES = 48 * 1024 * 1024;

/** The bindings intake uses: the ledgers table, their objects, and the build queue. */
export interface LedgerIntakeEnv {
  DB: D1Database;
  BUCKET: R2Bucket;
  LEDGER_QUEUE: { send(message: LedgerBuildMessage): Promise<unknown> };
}

export interface LedgerIntakeOptions extends BuildLedgerOptions {
  /** Rows built in the request; more go to the queue (default 100,000). */
  syncRowLimit?: number;
  /** Largest accepted whole-ledger body in bytes (default 2 GiB). */
  maxBytes?: number;
  /** Largest accepted part body in bytes (default 512 MiB). */
  maxPartBytes?: number;
}

/** What an issuer's configuration says its ledger holds: the assets in order and the decimals their amounts are written in. */
export interface LedgerTarget {
  issuerId: string;
  assets: string[];
  decimals: number[];
  /** Present when the issuer's ledger is private (SPEC §11): always built through the queue. */
  private?: PrivateLedgerParams;
}

/** The issuer's configured ledger; CONFLICT when it has none (liabilities.ledger). */
export function ledgerTarget(issuer: IssuerConfig): LedgerTarget {
  const assets = issuer.liabilities.ledger?.assets;
  if (!assets)
    throw new LedgerError("CONFLICT", `issuer "${issuer.id}" has no user ledger configured (liabilities.ledger)`);
  // The configuration check guarantees every ledger asset is one of the issuer's assets.
  const decimals = assets.map((a) => issuer.assets.find((x) => x.id === a)!.decimals);
  const ledger = issuer.liabilities.ledger!;
  if (ledgerScheme(ledger) === "plain") return { issuerId: issuer.id, assets, decimals };
  const unitDecimals = assets.map((a) => ledger.unitDecimals?.[a] ?? null);
  return { issuerId: issuer.id, assets, decimals, private: { decimals, minDepth: ledger.minDepth ?? 0, unitDecimals } };
}

/** What an upload must look like: the ledger assets in order, each with the decimals its amounts are written in. */
export function uploadShape(target: LedgerTarget) {
  return {
    issuer: target.issuerId,
    assets: target.assets.map((id, i) => ({ id, decimals: target.decimals[i]! })),
    units: ["decimal", "base"] as AmountUnits[],
    defaultUnits: "decimal" as AmountUnits,
  };
}

/** A request body as intake reads it: the stream and the size it declared (Content-Length; NaN when it said nothing usable). */
export interface UploadBody {
  body: ReadableStream<Uint8Array> | null;
  declaredBytes: number;
}

const unixNow = () => Math.floor(Date.now() / 1000);

/** The ledger row an upload admits: the issuer's assets, and a private ledger's parameters. */
function admission(ledgerId: string, target: LedgerTarget, format: LedgerFormat) {
  return {
    ledgerId,
    issuerId: target.issuerId,
    format,
    assets: target.assets,
    ...(target.private ? { private: target.private } : {}),
  };
}
const emptyBody = () => new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function refuseDeclared(declaredBytes: number, maxBytes: number, what: string): void {
  if (Number.isFinite(declaredBytes) && declaredBytes > maxBytes)
    throw new LedgerError("PAYLOAD_TOO_LARGE", `${what} is at most ${maxBytes} bytes`);
}

function invalidRows(
  ledgerId: string,
  message: string,
  errors: LedgerRowError[],
  errorCount: number,
  part?: number,
): LedgerError {
  return new LedgerError("LEDGER_INVALID", message, {
    ledgerId,
    ...(part === undefined ? {} : { part }),
    errors,
    errorCount,
  });
}

// ------------------------------------------------------------------ one request

export type PutLedgerResult =
  | {
      ledgerId: string;
      status: "complete" | "superseded";
      asOf: number;
      units: AmountUnits;
      root: string;
      rootSums: string[];
      users: number;
    }
  | { ledgerId: string; status: "building"; asOf: number; units: AmountUnits; users: number };

/**
 * Streams and validates a whole ledger. One of at most `syncRowLimit` rows is
 * built in the request (complete, or superseded when a ledger at least as new
 * completed meanwhile); a larger one is spooled to R2 and its build queued
 * (building). Invalid rows fail the ledger and store nothing.
 */
export async function putLedger(
  env: LedgerIntakeEnv,
  target: LedgerTarget,
  upload: UploadBody & { format: LedgerFormat; units: AmountUnits; asOf?: number },
  options: LedgerIntakeOptions = {},
): Promise<PutLedgerResult> {
  const syncRowLimit = options.syncRowLimit ?? LEDGER_SYNC_ROW_LIMIT;
  const maxBytes = options.maxBytes ?? LEDGER_MAX_BYTES;
  refuseDeclared(upload.declaredBytes, maxBytes, "a ledger");
  const { DB: db, BUCKET: bucket } = env;
  const { assets, decimals } = target;
  const { format, units } = upload;
  const ledgerId = newLedgerId();
  const asOf = await admitLedger(db, admission(ledgerId, target, format), upload.asOf, unixNow());

  // A private ledger is never built in the request: its rows always go to the spool and the queue's steps.
  const memoryRows = target.private
    ? 0
    : Math.min(syncRowLimit, Math.floor(SYNC_MEMORY_BYTES / recordBytes(assets.length)));
  const spool = new RowSpool(bucket, ledgerId, recordBytes(assets.length), memoryRows);
  // Only a ledger this request failed loses its objects (never a complete one).
  const discard = (failure: LedgerFailure) => failLedger(env, ledgerId, failure);

  let parsed;
  try {
    parsed = await parseLedger(upload.body ?? emptyBody(), {
      format,
      assets,
      units,
      decimals,
      maxBytes,
      onRows: (batch) => spool.add(batch),
    });
  } catch (error) {
    await discard({ reason: error instanceof Error ? error.message : "upload failed" });
    if (error instanceof LedgerTooLargeError) throw new LedgerError("PAYLOAD_TOO_LARGE", error.message, { ledgerId });
    throw error;
  }
  if (parsed.errorCount > 0) {
    await discard({ reason: "the ledger has invalid rows", errors: parsed.errors, errorCount: parsed.errorCount });
    throw invalidRows(
      ledgerId,
      `${parsed.errorCount} invalid row(s); nothing was stored`,
      parsed.errors,
      parsed.errorCount,
    );
  }

  if (parsed.rows <= syncRowLimit && spool.inMemory) {
    await markLedgerBuilding(db, ledgerId, parsed.rows);
    const records = spool.memoryRecords();
    let result;
    try {
      // One bucket holding every row: built in commitment order.
      result = await buildLedger(
        { db, bucket },
        ledgerId,
        {
          rows: parsed.rows,
          ranges: true,
          buckets: async function* () {
            yield records;
          },
        },
        options,
      );
    } catch (error) {
      await discard({ reason: `build failed: ${message(error)}` });
      throw error;
    }
    if (result.status === "failed") throw invalidRows(ledgerId, result.reason, [{ row: 0, reason: result.reason }], 1);
    // superseded: a ledger at least as new completed while this one was read (it is never attested).
    return {
      ledgerId,
      status: result.status,
      asOf,
      units,
      root: result.root,
      rootSums: result.rootSums.map(String),
      users: result.rows,
    };
  }

  try {
    await spool.finish({ totals: parsed.totals, lastRow: parsed.lastRow });
    await markLedgerBuilding(db, ledgerId, parsed.rows);
    await env.LEDGER_QUEUE.send({ ledgerId, issuerId: target.issuerId });
  } catch (error) {
    await discard({ reason: `could not queue the build: ${message(error)}` });
    throw error;
  }
  return { ledgerId, status: "building", asOf, units, users: parsed.rows };
}

// ------------------------------------------------------------------ multi-part

/** A new multi-part upload for `asOf` (the upload's time when absent): its ledger is validating until completed. */
export async function createUpload(
  env: Pick<LedgerIntakeEnv, "DB" | "BUCKET">,
  target: LedgerTarget,
  request: { format: LedgerFormat; units: AmountUnits; asOf?: number },
  options: Pick<LedgerIntakeOptions, "maxPartBytes"> = {},
) {
  const { format, units } = request;
  const { assets, decimals } = target;
  const ledgerId = newLedgerId();
  const asOf = await admitLedger(env.DB, admission(ledgerId, target, format), request.asOf, unixNow());
  const marker: UploadMarker = { version: 1, format, createdAt: unixNow(), units, decimals };
  try {
    await env.BUCKET.put(uploadMarkerKey(ledgerId), JSON.stringify(marker));
  } catch (error) {
    await markLedgerFailed(env.DB, ledgerId, { reason: "could not start the upload" }).catch(() => {});
    throw error;
  }
  return {
    ledgerId,
    status: "validating" as const,
    format,
    asOf,
    assets,
    units,
    decimals,
    maxParts: MAX_UPLOAD_PARTS,
    maxPartBytes: options.maxPartBytes ?? LEDGER_PART_MAX_BYTES,
  };
}

const notAccepting = (ledger: LedgerRecord) =>
  new LedgerError("CONFLICT", `ledger "${ledger.ledgerId}" is ${ledger.status}: it no longer accepts parts`, {
    ledgerId: ledger.ledgerId,
    status: ledger.status,
  });

const alreadyReceived = (ledgerId: string, part: number) =>
  new LedgerError("CONFLICT", `part ${part} of ledger "${ledgerId}" was already received; parts are never replaced`, {
    ledgerId,
    part,
  });

/** The upload marker of a ledger still validating (the marker goes with the spool once it is not). */
async function uploadMarker(bucket: R2Bucket, ledger: LedgerRecord): Promise<UploadMarker> {
  const marker = await readUploadMarker(bucket, ledger.ledgerId);
  if (marker === null)
    throw new LedgerError("CONFLICT", `ledger "${ledger.ledgerId}" was not created as a multi-part upload`);
  return marker;
}

/**
 * Receives part `part` of a multi-part upload: validated alone (errors name
 * rows within the part), spooled under its own attempt prefix, recorded once
 * (a part is never replaced). `format` and `units`, when the request names
 * them, must be the upload's; rows are read with the assets and decimals the
 * upload was created with, and refused when the configuration changed since.
 */
export async function putUploadPart(
  env: Pick<LedgerIntakeEnv, "DB" | "BUCKET">,
  target: LedgerTarget,
  ledgerId: string,
  part: number,
  request: UploadBody & { format?: LedgerFormat; units?: AmountUnits },
  options: Pick<LedgerIntakeOptions, "maxPartBytes"> = {},
): Promise<{ ledgerId: string; part: number; rows: number; lastRow: number; bytes: number }> {
  const maxPartBytes = options.maxPartBytes ?? LEDGER_PART_MAX_BYTES;
  const { DB: db, BUCKET: bucket } = env;
  const ledger = await issuerLedger(db, target.issuerId, ledgerId);
  if (ledger.status !== "validating") throw notAccepting(ledger);
  // Rows are read with the assets the ledger was created with; a configuration changed since cannot mix orders.
  const assets = ledger.assets;
  if (target.assets.join(",") !== assets.join(",")) {
    throw new LedgerError(
      "CONFLICT",
      `ledger "${ledgerId}" was created for assets ${assets.join(",")}; the issuer's ledger assets are now ${target.assets.join(",")}: start a new upload`,
      { ledgerId },
    );
  }
  const marker = await uploadMarker(bucket, ledger);
  if (request.format !== undefined && request.format !== marker.format) {
    throw new LedgerError(
      "UNSUPPORTED_MEDIA_TYPE",
      `this upload is ${marker.format}; the part says ${request.format}`,
      { field: "Content-Type" },
    );
  }
  const format = marker.format;
  const units = markerUnits(marker);
  if (request.units !== undefined && request.units !== units) {
    throw new LedgerError(
      "INVALID_PARAMETER",
      `this upload was created with units=${units}; a part cannot say units=${request.units} (every part is read the same way)`,
      {
        field: "units",
      },
    );
  }
  // Decimal amounts are read with the decimals the upload was created with; a changed configuration would mix meanings.
  const decimals = marker.decimals ?? target.decimals;
  if (units === "decimal" && decimals.join(",") !== target.decimals.join(",")) {
    throw new LedgerError(
      "CONFLICT",
      `ledger "${ledgerId}" was created for decimals ${decimals.join(",")} of ${assets.join(",")}; the configuration now says ${target.decimals.join(",")}: start a new upload`,
      { ledgerId },
    );
  }
  refuseDeclared(request.declaredBytes, maxPartBytes, "a part");
  if (await readPartManifest(bucket, ledgerId, part)) throw alreadyReceived(ledgerId, part);

  const attempt = randomHex(8);
  const size = recordBytes(assets.length);
  const spool = new RowSpool(bucket, ledgerId, size, 0, undefined, (b, k) =>
    partObjectKey(ledgerId, part, attempt, b, k),
  );
  const discard = () =>
    deletePrefix(bucket, partAttemptPrefix(ledgerId, part, attempt)).catch((e) =>
      console.warn("ledger part cleanup", ledgerId, part, e),
    );
  let parsed;
  try {
    parsed = await parseLedger(request.body ?? emptyBody(), {
      format,
      assets,
      units,
      decimals,
      maxBytes: maxPartBytes,
      onRows: (batch) => spool.add(batch),
    });
    if (parsed.errorCount === 0) {
      const buckets = await spool.flushAll();
      const manifest: PartManifest = {
        version: 1,
        part,
        attempt,
        rows: parsed.rows,
        lastRow: parsed.lastRow,
        bytes: parsed.bytes,
        recordBytes: size,
        buckets,
        order: "commitment",
        totals: parsed.totals.map(String),
        receivedAt: unixNow(),
      };
      if (!(await putPartManifest(bucket, ledgerId, manifest))) {
        await discard();
        throw alreadyReceived(ledgerId, part);
      }
      // Abandoned (DELETE, sweep) or completed while this part was read: it is not part of the ledger.
      const now = (await getLedger(db, ledgerId))!;
      if (now.status !== "validating") {
        if (now.status === "failed") await deletePrefix(bucket, ledgerPrefix(ledgerId)).catch(() => {});
        else await discard();
        throw notAccepting(now);
      }
    }
  } catch (error) {
    if (!(error instanceof LedgerError)) await discard();
    if (error instanceof LedgerTooLargeError)
      throw new LedgerError("PAYLOAD_TOO_LARGE", `part ${part}: ${error.message}`, { ledgerId, part });
    throw error;
  }
  if (parsed.errorCount > 0) {
    await discard();
    throw invalidRows(
      ledgerId,
      `part ${part}: ${parsed.errorCount} invalid row(s); the part was not stored (send it again once fixed)`,
      parsed.errors,
      parsed.errorCount,
      part,
    );
  }
  return { ledgerId, part, rows: parsed.rows, lastRow: parsed.lastRow, bytes: parsed.bytes };
}

/** Where a multi-part upload stands after `complete`: building (queued), or the state a repeated complete finds. */
export type CompleteUploadResult =
  | { ledgerId: string; status: "building"; parts: number; users: number }
  | { ledgerId: string; status: Exclude<LedgerStatus, "failed">; users: number };

/**
 * Completes a multi-part upload of `parts` parts: exactly parts 0..parts-1
 * must have arrived; their spools are joined and the build queued. A repeated
 * complete (a retry after a lost answer) gets the ledger's state; a failed
 * ledger is a CONFLICT naming why it failed.
 */
export async function completeUpload(
  env: LedgerIntakeEnv,
  target: LedgerTarget,
  ledgerId: string,
  parts: number,
): Promise<CompleteUploadResult> {
  const { BUCKET: bucket, DB: db } = env;
  const ledger = await issuerLedger(db, target.issuerId, ledgerId);
  const settled = (l: LedgerRecord): CompleteUploadResult => {
    if (l.status === "failed")
      throw new LedgerError("CONFLICT", `ledger "${l.ledgerId}" failed: ${l.error?.reason ?? "failed"}`, {
        ledgerId: l.ledgerId,
        status: l.status,
      });
    return { ledgerId: l.ledgerId, status: l.status, users: l.rows };
  };
  if (ledger.status !== "validating") return settled(ledger);
  await uploadMarker(bucket, ledger);

  const received = await listReceivedParts(bucket, ledgerId);
  const problem = missingOrExtraParts(received, parts);
  if (problem !== null)
    throw new LedgerError("CONFLICT", `ledger "${ledgerId}": ${problem}`, { ledgerId, received: received.length });
  const manifests: PartManifest[] = [];
  for (let p = 0; p < parts; p++) {
    const m = await readPartManifest(bucket, ledgerId, p);
    if (m === null)
      throw new LedgerError("CONFLICT", `ledger "${ledgerId}": part ${p} has not been received`, { ledgerId });
    manifests.push(m);
  }
  let spool;
  try {
    spool = joinParts(ledgerId, manifests);
  } catch (error) {
    throw new LedgerError("CONFLICT", `ledger "${ledgerId}": the parts do not fit together: ${message(error)}`, {
      ledgerId,
    });
  }
  if (spool.rows > 0xffff_ffff)
    throw new LedgerError(
      "LEDGER_INVALID",
      `a ledger has at most ${0xffff_ffff} rows, these parts hold ${spool.rows}`,
      { ledgerId },
    );
  await bucket.put(spoolManifestKey(ledgerId), JSON.stringify(spool));
  if (!(await markLedgerBuilding(db, ledgerId, spool.rows))) return settled((await getLedger(db, ledgerId))!);
  // Should the send fail, the ledger stays building and the cron's sweep starts it (sweepLedgers.ts).
  await env.LEDGER_QUEUE.send({ ledgerId, issuerId: target.issuerId });
  return { ledgerId, status: "building", parts, users: spool.rows };
}

/** Abandons an unfinished ledger: failed, its objects deleted. Built ledgers are kept forever (CONFLICT), also when one completes first. */
export async function abortUpload(
  env: Pick<LedgerIntakeEnv, "DB" | "BUCKET">,
  issuerId: string,
  ledgerId: string,
): Promise<{ ledgerId: string; status: LedgerStatus; reason: string | null }> {
  const ledger = await issuerLedger(env.DB, issuerId, ledgerId);
  if (isBuilt(ledger.status))
    throw new LedgerError("CONFLICT", `ledger "${ledgerId}" is ${ledger.status}: built ledgers are kept forever`, {
      ledgerId,
      status: ledger.status,
    });
  await failLedger(env, ledgerId, { reason: "abandoned by the issuer" });
  const now = (await getLedger(env.DB, ledgerId))!;
  if (isBuilt(now.status))
    throw new LedgerError(
      "CONFLICT",
      `ledger "${ledgerId}" completed first (${now.status}): built ledgers are kept forever`,
      { ledgerId, status: now.status },
    );
  return { ledgerId, status: now.status, reason: now.error?.reason ?? null };
}

// ------------------------------------------------------------------ status and stored trees

const LEDGER_ID = /^lg_[0-9a-f]{32}$/;

/** The ledger `ledgerId` of issuer `issuerId`; NOT_FOUND naming both when that issuer has no such ledger. */
export async function issuerLedger(db: D1Database, issuerId: string, ledgerId: string): Promise<LedgerRecord> {
  const ledger = LEDGER_ID.test(ledgerId) ? await getLedger(db, ledgerId) : null;
  if (ledger === null || ledger.issuerId !== issuerId) {
    throw new LedgerError("NOT_FOUND", `issuer "${issuerId.slice(0, 80)}" has no ledger "${ledgerId.slice(0, 80)}"`);
  }
  return ledger;
}

/** A ledger's state for its operator; `upload` while a multi-part upload is still receiving parts. */
export interface LedgerStatusView {
  ledgerId: string;
  issuer: string;
  status: LedgerStatus;
  format: LedgerFormat;
  assets: string[];
  users: number;
  root: string | null;
  rootSums: string[] | null;
  progress: LedgerProgress | null;
  reason: string | null;
  errors: LedgerRowError[];
  errorCount: number;
  asOf: number;
  order: "commitment" | null;
  createdAt: number;
  completedAt: number | null;
  upload?: { partsReceived: number; parts: number[]; units: AmountUnits };
  /** A private ledger (SPEC §11): its padded leaf count once building, and the blinding secret's id once complete (never the secret). */
  private?: { scheme: "pedersen-ristretto255-v2"; leafCount: number; depth: number | null; secretId: string | null };
}

export async function ledgerStatus(
  env: Pick<LedgerIntakeEnv, "DB" | "BUCKET">,
  issuerId: string,
  ledgerId: string,
): Promise<LedgerStatusView> {
  const ledger = await issuerLedger(env.DB, issuerId, ledgerId);
  const marker = ledger.status === "validating" ? await readUploadMarker(env.BUCKET, ledgerId) : null;
  const parts = marker !== null ? await listReceivedParts(env.BUCKET, ledgerId) : null;
  return {
    ledgerId: ledger.ledgerId,
    issuer: ledger.issuerId,
    status: ledger.status,
    format: ledger.format,
    assets: ledger.assets,
    users: ledger.rows,
    root: ledger.root,
    rootSums: ledger.rootSums?.map(String) ?? null,
    progress:
      ledger.status === "building"
        ? (ledger.progress ?? { phase: "build", done: 0, total: ledger.rows })
        : isBuilt(ledger.status)
          ? { phase: "build", done: ledger.rows, total: ledger.rows }
          : null,
    reason: ledger.error?.reason ?? (ledger.status === "superseded" ? SUPERSEDED_REASON : null),
    errors: ledger.error?.errors ?? [],
    errorCount: ledger.error?.errorCount ?? (ledger.error ? 1 : 0),
    asOf: ledger.asOf,
    order: ledger.leafOrder,
    createdAt: ledger.createdAt,
    completedAt: ledger.completedAt,
    ...(marker === null || parts === null
      ? {}
      : {
          upload: { partsReceived: parts.length, parts: parts.slice(0, MAX_UPLOAD_PARTS), units: markerUnits(marker) },
        }),
    ...(ledger.scheme === "pedersen-ristretto255-v2"
      ? {
          private: {
            scheme: ledger.scheme,
            leafCount: ledger.leafCount,
            depth: ledger.private?.result?.depth ?? null,
            secretId: ledger.private?.result?.secretId ?? null,
          },
        }
      : {}),
  };
}

/** A complete ledger of the issuer, for reading its stored tree; NOT_FOUND otherwise. */
async function completeLedger(
  db: D1Database,
  issuerId: string,
  ledgerId: string,
): Promise<LedgerRecord & { buildId: string }> {
  const ledger = LEDGER_ID.test(ledgerId) ? await getLedger(db, ledgerId) : null;
  if (ledger === null || ledger.issuerId !== issuerId || ledger.status !== "complete" || ledger.buildId === null) {
    throw new LedgerError("NOT_FOUND", `issuer "${echo(issuerId)}" has no complete ledger "${echo(ledgerId)}"`);
  }
  return ledger as LedgerRecord & { buildId: string };
}

/**
 * The stored tree of a complete ledger, for audits and re-computation: its
 * manifest (`shard` absent) or one shard object, as stored (layout: ledgerFormat.ts).
 */
export async function storedTreeObject(
  env: Pick<LedgerIntakeEnv, "DB" | "BUCKET">,
  issuerId: string,
  ledgerId: string,
  shard?: number,
): Promise<R2ObjectBody> {
  const ledger = await completeLedger(env.DB, issuerId, ledgerId);
  const key =
    shard === undefined
      ? `${buildPrefix(ledger.ledgerId, ledger.buildId)}manifest.json`
      : shardKey(ledger.ledgerId, ledger.buildId, shard);
  const object = await env.BUCKET.get(key);
  if (object === null)
    throw new LedgerError(
      "NOT_FOUND",
      shard === undefined
        ? `ledger "${ledgerId}" has no stored manifest`
        : `ledger "${ledgerId}" has no shard ${shard}`,
    );
  return object;
}
