import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.js";
import { BodyTimeoutError, handleError } from "./errors.js";

/** Seconds any request body has to start and arrive in, before the minimum rate applies. */
export const BODY_GRACE_SECONDS = 10;
/** The slowest average a body may arrive at once the grace has passed: each 16 KiB earns one more second. */
export const BODY_MIN_BYTES_PER_SECOND = 16 * 1024;

export interface BodyTimeoutOptions {
  graceMs?: number;
  minBytesPerSecond?: number;
  /** The clock (ms); tests only. */
  now?: () => number;
}

/**
 * The one place every request body is read through: a body must have fully
 * arrived by `start + grace + received / minRate`, i.e. within 10 s, and
 * after that at no less than 16 KiB/s on average. A body that stalls, or
 * trickles (one byte every 2 s), fails its read with BodyTimeoutError once
 * the deadline passes, whatever route reads it (statements, ledger uploads
 * and parts, small JSON bodies); the route's own cleanup runs as for any
 * failed read, and the answer is 408. A fast upload of any size is never cut:
 * each chunk moves the deadline.
 */
export function bodyTimeout(options: BodyTimeoutOptions = {}): MiddlewareHandler<AppEnv> {
  const graceMs = options.graceMs ?? BODY_GRACE_SECONDS * 1000;
  const rate = options.minBytesPerSecond ?? BODY_MIN_BYTES_PER_SECOND;
  const now = options.now ?? Date.now;
  return async (c, next) => {
    const body = c.req.raw.body;
    if (body === null || c.req.method === "GET" || c.req.method === "HEAD") return next();
    const start = now();
    let timedOut: BodyTimeoutError | null = null;
    const reader = body.getReader();
    let received = 0;
    const timed = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const left = start + graceMs + (received * 1000) / rate - now();
          let timer: ReturnType<typeof setTimeout> | undefined;
          const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => {
                timedOut = new BodyTimeoutError(received, now() - start, graceMs, rate);
                reject(timedOut);
              },
              Math.max(0, left),
            );
          });
          try {
            const chunk = await Promise.race([reader.read(), deadline]);
            if (chunk.done) controller.close();
            else {
              received += chunk.value.byteLength;
              controller.enqueue(chunk.value);
            }
          } catch (error) {
            reader.cancel(error).catch(() => {});
            controller.error(error);
          } finally {
            clearTimeout(timer);
          }
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    c.req.raw = new Request(c.req.raw, { body: timed, duplex: "half" } as RequestInit);
    await next();
    // However the route reported the failed read (some turn any read error into 400), the answer is 408.
    if (timedOut !== null && c.res.status !== 408) c.res = handleError(timedOut, c);
  };
}
