import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env.js";
import type { AppEnv } from "./context.js";

/** What the middleware needs of a limiter: the Workers rate-limit binding's `limit`. */
export interface Limiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/**
 * The public routes in groups, each with its own budget per client address:
 * a lending integrator polling the gate and the feed never spends the budget
 * of a person reading history or proofs, nor the other way round.
 */
export type RouteGroup = "integration" | "proofs" | "reads";

export interface GroupLimit {
  /** The Workers rate-limit binding that counts this group (wrangler.toml `[[ratelimits]]`). */
  binding: "RATE_LIMIT_INTEGRATION" | "RATE_LIMIT_PROOFS" | "RATE_LIMIT_READS";
  /** Requests admitted per window, per client address, per Cloudflare location (wrangler.toml `simple.limit`). */
  limit: number;
  /** Window length in seconds (wrangler.toml `simple.period`: 10 is the shortest the binding offers). */
  periodSeconds: number;
  /** The group in words, for the refusal's message. */
  what: string;
}

/** Must equal the `[[ratelimits]]` entries of wrangler.toml (test/worker/rateLimit.test.ts spends each binding to check). */
export const GROUP_LIMITS: Record<RouteGroup, GroupLimit> = {
  integration: {
    binding: "RATE_LIMIT_INTEGRATION",
    limit: 600,
    periodSeconds: 10,
    what: "gate, feed and Chainlink adapter requests",
  },
  proofs: { binding: "RATE_LIMIT_PROOFS", limit: 200, periodSeconds: 10, what: "inclusion proof and dispute requests" },
  reads: { binding: "RATE_LIMIT_READS", limit: 300, periodSeconds: 10, what: "requests to the read routes" },
};

/** The public face that is rate-limited per client address; admin (authenticated), demo and health routes are not. */
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

/** The group of a rate-limited path. */
export function routeGroup(path: string): RouteGroup {
  if (/^\/v1\/issuers\/[^/]+\/(gate|feed)$/.test(path) || path.startsWith("/v1/adapters/")) return "integration";
  if (/^\/v1\/issuers\/[^/]+\/(proofs\/|disputes$)/.test(path)) return "proofs";
  return "reads";
}

/** The key of a request without CF-Connecting-IP (only outside Cloudflare's edge, e.g. tests and local dev). */
export const UNKNOWN_CLIENT = "unknown-client";

/**
 * The client's address as Cloudflare saw it. An IPv6 client counts as its
 * whole /64 (one subscriber usually holds a /64 and can pick any address in
 * it); the constant fallback makes all unaddressed callers share one budget.
 */
export function clientKey(c: Context): string {
  const ip = c.req.header("CF-Connecting-IP")?.trim();
  if (ip === undefined || ip === "") return UNKNOWN_CLIENT;
  // An IPv4-mapped IPv6 address (with dots) is one IPv4 client: kept whole.
  return ip.includes(":") && !ip.includes(".") ? ipv6Prefix64(ip) : ip;
}

/** The first four groups of an IPv6 address (its /64), expanded and lower-case, e.g. `2001:db8:0:1::/64`. */
export function ipv6Prefix64(ip: string): string {
  const bare = ip.split("%")[0]!.toLowerCase();
  const [head = "", tail] = bare.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, "") || "0")
    .join(":")}::/64`;
}

/**
 * Seconds until a window of `periodSeconds` that started on a multiple of the
 * period (unix time) ends: 1 to periodSeconds. The binding's windows are
 * fixed; the local implementation aligns them to the clock like this, and
 * Cloudflare documents no other alignment, so this is the real wait in
 * `wrangler dev` and at most one period anywhere.
 */
export function secondsUntilWindowEnds(nowMs: number, periodSeconds: number): number {
  const periodMs = periodSeconds * 1000;
  const left = periodMs - (((nowMs % periodMs) + periodMs) % periodMs);
  return Math.min(periodSeconds, Math.max(1, Math.ceil(left / 1000)));
}

export interface RateLimitOptions {
  /** The limiter of a group, by default its binding. */
  limiter?: (env: Env, group: RouteGroup) => Limiter;
  /** The clock (ms) for Retry-After; tests only. */
  now?: () => number;
}

/**
 * Refuses a request over its client's budget in its route group with 429
 * RATE_LIMITED and `Retry-After` (seconds until the window ends, when a
 * request is admitted again). The refusal is built here, before the
 * configuration, D1 or R2 are touched, and is small; it is CORS-readable so a
 * browser app can see why and when to retry, and never stored. CORS
 * preflights are not counted (browsers cache them). If the limiter itself
 * fails the request goes through: the limit protects the service, it is not
 * an authorisation.
 */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const limiterOf = options.limiter ?? ((env: Env, group: RouteGroup) => env[GROUP_LIMITS[group].binding]);
  const now = options.now ?? Date.now;
  return async (c, next) => {
    if (c.req.method === "OPTIONS" || !isRateLimitedPath(c.req.path)) return next();
    const group = routeGroup(c.req.path);
    let allowed = true;
    try {
      allowed = (await limiterOf(c.env, group).limit({ key: `${group}:${clientKey(c)}` })).success;
    } catch (error) {
      console.error("rate limiter failed; letting the request through", error);
    }
    if (allowed) return next();
    return refusal(group, secondsUntilWindowEnds(now(), GROUP_LIMITS[group].periodSeconds));
  };
}

function refusal(group: RouteGroup, retryAfterSeconds: number): Response {
  const { limit, periodSeconds, what } = GROUP_LIMITS[group];
  const body = {
    error: {
      code: "RATE_LIMITED",
      message: `too many ${what} from this address (${limit} per ${periodSeconds} s); retry after ${retryAfterSeconds} s`,
      group,
      limit,
      periodSeconds,
      retryAfterSeconds,
    },
  };
  return new Response(JSON.stringify(body), {
    status: 429,
    headers: {
      "Content-Type": "application/json",
      "Retry-After": String(retryAfterSeconds),
      // draft-ietf-httpapi-ratelimit-headers: the policy that refused, by name
      "RateLimit-Policy": `"${group}";q=${limit};w=${periodSeconds}`,
      "Cache-Control": "no-store",
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Expose-Headers": "Retry-After, RateLimit-Policy",
    },
  });
}
