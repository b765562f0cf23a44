/**
 * Rate limiting of the public routes: the middleware with an injected limiter
 * (deterministic 429s), and the real PUBLIC_RATE_LIMIT binding of wrangler.toml.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/api/app.js";
import type { Limiter } from "../../worker/api/rateLimit.js";
import type { Env } from "../../worker/env.js";

const testEnv = env as unknown as Env;
const ORIGIN = "http://solvent.test";

/** Allows `budget` requests per key, then refuses; records every key asked about. */
function countingLimiter(budget: number): Limiter & { keys: string[] } {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  return {
    keys,
    async limit({ key }) {
      keys.push(key);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { success: n <= budget };
    },
  };
}

function appWith(limiter: Limiter) {
  const app = createApp({ rateLimit: { limiter: () => limiter, retryAfterSeconds: 42 } });
  return (path: string, init: RequestInit = {}) => app.request(`${ORIGIN}${path}`, init, testEnv);
}

const from = (ip: string): RequestInit => ({ headers: { "CF-Connecting-IP": ip } });

describe("rate-limit middleware", () => {
  it("answers 429 RATE_LIMITED with Retry-After once a client is over its budget, per client address", async () => {
    const limiter = countingLimiter(2);
    const get = appWith(limiter);
    expect((await get("/v1/issuers", from("198.51.100.1"))).status).toBe(200);
    expect((await get("/.well-known/solvent/keys.json", from("198.51.100.1"))).status).toBe(200);
    const refused = await get("/v1/issuers/demo-stable/gate", from("198.51.100.1"));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("42");
    // a browser app can read the refusal and its Retry-After
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(refused.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
    expect(refused.headers.get("Cache-Control")).toBeNull();
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("RATE_LIMITED");
    expect(body.error.message).toContain("42 seconds");

    // another address has its own budget; no address shares one constant key
    expect((await get("/v1/issuers", from("198.51.100.2"))).status).toBe(200);
    expect((await get("/v1/issuers")).status).toBe(200);
    expect(limiter.keys).toEqual(["public:198.51.100.1", "public:198.51.100.1", "public:198.51.100.1", "public:198.51.100.2", "public:unknown-client"]);
  });

  it("covers every public route and the docs, but not admin, health or CORS preflights", async () => {
    const limiter = countingLimiter(0);
    const get = appWith(limiter);
    for (const path of [
      "/v1/issuers",
      "/v1/issuers/demo-stable/attestations/latest",
      "/v1/issuers/demo-stable/attestations/1",
      "/v1/issuers/demo-stable/attestations",
      "/v1/issuers/demo-stable/reports/1",
      `/v1/issuers/demo/proofs/1/0x${"ab".repeat(32)}`,
      "/v1/issuers/demo-stable/gate",
      "/v1/issuers/demo-stable/feed",
      "/.well-known/solvent/keys.json",
      "/openapi.json",
      "/api",
    ]) {
      expect((await get(path)).status, path).toBe(429);
    }
    // admin routes are authenticated instead: an unauthenticated call is 401, never 429
    expect((await get("/v1/admin/issuers/demo-stable/publisher")).status).toBe(401);
    expect((await get("/v1/admin/issuers/demo-stable/publish", { method: "POST" })).status).toBe(401);
    expect((await get("/health")).status).toBe(200);
    const preflight = await get("/v1/issuers/demo-stable/gate", { method: "OPTIONS", headers: { "Access-Control-Request-Method": "GET" } });
    expect(preflight.status).toBe(204);
    expect(limiter.keys).toHaveLength(11);
  });

  it("lets requests through when the limiter itself fails", async () => {
    const get = appWith({
      limit: async () => {
        throw new Error("limiter unavailable");
      },
    });
    expect((await get("/v1/issuers")).status).toBe(200);
  });
});

describe("the PUBLIC_RATE_LIMIT binding", () => {
  const get = (path: string, ip: string) => exports.default.fetch(`${ORIGIN}${path}`, from(ip));

  it("lets normal traffic through", async () => {
    for (let i = 0; i < 30; i++) expect((await get("/v1/issuers", "192.0.2.10")).status).toBe(200);
  });

  it("refuses a client whose budget is spent, with Retry-After, and no one else", async () => {
    // Spend 203.0.113.7's budget (600 per 60 s in wrangler.toml) on the binding directly.
    let spent = 0;
    while ((await testEnv.PUBLIC_RATE_LIMIT.limit({ key: "public:203.0.113.7" })).success) {
      spent++;
      expect(spent).toBeLessThanOrEqual(600);
    }
    const refused = await get("/v1/issuers/demo-stable/feed", "203.0.113.7");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("60");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    expect((await get("/v1/issuers", "203.0.113.8")).status).toBe(200);
  });
});
