/**
 * What the ledger routes read from a request, declared once for their
 * createRoute definitions (path and query parameters, the body's format and
 * stream), and how the ledger workflows' refusals (worker/ledger/ledgerErrors.ts)
 * answer: their codes are API codes, so ERROR_STATUS (errors.ts) picks the status.
 */
import { z } from "@hono/zod-openapi";
import type { Context, ErrorHandler } from "hono";
import { LedgerError } from "../ledger/ledgerErrors.js";
import { MAX_UPLOAD_PARTS } from "../ledger/ledgerFormat.js";
import type { UploadBody } from "../ledger/ledgerIntake.js";
import type { LedgerFormat } from "../ledger/parseLedger.js";
import type { AppEnv } from "./context.js";
import { ApiError, handleError } from "./errors.js";
import { errorResponse, IssuerParam } from "./schemas.js";

/** `got "<input>"` for a message about a query or path value (bounded). */
const got = (input: unknown) => (typeof input === "string" ? `, got "${input.slice(0, 40)}"` : "");
/** A query parameter given more than once arrives as an array. */
const once = (input: unknown) => (Array.isArray(input) ? "must be given at most once" : undefined);

const Units = z
  .enum(["decimal", "base"], {
    error: (issue) =>
      once(issue.input) ??
      `must be decimal (amounts like 1500.25, the default) or base (the asset's smallest unit)${got(issue.input)}`,
  })
  .optional()
  .openapi({
    param: { name: "units", in: "query" },
    description:
      "How amounts are written: `decimal` (default) in whole units of each asset's configured decimals (`1500.25` USD of 6 decimals is 1500250000 base units; more fractional digits than the asset has is a row error), or `base` in the asset's smallest unit (SPEC §1 integers). A multi-part upload records it at creation for every part.",
  });

const AsOf = z
  .string({ error: (issue) => once(issue.input) ?? "must be unix seconds" })
  .regex(/^(0|[1-9][0-9]{0,11})$/, {
    error: (issue) => `must be unix seconds (a non-negative integer, no sign or exponent)${got(issue.input)}`,
  })
  .transform(Number)
  .optional()
  .openapi({
    param: { name: "asOf", in: "query" },
    type: "string",
    pattern: "^(0|[1-9][0-9]{0,11})$",
    description:
      "Unix seconds when the balances were true (SPEC §4 liabilities.ledger.asOf); default: the upload's time. 409 when later than the upload (the publisher's clock; no skew) or not newer than every complete or unfinished ledger of the issuer.",
  });

const Format = z
  .enum(["csv", "ndjson"], { error: (issue) => once(issue.input) ?? `must be csv or ndjson${got(issue.input)}` })
  .optional()
  .openapi({
    param: { name: "format", in: "query" },
    description: "The body's format when the Content-Type does not say it; never contradicting it.",
  });

/** Query of a ledger body upload: units, format, asOf. */
export const UploadQuery = z.object({ units: Units, format: Format, asOf: AsOf });
/** Query of a multi-part upload's creation: units and asOf (the format is in the body). */
export const CreateQuery = z.object({ units: Units, asOf: AsOf });
/** Query of a part: units and format, which may only repeat the upload's. */
export const PartQuery = z.object({ units: Units, format: Format });

const LedgerIdParam = z.string().openapi({
  param: { name: "ledgerId", in: "path" },
  pattern: "^lg_[0-9a-f]{32}$",
  description: "The ledger id an upload answered.",
  example: `lg_${"0f".repeat(16)}`,
});
export const LedgerParams = z.object({ issuer: IssuerParam, ledgerId: LedgerIdParam });
export const PartParams = LedgerParams.extend({
  part: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,3})$/, {
      error: (issue) => `must be a part number 0..${MAX_UPLOAD_PARTS - 1}${got(issue.input)}`,
    })
    .refine((s) => Number(s) < MAX_UPLOAD_PARTS, {
      error: (issue) => `must be a part number 0..${MAX_UPLOAD_PARTS - 1}${got(issue.input)}`,
    })
    .transform(Number)
    .openapi({
      param: { name: "part", in: "path" },
      type: "string",
      pattern: "^(0|[1-9][0-9]{0,3})$",
      description: `0 to ${MAX_UPLOAD_PARTS - 1}.`,
    }),
});
export const ShardParams = LedgerParams.extend({
  shard: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,8})$/, { error: "must be a shard number" })
    .transform(Number)
    .openapi({
      param: { name: "shard", in: "path" },
      type: "string",
      pattern: "^(0|[1-9][0-9]{0,8})$",
      description: "The shard number (manifest.shardCount).",
    }),
});

/** A ledger body as the OpenAPI document describes it (it is streamed, never validated as a whole). */
export const LedgerBody = {
  required: true,
  content: { "text/csv": { schema: z.string() }, "application/x-ndjson": { schema: z.string() } },
};

/** The refusals of a ledger body's format and size. */
export const bodyErrors = {
  413: errorResponse("PAYLOAD_TOO_LARGE."),
  415: errorResponse(
    "UNSUPPORTED_MEDIA_TYPE: the Content-Type is not text/csv or application/x-ndjson, or contradicts ?format or the upload's format.",
  ),
};

/** The body's format from ?format (validated) or the Content-Type; undefined when neither says. */
export function requestedFormat<E extends AppEnv>(
  c: Context<E>,
  query: LedgerFormat | undefined,
): LedgerFormat | undefined {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  const typed: LedgerFormat | undefined =
    type === "text/csv"
      ? "csv"
      : type === "application/x-ndjson" || type === "application/ndjson"
        ? "ndjson"
        : undefined;
  // Reading the body as the other format would fail every row for one fault: refuse the contradiction instead.
  if (query !== undefined && typed !== undefined && typed !== query) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `format=${query} but the Content-Type says ${type}: give one format`, {
      field: "Content-Type",
    });
  }
  return query ?? typed;
}

/** The format of a whole-ledger body, which must say one. */
export function bodyFormat<E extends AppEnv>(c: Context<E>, query: LedgerFormat | undefined): LedgerFormat {
  const named = requestedFormat(c, query);
  if (named !== undefined) return named;
  throw new ApiError(
    "UNSUPPORTED_MEDIA_TYPE",
    "Content-Type must be text/csv or application/x-ndjson (or give ?format=csv|ndjson)",
    { field: "Content-Type" },
  );
}

/** The request body as a stream, and the size its Content-Length declares. */
export function uploadBody<E extends AppEnv>(c: Context<E>): UploadBody {
  return { body: c.req.raw.body, declaredBytes: Number(c.req.header("Content-Length") ?? "0") };
}

export const statusPath = (issuerId: string, ledgerId: string) => `/v1/admin/issuers/${issuerId}/ledgers/${ledgerId}`;

/** The absolute URL of a ledger's status route. */
export const statusUrl = <E extends AppEnv>(c: Context<E>, issuerId: string, ledgerId: string) =>
  new URL(statusPath(issuerId, ledgerId), c.req.url).toString();

/** The ledger routes' error handler: a LedgerError answers with its code (status from ERROR_STATUS), anything else as every route does. */
export const answerLedgerError: ErrorHandler<AppEnv> = (err, c) =>
  handleError(err instanceof LedgerError ? new ApiError(err.code, err.message, err.details) : err, c);
