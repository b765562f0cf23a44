import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { echo } from "../../core/errors.js";
import { deletePrefix, getLedger, ledgerPrefix, markLedgerBuilding, markLedgerFailed, newLedgerId, RowSpool, randomHex, spoolManifestKey, type LedgerRecord } from "../ledger/ledgerStore.js";
import { LedgerTooLargeError, parseLedger, recordBytes } from "../ledger/parseLedger.js";
import type { LedgerBuildMessage } from "../ledger/queueConsumer.js";
import {
  MAX_UPLOAD_PARTS,
  joinParts,
  listReceivedParts,
  missingOrExtraParts,
  partAttemptPrefix,
  partObjectKey,
  putPartManifest,
  readPartManifest,
  markerUnits,
  readUploadMarker,
  uploadMarkerKey,
  type PartManifest,
  type UploadMarker,
} from "../ledger/uploadParts.js";
import { adminAuth } from "./adminAuth.js";
import { configuredLedgerAssets, issuerLedger, ledgerFormat, ledgerUnits, statusPath } from "./adminLedger.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { insertVersionedLedger } from "./ledgerAsOf.js";

/** Largest accepted part body (Workers' own request limit is usually lower: 100 MB on Free/Pro). */
export const LEDGER_PART_MAX_BYTES = 512 * 1024 * 1024;

const JSON_BODY_LIMIT = 4096;
/** Refuses a JSON body over JSON_BODY_LIMIT bytes while it is read (declared or streamed). */
const smallJson = bodyLimit({
  maxSize: JSON_BODY_LIMIT,
  onError: () => {
    throw new ApiError(413, "PAYLOAD_TOO_LARGE", `this body is at most ${JSON_BODY_LIMIT} bytes`);
  },
});

const createSchema = z.strictObject({ format: z.enum(["csv", "ndjson"]) });
const completeSchema = z.strictObject({ parts: z.number().int().min(1).max(MAX_UPLOAD_PARTS) });

/** A small JSON body checked with `schema`; errors name the field. */
async function jsonBody<T>(c: Context<AppEnv>, schema: z.ZodType<T>, shape: string): Promise<T> {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json", { field: "Content-Type" });
  const text = await c.req.text(); // at most JSON_BODY_LIMIT bytes: smallJson refuses more while reading
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(400, "INVALID_BODY", `the body must be JSON ${shape}`, { field: "(body)" });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = echo(issue && issue.path.length > 0 ? issue.path.join(".") : issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "(body)");
    throw new ApiError(400, "INVALID_BODY", `${field}: ${echo(issue?.message ?? "is invalid", 200)}`, { field });
  }
  return parsed.data;
}

/** The upload marker of a ledger still validating (the marker goes with the spool once it is not). */
async function markerOf(c: Context<AppEnv>, ledger: LedgerRecord): Promise<UploadMarker> {
  const marker = await readUploadMarker(c.env.BUCKET, ledger.ledgerId);
  if (marker === null) throw new ApiError(409, "CONFLICT", `ledger "${ledger.ledgerId}" was not created as a multi-part upload`);
  return marker;
}

function partNumber(c: Context<AppEnv>): number {
  const raw = c.req.param("part") ?? "";
  if (!/^(0|[1-9][0-9]{0,3})$/.test(raw) || Number(raw) >= MAX_UPLOAD_PARTS) {
    throw new ApiError(400, "INVALID_PARAMETER", `part must be a part number 0..${MAX_UPLOAD_PARTS - 1}, got "${raw.slice(0, 20)}"`, { field: "part" });
  }
  return Number(raw);
}

const notAccepting = (ledger: LedgerRecord) =>
  new ApiError(409, "CONFLICT", `ledger "${ledger.ledgerId}" is ${ledger.status}: it no longer accepts parts`, { ledgerId: ledger.ledgerId, status: ledger.status });

/**
 * Multi-part ledger uploads, behind adminAuth (layout: worker/ledger/uploadParts.ts):
 *
 *   POST   /v1/admin/issuers/:issuer/ledgers?asOf=<unix s>        { format } -> 201 a new upload (asOf: ledgerAsOf.ts)
 *   PUT    /v1/admin/issuers/:issuer/ledgers/:ledgerId/parts/:n   one part (CSV parts each start with the header)
 *   POST   /v1/admin/issuers/:issuer/ledgers/:ledgerId/complete   { parts } -> 202, the build is queued
 *   DELETE /v1/admin/issuers/:issuer/ledgers/:ledgerId            abandons an unfinished ledger (never a complete one)
 *
 * Parts may arrive in any order and in parallel; each is validated alone (its
 * errors name rows within the part) and received once. Completing checks that
 * exactly parts 0..parts-1 arrived, then the ledger builds like a large
 * single-request upload; rows are numbered across parts in part order.
 */
export function createAdminLedgerUpload(options: { maxPartBytes?: number } = {}): Hono<AppEnv> {
  const maxPartBytes = options.maxPartBytes ?? LEDGER_PART_MAX_BYTES;
  const app = new Hono<AppEnv>();

  app.post("/v1/admin/issuers/:issuer/ledgers", adminAuth, smallJson, async (c) => {
    const { issuer, assets, decimals } = configuredLedgerAssets(c);
    const units = ledgerUnits(c);
    const { format } = await jsonBody(c, createSchema, '{ "format": "csv" | "ndjson" }');
    const ledgerId = newLedgerId();
    const asOf = await insertVersionedLedger(c, { ledgerId, issuerId: issuer.id, format, assets });
    const marker: UploadMarker = { version: 1, format, createdAt: Math.floor(Date.now() / 1000), units, decimals };
    try {
      await c.env.BUCKET.put(uploadMarkerKey(ledgerId), JSON.stringify(marker));
    } catch (error) {
      await markLedgerFailed(c.env.DB, ledgerId, { reason: "could not start the upload" }).catch(() => {});
      throw error;
    }
    const base = new URL(statusPath(issuer.id, ledgerId), c.req.url).toString();
    return c.json(
      {
        ledgerId,
        status: "validating",
        format,
        asOf,
        assets,
        units,
        decimals,
        maxParts: MAX_UPLOAD_PARTS,
        maxPartBytes,
        partUrl: `${base}/parts/{part}`,
        completeUrl: `${base}/complete`,
        statusUrl: base,
      },
      201,
    );
  });

  app.put("/v1/admin/issuers/:issuer/ledgers/:ledgerId/parts/:part", adminAuth, async (c) => {
    const { assets: configured, decimals: configuredDecimals } = configuredLedgerAssets(c);
    const part = partNumber(c);
    const ledger = await issuerLedger(c);
    if (ledger.status !== "validating") throw notAccepting(ledger);
    // Rows are read with the assets the ledger was created with; a configuration changed since cannot mix orders.
    const assets = ledger.assets;
    if (configured.join(",") !== assets.join(",")) {
      throw new ApiError(409, "CONFLICT", `ledger "${ledger.ledgerId}" was created for assets ${assets.join(",")}; the issuer's ledger assets are now ${configured.join(",")}: start a new upload`, {
        ledgerId: ledger.ledgerId,
      });
    }
    const marker = await markerOf(c, ledger);
    const format = ledgerFormat(c, marker.format);
    const units = ledgerUnits(c, markerUnits(marker));
    // Decimal amounts are read with the decimals the upload was created with; a changed configuration would mix meanings.
    const decimals = marker.decimals ?? configuredDecimals;
    if (units === "decimal" && decimals.join(",") !== configuredDecimals.join(",")) {
      throw new ApiError(409, "CONFLICT", `ledger "${ledger.ledgerId}" was created for decimals ${decimals.join(",")} of ${assets.join(",")}; the configuration now says ${configuredDecimals.join(",")}: start a new upload`, {
        ledgerId: ledger.ledgerId,
      });
    }
    const declared = Number(c.req.header("Content-Length") ?? "0");
    if (Number.isFinite(declared) && declared > maxPartBytes) throw new ApiError(413, "PAYLOAD_TOO_LARGE", `a part is at most ${maxPartBytes} bytes`);
    if (await readPartManifest(c.env.BUCKET, ledger.ledgerId, part)) {
      throw new ApiError(409, "CONFLICT", `part ${part} of ledger "${ledger.ledgerId}" was already received; parts are never replaced`, { ledgerId: ledger.ledgerId, part });
    }

    const bucket = c.env.BUCKET;
    const attempt = randomHex(8);
    const size = recordBytes(assets.length);
    const spool = new RowSpool(bucket, ledger.ledgerId, size, 0, undefined, (b, k) => partObjectKey(ledger.ledgerId, part, attempt, b, k));
    const discard = () => deletePrefix(bucket, partAttemptPrefix(ledger.ledgerId, part, attempt)).catch((e) => console.warn("ledger part cleanup", ledger.ledgerId, part, e));
    let parsed;
    try {
      const body = c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });
      parsed = await parseLedger(body, { format, assets, units, decimals, maxBytes: maxPartBytes, onRows: (batch) => spool.add(batch) });
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
          receivedAt: Math.floor(Date.now() / 1000),
        };
        if (!(await putPartManifest(bucket, ledger.ledgerId, manifest))) {
          await discard();
          throw new ApiError(409, "CONFLICT", `part ${part} of ledger "${ledger.ledgerId}" was already received; parts are never replaced`, { ledgerId: ledger.ledgerId, part });
        }
        // Abandoned (DELETE, sweep) or completed while this part was read: it is not part of the ledger.
        const now = (await getLedger(c.env.DB, ledger.ledgerId))!;
        if (now.status !== "validating") {
          if (now.status === "failed") await deletePrefix(bucket, ledgerPrefix(ledger.ledgerId)).catch(() => {});
          else await discard();
          throw notAccepting(now);
        }
      }
    } catch (error) {
      if (!(error instanceof ApiError)) await discard();
      if (error instanceof LedgerTooLargeError) throw new ApiError(413, "PAYLOAD_TOO_LARGE", `part ${part}: ${error.message}`, { ledgerId: ledger.ledgerId, part });
      throw error;
    }
    if (parsed.errorCount > 0) {
      await discard();
      throw new ApiError(422, "LEDGER_INVALID", `part ${part}: ${parsed.errorCount} invalid row(s); the part was not stored (send it again once fixed)`, {
        ledgerId: ledger.ledgerId,
        part,
        errors: parsed.errors,
        errorCount: parsed.errorCount,
      });
    }
    return c.json({ ledgerId: ledger.ledgerId, part, rows: parsed.rows, lastRow: parsed.lastRow, bytes: parsed.bytes }, 201);
  });

  app.post("/v1/admin/issuers/:issuer/ledgers/:ledgerId/complete", adminAuth, smallJson, async (c) => {
    const { issuer } = configuredLedgerAssets(c);
    const ledger = await issuerLedger(c);
    const { parts } = await jsonBody(c, completeSchema, '{ "parts": <number of parts> }');
    const statusUrl = new URL(statusPath(issuer.id, ledger.ledgerId), c.req.url).toString();
    const settled = (l: LedgerRecord) => {
      // A repeated complete (a retry after a lost answer) gets the ledger's state.
      if (l.status === "failed") throw new ApiError(409, "CONFLICT", `ledger "${l.ledgerId}" failed: ${l.error?.reason ?? "failed"}`, { ledgerId: l.ledgerId, status: l.status });
      return c.json({ ledgerId: l.ledgerId, status: l.status, users: l.rows, statusUrl }, l.status === "complete" || l.status === "superseded" ? 200 : 202);
    };
    if (ledger.status !== "validating") return settled(ledger);
    await markerOf(c, ledger);

    const { BUCKET: bucket, DB: db } = c.env;
    const received = await listReceivedParts(bucket, ledger.ledgerId);
    const problem = missingOrExtraParts(received, parts);
    if (problem !== null) throw new ApiError(409, "CONFLICT", `ledger "${ledger.ledgerId}": ${problem}`, { ledgerId: ledger.ledgerId, received: received.length });
    const manifests: PartManifest[] = [];
    for (let p = 0; p < parts; p++) {
      const m = await readPartManifest(bucket, ledger.ledgerId, p);
      if (m === null) throw new ApiError(409, "CONFLICT", `ledger "${ledger.ledgerId}": part ${p} has not been received`, { ledgerId: ledger.ledgerId });
      manifests.push(m);
    }
    let spool;
    try {
      spool = joinParts(ledger.ledgerId, manifests);
    } catch (error) {
      throw new ApiError(409, "CONFLICT", `ledger "${ledger.ledgerId}": the parts do not fit together: ${error instanceof Error ? error.message : String(error)}`, { ledgerId: ledger.ledgerId });
    }
    if (spool.rows > 0xffff_ffff) throw new ApiError(422, "LEDGER_INVALID", `a ledger has at most ${0xffff_ffff} rows, these parts hold ${spool.rows}`, { ledgerId: ledger.ledgerId });
    await bucket.put(spoolManifestKey(ledger.ledgerId), JSON.stringify(spool));
    if (!(await markLedgerBuilding(db, ledger.ledgerId, spool.rows))) return settled((await getLedger(db, ledger.ledgerId))!);
    // Should the send fail, the ledger stays building and the cron's sweep starts it (sweepLedgers.ts).
    const message: LedgerBuildMessage = { ledgerId: ledger.ledgerId, issuerId: issuer.id };
    await c.env.LEDGER_QUEUE.send(message);
    return c.json({ ledgerId: ledger.ledgerId, status: "building", parts, users: spool.rows, statusUrl }, 202);
  });

  app.delete("/v1/admin/issuers/:issuer/ledgers/:ledgerId", adminAuth, async (c) => {
    const ledger = await issuerLedger(c);
    const { ledgerId } = ledger;
    if (ledger.status === "complete" || ledger.status === "superseded") throw new ApiError(409, "CONFLICT", `ledger "${ledgerId}" is ${ledger.status}: built ledgers are kept forever`, { ledgerId, status: ledger.status });
    if (await markLedgerFailed(c.env.DB, ledgerId, { reason: "abandoned by the issuer" })) {
      await deletePrefix(c.env.BUCKET, ledgerPrefix(ledgerId)).catch((e) => console.warn("ledger cleanup", ledgerId, e));
    }
    const now = (await getLedger(c.env.DB, ledgerId))!;
    if (now.status === "complete" || now.status === "superseded") throw new ApiError(409, "CONFLICT", `ledger "${ledgerId}" completed first (${now.status}): built ledgers are kept forever`, { ledgerId, status: now.status });
    return c.json({ ledgerId, status: now.status, reason: now.error?.reason ?? null });
  });

  return app;
}

export const adminLedgerUpload = createAdminLedgerUpload();
