import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./context.js";
import { CACHE_STATUS_HEADER } from "./edgeCache.js";
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
export function parameterHook(
  result:
    | { success: true }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } },
): void {
  if (result.success) return;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? "parameter");
  throw new ApiError("INVALID_PARAMETER", `${name} ${issue?.message ?? "is invalid"}`, { field: name });
}

/**
 * SPEC §10 routes are CORS-open: any origin, GET only, no credentials. A page
 * on another origin reads every header these routes set that is not
 * CORS-safelisted: the rate limit's Retry-After, ETag, the edge cache's Age
 * and X-Solvent-Cache (how old the answer is) and the CSV's Content-Disposition.
 */
const openCors: MiddlewareHandler<AppEnv> = cors({
  origin: "*",
  allowMethods: ["GET", "HEAD", "OPTIONS"],
  exposeHeaders: ["Retry-After", "ETag", "Age", CACHE_STATUS_HEADER, "Content-Disposition"],
  maxAge: 86400,
});

/** The public read paths: CORS-open. Not the adapter (a POST for node operators), the admin, demo or health routes, nor /api. */
export function isCorsOpenPath(path: string): boolean {
  return (
    path === "/v1/issuers" ||
    path.startsWith("/v1/issuers/") ||
    path.startsWith("/.well-known/solvent/") ||
    path === "/openapi.json"
  );
}

/** CORS for every public read path, mounted once (app.ts), whatever route answers it. */
export const publicCors: MiddlewareHandler<AppEnv> = async (c, next) =>
  isCorsOpenPath(c.req.path) ? openCors(c, next) : next();

/** A sub-app of public OpenAPI routes: parameter errors shaped by `parameterHook`. */
export function publicApi(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });
}

export type OpenApiDocument = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

const DESCRIPTION = [
  "Signed, hash-chained solvency attestations (SPEC §5) with the report (§4), inclusion proofs (§2),",
  "a lending gate and a Chainlink-style feed. Every public route is a GET, CORS-open, needs no key,",
  "and answers JSON with integers as decimal strings and bytes as 0x-hex. Errors are",
  '`{ "error": { "code", "message" } }` with a 4xx/5xx status;',
  "`field`, when present, names the parameter, header or body field at fault. Public routes are rate-limited per",
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
  if (!byOrigin) {
    byOrigin = new Map();
    documents.set(app, byOrigin);
  }
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
  app.get("/openapi.json", (c) => {
    c.header("Cache-Control", DOCS_CACHE);
    return c.json(openApiDocument(app, requestOrigin(c)));
  });
}
