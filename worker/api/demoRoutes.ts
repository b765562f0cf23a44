import { Hono } from "hono";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/**
 * Routes of the local demo only (DEMO_MODE=1, set by `npm start`): three demo
 * users a person can verify, and the demo's contract addresses. In any other
 * deployment they do not exist.
 */
export const demoRoutes = new Hono<AppEnv>();

demoRoutes.use("/demo/*", async (c, next) => {
  if (c.env.DEMO_MODE !== "1") throw new ApiError("NOT_FOUND", "demo routes exist only in the local demo");
  await next();
});

function demoJson(value: unknown, name: string): unknown {
  if (typeof value !== "string") throw new ApiError("NOT_FOUND", `the demo did not provide ${name}`);
  return JSON.parse(value);
}

demoRoutes.get("/demo/users.json", (c) => c.json(demoJson(c.env.DEMO_USERS, "users")));
demoRoutes.get("/demo/contracts.json", (c) => c.json(demoJson(c.env.DEMO_CONTRACTS, "contracts")));
