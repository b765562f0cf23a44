import { OpenAPIHono } from "@hono/zod-openapi";
import { echo } from "../../core/errors.js";
import { logConfigInvalid } from "../config/configInvalid.js";
import { configState } from "../config/loadConfig.js";
import { checkEnvOnce } from "../config/secrets.js";
import { countProofs } from "../coverage/countProofs.js";
import { createAdminApi } from "./adminApi.js";
import { authenticateAdmin } from "./adminAuth.js";
import { mountApiReference } from "./apiReference.js";
import { type BodyTimeoutOptions, bodyTimeout } from "./bodyTimeout.js";
import type { AppEnv } from "./context.js";
import { demoRoutes } from "./demoRoutes.js";
import { type EdgeCacheOptions, edgeCache } from "./edgeCache.js";
import { ApiError, handleError } from "./errors.js";
import { mountOpenApiDocument, NO_STORE, parameterHook, publicCors } from "./openapi.js";
import { publicRoutes } from "./publicRoutes.js";
import { type RateLimitOptions, rateLimit } from "./rateLimit.js";

export { isRateLimitedPath } from "./rateLimit.js";

export interface AppOptions {
  /** Replaces the rate-limit bindings or the clock (tests). */
  rateLimit?: RateLimitOptions;
  /** Replaces the edge cache or the clock (tests). */
  edgeCache?: EdgeCacheOptions;
  /** Replaces the request-body deadline (tests). */
  bodyTimeout?: BodyTimeoutOptions;
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
    throw new ApiError("NOT_FOUND", `no route for ${echo(c.req.method, 20)} ${echo(new URL(c.req.url).pathname, 200)}`);
  });
  app.get("/health", (c) => {
    const state = configState(c.env);
    const config = state.ok ? state.config : null;
    const configIssues = state.ok ? [] : state.error.issues;
    const env = checkEnvOnce(c.env, config);
    c.header("Cache-Control", "no-store");
    if (env.ok && configIssues.length === 0) return c.json({ ok: true, service: "solvent" });
    // Names and rules only: never a secret's value.
    const message = [
      env.message,
      state.ok ? "" : `the configuration in ${state.source} is invalid; nothing is published`,
    ]
      .filter(Boolean)
      .join("; ");
    return c.json(
      {
        ok: false,
        service: "solvent",
        error: {
          code: "MISCONFIGURED",
          message,
          secrets: env.problems.map((p) => p.secret),
          problems: env.problems,
          configIssues,
        },
      },
      503,
    );
  });
  // Every admin answer, success or error (401, 403, 404, 413, 5xx …), is for
  // its caller alone: never stored by a browser, proxy or the edge.
  app.use("/v1/admin/*", async (c, next) => {
    await next();
    c.header("Cache-Control", NO_STORE);
  });
  // Every request body is read through one deadline (a stalled or trickling body ends with 408).
  app.use("*", bodyTimeout(options.bodyTimeout));
  // Served inclusion proofs are counted (verification coverage) around the edge cache, so cached answers count too.
  app.use("*", countProofs());
  // Public answers the edge already holds are served before the rate limit:
  // a cache hit is never counted. Everything else is counted per route group.
  app.use("*", edgeCache(options.edgeCache));
  app.use("*", rateLimit(options.rateLimit));
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
      throw new ApiError(
        "MISCONFIGURED",
        `the configuration in ${state.source} is invalid; nothing is published until it is fixed`,
        {
          issues: state.error.issues,
        },
      );
    }
    c.header("Cache-Control", "no-store");
    c.header("Retry-After", "60");
    throw new ApiError("SERVICE_UNAVAILABLE", "the publisher is temporarily unavailable; try again later");
  });
  // One CORS layer for every public read path, after the checks above (a refused request is answered as before).
  app.use("*", publicCors);
  app.route("/", publicRoutes);
  app.route("/", createAdminApi());
  app.route("/", demoRoutes);
  mountOpenApiDocument(app);
  mountApiReference(app);
  return app;
}
