import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/** What the middleware needs of a limiter: the Workers rate-limit binding's `limit`. */
export interface Limiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export interface RateLimitOptions {
  /** The limiter for this request, usually a binding: `(c) => c.env.PUBLIC_RATE_LIMIT`. */
  limiter: (c: Context<AppEnv>) => Limiter;
  /** Seconds a client waits after a refusal: the binding's period (wrangler.toml `simple.period`). */
  retryAfterSeconds: number;
  /** Prefix of the limiter key, so that limits of different route groups never share a count. */
  keyPrefix?: string;
}

/** The key of a request without CF-Connecting-IP (only outside Cloudflare's edge, e.g. tests and local dev). */
export const UNKNOWN_CLIENT = "unknown-client";

/** The client's address as Cloudflare saw it; the constant fallback makes all unaddressed callers share one budget. */
export function clientKey(c: Context): string {
  const ip = c.req.header("CF-Connecting-IP")?.trim();
  return ip === undefined || ip === "" ? UNKNOWN_CLIENT : ip;
}

/**
 * Refuses a request over the client's budget with 429 RATE_LIMITED and
 * `Retry-After`. CORS preflights are not counted (browsers cache them). The
 * refusal is CORS-readable, so a browser app can see why and when to retry.
 * If the limiter itself fails the request goes through: the limit protects
 * the service, it is not an authorisation.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const { limiter, retryAfterSeconds, keyPrefix = "public" } = options;
  return async (c, next) => {
    if (c.req.method === "OPTIONS") return next();
    let allowed = true;
    try {
      allowed = (await limiter(c).limit({ key: `${keyPrefix}:${clientKey(c)}` })).success;
    } catch (error) {
      console.error("rate limiter failed; letting the request through", error);
    }
    if (!allowed) {
      c.header("Retry-After", String(retryAfterSeconds));
      c.header("Access-Control-Allow-Origin", "*");
      c.header("Access-Control-Expose-Headers", "Retry-After");
      throw new ApiError(429, "RATE_LIMITED", `too many requests from this address; retry after ${retryAfterSeconds} seconds`, {
        retryAfterSeconds,
      });
    }
    await next();
  };
}

/** The period of the PUBLIC_RATE_LIMIT binding in wrangler.toml (`simple = { limit = 600, period = 60 }`). */
export const PUBLIC_RATE_LIMIT_PERIOD_SECONDS = 60;

/** The public routes' limiter: PUBLIC_RATE_LIMIT, keyed by client address. */
export const publicRateLimit = rateLimit({
  limiter: (c) => c.env.PUBLIC_RATE_LIMIT,
  retryAfterSeconds: PUBLIC_RATE_LIMIT_PERIOD_SECONDS,
});
