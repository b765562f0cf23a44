import { Hono, type Context } from "hono";
import type { IssuerConfig } from "../../core/config/schema.js";
import { echo } from "../../core/errors.js";
import { buildLedger, type BuildLedgerOptions } from "../ledger/buildLedger.js";
import {
  RowSpool,
  buildPrefix,
  deletePrefix,
  getLedger,
  insertLedger,
  ledgerPrefix,
  markLedgerBuilding,
  markLedgerFailed,
  newLedgerId,
  shardKey,
  type LedgerRecord,
} from "../ledger/ledgerStore.js";
import { LedgerTooLargeError, parseLedger, recordBytes, type LedgerFormat } from "../ledger/parseLedger.js";
import type { LedgerBuildMessage } from "../ledger/queueConsumer.js";
import { MAX_UPLOAD_PARTS, listReceivedParts, readUploadMarker } from "../ledger/uploadParts.js";
import { adminAuth } from "./adminAuth.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

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

export function configuredLedgerAssets(c: Context<AppEnv>): { issuer: IssuerConfig; assets: string[] } {
  const id = c.req.param("issuer") ?? "";
  const issuer = c.var.config.issuers.find((i) => i.id === id);
  if (!issuer) throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${id.slice(0, 80)}" is not published here`);
  const assets = issuer.liabilities.ledger?.assets;
  if (!assets) throw new ApiError(409, "CONFLICT", `issuer "${id}" has no user ledger configured (liabilities.ledger)`);
  return { issuer, assets };
}

/**
 * The body's format from ?format or the Content-Type. With `fixed` (a part of
 * a multi-part upload) the body must be that format; saying nothing means it.
 */
export function ledgerFormat(c: Context<AppEnv>, fixed?: LedgerFormat): LedgerFormat {
  const named = namedFormat(c);
  if (fixed === undefined) {
    if (named !== undefined) return named;
    throw new ApiError(415, "INVALID_PARAMETER", "Content-Type must be text/csv or application/x-ndjson (or give ?format=csv|ndjson)", {
      field: "Content-Type",
    });
  }
  if (named !== undefined && named !== fixed) {
    throw new ApiError(415, "INVALID_PARAMETER", `this upload is ${fixed}; the part says ${named}`, { field: "Content-Type" });
  }
  return fixed;
}

function namedFormat(c: Context<AppEnv>): LedgerFormat | undefined {
  const query = c.req.query("format");
  if (query !== undefined) {
    if (query === "csv" || query === "ndjson") return query;
    throw new ApiError(400, "INVALID_PARAMETER", `format must be csv or ndjson, got "${query.slice(0, 40)}"`, { field: "format" });
  }
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "text/csv") return "csv";
  if (type === "application/x-ndjson" || type === "application/ndjson") return "ndjson";
  return undefined;
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
function ledgerStatus(ledger: LedgerRecord, statusUrl: string, upload: { parts: number[] } | null) {
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
        : ledger.status === "complete"
          ? { phase: "build", done: ledger.rows, total: ledger.rows }
          : null,
    reason: ledger.error?.reason ?? null,
    errors: ledger.error?.errors ?? [],
    errorCount: ledger.error?.errorCount ?? (ledger.error ? 1 : 0),
    createdAt: ledger.createdAt,
    completedAt: ledger.completedAt,
    ...(upload === null ? {} : { upload: { partsReceived: upload.parts.length, parts: upload.parts.slice(0, MAX_UPLOAD_PARTS) } }),
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
    const { issuer, assets } = configuredLedgerAssets(c);
    const format = ledgerFormat(c);
    const declared = Number(c.req.header("Content-Length") ?? "0");
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw new ApiError(413, "PAYLOAD_TOO_LARGE", `a ledger is at most ${maxBytes} bytes`);
    }
    const { DB: db, BUCKET: bucket } = c.env;
    const ledgerId = newLedgerId();
    const statusUrl = new URL(statusPath(issuer.id, ledgerId), c.req.url).toString();
    await insertLedger(db, { ledgerId, issuerId: issuer.id, format, assets });

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
      parsed = await parseLedger(body, { format, assets, maxBytes, onRows: (batch) => spool.add(batch) });
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
        result = await buildLedger({ db, bucket }, ledgerId, { rows: parsed.rows, buckets: async function* () { yield records; } }, options);
      } catch (error) {
        await discard({ reason: `build failed: ${error instanceof Error ? error.message : String(error)}` });
        throw error;
      }
      if (result.status === "failed") {
        throw new ApiError(422, "LEDGER_INVALID", result.reason, { ledgerId, errors: [{ row: 0, reason: result.reason }], errorCount: 1 });
      }
      return c.json(
        { ledgerId, status: "complete", root: result.root, rootSums: result.rootSums.map(String), users: result.rows, statusUrl },
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
    return c.json({ ledgerId, status: "building", users: parsed.rows, statusUrl }, 202);
  });

  app.get("/v1/admin/issuers/:issuer/ledgers/:ledgerId", adminAuth, async (c) => {
    const ledger = await issuerLedger(c);
    const { issuerId, ledgerId } = ledger;
    c.header("Cache-Control", "no-store");
    const multiPart = ledger.status === "validating" && (await readUploadMarker(c.env.BUCKET, ledgerId)) !== null;
    const upload = multiPart ? { parts: await listReceivedParts(c.env.BUCKET, ledgerId) } : null;
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
