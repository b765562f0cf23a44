import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { echo } from "../../core/errors.js";
import { MAX_UPLOAD_PARTS } from "../ledger/ledgerFormat.js";
import { abortUpload, completeUpload, createUpload, putUploadPart } from "../ledger/ledgerIntake.js";
import { isBuilt } from "../ledger/ledgerLifecycle.js";
import { adminAuth } from "./adminAuth.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { answerLedgerError, configuredLedger, requestedAsOf, requestedFormat, requestedUnits, statusUrl, uploadBody } from "./ledgerRequest.js";

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
  if (type !== "application/json") throw new ApiError(415, "INVALID_BODY", "Content-Type must be application/json", { field: "Content-Type" });
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

function partNumber(c: Context<AppEnv>): number {
  const raw = c.req.param("part") ?? "";
  if (!/^(0|[1-9][0-9]{0,3})$/.test(raw) || Number(raw) >= MAX_UPLOAD_PARTS) {
    throw new ApiError(400, "INVALID_PARAMETER", `part must be a part number 0..${MAX_UPLOAD_PARTS - 1}, got "${raw.slice(0, 20)}"`, { field: "part" });
  }
  return Number(raw);
}

/**
 * Multi-part ledger uploads, behind adminAuth (workflows: worker/ledger/ledgerIntake.ts):
 *
 *   POST   /v1/admin/issuers/:issuer/ledgers?asOf=<unix s>        { format } -> 201 a new upload
 *   PUT    /v1/admin/issuers/:issuer/ledgers/:ledgerId/parts/:n   one part (CSV parts each start with the header)
 *   POST   /v1/admin/issuers/:issuer/ledgers/:ledgerId/complete   { parts } -> 202, the build is queued
 *   DELETE /v1/admin/issuers/:issuer/ledgers/:ledgerId            abandons an unfinished ledger (never a complete one)
 */
export function createAdminLedgerUpload(options: { maxPartBytes?: number } = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(answerLedgerError);

  app.post("/v1/admin/issuers/:issuer/ledgers", adminAuth, smallJson, async (c) => {
    const target = configuredLedger(c);
    const units = requestedUnits(c) ?? "decimal";
    const { format } = await jsonBody(c, createSchema, '{ "format": "csv" | "ndjson" }');
    const upload = await createUpload(c.env, target, { format, units, asOf: requestedAsOf(c) }, options);
    const base = statusUrl(c, target.issuerId, upload.ledgerId);
    return c.json({ ...upload, partUrl: `${base}/parts/{part}`, completeUrl: `${base}/complete`, statusUrl: base }, 201);
  });

  app.put("/v1/admin/issuers/:issuer/ledgers/:ledgerId/parts/:part", adminAuth, async (c) => {
    const target = configuredLedger(c);
    const part = partNumber(c);
    const request = { format: requestedFormat(c), units: requestedUnits(c), ...uploadBody(c) };
    return c.json(await putUploadPart(c.env, target, c.req.param("ledgerId"), part, request, options), 201);
  });

  app.post("/v1/admin/issuers/:issuer/ledgers/:ledgerId/complete", adminAuth, smallJson, async (c) => {
    const target = configuredLedger(c);
    const { parts } = await jsonBody(c, completeSchema, '{ "parts": <number of parts> }');
    const result = await completeUpload(c.env, target, c.req.param("ledgerId"), parts);
    return c.json({ ...result, statusUrl: statusUrl(c, target.issuerId, result.ledgerId) }, isBuilt(result.status) ? 200 : 202);
  });

  app.delete("/v1/admin/issuers/:issuer/ledgers/:ledgerId", adminAuth, async (c) => {
    return c.json(await abortUpload(c.env, c.req.param("issuer"), c.req.param("ledgerId")));
  });

  return app;
}

export const adminLedgerUpload = createAdminLedgerUpload();
