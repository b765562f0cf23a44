import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.js";
import { isRateLimitedPath } from "./rateLimit.js";

/** Says how an answer was served: `hit` (from the edge cache, not counted), `miss` (computed, then stored), `bypass`. */
export const CACHE_STATUS_HEADER = "X-Solvent-Cache";
/** When a stored copy was made (ms), kept only inside the cache to give hits their `Age`. */
const STORED_AT_HEADER = "X-Solvent-Stored-At";

/**
 * Whether a request may be answered from the edge cache, and its answer
 * stored: a public GET (never an admin, demo or health route) that carries no
 * credentials. A request with `Authorization` or `Cookie` is always computed
 * and never stored, so nothing a client presents can end up in a shared copy.
 */
export function cacheableRequest(request: Request, path: string): boolean {
  return (
    request.method === "GET" &&
    isRateLimitedPath(path) &&
    !request.headers.has("Authorization") &&
    !request.headers.has("Cookie")
  );
}

/**
 * The cache key: scheme, host, path and query exactly as sent, and nothing
 * else: no header of the request (so no Range, conditional or client header
 * can shape what is stored), no fragment. Unknown query parameters are kept:
 * they change nothing in the answer, so the worst they do is miss the cache,
 * whereas dropping parameters by name could one day serve one query's answer
 * to another.
 */
export function cacheKey(url: string): Request {
  const u = new URL(url);
  return new Request(`${u.origin}${u.pathname}${u.search}`, { method: "GET" });
}

/**
 * A request that asks for a fresh answer (`Cache-Control: no-cache` or
 * `max-age=0`, or `Pragma: no-cache`) is computed, and counted, like any
 * miss; its answer then refreshes the stored copy for everyone.
 */
export function wantsFresh(request: Request): boolean {
  const directives = (request.headers.get("Cache-Control") ?? "").toLowerCase();
  return (
    /(^|,)\s*(no-cache|max-age=0)\s*(,|$)/.test(directives) || /no-cache/i.test(request.headers.get("Pragma") ?? "")
  );
}

/**
 * Answers with a max-age below this move with every publish (latest, lists,
 * feed, keys, relayer, alerts: `max-age=15`). They are stored only when the
 * deployment opts in (EDGE_CACHE_SHORT_ANSWERS=1): a publish by the cron
 * cannot drop them from every location's cache, so storing them means
 * serving the previous attestation for up to their max-age after each publish.
 */
export const MOVING_MAX_AGE_SECONDS = 60;

/**
 * The freshness the route itself declared: a public, positive max-age, no
 * `no-store`, `private` or `no-cache`; and at least MOVING_MAX_AGE_SECONDS
 * unless `moving` answers are stored too.
 */
export function storable(response: Response, options: { moving?: boolean } = {}): boolean {
  if (response.status !== 200 || response.headers.has("Set-Cookie") || response.headers.get("Vary")?.includes("*"))
    return false;
  const directives = (response.headers.get("Cache-Control") ?? "")
    .toLowerCase()
    .split(",")
    .map((d) => d.trim());
  if (!directives.includes("public")) return false;
  if (directives.some((d) => d === "no-store" || d === "no-cache" || d.startsWith("private"))) return false;
  const maxAge = /^max-age=([1-9][0-9]*)$/.exec(directives.find((d) => d.startsWith("max-age=")) ?? "");
  if (maxAge === null) return false;
  return options.moving === true || Number(maxAge[1]) >= MOVING_MAX_AGE_SECONDS;
}

function defaultCache(): Cache | undefined {
  // workerd's `caches.default` (the DOM typing of `caches` does not know it)
  return typeof caches === "undefined" ? undefined : (caches as unknown as { default: Cache }).default;
}

function inBackground(c: Context<AppEnv>, work: Promise<unknown>): Promise<void> | void {
  const logged = work.catch((error: unknown) => console.warn("edge cache", error));
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    return logged.then(() => undefined); // no execution context (a test calling app.request): wait here
  }
}

export interface EdgeCacheOptions {
  /** The cache to use; `caches.default` by default (per Cloudflare location, not replicated). */
  cache?: () => Cache | undefined;
  /** The clock (ms); tests only. */
  now?: () => number;
  /** Store the answers that move with each publish too; default: the EDGE_CACHE_SHORT_ANSWERS variable is "1". */
  moving?: boolean;
}

/**
 * Serves public answers from the Workers Cache API before the rate limit is
 * consulted: a hit never counts against anyone's budget, and costs no D1 or
 * R2 read. Misses run the route and store its 200 when the route declared it
 * public with a max-age: the immutable answers (attestations, reports and
 * proofs by sequence, feed rounds by roundId) for a year, the API documents
 * for theirs, and, when the deployment opts in, the moving answers for their
 * short max-age. The route's own Cache-Control decides, so `no-store`
 * answers (the gate, errors, admin) are never kept. A hit carries `Age`, so
 * browsers and proxies downstream count the time it already spent here.
 */
export function edgeCache(options: EdgeCacheOptions = {}): MiddlewareHandler<AppEnv> {
  const open = options.cache ?? defaultCache;
  const now = options.now ?? Date.now;
  return async (c, next) => {
    const cache = cacheableRequest(c.req.raw, c.req.path) ? open() : undefined;
    if (cache === undefined) return next();
    const key = cacheKey(c.req.url);
    let hit: Response | undefined;
    try {
      if (!wantsFresh(c.req.raw)) hit = await cache.match(key);
    } catch (error) {
      console.warn("edge cache lookup failed; computing the answer", error);
    }
    if (hit !== undefined) {
      const served = new Response(hit.body, hit);
      const storedAt = Number(served.headers.get(STORED_AT_HEADER));
      served.headers.delete(STORED_AT_HEADER);
      if (Number.isFinite(storedAt) && storedAt > 0)
        served.headers.set("Age", String(Math.max(0, Math.floor((now() - storedAt) / 1000))));
      served.headers.set(CACHE_STATUS_HEADER, "hit");
      return served;
    }
    await next();
    if (!storable(c.res, { moving: options.moving ?? c.env.EDGE_CACHE_SHORT_ANSWERS === "1" })) {
      c.header(CACHE_STATUS_HEADER, "bypass");
      return;
    }
    const copy = c.res.clone();
    const stored = new Response(copy.body, copy);
    stored.headers.set(STORED_AT_HEADER, String(now()));
    c.header(CACHE_STATUS_HEADER, "miss");
    await inBackground(c, cache.put(key, stored));
  };
}

/**
 * The answers that move when `issuerId` publishes, on `origin`: dropped from
 * this location's cache after an admin publish, so the publishing operator
 * (and everyone served by the same location) sees the new attestation at
 * once. Other locations, and publishes by the cron, catch up within the
 * routes' short max-age.
 */
export async function forgetMovingAnswers(
  origin: string,
  issuerId: string,
  options: { cache?: () => Cache | undefined } = {},
): Promise<void> {
  const cache = (options.cache ?? defaultCache)();
  if (cache === undefined) return;
  const id = encodeURIComponent(issuerId);
  const paths = [
    "/v1/issuers",
    `/v1/issuers/${id}/attestations/latest`,
    `/v1/issuers/${id}/attestations`,
    `/v1/issuers/${id}/feed`,
    `/v1/issuers/${id}/relayer`,
    `/v1/issuers/${id}/alerts`,
    "/.well-known/solvent/keys.json",
  ];
  await Promise.all(paths.map((p) => cache.delete(cacheKey(`${origin}${p}`)).catch(() => false)));
}
