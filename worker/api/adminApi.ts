import { OpenAPIHono } from "@hono/zod-openapi";
import { adminAuth } from "./adminAuth.js";
import { adminLedger } from "./adminLedger.js";
import { adminLedgerUpload } from "./adminLedgerUpload.js";
import { adminPublish } from "./adminPublish.js";
import { adminStatements } from "./adminStatements.js";
import type { AppEnv } from "./context.js";
import { parameterHook } from "./openapi.js";
import { errorResponse } from "./schemas.js";

/** What every admin route declares: its tag and the bearer token it needs. */
export const ADMIN_ROUTE = { tags: ["admin"], security: [{ bearerAuth: [] }] };

/** The refusals every admin route can answer, before its own. */
export const adminErrors = {
  401: errorResponse("UNAUTHORIZED: no bearer token."),
  403: errorResponse("FORBIDDEN: the token is not valid for this issuer."),
  404: errorResponse("UNKNOWN_ISSUER or NOT_FOUND."),
  503: errorResponse("MISCONFIGURED: no admin token is configured."),
} as const;

/** The refusal of a request body that arrives too slowly (worker/api/bodyTimeout.ts). */
export const bodyTimeoutError = {
  408: errorResponse("REQUEST_TIMEOUT: the body arrived slower than 10 s plus 1 s per 16 KiB; nothing of it was kept."),
} as const;

/**
 * The admin sub-app: every route under `/v1/admin/issuers/{issuer}/`, behind
 * admin auth mounted here once. Not CORS-open, never cached (app.ts), not
 * rate-limited. A new admin route is a file like adminPublish.ts plus one
 * `app.route` line below.
 */
export function createAdminApi(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN (every issuer) or the issuer's entry of ADMIN_TOKENS.",
  });
  app.use("/v1/admin/issuers/:issuer/*", adminAuth);
  app.route("/", adminPublish);
  app.route("/", adminStatements);
  // Plain routes until they move to worker/ledger/; described by registerAdminPaths meanwhile.
  app.route("/", adminLedger);
  app.route("/", adminLedgerUpload);
  return app;
}
