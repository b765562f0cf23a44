import { Hono, type Context } from "hono";
import type { IssuerConfig } from "../../core/config/schema.js";
import type { AmountUnits } from "../../core/numbers.js";
import { echo } from "../../core/errors.js";
import { buildLedger, type BuildLedgerOptions } from "../ledger/buildLedger.js";
import {
  RowSpool,
  buildPrefix,
  deletePrefix,
  getLedger,
  ledgerPrefix,
  markLedgerBuilding,
  markLedgerFailed,
  newLedgerId,
  shardKey,
  type LedgerRecord,
} from "../ledger/ledgerStore.js";
import { LedgerTooLargeError, parseLedger, recordBytes, type LedgerFormat } from "../ledger/parseLedger.js";
import type { LedgerBuildMessage } from "../ledger/queueConsumer.js";
import { MAX_UPLOAD_PARTS, listReceivedParts, markerUnits, readUploadMarker } from "../ledger/uploadParts.js";
import { adminAuth } from "./adminAuth.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { insertVersionedLedger } from "./ledgerAsOf.js";

/** Ledgers with at most this many rows are built inside the upload request. */
export const LEDGER_SYNC_ROW_LIMIT = 100_000;
/** Upload size cap. */
export const LEDGER_MAX_BYTES = 2 * 1024 ** 3;
/** Normalized rows held in memory for an in-request build (bytes). */
const SYNC_MEMORY_BYTES = 48 * 1024 * 1024;

export interface AdminLedgerOptions extends BuildLedgerOptions {
  /** Rows built in the request; more go to the queue (default 100,000). */
  syncRowLimit?: number;
  /** Largest accepted body in bytes (default 2 GiB). */
  maxBytes?: number;
}

export function configuredLedgerAssets(c: Context<AppEnv>): { issuer: IssuerConfig; assets: string[]; decimals: number[] } {
  const id = c.req.param("issuer") ?? "";
  const issuer = c.var.config.issuers.find((i) => i.id === id);
  if (!issuer) throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${id.slice(0, 80)}" is not published here`);
  const assets = issuer.liabilities.ledger?.assets;
  if (!assets) throw new ApiError(409, "CONFLICT", `issuer "${id}" has no user ledger configured (liabilities.ledger)`);
  // The configuration check guarantees every ledger asset is one of the issuer's assets.
  const decimals = assets.map((a) => issuer.assets.find((x) => x.id === a)!.decimals);
  return { issuer, assets, decimals };
}

/**
 * How the upload writes amounts, from `?units=decimal|base` (default decimal:
 * whole units of each asset's configured decimals). With `fixed` (a part of
 * a multi-part upload) the part may repeat the upload's units, never change them.
 */
export function ledgerUnits(c: Context<AppEnv>, fixed?: AmountUnits): AmountUnits {
  const given = c.req.queries("units") ?? [];
  if (given.length > 1) throw new ApiError(400, "INVALID_PARAMETER", "give units at most once", { field: "units" });
  const named = given[0];
  if (named !== undefined && named !== "decimal" && named !== "base") {
    throw new ApiError(400, "INVALID_PARAMETER", `units must be decimal (amounts like 1500.25, the default) or base (the asset's smallest unit), got "${named.slice(0, 40)}"`, {
      field: "units",
    });
  }
  if (fixed === undefined) return named ?? "decimal";
  if (named !== undefined && named !== fixed) {
    throw new ApiError(400, "INVALID_PARAMETER", `this upload was created with units=${fixed}; a part cannot say units=${named} (every part is read the same way)`, {
      field: "units",
    });
  }
  return fixed;
}

/**
 * The body's format from ?format or the Content-Type. With `fixed` (a part of
 * a multi-part upload) the body must be that format; saying nothing means it.
 */
export function ledgerFormat(c: Context<AppEnv>, fixed?: LedgerFormat): LedgerFormat {
  const named = namedFormat(c);
  if (fixed === undefined) {
    if (named !== undefined) return named;
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be text/csv or application/x-ndjson (or give ?format=csv|ndjson)", {
      field: "Content-Type",
    });
  }
  if (named !== undefined && named !== fixed) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `this upload is ${fixed}; the part says ${named}`, { field: "Content-Type" });
  }
  return fixed;
}

function namedFormat(c: Context<AppEnv>): LedgerFormat | undefined {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  const typed: LedgerFormat | undefined = type === "text/csv" ? "csv" : type === "application/x-ndjson" || type === "application/ndjson" ? "ndjson" : undefined;
  const query = c.req.query("format");
  if (query !== undefined) {
    if (query !== "csv" && query !== "ndjson") throw new ApiError(400, "INVALID_PARAMETER", `format must be csv or ndjson, got "${query.slice(0, 40)}"`, { field: "format" });
    // Reading the body as the other format would fail every row for one fault: refuse the contradiction instead.
    if (typed !== undefined && typed !== query) {
      throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `format=${query} but the Content-Type says ${type}: give one format`, { field: "Content-Type" });
    }
    return query;
  }
  return typed;
}

/** The ledger named by the path's `:issuer` and `:ledgerId`; 404 naming both when that issuer has no such ledger. */
export async function issuerLedger(c: Context<AppEnv>): Promise<LedgerRecord> {
  const issuerId = c.req.param("issuer") ?? "";
  const ledgerId = c.req.param("ledgerId") ?? "";
  const ledger = /^lg_[0-9a-f]{32}$/.test(ledgerId) ? await getLedger(c.env.DB, ledgerId) : null;
  if (ledger === null || ledger.issuerId !== issuerId) {
    throw new ApiError(404, "NOT_FOUND", `issuer "${issuerId.slice(0, 80)}" has no ledger "${ledgerId.slice(0, 80)}"`);
  }
  return ledger;
}

export const statusPath = (issuerId: string, ledgerId: string) => `/v1/admin/issuers/${issuerId}/ledgers/${ledgerId}`;

/** The status route's answer; `upload` for a multi-part upload still receiving parts. */
function ledgerStatus(ledger: LedgerRecord, statusUrl: string, upload: { parts: number[]; units: AmountUnits } | null) {
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
        : ledger.status === "complete" || ledger.status === "superseded"
          ? { phase: "build", done: ledger.rows, total: ledger.rows }
          : null,
    reason: ledger.error?.reason ?? (ledger.status === "superseded" ? "its build completed after a ledger with an asOf at least as new: it is never attested" : null),
    errors: ledger.error?.errors ?? [],
    errorCount: ledger.error?.errorCount ?? (ledger.error ? 1 : 0),
    asOf: ledger.asOf,
    order: ledger.leafOrder,
    createdAt: ledger.createdAt,
    completedAt: ledger.completedAt,
    ...(upload === null ? {} : { upload: { partsReceived: upload.parts.length, parts: upload.parts.slice(0, MAX_UPLOAD_PARTS), units: upload.units } }),
    statusUrl,
  };
}

/**
 * Ledger upload and status, behind adminAuth. Mounted at `/`.
 * `PUT /v1/admin/issuers/:issuer/ledger` streams and validates the body; a
 * ledger of at most `syncRowLimit` rows is built in the request (201), a
 * larger one is spooled to R2 and built by the queue consumer (202).
 */
export function createAdminLedger(options: AdminLedgerOptions = {}): Hono<AppEnv> {
  const syncRowLimit = options.syncRowLimit ?? LEDGER_SYNC_ROW_LIMIT;
  const maxBytes = options.maxBytes ?? LEDGER_MAX_BYTES;
  const app = new Hono<AppEnv>();

  app.put("/v1/admin/issuers/:issuer/ledger", adminAuth, async (c) => {
    const { issuer, assets, decimals } = configuredLedgerAssets(c);
    const format = ledgerFormat(c);
    const units = ledgerUnits(c);
    const declared = Number(c.req.header("Content-Length") ?? "0");
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw new ApiError(413, "PAYLOAD_TOO_LARGE", `a ledger is at most ${maxBytes} bytes`);
    }
    const { DB: db, BUCKET: bucket } = c.env;
    const ledgerId = newLedgerId();
    const statusUrl = new URL(statusPath(issuer.id, ledgerId), c.req.url).toString();
    const asOf = await insertVersionedLedger(c, { ledgerId, issuerId: issuer.id, format, assets });

    const memoryRows = Math.min(syncRowLimit, Math.floor(SYNC_MEMORY_BYTES / recordBytes(assets.length)));
    const spool = new RowSpool(bucket, ledgerId, recordBytes(assets.length), memoryRows);
    const discard = async (reason: Parameters<typeof markLedgerFailed>[2]) => {
      // Only a ledger this request failed loses its objects (never a complete one).
      if (!(await markLedgerFailed(db, ledgerId, reason))) return;
      await deletePrefix(bucket, ledgerPrefix(ledgerId)).catch((e) => console.warn("ledger cleanup", ledgerId, e));
    };

    let parsed;
    try {
      const body = c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });
      parsed = await parseLedger(body, { format, assets, units, decimals, maxBytes, onRows: (batch) => spool.add(batch) });
    } catch (error) {
      await discard({ reason: error instanceof Error ? error.message : "upload failed" });
      if (error instanceof LedgerTooLargeError) throw new ApiError(413, "PAYLOAD_TOO_LARGE", error.message, { ledgerId });
      throw error;
    }
    if (parsed.errorCount > 0) {
      await discard({ reason: "the ledger has invalid rows", errors: parsed.errors, errorCount: parsed.errorCount });
      throw new ApiError(422, "LEDGER_INVALID", `${parsed.errorCount} invalid row(s); nothing was stored`, {
        ledgerId,
        errors: parsed.errors,
        errorCount: parsed.errorCount,
      });
    }

    if (parsed.rows <= syncRowLimit && spool.inMemory) {
      await markLedgerBuilding(db, ledgerId, parsed.rows);
      const records = spool.memoryRecords();
      let result;
      try {
        // One bucket holding every row: built in commitment order.
        result = await buildLedger({ db, bucket }, ledgerId, { rows: parsed.rows, ranges: true, buckets: async function* () { yield records; } }, options);
      } catch (error) {
        await discard({ reason: `build failed: ${error instanceof Error ? error.message : String(error)}` });
        throw error;
      }
      if (result.status === "failed") {
        throw new ApiError(422, "LEDGER_INVALID", result.reason, { ledgerId, errors: [{ row: 0, reason: result.reason }], errorCount: 1 });
      }
      // superseded: a ledger at least as new completed while this one was read (it is never attested).
      return c.json(
        { ledgerId, status: result.status, asOf, units, root: result.root, rootSums: result.rootSums.map(String), users: result.rows, statusUrl },
        201,
      );
    }

    try {
      await spool.finish();
      await markLedgerBuilding(db, ledgerId, parsed.rows);
      const message: LedgerBuildMessage = { ledgerId, issuerId: issuer.id };
      await c.env.LEDGER_QUEUE.send(message);
    } catch (error) {
      await discard({ reason: `could not queue the build: ${error instanceof Error ? error.message : String(error)}` });
      throw error;
    }
    return c.json({ ledgerId, status: "building", asOf, units, users: parsed.rows, statusUrl }, 202);
  });

  // What an upload must look like: the ledger assets in order, each with the decimals its amounts are written in.
  app.get("/v1/admin/issuers/:issuer/ledger", adminAuth, (c) => {
    const { issuer, assets, decimals } = configuredLedgerAssets(c);
    c.header("Cache-Control", "no-store");
    return c.json({ issuer: issuer.id, assets: assets.map((id, i) => ({ id, decimals: decimals[i]! })), units: ["decimal", "base"], defaultUnits: "decimal" });
  });

  app.get("/v1/admin/issuers/:issuer/ledgers/:ledgerId", adminAuth, async (c) => {
    const ledger = await issuerLedger(c);
    const { issuerId, ledgerId } = ledger;
    c.header("Cache-Control", "no-store");
    const marker = ledger.status === "validating" ? await readUploadMarker(c.env.BUCKET, ledgerId) : null;
    const upload = marker !== null ? { parts: await listReceivedParts(c.env.BUCKET, ledgerId), units: markerUnits(marker) } : null;
    return c.json(ledgerStatus(ledger, new URL(statusPath(issuerId, ledgerId), c.req.url).toString(), upload));
  });

  /**
   * The stored tree of a complete ledger, for audits and re-computation: its
   * manifest, and shard objects as stored (layout: worker/ledger/ledgerStore.ts).
   */
  const completeLedger = async (c: Context<AppEnv>) => {
    const issuerId = c.req.param("issuer") ?? "";
    const ledgerId = c.req.param("ledgerId") ?? "";
    const ledger = /^lg_[0-9a-f]{32}$/.test(ledgerId) ? await getLedger(c.env.DB, ledgerId) : null;
    if (ledger === null || ledger.issuerId !== issuerId || ledger.status !== "complete") {
      throw new ApiError(404, "NOT_FOUND", `issuer "${echo(issuerId)}" has no complete ledger "${echo(ledgerId)}"`);
    }
    return ledger;
  };
  app.get("/v1/admin/issuers/:issuer/ledgers/:ledgerId/tree/manifest", adminAuth, async (c) => {
    const ledger = await completeLedger(c);
    const manifest = await c.env.BUCKET.get(`${buildPrefix(ledger.ledgerId, ledger.buildId!)}manifest.json`);
    if (manifest === null) throw new ApiError(404, "NOT_FOUND", `ledger "${ledger.ledgerId}" has no stored manifest`);
    return new Response(manifest.body, { headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } });
  });
  app.get("/v1/admin/issuers/:issuer/ledgers/:ledgerId/tree/shards/:shard", adminAuth, async (c) => {
    const ledger = await completeLedger(c);
    const shard = c.req.param("shard");
    if (!/^(0|[1-9][0-9]{0,8})$/.test(shard)) throw new ApiError(400, "INVALID_PARAMETER", "shard must be a shard number", { field: "shard" });
    const object = await c.env.BUCKET.get(shardKey(ledger.ledgerId, ledger.buildId!, Number(shard)));
    if (object === null) throw new ApiError(404, "NOT_FOUND", `ledger "${ledger.ledgerId}" has no shard ${shard}`);
    return new Response(object.body, {
      headers: { "Content-Type": "application/octet-stream", "Content-Length": String(object.size), "Cache-Control": "no-store" },
    });
  });

  return app;
}

/** The routes with the default limits. */
export const adminLedger = createAdminLedger();
