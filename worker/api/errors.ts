import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "../../core/config/parseConfig.js";
import { SolventError } from "../../core/errors.js";

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

/** Shapes every thrown error once (app.onError). Internal errors never leak their text. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message, err.details), err.status);
  if (err instanceof ConfigError) {
    // Never to the public: the paths and reasons are logged (and listed at /health), the answer is generic.
    console.error("configuration error", err.message);
    c.header("Cache-Control", "no-store");
    return c.json(errorBody("SERVICE_UNAVAILABLE", "the publisher is temporarily unavailable; try again later"), 503);
  }
  if (err instanceof SolventError) return c.json(errorBody(err.code, err.message, { record: err.record }), 400);
  if (err instanceof HTTPException) return c.json(errorBody("BAD_REQUEST", err.message), err.status);
  console.error("unhandled error", err);
  return c.json(errorBody("INTERNAL", "internal error"), 500);
}
