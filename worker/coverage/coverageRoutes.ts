import { createRoute, z } from "@hono/zod-openapi";
import { COVERAGE_SHARES_BPS, unnoticedOmissions } from "../../core/verificationCoverage.js";
import { ApiError } from "../api/errors.js";
import { configuredIssuer } from "../api/issuer.js";
import { HistoryQuery } from "../api/ledgerHistoryRoutes.js";
import { publicApi, SHORT_CACHE } from "../api/openapi.js";
import { cacheHeader, commonErrors, DEFAULT_PAGE_LIMIT, errorResponse, IssuerParams } from "../api/schemas.js";
import { type LedgerCoverage, ledgerCoverage } from "./coverageStore.js";

const shares = COVERAGE_SHARES_BPS.map((bps) => `${bps / 100} %`).join(", ");

/** What the figures mean, in the answer itself, so nobody reads them without it. */
export const COVERAGE_MODEL =
  "checked counts distinct commitments of the ledger whose inclusion proof this publisher served (from its edge cache too); " +
  "fetching a proof is not checking it, and the count is the publisher's own. unnoticed[].chance is the chance that leaving " +
  "shareBps of all users out would go unnoticed by that many users if they were a uniform random sample of all users " +
  "(hypergeometric: C(leafCount, checked) / C(leafCount + omitted, checked)); bound is (1 - share)^checked.";

const Omission = z
  .object({
    shareBps: z
      .string()
      .openapi({ description: "share of all users left out, in basis points (100 = 1 %)", example: "100" }),
    omitted: z.string().openapi({ description: "users that share is, beside the leafCount listed", example: "11" }),
    chance: z
      .number()
      .min(0)
      .max(1)
      .openapi({ description: "hypergeometric chance that none of the checked users was left out", example: 0.3161 }),
    bound: z
      .number()
      .min(0)
      .max(1)
      .openapi({ description: "(1 - share)^checked, an upper bound of chance", example: 0.366 }),
  })
  .openapi("UnnoticedOmission");

const CoverageEntry = z
  .object({
    id: z.string().openapi({ example: `lg_${"0f".repeat(16)}` }),
    asOf: z
      .string()
      .openapi({ description: "unix seconds: when the ledger's balances were true", example: "1764748800" }),
    leafCount: z.string().openapi({ description: "users in the ledger", example: "1000" }),
    checked: z
      .string()
      .openapi({ description: "distinct commitments whose inclusion proof was served", example: "100" }),
    attested: z
      .object({ from: z.string(), to: z.string() })
      .openapi({ description: "the first and last attestation sequences naming this ledger" }),
    unnoticed: z.array(Omission).openapi({ description: `one entry per share: ${shares}` }),
  })
  .openapi("LedgerCoverage");

const CoveragePage = z
  .object({
    issuer: z.string().openapi({ example: "demo" }),
    model: z.string().openapi({ description: "how to read the figures, in one paragraph" }),
    ledgers: z.array(CoverageEntry).openapi({ description: "attested ledgers, newest asOf first" }),
    nextAfter: z.string().nullable().openapi({
      description: "pass as `after` for the next (older) page; null on the last page",
      example: "1764748800.lg_0f0f",
    }),
  })
  .openapi("CoveragePage");

function entryJson(e: LedgerCoverage) {
  // A count above the leaf count cannot come from served proofs; never derive a chance from it.
  const checked = Math.min(e.checked, e.leafCount);
  if (checked !== e.checked) console.error("coverage count above the leaf count", e.ledgerId, e.checked, e.leafCount);
  return {
    id: e.ledgerId,
    asOf: String(e.asOf),
    leafCount: String(e.leafCount),
    checked: String(e.checked),
    attested: { from: String(e.attested.from), to: String(e.attested.to) },
    unnoticed: unnoticedOmissions(e.leafCount, checked).map((o) => ({
      shareBps: String(o.shareBps),
      omitted: String(o.omitted),
      chance: o.chance,
      bound: o.bound,
    })),
  };
}

/**
 * `GET /v1/issuers/{issuer}/coverage`: verification coverage (issue #17) of
 * the issuer's attested ledgers: how many distinct users fetched their
 * inclusion proof, and what that says about omissions. Mounted at `/`.
 */
export const coverageRoutes = publicApi();

coverageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/coverage",
    tags: ["proofs"],
    summary: "Verification coverage",
    description:
      "Per attested ledger, newest asOf first: how many distinct user commitments had their inclusion proof served, the ledger's leaf count, " +
      `and the chance that leaving ${shares} of users out would go unnoticed by that many checks (see \`model\` in the answer and docs/security.md). ` +
      "Only the path and status of proof answers are counted: never who asked.",
    request: { params: IssuerParams, query: HistoryQuery },
    responses: {
      200: {
        description: "One page (empty when no ledger of the issuer is attested yet).",
        headers: cacheHeader(SHORT_CACHE),
        content: { "application/json": { schema: CoveragePage } },
      },
      404: errorResponse("UNKNOWN_ISSUER (not configured here), or NOT_FOUND: the issuer publishes no user ledger."),
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = configuredIssuer(c, c.req.valid("param").issuer);
    if (!issuer.liabilities.ledger)
      throw new ApiError(
        "NOT_FOUND",
        `issuer "${issuer.id}" publishes no user ledger, so there is no coverage to count`,
      );
    const { after, limit } = c.req.valid("query");
    const size = limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit);
    const cursor =
      after === undefined
        ? undefined
        : { asOf: Number(after.slice(0, after.indexOf("."))), ledgerId: after.slice(after.indexOf(".") + 1) };
    const entries = await ledgerCoverage(c.env.DB, issuer.id, {
      limit: size + 1,
      ...(cursor ? { after: cursor } : {}),
    });
    const page = entries.slice(0, size);
    const last = page[page.length - 1];
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(
      {
        issuer: issuer.id,
        model: COVERAGE_MODEL,
        ledgers: page.map(entryJson),
        nextAfter: entries.length > size && last ? `${last.asOf}.${last.ledgerId}` : null,
      },
      200,
    );
  },
);
