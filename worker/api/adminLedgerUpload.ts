import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { MAX_UPLOAD_PARTS } from "../ledger/ledgerFormat.js";
import { abortUpload, completeUpload, createUpload, ledgerTarget, putUploadPart } from "../ledger/ledgerIntake.js";
import { isBuilt } from "../ledger/ledgerLifecycle.js";
import { ADMIN_ROUTE, adminErrors, bodyTimeoutError } from "./adminRoute.js";
import type { AppEnv } from "./context.js";
import { knownIssuer } from "./issuer.js";
import { jsonBody } from "./jsonBody.js";
import {
  answerLedgerError,
  bodyErrors,
  CreateQuery,
  LedgerBody,
  LedgerParams,
  PartParams,
  PartQuery,
  requestedFormat,
  statusUrl,
  uploadBody,
} from "./ledgerRequest.js";
import { parameterHook } from "./openapi.js";
import { errorResponse, IssuerParams } from "./schemas.js";

/** The JSON bodies of create and complete are a few dozen bytes. */
const JSON_BODY_LIMIT = 4096;
const createBody = jsonBody(z.strictObject({ format: z.enum(["csv", "ndjson"]) }).openapi("LedgerUploadCreate"), {
  maxBytes: JSON_BODY_LIMIT,
  shape: '{ "format": "csv" | "ndjson" }',
});
const completeBody = jsonBody(
  z.strictObject({ parts: z.number().int().min(1).max(MAX_UPLOAD_PARTS) }).openapi("LedgerUploadComplete"),
  {
    maxBytes: JSON_BODY_LIMIT,
    shape: '{ "parts": <number of parts> }',
  },
);

const json = (description: string, fields: Record<string, z.ZodType>) => ({
  description,
  content: { "application/json": { schema: z.object(fields).passthrough() } },
});
const ledgerConflict = (what: string) => errorResponse(`CONFLICT: ${what}`);

/**
 * Multi-part ledger uploads on the admin sub-app (workflows: worker/ledger/ledgerIntake.ts):
 *
 *   POST   /v1/admin/issuers/:issuer/ledgers?asOf=<unix s>        { format } -> 201 a new upload
 *   PUT    /v1/admin/issuers/:issuer/ledgers/:ledgerId/parts/:n   one part (CSV parts each start with the header)
 *   POST   /v1/admin/issuers/:issuer/ledgers/:ledgerId/complete   { parts } -> 202, the build is queued
 *   DELETE /v1/admin/issuers/:issuer/ledgers/:ledgerId            abandons an unfinished ledger (never a complete one)
 */
export function createAdminLedgerUpload(options: { maxPartBytes?: number } = {}): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });
  app.onError(answerLedgerError);

  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "post",
      path: "/v1/admin/issuers/{issuer}/ledgers",
      middleware: [createBody.limit, knownIssuer, createBody.read] as const,
      summary: "Start a multi-part ledger upload",
      description:
        "For ledgers larger than one request body: creates a ledger that receives numbered parts, then builds once completed.",
      request: { params: IssuerParams, query: CreateQuery, body: createBody.request },
      responses: {
        201: json(
          "The upload: its ledgerId, format, asOf, assets, units and decimals, maxParts, maxPartBytes, partUrl, completeUrl, statusUrl.",
          {
            ledgerId: z.string(),
            status: z.literal("validating"),
            partUrl: z.string(),
            completeUrl: z.string(),
            statusUrl: z.string(),
          },
        ),
        400: errorResponse("INVALID_BODY or INVALID_PARAMETER: `field` names what is malformed."),
        409: ledgerConflict(
          "the issuer has no user ledger configured, or asOf is in the future or not newer than a ledger of the issuer.",
        ),
        413: errorResponse("PAYLOAD_TOO_LARGE."),
        415: errorResponse("UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json."),
        ...bodyTimeoutError,
        ...adminErrors,
      },
    }),
    async (c) => {
      const { units, asOf } = c.req.valid("query");
      const request = {
        format: c.req.valid("json").format,
        units: units ?? "decimal",
        ...(asOf === undefined ? {} : { asOf }),
      };
      const upload = await createUpload(c.env, ledgerTarget(c.var.issuer), request, options);
      const base = statusUrl(c, c.var.issuer.id, upload.ledgerId);
      return c.json(
        { ...upload, partUrl: `${base}/parts/{part}`, completeUrl: `${base}/complete`, statusUrl: base },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "put",
      path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/parts/{part}",
      middleware: [knownIssuer] as const,
      summary: "Upload one part",
      description:
        "Part `part` of a multi-part upload, in the upload's format; a CSV part starts with the header line. Parts may arrive in any order and in parallel; each is validated alone and received once.",
      request: { params: PartParams, query: PartQuery, body: LedgerBody },
      responses: {
        201: json("Received.", {
          ledgerId: z.string(),
          part: z.number(),
          rows: z.number(),
          lastRow: z.number(),
          bytes: z.number(),
        }),
        409: ledgerConflict(
          "the part was already received, the ledger no longer accepts parts, or the issuer's ledger configuration changed since the upload began.",
        ),
        422: errorResponse(
          "LEDGER_INVALID: rows of this part (numbered within the part) are malformed; nothing of the part was stored.",
        ),
        ...bodyErrors,
        ...bodyTimeoutError,
        ...adminErrors,
      },
    }),
    async (c) => {
      const { ledgerId, part } = c.req.valid("param");
      const { units, format } = c.req.valid("query");
      const request = { format: requestedFormat(c, format), units, ...uploadBody(c) };
      return c.json(await putUploadPart(c.env, ledgerTarget(c.var.issuer), ledgerId, part, request, options), 201);
    },
  );

  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "post",
      path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/complete",
      middleware: [completeBody.limit, knownIssuer, completeBody.read] as const,
      summary: "Complete a multi-part upload",
      description:
        "Parts 0..parts-1 must all have arrived (and no others); the ledger is then built by the queue consumer. Repeating it answers the ledger's state.",
      request: { params: LedgerParams, body: completeBody.request },
      responses: {
        200: json("Already built (complete or superseded).", {
          ledgerId: z.string(),
          status: z.string(),
          users: z.number(),
          statusUrl: z.string(),
        }),
        202: json('Building: `{ ledgerId, status: "building", parts, users, statusUrl }`.', {
          ledgerId: z.string(),
          status: z.string(),
          statusUrl: z.string(),
        }),
        400: errorResponse("INVALID_BODY."),
        409: ledgerConflict("a part is missing or extra, the parts do not fit together, or the ledger failed."),
        413: errorResponse("PAYLOAD_TOO_LARGE."),
        415: errorResponse("UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json."),
        422: errorResponse("LEDGER_INVALID: the parts hold more rows than a ledger may."),
        ...bodyTimeoutError,
        ...adminErrors,
      },
    }),
    async (c) => {
      const { ledgerId } = c.req.valid("param");
      const result = await completeUpload(c.env, ledgerTarget(c.var.issuer), ledgerId, c.req.valid("json").parts);
      const answer = { ...result, statusUrl: statusUrl(c, c.var.issuer.id, result.ledgerId) };
      return isBuilt(result.status) ? c.json(answer, 200) : c.json(answer, 202);
    },
  );

  app.openapi(
    createRoute({
      ...ADMIN_ROUTE,
      method: "delete",
      path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}",
      summary: "Abandon an unfinished ledger",
      description:
        "Marks a ledger that is still uploading or building failed and deletes its objects. Built ledgers are kept forever (409).",
      request: { params: LedgerParams },
      responses: {
        200: json('`{ ledgerId, status: "failed", reason }`.', {
          ledgerId: z.string(),
          status: z.string(),
          reason: z.string().nullable(),
        }),
        409: ledgerConflict("the ledger is complete or superseded."),
        ...adminErrors,
      },
    }),
    async (c) => {
      const { issuer, ledgerId } = c.req.valid("param");
      return c.json(await abortUpload(c.env, issuer, ledgerId), 200);
    },
  );

  return app;
}

export const adminLedgerUpload = createAdminLedgerUpload();
