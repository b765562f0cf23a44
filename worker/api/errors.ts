import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "../../core/config/parseConfig.js";
import { echo, SolventError } from "../../core/errors.js";

/** Every error code the HTTP API answers with (SPEC §10 error shape). */
export type ApiErrorCode =
  | "BAD_REQUEST"
  | "INVALID_PARAMETER"
  | "INVALID_BODY"
  | "PAYLOAD_TOO_LARGE"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "UNKNOWN_ISSUER"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "REQUEST_TIMEOUT"
  | "STATEMENT_REJECTED"
  | "LEDGER_INVALID"
  | "MISCONFIGURED"
  | "UNAVAILABLE"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL";

/** An error the API reports as `{ error: { code, message, record? } }` with `status`. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(status, { message });
  }
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...details } };
}

/** A request body that arrived slower than worker/api/bodyTimeout.ts allows; answered 408 REQUEST_TIMEOUT. */
export class BodyTimeoutError extends Error {
  override readonly name = "BodyTimeoutError";
  constructor(
    readonly receivedBytes: number,
    readonly elapsedMs: number,
    graceMs: number,
    minBytesPerSecond: number,
  ) {
    super(
      `the request body arrived too slowly: ${receivedBytes} bytes in ${(elapsedMs / 1000).toFixed(1)} s; ` +
        `a body must arrive within ${graceMs / 1000} s plus 1 s per ${minBytesPerSecond} bytes. Send it again in one go`,
    );
  }
}

/** Longest message an error answer carries; routes bound their own echoes of input well below it. */
export const MAX_ERROR_MESSAGE = 1000;
/** Longest top-level string detail (field, parameter, reason, record …) of an error answer. */
const MAX_ERROR_DETAIL = 200;

/**
 * The backstop behind every route's own bounds: no error answer echoes more
 * than MAX_ERROR_MESSAGE characters of message, nor long top-level details,
 * whatever a request carried.
 */
function bounded(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (details === undefined) return undefined;
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, typeof v === "string" ? echo(v, MAX_ERROR_DETAIL) : v]));
}

/** Shapes every thrown error once (app.onError). Internal errors never leak their text. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof BodyTimeoutError) return c.json(errorBody("REQUEST_TIMEOUT", err.message, { receivedBytes: err.receivedBytes }), 408);
  if (err instanceof ApiError) return c.json(errorBody(err.code, echo(err.message, MAX_ERROR_MESSAGE), bounded(err.details)), err.status);
  if (err instanceof ConfigError) {
    // Never to the public: the paths and reasons are logged (and listed at /health), the answer is generic.
    console.error("configuration error", err.message);
    c.header("Cache-Control", "no-store");
    return c.json(errorBody("SERVICE_UNAVAILABLE", "the publisher is temporarily unavailable; try again later"), 503);
  }
  if (err instanceof SolventError) return c.json(errorBody(err.code, echo(err.message, MAX_ERROR_MESSAGE), bounded({ record: err.record })), 400);
  if (err instanceof HTTPException) return c.json(errorBody("BAD_REQUEST", echo(err.message, MAX_ERROR_MESSAGE)), err.status);
  console.error("unhandled error", err);
  return c.json(errorBody("INTERNAL", "internal error"), 500);
}
