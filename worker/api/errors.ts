import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "../../core/config/parseConfig.js";
import { echo, SolventError } from "../../core/errors.js";

/**
 * Every error code the HTTP API answers with (SPEC §10 error shape), and the
 * one place its HTTP status is chosen: a route or feature throws a code, never
 * a status. STATEMENT_REJECTED depends on its `reason` (STATUS_BY_REASON).
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_PARAMETER: 400,
  INVALID_BODY: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UNKNOWN_ISSUER: 404,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  SEQUENCE_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STATEMENT_REJECTED: 422,
  LEDGER_INVALID: 422,
  DISPUTE_INVALID: 422,
  NOT_PUBLISHED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  MISCONFIGURED: 503,
  UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ApiErrorCode = keyof typeof ERROR_STATUS;

/**
 * A rejected custodian statement that conflicts with what is stored (a nonce
 * this new or newer) is 409: repeating it can never succeed. Every other
 * rejection is 422: the body parsed, but its content is not acceptable.
 */
const STATUS_BY_REASON: Partial<Record<ApiErrorCode, Record<string, ContentfulStatusCode>>> = {
  STATEMENT_REJECTED: { REPLAYED_NONCE: 409 },
};

/** The HTTP status of `code` (and of its `reason`, where the table refines one). */
export function statusOf(code: ApiErrorCode, reason?: unknown): ContentfulStatusCode {
  const refined = typeof reason === "string" ? STATUS_BY_REASON[code]?.[reason] : undefined;
  return refined ?? ERROR_STATUS[code];
}

/**
 * The detail naming what in the request is wrong (a path or query parameter,
 * a header, a body field), in every error answer: `field`.
 */
export interface ErrorDetails extends Record<string, unknown> {
  field?: string;
}

/**
 * An error the API reports as `{ error: { code, message, field?, … } }`, with
 * the status ERROR_STATUS gives its code.
 */
export class ApiError extends HTTPException {
  readonly code: ApiErrorCode;
  readonly details: ErrorDetails | undefined;
  constructor(code: ApiErrorCode, message: string, details?: ErrorDetails) {
    const status = statusOf(code, details?.reason);
    super(status, { message });
    this.code = code;
    this.details = details;
  }
}

/** 404 NOT_FOUND: the issuer has published no attestation (at `sequence`) yet. */
export function noAttestation(issuerId: string, sequence?: bigint): never {
  const what = sequence === undefined ? "any attestation" : `attestation ${sequence}`;
  throw new ApiError("NOT_FOUND", `issuer "${issuerId}" has no ${what} yet`);
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
/** Longest top-level string detail (field, reason …) of an error answer. */
const MAX_ERROR_DETAIL = 200;

/**
 * The backstop behind every route's own bounds: no error answer echoes more
 * than MAX_ERROR_MESSAGE characters of message, nor long top-level details,
 * whatever a request carried.
 */
function bounded(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (details === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(details).map(([k, v]) => [k, typeof v === "string" ? echo(v, MAX_ERROR_DETAIL) : v]),
  );
}

/** Shapes every thrown error once (app.onError). Internal errors never leak their text. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof BodyTimeoutError) {
    return c.json(
      errorBody("REQUEST_TIMEOUT", err.message, { receivedBytes: err.receivedBytes }),
      statusOf("REQUEST_TIMEOUT"),
    );
  }
  if (err instanceof ApiError)
    return c.json(errorBody(err.code, echo(err.message, MAX_ERROR_MESSAGE), bounded(err.details)), err.status);
  if (err instanceof ConfigError) {
    // Never to the public: the paths and reasons are logged (and listed at /health), the answer is generic.
    console.error("configuration error", err.message);
    c.header("Cache-Control", "no-store");
    return c.json(
      errorBody("SERVICE_UNAVAILABLE", "the publisher is temporarily unavailable; try again later"),
      statusOf("SERVICE_UNAVAILABLE"),
    );
  }
  // A domain error the route did not map names its record; it is the request's fault.
  if (err instanceof SolventError) {
    return c.json(
      errorBody(err.code, echo(err.message, MAX_ERROR_MESSAGE), bounded({ field: err.record })),
      statusOf("BAD_REQUEST"),
    );
  }
  if (err instanceof HTTPException)
    return c.json(errorBody("BAD_REQUEST", echo(err.message, MAX_ERROR_MESSAGE)), err.status);
  console.error("unhandled error", err);
  return c.json(errorBody("INTERNAL", "internal error"), statusOf("INTERNAL"));
}
