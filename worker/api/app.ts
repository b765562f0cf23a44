import { Hono } from "hono";
import { loadConfig } from "../config/loadConfig.js";
import { adminLedger } from "./adminLedger.js";
import { adminPublish } from "./adminPublish.js";
import { adminStatements } from "./adminStatements.js";
import { demoRoutes } from "./demoRoutes.js";
import type { AppEnv } from "./context.js";
import { ApiError, handleError } from "./errors.js";
import { proofRoutes } from "./proofRoutes.js";
import { publicRoutes } from "./publicRoutes.js";

/** The HTTP API: one sub-app per area, mounted here; errors shaped once. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(handleError);
  app.notFound((c) => {
    throw new ApiError(404, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  });
  app.get("/health", (c) => c.json({ ok: true, service: "solvent" }));
  app.use("*", async (c, next) => {
    c.set("config", loadConfig(c.env));
    await next();
  });
  app.route("/", publicRoutes);
  app.route("/", proofRoutes);
  app.route("/", adminLedger);
  app.route("/", adminStatements);
  app.route("/", adminPublish);
  app.route("/", demoRoutes);
  return app;
}
