/**
 * What the ledger routes read from a request (the issuer's configured ledger,
 * the body's format and units, the upload's asOf, the body itself) and how the
 * ledger workflows' refusals (worker/ledger/ledgerErrors.ts) answer: one table
 * from their code to the HTTP status and error code.
 */
import type { Context, ErrorHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AmountUnits } from "../../core/numbers.js";
import { LedgerError, type LedgerErrorCode } from "../ledger/ledgerErrors.js";
import { ledgerTarget, type LedgerTarget, type UploadBody } from "../ledger/ledgerIntake.js";
import type { LedgerFormat } from "../ledger/parseLedger.js";
import type { AppEnv } from "./context.js";
import { ApiError, handleError, type ApiErrorCode } from "./errors.js";

/** The issuer of the path's `:issuer` and its configured ledger: 404 when it is not published here, 409 when it has no ledger. */
export function configuredLedger(c: Context<AppEnv>): LedgerTarget {
  const id = c.req.param("issuer") ?? "";
  const issuer = c.var.config.issuers.find((i) => i.id === id);
  if (!issuer) throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${id.slice(0, 80)}" is not published here`);
  return ledgerTarget(issuer);
}

/**
 * How the upload writes amounts, from `?units=decimal|base`: whole units of
 * each asset's configured decimals, or base units; undefined when not given.
 */
export function requestedUnits(c: Context<AppEnv>): AmountUnits | undefined {
  const given = c.req.queries("units") ?? [];
  if (given.length > 1) throw new ApiError(400, "INVALID_PARAMETER", "give units at most once", { field: "units" });
  const named = given[0];
  if (named !== undefined && named !== "decimal" && named !== "base") {
    throw new ApiError(400, "INVALID_PARAMETER", `units must be decimal (amounts like 1500.25, the default) or base (the asset's smallest unit), got "${named.slice(0, 40)}"`, {
      field: "units",
    });
  }
  return named;
}

/** The body's format from ?format or the Content-Type; undefined when neither says. */
export function requestedFormat(c: Context<AppEnv>): LedgerFormat | undefined {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  const typed: LedgerFormat | undefined = type === "text/csv" ? "csv" : type === "application/x-ndjson" || type === "application/ndjson" ? "ndjson" : undefined;
  const query = c.req.query("format");
  if (query !== undefined) {
    if (query !== "csv" && query !== "ndjson") throw new ApiError(400, "INVALID_PARAMETER", `format must be csv or ndjson, got "${query.slice(0, 40)}"`, { field: "format" });
    // Reading the body as the other format would fail every row for one fault: refuse the contradiction instead.
    if (typed !== undefined && typed !== query) {
      throw new ApiError(415, "INVALID_PARAMETER", `format=${query} but the Content-Type says ${type}: give one format`, { field: "Content-Type" });
    }
    return query;
  }
  return typed;
}

/** The format of a whole-ledger body, which must say one. */
export function bodyFormat(c: Context<AppEnv>): LedgerFormat {
  const named = requestedFormat(c);
  if (named !== undefined) return named;
  throw new ApiError(415, "INVALID_PARAMETER", "Content-Type must be text/csv or application/x-ndjson (or give ?format=csv|ndjson)", {
    field: "Content-Type",
  });
}

/**
 * The upload's `asOf` query parameter (SPEC §4 liabilities.ledger): when the
 * balances were true, unix seconds; undefined when absent (the upload's time).
 */
export function requestedAsOf(c: Context<AppEnv>): number | undefined {
  const raw = c.req.query("asOf");
  if (raw === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,11})$/.test(raw)) {
    throw new ApiError(400, "INVALID_PARAMETER", `asOf must be unix seconds (a non-negative integer, no sign or exponent), got "${raw.slice(0, 40)}"`, {
      field: "asOf",
    });
  }
  return Number(raw);
}

/** The request body as a stream, and the size its Content-Length declares. */
export function uploadBody(c: Context<AppEnv>): UploadBody {
  return { body: c.req.raw.body, declaredBytes: Number(c.req.header("Content-Length") ?? "0") };
}

export const statusPath = (issuerId: string, ledgerId: string) => `/v1/admin/issuers/${issuerId}/ledgers/${ledgerId}`;

/** The absolute URL of a ledger's status route. */
export const statusUrl = (c: Context<AppEnv>, issuerId: string, ledgerId: string) => new URL(statusPath(issuerId, ledgerId), c.req.url).toString();

/** How each ledger refusal answers: HTTP status and the error code of the answer. */
const LEDGER_ERROR_ANSWERS: Record<LedgerErrorCode, readonly [ContentfulStatusCode, ApiErrorCode]> = {
  NOT_FOUND: [404, "NOT_FOUND"],
  CONFLICT: [409, "CONFLICT"],
  INVALID_PARAMETER: [400, "INVALID_PARAMETER"],
  FORMAT_MISMATCH: [415, "INVALID_PARAMETER"],
  PAYLOAD_TOO_LARGE: [413, "PAYLOAD_TOO_LARGE"],
  LEDGER_INVALID: [422, "LEDGER_INVALID"],
  INTERNAL: [500, "INTERNAL"],
};

/** The ledger routes' error handler: a LedgerError answers by the table, anything else as every route does. */
export const answerLedgerError: ErrorHandler<AppEnv> = (err, c) => {
  if (!(err instanceof LedgerError)) return handleError(err, c);
  const [status, code] = LEDGER_ERROR_ANSWERS[err.code];
  return handleError(new ApiError(status, code, err.message, err.details), c);
};
