import { OpenAPIHono } from "@hono/zod-openapi";
import type { SolventConfig } from "../../core/config/schema.js";
import { checkEnvOnce } from "../config/checkEnv.js";
import { ConfigError, loadConfig } from "../config/loadConfig.js";
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
  return path === "/v1/issuers" || path.startsWith("/v1/issuers/") || path.startsWith("/.well-known/") || path === "/openapi.json" || path === "/api";
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
    let config: SolventConfig | null = null;
    let configIssues: ConfigError["issues"] = [];
    try {
      config = loadConfig(c.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      configIssues = error.issues;
    }
    const env = checkEnvOnce(c.env, config);
    c.header("Cache-Control", "no-store");
    if (env.ok && configIssues.length === 0) return c.json({ ok: true, service: "solvent" });
    // Names and rules only: never a secret's value.
    const message = [env.message, configIssues.length > 0 ? "the configuration is invalid" : ""].filter(Boolean).join("; ");
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
    const config = loadConfig(c.env);
    checkEnvOnce(c.env, config); // logs misconfigured secrets once per isolate
    c.set("config", config);
    await next();
  });
  app.route("/", publicRoutes);
  app.route("/", proofRoutes);
  app.route("/", ledgerHistoryRoutes);
  app.route("/", gateRoutes);
  app.route("/", feedRoutes);
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
