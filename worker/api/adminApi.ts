import { OpenAPIHono } from "@hono/zod-openapi";
import { adminAuth } from "./adminAuth.js";
import { adminLedger } from "./adminLedger.js";
import { adminLedgerUpload } from "./adminLedgerUpload.js";
import { adminPublish } from "./adminPublish.js";
import { adminStatements } from "./adminStatements.js";
import type { AppEnv } from "./context.js";
import { parameterHook } from "./openapi.js";

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
