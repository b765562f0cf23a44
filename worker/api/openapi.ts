import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/** A sequence never changes once published. */
export const IMMUTABLE_CACHE = "public, max-age=31536000, immutable";
/** Answers that move with every publish (about once a minute). */
export const SHORT_CACHE = "public, max-age=15";
/** Answers that depend on the clock of the request. */
export const NO_STORE = "no-store";
/** The API description changes only with a deployment. */
export const DOCS_CACHE = "public, max-age=300";

/**
 * The validation hook of every OpenAPI route: a bad path or query parameter
 * becomes SPEC §10 `400 INVALID_PARAMETER` whose message starts with the
 * parameter's name (never zod's own error shape).
 */
export function parameterHook(result: { success: true } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } }): void {
  if (result.success) return;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? "parameter");
  throw new ApiError("INVALID_PARAMETER", `${name} ${issue?.message ?? "is invalid"}`, { field: name });
}

/** SPEC §10 routes are CORS-open: any origin, GET only, no credentials. */
export const openCors: MiddlewareHandler<AppEnv> = cors({
  origin: "*",
  allowMethods: ["GET", "HEAD", "OPTIONS"],
  exposeHeaders: ["Retry-After", "ETag"],
  maxAge: 86400,
});

/**
 * A sub-app of public OpenAPI routes: parameter errors shaped by
 * `parameterHook`, CORS on exactly the given paths (hono path syntax), so
 * that mounting several sub-apps never stacks two CORS layers on one path.
 */
export function publicApi(corsPaths: readonly string[]): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });
  for (const path of corsPaths) app.use(path, openCors);
  return app;
}

export type OpenApiDocument = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

const DESCRIPTION = [
  "Signed, hash-chained solvency attestations (SPEC §5) with the report (§4), inclusion proofs (§2),",
  "a lending gate and a Chainlink-style feed. Every public route is a GET, CORS-open, needs no key,",
  "and answers JSON with integers as decimal strings and bytes as 0x-hex. Errors are",
  "`{ \"error\": { \"code\", \"message\" } }` with a 4xx/5xx status. Public routes are rate-limited per",
  "client address and route group in 10 s windows (429 RATE_LIMITED with Retry-After, the seconds until the window ends);",
  "answers the edge cache holds (by-sequence attestations, reports, proofs, and the short-lived latest, lists, feed and keys)",
  "are served without counting. Send `Cache-Control: no-cache` for a fresh (counted) answer.",
  "Admin routes need `Authorization: Bearer <token>`, are never cached (`Cache-Control: no-store`), and answer 408",
  "REQUEST_TIMEOUT when a request body arrives slower than 10 s plus 1 s per 16 KiB.",
].join(" ");

const documents = new WeakMap<OpenAPIHono<AppEnv>, Map<string, OpenApiDocument>>();

/** The OpenAPI 3.1 document of every route registered on `app`, served from `origin`; built once per isolate. */
export function openApiDocument(app: OpenAPIHono<AppEnv>, origin: string): OpenApiDocument {
  let byOrigin = documents.get(app);
  if (!byOrigin) documents.set(app, (byOrigin = new Map()));
  let doc = byOrigin.get(origin);
  if (!doc) {
    doc = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "Solvent public API", version: "1", description: DESCRIPTION },
      servers: [{ url: origin }],
      tags: [
        { name: "attestations", description: "Signed attestations, their reports and history (SPEC §4, §5)" },
        { name: "proofs", description: "User inclusion proofs (SPEC §2)" },
        { name: "integration", description: "Answers for lending markets and price-feed consumers" },
        { name: "keys", description: "The signing keys (SPEC §7)" },
        { name: "alerts", description: "Alerts raised for an issuer and their webhook deliveries" },
        { name: "admin", description: "Authenticated publisher administration" },
      ],
    });
    // A handful of origins at most (the deployment's host names); never unbounded.
    if (byOrigin.size < 8) byOrigin.set(origin, doc);
  }
  return doc;
}

export function requestOrigin(c: Context): string {
  return new URL(c.req.url).origin;
}

/** `GET /openapi.json`: the document generated from the route definitions. */
export function mountOpenApiDocument(app: OpenAPIHono<AppEnv>): void {
  app.use("/openapi.json", openCors);
  app.get("/openapi.json", (c) => {
    c.header("Cache-Control", DOCS_CACHE);
    return c.json(openApiDocument(app, requestOrigin(c)));
  });
}

/**
 * The ledger admin routes are still plain hono (worker/api/adminLedger*.ts);
 * they are described here, briefly, until they are declared with createRoute
 * like the other admin routes (worker/api/adminApi.ts).
 */
export function registerLedgerAdminPaths(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  const issuer = { name: "issuer", in: "path" as const, required: true, schema: { type: "string" as const, example: "demo-stable" } };
  const error = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });
  const bodyTimeout = { 408: error("REQUEST_TIMEOUT: the body arrived slower than 10 s plus 1 s per 16 KiB; nothing of it was kept.") };
  const authErrors = {
    401: error("UNAUTHORIZED: no bearer token."),
    403: error("FORBIDDEN: the token is not valid for this issuer."),
    404: error("UNKNOWN_ISSUER or NOT_FOUND."),
    503: error("MISCONFIGURED: no admin token is configured."),
  };
  const admin = { tags: ["admin"], security: [{ bearerAuth: [] }] };
  const units = {
    name: "units",
    in: "query" as const,
    required: false,
    description:
      "How amounts are written: `decimal` (default) in whole units of each asset's configured decimals (`1500.25` USD of 6 decimals is 1500250000 base units; more fractional digits than the asset has is a row error), or `base` in the asset's smallest unit (SPEC §1 integers). A multi-part upload records it at creation for every part.",
    schema: { type: "string" as const, enum: ["decimal", "base"], default: "decimal" },
  };
  registry.registerPath({
    ...admin,
    method: "get",
    path: "/v1/admin/issuers/{issuer}/ledger",
    summary: "What a ledger upload must look like",
    description: "The issuer's ledger assets in column order, each with the decimals its amounts are written in: `{ issuer, assets: [{ id, decimals }], units, defaultUnits }`.",
    parameters: [issuer],
    responses: { 200: { description: "The ledger's assets." }, 409: error("CONFLICT: the issuer has no user ledger configured."), ...authErrors },
  });
  const asOf = {
    name: "asOf",
    in: "query" as const,
    required: false,
    description:
      "Unix seconds when the balances were true (SPEC §4 liabilities.ledger.asOf); default: the upload's time. 409 when later than the upload (the publisher's clock; no skew) or not newer than every complete or unfinished ledger of the issuer.",
    schema: { type: "string" as const, pattern: "^(0|[1-9][0-9]{0,11})$" },
  };
  registry.registerPath({
    ...admin,
    method: "put",
    path: "/v1/admin/issuers/{issuer}/ledger",
    summary: "Upload the liabilities ledger",
    description: "CSV or NDJSON user ledger (SPEC §2); small ledgers are built in the request (201), large ones by a queue consumer (202).",
    parameters: [issuer, units, asOf],
    requestBody: { required: true, content: { "text/csv": { schema: { type: "string" } }, "application/x-ndjson": { schema: { type: "string" } } } },
    responses: {
      201: { description: "Built: `{ ledgerId, root, rootSums, … }`." },
      202: { description: "Queued: `{ ledgerId, status: \"building\", statusUrl }`." },
      409: error("CONFLICT: asOf is in the future or not newer than a ledger of the issuer (the message names both times)."),
      413: error("PAYLOAD_TOO_LARGE."),
      422: error("LEDGER_INVALID: the rows named in the error are malformed."),
      ...bodyTimeout,
      ...authErrors,
    },
  });
  const ledgerId = { name: "ledgerId", in: "path" as const, required: true, schema: { type: "string" as const, pattern: "^lg_[0-9a-f]{32}$" } };
  registry.registerPath({
    ...admin,
    method: "get",
    path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}",
    summary: "Ledger build status",
    description: "Status, progress of the build, and for a multi-part upload still receiving parts `upload: { partsReceived, parts, units }`.",
    parameters: [issuer, ledgerId],
    responses: { 200: { description: "The ledger's status." }, ...authErrors },
  });
  registry.registerPath({
    ...admin,
    method: "post",
    path: "/v1/admin/issuers/{issuer}/ledgers",
    summary: "Start a multi-part ledger upload",
    description:
      "For ledgers larger than one request body: creates a ledger that receives numbered parts, then builds once completed. Body `{ \"format\": \"csv\" | \"ndjson\" }`.",
    parameters: [issuer, units, asOf],
    requestBody: { required: true, content: { "application/json": { schema: { type: "object", properties: { format: { type: "string", enum: ["csv", "ndjson"] } }, required: ["format"] } } } },
    responses: {
      201: { description: "`{ ledgerId, status: \"validating\", format, assets, units, decimals, partUrl, completeUrl, statusUrl, maxParts, maxPartBytes }`." },
      400: error("INVALID_BODY."),
      409: error("CONFLICT: the issuer has no user ledger configured, or asOf is in the future or not newer than a ledger of the issuer."),
      ...bodyTimeout,
      ...authErrors,
    },
  });
  registry.registerPath({
    ...admin,
    method: "put",
    path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/parts/{part}",
    summary: "Upload one part",
    description:
      "Part `part` (0-999) of a multi-part upload, in the upload's format; a CSV part starts with the header line. Parts may arrive in any order and in parallel; each is validated alone and received once.",
    parameters: [issuer, ledgerId, { name: "part", in: "path", required: true, schema: { type: "integer", minimum: 0, maximum: 999 } }],
    requestBody: { required: true, content: { "text/csv": { schema: { type: "string" } }, "application/x-ndjson": { schema: { type: "string" } } } },
    responses: {
      201: { description: "Received: `{ ledgerId, part, rows, lastRow, bytes }`." },
      409: error("CONFLICT: the part was already received, or the ledger no longer accepts parts."),
      413: error("PAYLOAD_TOO_LARGE."),
      422: error("LEDGER_INVALID: rows of this part (numbered within the part) are malformed; nothing of the part was stored."),
      ...bodyTimeout,
      ...authErrors,
    },
  });
  registry.registerPath({
    ...admin,
    method: "post",
    path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/complete",
    summary: "Complete a multi-part upload",
    description: "Body `{ \"parts\": n }`: parts 0..n-1 must all have arrived (and no others); the ledger is then built by the queue consumer. Repeating it answers the ledger's state.",
    parameters: [issuer, ledgerId],
    requestBody: { required: true, content: { "application/json": { schema: { type: "object", properties: { parts: { type: "integer", minimum: 1, maximum: 1000 } }, required: ["parts"] } } } },
    responses: {
      200: { description: "Already complete." },
      202: { description: "Building: `{ ledgerId, status: \"building\", parts, users, statusUrl }`." },
      409: error("CONFLICT: a part is missing or extra, or the ledger failed."),
      ...bodyTimeout,
      ...authErrors,
    },
  });
  registry.registerPath({
    ...admin,
    method: "delete",
    path: "/v1/admin/issuers/{issuer}/ledgers/{ledgerId}",
    summary: "Abandon an unfinished ledger",
    description: "Marks a ledger that is still uploading or building failed and deletes its objects. Complete ledgers are kept forever (409).",
    parameters: [issuer, ledgerId],
    responses: { 200: { description: "`{ ledgerId, status: \"failed\", reason }`." }, 409: error("CONFLICT: the ledger is complete."), ...authErrors },
  });
}
