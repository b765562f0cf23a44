import { createRoute, z } from "@hono/zod-openapi";
import { UINT64_MAX } from "../../core/numbers.js";
import { attestationPage, attestationRange } from "../storage/attestationStore.js";
import { attestationsCsv } from "./attestationCsv.js";
import { ApiError } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { publicApi, requestOrigin, SHORT_CACHE } from "./openapi.js";
import {
  AttestationPage,
  cacheHeader,
  commonErrors,
  DEFAULT_PAGE_LIMIT,
  decimalParam,
  errorResponse,
  IssuerParams,
  MAX_PAGE_LIMIT,
  signedAttestationJson,
} from "./schemas.js";

/** The most attestations one `from`/`to` range answers. */
export const MAX_RANGE = 1000;

const PageQuery = z.object({
  before: decimalParam({ min: 1n, max: UINT64_MAX })
    .optional()
    .openapi({
      param: { name: "before", in: "query" },
      description:
        "Only attestations with a smaller sequence (the previous page's `nextBefore`). Default: from the latest.",
      example: "22",
    }),
  limit: decimalParam({ min: 1n, max: BigInt(MAX_PAGE_LIMIT) })
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      description: `Page size, 1 to ${MAX_PAGE_LIMIT}. Default ${DEFAULT_PAGE_LIMIT}.`,
      example: "20",
    }),
  from: decimalParam({ min: 1n, max: UINT64_MAX })
    .optional()
    .openapi({
      param: { name: "from", in: "query" },
      description: `First sequence of a range (inclusive), instead of \`before\`/\`limit\`. Without \`to\`: the ${MAX_RANGE} from here on.`,
      example: "1",
    }),
  to: decimalParam({ min: 1n, max: UINT64_MAX })
    .optional()
    .openapi({
      param: { name: "to", in: "query" },
      description: `Last sequence of a range (inclusive). Without \`from\`: the ${MAX_RANGE} up to here. A range spans at most ${MAX_RANGE} sequences.`,
      example: "500",
    }),
  format: z
    .enum(["json", "csv"], { error: 'must be "json" or "csv"' })
    .optional()
    .openapi({
      param: { name: "format", in: "query" },
      description:
        "json (default) or csv: one row per attestation, oldest first, with every signed field as published (integers exact) plus readable columns (observedAtUtc, reservesDollars, liabilitiesDollars, ratioPercent, flagNames).",
      example: "csv",
    }),
});

/** The sequences a `from`/`to` query asks for, checked against MAX_RANGE; null when it asks for none (paging instead). */
function requestedRange(query: {
  before?: bigint;
  limit?: bigint;
  from?: bigint;
  to?: bigint;
}): { from: bigint; to: bigint } | null {
  const { from, to } = query;
  if (from === undefined && to === undefined) return null;
  if (query.before !== undefined || query.limit !== undefined) {
    throw new ApiError(
      "INVALID_PARAMETER",
      "from/to select a range; before/limit page from the latest: use one or the other",
      { field: "from" },
    );
  }
  const span = BigInt(MAX_RANGE) - 1n;
  const first = from ?? (to! > span ? to! - span : 1n);
  const last = to ?? (first + span > UINT64_MAX ? UINT64_MAX : first + span);
  if (last < first) throw new ApiError("INVALID_PARAMETER", `to (${last}) is below from (${first})`, { field: "to" });
  if (last - first > span) {
    throw new ApiError(
      "INVALID_PARAMETER",
      `from ${first} to ${last} spans ${last - first + 1n} sequences; ask for at most ${MAX_RANGE} at a time`,
      { field: "to" },
    );
  }
  return { from: first, to: last };
}

/** SPEC §10 `GET /v1/issuers/{issuer}/attestations`: a page or a range of the history, as JSON or CSV. */
export const attestationHistoryRoute = publicApi();

attestationHistoryRoute.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/attestations",
    tags: ["attestations"],
    summary: "Attestation history",
    description: `A page of the issuer's attestations, newest first (follow \`nextBefore\` for older pages), or a range \`from\`–\`to\` of at most ${MAX_RANGE} sequences (JSON newest first with \`nextBefore\` null; CSV oldest first). \`format=csv\` answers the same selection as a CSV download.`,
    middleware: [knownIssuer] as const,
    request: { params: IssuerParams, query: PageQuery },
    responses: {
      200: {
        description: "One page or range (empty before the first attestation, or when the range holds none).",
        headers: cacheHeader(SHORT_CACHE),
        content: {
          "application/json": { schema: AttestationPage },
          "text/csv": { schema: z.string().openapi({ example: "issuer,sequence,observedAt,…\ndemo,1,1767225600,…" }) },
        },
      },
      404: errorResponse("UNKNOWN_ISSUER: the issuer is not configured here."),
      ...commonErrors,
      400: errorResponse(
        "INVALID_PARAMETER: a malformed value, before/limit mixed with from/to, to below from, or a range over the limit.",
      ),
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    const query = c.req.valid("query");
    const range = requestedRange(query);
    let attestations;
    let nextBefore: bigint | null = null;
    if (range) {
      attestations = (await attestationRange(c.env.DB, issuer.id, range.from, range.to)).reverse();
    } else {
      const page = await attestationPage(c.env.DB, issuer.id, {
        limit: query.limit === undefined ? DEFAULT_PAGE_LIMIT : Number(query.limit),
        ...(query.before === undefined ? {} : { before: query.before }),
      });
      attestations = page.attestations;
      nextBefore = page.nextBefore;
    }
    const origin = requestOrigin(c);
    c.header("Cache-Control", SHORT_CACHE);
    if (query.format === "csv") {
      const oldestFirst = [...attestations].reverse();
      const first = oldestFirst[0]?.attestation.sequence ?? range?.from;
      const last = oldestFirst.at(-1)?.attestation.sequence ?? range?.to;
      const name = `${issuer.id}-attestations${first === undefined ? "" : `-${first}-${last}`}.csv`;
      // A text answer on a route whose typing only knows c.json, hence the cast (as for report bytes).
      const response = c.body(attestationsCsv(oldestFirst, origin), 200, {
        "Content-Type": "text/csv; charset=utf-8; header=present",
        "Content-Disposition": `attachment; filename="${name}"`,
      });
      return response as unknown as never;
    }
    return c.json(
      {
        issuer: issuer.id,
        attestations: attestations.map((a) => signedAttestationJson(a, origin)),
        nextBefore: nextBefore === null ? null : nextBefore.toString(),
      },
      200,
    );
  },
);
