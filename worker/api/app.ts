import { OpenAPIHono } from "@hono/zod-openapi";
import type { SolventConfig } from "../../core/config/schema.js";
import { adapterRoutes } from "./adapterRoutes.js";
import { logConfigInvalid } from "../config/configInvalid.js";
import { configState } from "../config/loadConfig.js";
import { checkEnvOnce } from "../config/secrets.js";
import { authenticateAdmin } from "./adminAuth.js";
import { adminLedger } from "./adminLedger.js";
import { adminLedgerUpload } from "./adminLedgerUpload.js";
import { alertRoutes } from "./alertRoutes.js";
import { adminPublish } from "./adminPublish.js";
import { adminStatements } from "./adminStatements.js";
import { mountApiReference } from "./apiReference.js";
import type { AppEnv } from "./context.js";
import { demoRoutes } from "./demoRoutes.js";
import { relayerRoutes } from "./relayerRoutes.js";
import { ApiError, handleError } from "./errors.js";
import { feedRoutes } from "./feedRoutes.js";
import { gateRoutes } from "./gateRoutes.js";
import { ledgerHistoryRoutes } from "./ledgerHistoryRoutes.js";
import { mountOpenApiDocument, parameterHook, registerAdminPaths } from "./openapi.js";
import { proofRoutes } from "./proofRoutes.js";
import { publicRoutes } from "./publicRoutes.js";
import { publicRateLimit, type RateLimitOptions, rateLimit } from "./rateLimit.js";

/** The public face, rate-limited per client address; admin (authenticated), demo and health routes are not. */
export function isRateLimitedPath(path: string): boolean {
  return (
    path === "/v1/issuers" ||
    path.startsWith("/v1/issuers/") ||
    path.startsWith("/v1/adapters/") ||
    path.startsWith("/.well-known/") ||
    path === "/openapi.json" ||
    path === "/api"
  );
}

export interface AppOptions {
  /** Replaces the PUBLIC_RATE_LIMIT limiter (tests). */
  rateLimit?: RateLimitOptions;
}

/**
 * The HTTP API: one sub-app per area, mounted here; errors shaped once.
 * Public sub-apps are OpenAPI routes, so /openapi.json and /api are generated
 * from the same definitions that validate requests.
 */
export function createApp(options: AppOptions = {}): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });
  app.onError(handleError);
  app.notFound((c) => {
    throw new ApiError(404, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 200)}`);
  });
  app.get("/health", (c) => {
    const state = configState(c.env);
    const config = state.ok ? state.config : null;
    const configIssues = state.ok ? [] : state.error.issues;
    const env = checkEnvOnce(c.env, config);
    c.header("Cache-Control", "no-store");
    if (env.ok && configIssues.length === 0) return c.json({ ok: true, service: "solvent" });
    // Names and rules only: never a secret's value.
    const message = [env.message, state.ok ? "" : `the configuration in ${state.source} is invalid; nothing is published`].filter(Boolean).join("; ");
    return c.json(
      {
        ok: false,
        service: "solvent",
        error: { code: "MISCONFIGURED", message, secrets: env.problems.map((p) => p.secret), problems: env.problems, configIssues },
      },
      503,
    );
  });
  const limiter = options.rateLimit ? rateLimit(options.rateLimit) : publicRateLimit;
  app.use("*", (c, next) => (isRateLimitedPath(c.req.path) ? limiter(c, next) : next()));
  app.use("*", async (c, next) => {
    const state = configState(c.env);
    if (state.ok) {
      checkEnvOnce(c.env, state.config); // logs misconfigured secrets once per isolate
      c.set("config", state.config);
      return next();
    }
    // Fail closed: nothing is served from a configuration that cannot be used.
    logConfigInvalid(state);
    const admin = /^\/v1\/admin\/issuers\/([^/]+)(?:\/|$)/.exec(c.req.path);
    if (admin) {
      // An operator who proves it is one learns what is wrong; anyone else only that the route is closed.
      await authenticateAdmin(c, decodeURIComponent(admin[1]!), null);
      throw new ApiError(503, "MISCONFIGURED", `the configuration in ${state.source} is invalid; nothing is published until it is fixed`, {
        issues: state.error.issues,
      });
    }
    c.header("Cache-Control", "no-store");
    c.header("Retry-After", "60");
    throw new ApiError(503, "SERVICE_UNAVAILABLE", "the publisher is temporarily unavailable; try again later");
  });
  app.route("/", publicRoutes);
  app.route("/", proofRoutes);
  app.route("/", ledgerHistoryRoutes);
  app.route("/", gateRoutes);
  app.route("/", feedRoutes);
  app.route("/", adapterRoutes);
  app.route("/", adminLedger);
  app.route("/", adminLedgerUpload);
  app.route("/", adminStatements);
  app.route("/", adminPublish);
  app.route("/", relayerRoutes);
  app.route("/", alertRoutes);
  app.route("/", demoRoutes);
  registerAdminPaths(app);
  mountOpenApiDocument(app);
  mountApiReference(app);
  return app;
}
