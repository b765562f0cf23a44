import { createRoute, z } from "@hono/zod-openapi";
import { echo } from "../../core/errors.js";
import type { Context } from "hono";
import type { IssuerConfig } from "../../core/config/schema.js";
import { UINT64_MAX } from "../../core/numbers.js";
import {
  attestationBySequence,
  attestationPage,
  attestationRange,
  issuerSummaries,
  latestAttestation,
} from "../storage/attestationStore.js";
import { attestationsCsv } from "./attestationCsv.js";
import { getReport } from "../storage/reportStore.js";
import { publishedKeysDocument } from "../disputes/receiptKeys.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { IMMUTABLE_CACHE, publicApi, requestOrigin, SHORT_CACHE } from "./openapi.js";
import {
  AttestationPage,
  commonErrors,
  decimalParam,
  errorResponse,
  IssuerList,
  IssuerParams,
  IssuerSequenceParams,
  KeysDocument,
  SignedAttestation,
  signedAttestationJson,
} from "./schemas.js";

export { IMMUTABLE_CACHE, SHORT_CACHE } from "./openapi.js";

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/** The most attestations one `from`/`to` range answers. */
export const MAX_RANGE = 1000;

/** The configured issuer named by the path, or 404 UNKNOWN_ISSUER. */
export function configuredIssuer(c: Context<AppEnv>, id: string): IssuerConfig {
  const issuer = c.var.config.issuers.find((i) => i.id === id);
  if (!issuer) throw new ApiError("UNKNOWN_ISSUER", `issuer "${echo(id)}" is not published here`);
  return issuer;
}

export function noAttestation(issuerId: string, sequence?: bigint): never {
  const what = sequence === undefined ? "any attestation" : `attestation ${sequence}`;
  throw new ApiError("NOT_FOUND", `issuer "${issuerId}" has no ${what} yet`);
}

const cacheHeader = (value: string) => ({ "Cache-Control": { schema: { type: "string" as const, example: value }, description: value } });

const unknownIssuerOrMissing = errorResponse("UNKNOWN_ISSUER (not configured here) or NOT_FOUND (no such attestation yet).");

/**
 * SPEC §10 read routes: public, cacheable, CORS-open. Mounted at `/`; CORS is
 * scoped to these paths so it never wraps admin routes.
 */
export const publicRoutes = publicApi([
  "/v1/issuers",
  // also matches /v1/issuers/:issuer/attestations itself
  "/v1/issuers/:issuer/attestations/*",
  "/v1/issuers/:issuer/reports/*",
  "/.well-known/solvent/*",
]);

publicRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers",
    tags: ["attestations"],
    summary: "List issuers",
    description: "Every configured issuer with its latest sequence, ratioBps, flags and observedAt (null before its first attestation).",
    responses: {
      200: { description: "The issuers.", headers: cacheHeader(SHORT_CACHE), content: { "application/json": { schema: IssuerList } } },
      429: commonErrors[429],
      500: commonErrors[500],
    },
  }),
  async (c) => {
    const latest = new Map((await issuerSummaries(c.env.DB)).map((s) => [s.issuerId, s]));
    const issuers = c.var.config.issuers.map((issuer) => {
      const s = latest.get(issuer.id);
      return {
        id: issuer.id,
        name: issuer.name,
        sequence: s ? s.sequence.toString() : null,
        ratioBps: s ? s.ratioBps.toString() : null,
        flags: s ? s.flags.toString() : null,
        observedAt: s ? s.observedAt.toString() : null,
      };
    });
    c.header("Cache-Control", SHORT_CACHE);
    return c.json({ issuers }, 200);
  },
);

publicRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/attestations/latest",
    tags: ["attestations"],
    summary: "Latest attestation",
    description: "The issuer's newest signed attestation with its digest, signer and report URL.",
    request: { params: IssuerParams },
    responses: {
      200: { description: "The latest attestation.", headers: cacheHeader(SHORT_CACHE), content: { "application/json": { schema: SignedAttestation } } },
      404: unknownIssuerOrMissing,
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = configuredIssuer(c, c.req.valid("param").issuer);
    const stored = await latestAttestation(c.env.DB, issuer.id);
    if (!stored) noAttestation(issuer.id);
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(signedAttestationJson(stored, requestOrigin(c)), 200);
  },
);

publicRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/attestations/{sequence}",
    tags: ["attestations"],
    summary: "Attestation by sequence",
    description: "One attestation of the hash chain. Published attestations never change: cached for a year.",
    request: { params: IssuerSequenceParams },
    responses: {
      200: { description: "The attestation.", headers: cacheHeader(IMMUTABLE_CACHE), content: { "application/json": { schema: SignedAttestation } } },
      404: unknownIssuerOrMissing,
      ...commonErrors,
    },
  }),
  async (c) => {
    const { issuer: id, sequence } = c.req.valid("param");
    const issuer = configuredIssuer(c, id);
    const stored = await attestationBySequence(c.env.DB, issuer.id, sequence);
    if (!stored) noAttestation(issuer.id, sequence);
    c.header("Cache-Control", IMMUTABLE_CACHE);
    return c.json(signedAttestationJson(stored, requestOrigin(c)), 200);
  },
);

const PageQuery = z.object({
  before: decimalParam({ min: 1n, max: UINT64_MAX })
    .optional()
    .openapi({
      param: { name: "before", in: "query" },
      description: "Only attestations with a smaller sequence (the previous page's `nextBefore`). Default: from the latest.",
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
function requestedRange(query: { before?: bigint; limit?: bigint; from?: bigint; to?: bigint }): { from: bigint; to: bigint } | null {
  const { from, to } = query;
  if (from === undefined && to === undefined) return null;
  if (query.before !== undefined || query.limit !== undefined) {
    throw new ApiError("INVALID_PARAMETER", "from/to select a range; before/limit page from the latest: use one or the other", { field: "from" });
  }
  const span = BigInt(MAX_RANGE) - 1n;
  const first = from ?? (to! > span ? to! - span : 1n);
  const last = to ?? (first + span > UINT64_MAX ? UINT64_MAX : first + span);
  if (last < first) throw new ApiError("INVALID_PARAMETER", `to (${last}) is below from (${first})`, { field: "to" });
  if (last - first > span) {
    throw new ApiError("INVALID_PARAMETER", `from ${first} to ${last} spans ${last - first + 1n} sequences; ask for at most ${MAX_RANGE} at a time`, { field: "to" });
  }
  return { from: first, to: last };
}

publicRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/attestations",
    tags: ["attestations"],
    summary: "Attestation history",
    description: `A page of the issuer's attestations, newest first (follow \`nextBefore\` for older pages), or a range \`from\`–\`to\` of at most ${MAX_RANGE} sequences (JSON newest first with \`nextBefore\` null; CSV oldest first). \`format=csv\` answers the same selection as a CSV download.`,
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
      400: errorResponse("INVALID_PARAMETER: a malformed value, before/limit mixed with from/to, to below from, or a range over the limit."),
    },
  }),
  async (c) => {
    const issuer = configuredIssuer(c, c.req.valid("param").issuer);
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

publicRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/reports/{sequence}",
    tags: ["attestations"],
    summary: "Report bytes",
    description:
      "The SPEC §4 report of one attestation, byte for byte as stored: keccak256 of the body equals the attestation's `reportHash`. Do not re-serialise before hashing.",
    request: { params: IssuerSequenceParams },
    responses: {
      200: {
        description: "The report bytes (JSON). `ETag` is the reportHash.",
        headers: cacheHeader(IMMUTABLE_CACHE),
        content: { "application/json": { schema: z.object({}).passthrough().openapi({ description: "SPEC §4 report", example: { version: 1, issuer: "demo-stable", sequence: "42" } }) } },
      },
      404: unknownIssuerOrMissing,
      ...commonErrors,
    },
  }),
  async (c) => {
    const { issuer: id, sequence } = c.req.valid("param");
    const issuer = configuredIssuer(c, id);
    const stored = await attestationBySequence(c.env.DB, issuer.id, sequence);
    if (!stored) noAttestation(issuer.id, sequence);
    const bytes = await getReport(c.env.BUCKET, stored.reportKey);
    if (bytes === null) {
      console.error("report missing from R2", stored.reportKey);
      throw new ApiError("INTERNAL", `the report of attestation ${sequence} is missing from storage`);
    }
    // The stored bytes themselves, never re-serialised (their keccak256 is signed); the route's
    // typing only knows c.json answers for a JSON response, hence the cast.
    const response = c.body(bytes, 200, {
      "Content-Type": "application/json",
      "Cache-Control": IMMUTABLE_CACHE,
      ETag: `"${stored.reportHash}"`,
    });
    return response as unknown as never;
  },
);

publicRoutes.openapi(
  createRoute({
    method: "get",
    path: "/.well-known/solvent/keys.json",
    tags: ["keys"],
    summary: "Signing keys",
    description:
      "SPEC §7: every key that has signed attestations, with the interval it was valid, then each issuer's configured receipts keys (role \"receipts\", SPEC §12). Keys are never deleted.",
    responses: {
      200: { description: "The keys document.", headers: cacheHeader(SHORT_CACHE), content: { "application/json": { schema: KeysDocument } } },
      429: commonErrors[429],
      500: commonErrors[500],
    },
  }),
  async (c) => {
    const doc = await publishedKeysDocument(c.env.DB, c.var.config);
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(doc, 200);
  },
);
