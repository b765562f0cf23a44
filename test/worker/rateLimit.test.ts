/**
 * Rate limits that fit the users, against the real Worker in workerd: the
 * middleware with an injected limiter and clock (deterministic 429s), the
 * edge cache (the real Cache API, `caches.default`), and the real
 * rate-limit bindings of wrangler.toml with their real 10 s windows.
 *
 * The bar of issue #12, "a verifier polling one route at 20 requests per
 * second is never refused for a whole minute", is shown here in about 25 s
 * instead of a 70 s run, from the three facts that make it hold:
 *  1. a route the edge holds is served from it without counting: a client
 *     whose budget is spent still gets every cached answer;
 *  2. the busiest uncached route of a poller, the gate, has 600 per 10 s, so
 *     20 requests per second across a window boundary are never refused;
 *  3. a client that bursts over a budget is refused only until its 10 s
 *     window ends, and Retry-After says when: waiting that long, it is
 *     admitted again.
 * A whole-minute lock-out would need a window longer than 10 s, which no
 * binding here has (checked below by spending each one).
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/api/app.js";
import { CACHE_STATUS_HEADER } from "../../worker/api/edgeCache.js";
import {
  GROUP_LIMITS,
  ipv6Prefix64,
  type Limiter,
  type RouteGroup,
  secondsUntilWindowEnds,
} from "../../worker/api/rateLimit.js";
import type { Env } from "../../worker/env.js";
import { expectBurstRefusedThenAdmitted, freshWindow } from "../support/burst.js";

const testEnv = env as unknown as Env & { ADMIN_TOKEN: string };

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

// The edge cache keys on the host: each test has its own, so no test sees another's cached answers.
let hostCounter = 0;
const freshOrigin = () => `http://t${++hostCounter}.solvent.test`;

function appWith(limiter: Limiter, nowMs?: number, edge: { moving?: boolean } = {}) {
  const origin = freshOrigin();
  const app = createApp({
    rateLimit: { limiter: () => limiter, ...(nowMs === undefined ? {} : { now: () => nowMs }) },
    edgeCache: edge,
  });
  return (path: string, init: RequestInit = {}) => app.request(`${origin}${path}`, init, testEnv);
}

const from = (ip: string, headers: Record<string, string> = {}): RequestInit => ({
  headers: { "CF-Connecting-IP": ip, ...headers },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rate-limit middleware", () => {
  it("answers 429 RATE_LIMITED with the real wait in Retry-After, cheap and never stored", async () => {
    const limiter = countingLimiter(1);
    // 3.4 s into a 10 s window: 6.6 s left, so a request is admitted again in 7 s
    const get = appWith(limiter, 1_700_000_003_400);
    expect((await get("/v1/issuers/demo-stable/gate", from("198.51.100.1"))).status).toBe(200);
    const refused = await get("/v1/issuers/demo-stable/gate", from("198.51.100.1"));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("7");
    expect(refused.headers.get("RateLimit-Policy")).toBe('"integration";q=600;w=10');
    expect(refused.headers.get("Cache-Control")).toBe("no-store");
    // a browser app can read the refusal and its Retry-After
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(refused.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
    const text = await refused.text();
    expect(text.length).toBeLessThan(400);
    const body = JSON.parse(text) as { error: Record<string, unknown> };
    expect(body.error).toEqual({
      code: "RATE_LIMITED",
      message: "too many gate, feed and Chainlink adapter requests from this address (600 per 10 s); retry after 7 s",
      group: "integration",
      limit: 600,
      periodSeconds: 10,
      retryAfterSeconds: 7,
    });
  });

  it("computes Retry-After as the seconds left in the window, 1 to 10", () => {
    expect(secondsUntilWindowEnds(1_700_000_000_000, 10)).toBe(10);
    expect(secondsUntilWindowEnds(1_700_000_000_001, 10)).toBe(10);
    expect(secondsUntilWindowEnds(1_700_000_009_000, 10)).toBe(1);
    expect(secondsUntilWindowEnds(1_700_000_009_999, 10)).toBe(1);
    // 5.5 s into a minute window (1_700_000_040_000 is a multiple of 60 s)
    expect(secondsUntilWindowEnds(1_700_000_045_500, 60)).toBe(55);
  });

  it("counts each route group apart, per client address, an IPv6 client by its /64", async () => {
    const limiter = countingLimiter(1000);
    const get = appWith(limiter);
    await get("/v1/issuers/demo-stable/gate", from("198.51.100.1"));
    await get("/v1/issuers/demo-stable/feed", from("198.51.100.1"));
    await get(`/v1/issuers/demo/proofs/1/0x${"ab".repeat(32)}`, from("198.51.100.1"));
    await get("/v1/issuers/nobody/attestations/latest", from("198.51.100.1"));
    await get("/v1/issuers/nobody/attestations/latest", from("2001:db8:0:1::17"));
    await get("/v1/issuers/nobody/attestations/latest", from("2001:DB8:0:1:ffff::1"));
    await get("/v1/issuers/nobody/attestations/latest", from("2001:db8:0:2::17"));
    await get("/v1/issuers/nobody/attestations/latest", from("::ffff:198.51.100.9"));
    await get("/v1/issuers/nobody/attestations/latest");
    expect(limiter.keys).toEqual([
      "integration:198.51.100.1",
      "integration:198.51.100.1",
      "proofs:198.51.100.1",
      "reads:198.51.100.1",
      "reads:2001:db8:0:1::/64",
      "reads:2001:db8:0:1::/64",
      "reads:2001:db8:0:2::/64",
      "reads:::ffff:198.51.100.9",
      "reads:unknown-client",
    ]);
    expect(ipv6Prefix64("::1")).toBe("0:0:0:0::/64");
    expect(ipv6Prefix64("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("covers every public route and the docs, but not admin, health or CORS preflights", async () => {
    const limiter = countingLimiter(0);
    const get = appWith(limiter);
    const groups: Record<string, RouteGroup> = {};
    for (const path of [
      "/v1/issuers",
      "/v1/issuers/demo-stable/attestations/latest",
      "/v1/issuers/demo-stable/attestations/1",
      "/v1/issuers/demo-stable/attestations",
      "/v1/issuers/demo-stable/reports/1",
      `/v1/issuers/demo/proofs/1/0x${"ab".repeat(32)}`,
      "/v1/issuers/demo-stable/gate",
      "/v1/issuers/demo-stable/feed",
      "/v1/issuers/demo-stable/relayer",
      "/v1/issuers/demo-stable/alerts",
      "/.well-known/solvent/keys.json",
      "/openapi.json",
      "/api",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(429);
      groups[path] = ((await res.json()) as { error: { group: RouteGroup } }).error.group;
    }
    expect(Object.values(groups).filter((g) => g === "integration")).toHaveLength(2);
    expect(Object.values(groups).filter((g) => g === "proofs")).toHaveLength(1);
    // admin routes are authenticated instead: an unauthenticated call is 401, never 429
    expect((await get("/v1/admin/issuers/demo-stable/publisher")).status).toBe(401);
    expect((await get("/v1/admin/issuers/demo-stable/publish", { method: "POST" })).status).toBe(401);
    expect((await get("/health")).status).toBe(200);
    const preflight = await get("/v1/issuers/demo-stable/gate", {
      method: "OPTIONS",
      headers: { "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(limiter.keys).toHaveLength(13);
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

describe("the edge cache (Workers Cache API)", () => {
  it("serves a stored public answer without counting it, with its Age", async () => {
    const limiter = countingLimiter(1000);
    const get = appWith(limiter);
    const first = await get("/openapi.json", from("198.51.100.20"));
    expect(first.status).toBe(200);
    expect(first.headers.get(CACHE_STATUS_HEADER)).toBe("miss");
    const body = await first.text();
    for (let i = 0; i < 5; i++) {
      const again = await get("/openapi.json", from(`198.51.100.${21 + i}`));
      expect(again.status).toBe(200);
      expect(again.headers.get(CACHE_STATUS_HEADER)).toBe("hit");
      expect(again.headers.get("Cache-Control")).toBe("public, max-age=300");
      expect(Number(again.headers.get("Age"))).toBeGreaterThanOrEqual(0);
      expect(again.headers.get("X-Solvent-Stored-At")).toBeNull();
      expect(await again.text()).toBe(body);
    }
    // only the miss was counted
    expect(limiter.keys).toEqual(["reads:198.51.100.20"]);
  });

  it("stores the answers that move with each publish only when the deployment opts in", async () => {
    const plain = appWith(countingLimiter(1000));
    expect((await plain("/.well-known/solvent/keys.json")).headers.get(CACHE_STATUS_HEADER)).toBe("bypass");
    expect((await plain("/.well-known/solvent/keys.json")).headers.get(CACHE_STATUS_HEADER)).toBe("bypass");
    const limiter = countingLimiter(1000);
    const opted = appWith(limiter, undefined, { moving: true });
    expect(
      (await opted("/.well-known/solvent/keys.json", from("198.51.100.30"))).headers.get(CACHE_STATUS_HEADER),
    ).toBe("miss");
    const hit = await opted("/.well-known/solvent/keys.json", from("198.51.100.31"));
    expect(hit.headers.get(CACHE_STATUS_HEADER)).toBe("hit");
    expect(hit.headers.get("Cache-Control")).toBe("public, max-age=15");
    expect(limiter.keys).toEqual(["reads:198.51.100.30"]);
  });

  it("never stores what it must not: no-store answers, errors, credentialed requests, admin routes", async () => {
    const limiter = countingLimiter(1000);
    const get = appWith(limiter, undefined, { moving: true });
    const twice = async (path: string, init: RequestInit = {}) => {
      const a = await get(path, init);
      const b = await get(path, init);
      return [a.headers.get(CACHE_STATUS_HEADER), b.headers.get(CACHE_STATUS_HEADER), b.status] as const;
    };
    // the gate depends on the clock: no-store
    expect(await twice("/v1/issuers/demo-stable/gate")).toEqual(["bypass", "bypass", 200]);
    // a 404 is computed every time (an attestation published later must be found)
    expect(await twice("/v1/issuers/demo-stable/attestations/999")).toEqual(["bypass", "bypass", 404]);
    expect(await twice("/v1/issuers/nobody/feed")).toEqual(["bypass", "bypass", 404]);
    // a request that presents credentials is neither served from nor stored in the shared cache
    expect(await twice("/v1/issuers", { headers: { Authorization: "Bearer secret" } })).toEqual([null, null, 200]);
    expect((await get("/v1/issuers")).headers.get(CACHE_STATUS_HEADER)).toBe("miss");
    // admin answers are never cached, whatever they are
    const admin = { headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` } };
    expect(await twice("/v1/admin/issuers/demo-stable/publisher", admin)).toEqual([null, null, 200]);
    // queries are part of the key: one query's answer is never another's
    const page1 = await get("/v1/issuers/demo-stable/attestations?limit=1");
    const page2 = await get("/v1/issuers/demo-stable/attestations?limit=2");
    expect([page1.headers.get(CACHE_STATUS_HEADER), page2.headers.get(CACHE_STATUS_HEADER)]).toEqual(["miss", "miss"]);
  });

  it("keys on the URL alone: request headers never shape a stored answer", async () => {
    const get = appWith(countingLimiter(1000));
    // a client asking for a range or a revalidation still gets, and leaves, the full answer
    const odd = await get("/openapi.json", {
      headers: { Range: "bytes=0-9", "If-None-Match": '"x"', Origin: "https://evil.example" },
    });
    expect(odd.status).toBe(200);
    const full = await odd.text();
    const plain = await get("/openapi.json");
    expect(plain.headers.get(CACHE_STATUS_HEADER)).toBe("hit");
    expect(await plain.text()).toBe(full);
    expect(plain.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("a client that asks for a fresh answer (Cache-Control: no-cache) gets one, counted, and refreshes the copy", async () => {
    const limiter = countingLimiter(1000);
    const get = appWith(limiter);
    expect((await get("/openapi.json", from("198.51.100.40"))).headers.get(CACHE_STATUS_HEADER)).toBe("miss");
    expect((await get("/openapi.json", from("198.51.100.41"))).headers.get(CACHE_STATUS_HEADER)).toBe("hit");
    expect(
      (await get("/openapi.json", from("198.51.100.42", { "Cache-Control": "no-cache" }))).headers.get(
        CACHE_STATUS_HEADER,
      ),
    ).toBe("miss");
    expect(
      (await get("/openapi.json", from("198.51.100.43", { Pragma: "no-cache" }))).headers.get(CACHE_STATUS_HEADER),
    ).toBe("miss");
    expect(
      (await get("/openapi.json", from("198.51.100.44", { "Cache-Control": "max-age=0" }))).headers.get(
        CACHE_STATUS_HEADER,
      ),
    ).toBe("miss");
    expect(limiter.keys).toEqual([
      "reads:198.51.100.40",
      "reads:198.51.100.42",
      "reads:198.51.100.43",
      "reads:198.51.100.44",
    ]);
  });

  it("stores attestations by sequence for good, and forgets a stored latest when an admin publishes", async () => {
    const origin = freshOrigin();
    const app = createApp({ edgeCache: { moving: true } });
    const call = (path: string, init: RequestInit = {}) => app.request(`${origin}${path}`, init, testEnv);
    const publish = () =>
      call("/v1/admin/issuers/demo-stable/publish", {
        method: "POST",
        headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` },
      });
    expect((await publish()).status).toBe(201);
    const first = (await (await call("/v1/issuers/demo-stable/attestations/latest")).json()) as {
      attestation: { sequence: string };
    };
    expect((await call("/v1/issuers/demo-stable/attestations/latest")).headers.get(CACHE_STATUS_HEADER)).toBe("hit");
    expect((await publish()).status).toBe(201);
    const after = await call("/v1/issuers/demo-stable/attestations/latest");
    expect(after.headers.get(CACHE_STATUS_HEADER)).toBe("miss");
    const second = (await after.json()) as { attestation: { sequence: string } };
    expect(BigInt(second.attestation.sequence)).toBe(BigInt(first.attestation.sequence) + 1n);
    // published attestations never change: stored by default, for a year
    const bySequence = createApp();
    const one = `${origin}/v1/issuers/demo-stable/attestations/${first.attestation.sequence}`;
    const stored = await bySequence.request(one, {}, testEnv);
    expect([stored.status, stored.headers.get(CACHE_STATUS_HEADER)]).toEqual([200, "miss"]);
    const again = await bySequence.request(one, {}, testEnv);
    expect([again.headers.get(CACHE_STATUS_HEADER), again.headers.get("Cache-Control")]).toEqual([
      "hit",
      "public, max-age=31536000, immutable",
    ]);
  });
});

describe("the rate-limit bindings of wrangler.toml", () => {
  const fetchWorker = (path: string, ip: string) => exports.default.fetch(`http://solvent.test${path}`, from(ip));

  it.each(Object.entries(GROUP_LIMITS))(
    "%s: admits exactly its budget in one 10 s window",
    async (group, { binding, limit }) => {
      // a few more calls than the budget, at once; on a loaded machine the window may end meanwhile: then again, with a new key
      for (let attempt = 0; attempt < 4; attempt++) {
        await freshWindow(5000);
        const window = Math.floor(Date.now() / 10_000);
        const key = `${group}:192.0.2.${70 + attempt}`;
        const outcomes = await Promise.all(Array.from({ length: limit + 20 }, () => testEnv[binding].limit({ key })));
        if (Math.floor(Date.now() / 10_000) !== window) continue;
        expect(outcomes.filter((o) => o.success)).toHaveLength(limit);
        return;
      }
      throw new Error("every attempt straddled a window boundary");
    },
  );

  it("a poller of the gate at 20 requests per second is never refused, across a window boundary", async () => {
    // 20 rps is 200 per window against a budget of 600: every request is admitted, window after window.
    const start = Date.now();
    const boundary = (Math.floor(start / 10_000) + 1) * 10_000;
    const statuses: number[] = [];
    for (let i = 0; Date.now() < boundary + 1000; i++) {
      const res = await fetchWorker("/v1/issuers/demo-stable/gate", "203.0.113.20");
      statuses.push(res.status);
      await res.body?.cancel();
      await sleep(Math.max(0, start + (i + 1) * 50 - Date.now()));
    }
    expect(statuses.length).toBeGreaterThanOrEqual(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it("cached answers are served at 20 requests per second to a client whose budget is spent", async () => {
    const ip = "203.0.113.21";
    // warm the cache (another client), then spend this client's read budget on the binding itself
    // (the copy is stored in the background, after the answer: wait until it is there)
    for (let tries = 0; ; tries++) {
      const warm = await fetchWorker("/openapi.json", "203.0.113.99");
      await warm.text();
      if (warm.headers.get(CACHE_STATUS_HEADER) === "hit") break;
      expect(tries).toBeLessThan(50);
      await sleep(100);
    }
    while ((await testEnv.RATE_LIMIT_READS.limit({ key: `reads:${ip}` })).success);
    const refused = await fetchWorker("/v1/issuers/nobody/attestations/latest", ip);
    expect(refused.status).toBe(429);
    for (let i = 0; i < 40; i++) {
      const res = await fetchWorker("/openapi.json", ip);
      expect(res.status).toBe(200);
      expect(res.headers.get(CACHE_STATUS_HEADER)).toBe("hit");
      await res.body?.cancel();
      await sleep(50);
    }
  });

  it("a burst over the budget is refused only until its window ends, as Retry-After says", async () => {
    const ip = "203.0.113.22";
    // an uncached read (a 404 is never stored), all at once
    await expectBurstRefusedThenAdmitted(
      () => fetchWorker("/v1/issuers/nobody/attestations/latest", ip),
      GROUP_LIMITS.reads.limit + 20,
      404,
    );
  });
});
