import { createRoute, z } from "@hono/zod-openapi";
import { type LedgerHistoryPage as HistoryPage, ledgerHistoryPage } from "../ledger/ledgerLifecycle.js";
import { ApiError } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { publicApi, SHORT_CACHE } from "./openapi.js";
import {
  commonErrors,
  DEFAULT_PAGE_LIMIT,
  decimalParam,
  errorResponse,
  IssuerParams,
  MAX_PAGE_LIMIT,
} from "./schemas.js";

const LedgerEntry = z
  .object({
    id: z.string().openapi({ example: `lg_${"0f".repeat(16)}` }),
    asOf: z.string().openapi({
      description: "unix seconds: when the balances were true, as declared at upload",
      example: "1764748800",
    }),
    status: z.enum(["validating", "building", "complete", "failed", "superseded"]).openapi({
      description:
        "`superseded`: built, but completed after a ledger with an asOf at least as new, so never attested; `failed` ledgers are never attested either",
    }),
    current: z
      .boolean()
      .openapi({ description: "true for the ledger new attestations name: the complete one with the newest asOf" }),
    root: z
      .string()
      .nullable()
      .openapi({ description: "SPEC §2 root once built", example: `0x${"ab".repeat(32)}` }),
    leafCount: z.string().openapi({ example: "1000" }),
    order: z
      .literal("commitment")
      .nullable()
      .openapi({ description: "SPEC §2 leaf order; null for ledgers built before commitment order (random order)" }),
    createdAt: z.string().openapi({ example: "1764748860" }),
    completedAt: z.string().nullable(),
    attested: z
      .object({ from: z.string(), to: z.string() })
      .nullable()
      .openapi({ description: "the first and last attestation sequences naming this ledger; null when none does" }),
  })
  .openapi("LedgerHistoryEntry");

const LedgerHistoryPage = z
  .object({
    issuer: z.string().openapi({ example: "demo-stable" }),
    ledgers: z.array(LedgerEntry).openapi({ description: "newest asOf first" }),
    nextAfter: z.string().nullable().openapi({
      description: "pass as `after` for the next (older) page; null on the last page",
      example: "1764748800.lg_0f0f",
    }),
  })
  .openapi("LedgerHistoryPage");

export const HistoryQuery = z.object({
  after: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,11})\.lg_[0-9a-f]{32}$/, {
      error: "must be a previous page's nextAfter (<asOf>.<ledger id>)",
    })
    .optional()
    .openapi({
      param: { name: "after", in: "query" },
      description: "Only ledgers after this one in the listing (the previous page's `nextAfter`).",
    }),
  limit: decimalParam({ min: 1n, max: BigInt(MAX_PAGE_LIMIT) })
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      description: `Page size, 1 to ${MAX_PAGE_LIMIT}. Default ${DEFAULT_PAGE_LIMIT}.`,
      example: "20",
    }),
});

function entryJson(e: HistoryPage["entries"][number]) {
  return {
    id: e.ledgerId,
    asOf: String(e.asOf),
    status: e.status,
    current: e.current,
    root: e.root,
    leafCount: String(e.leafCount),
    order: e.order,
    createdAt: String(e.createdAt),
    completedAt: e.completedAt === null ? null : String(e.completedAt),
    attested: e.attested === null ? null : { from: String(e.attested.from), to: String(e.attested.to) },
  };
}

/**
 * `GET /v1/issuers/{issuer}/ledgers`: the public history of an issuer's user
 * ledgers (SPEC §4 versions): each one's asOf, status, root, leaf count and the
 * attestations that named it. Never rows, errors or storage details. Mounted at `/`.
 */
export const ledgerHistoryRoutes = publicApi();

ledgerHistoryRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/ledgers",
    middleware: [knownIssuer] as const,
    tags: ["proofs"],
    summary: "Ledger history",
    description:
      "The issuer's user ledgers, newest asOf first: which one is current, which were superseded or failed (never attested), and the attestation sequences that named each. Follow `nextAfter` for older pages.",
    request: { params: IssuerParams, query: HistoryQuery },
    responses: {
      200: {
        description: "One page (empty when the issuer has no ledger).",
        headers: { "Cache-Control": { schema: { type: "string", example: SHORT_CACHE }, description: SHORT_CACHE } },
        content: { "application/json": { schema: LedgerHistoryPage } },
      },
      404: errorResponse("UNKNOWN_ISSUER: the issuer is not configured here."),
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    if (!issuer.liabilities.ledger) throw new ApiError("NOT_FOUND", `issuer "${issuer.id}" publishes no user ledger`);
    const { after, limit } = c.req.valid("query");
    const cursor =
      after === undefined
        ? undefined
        : { asOf: Number(after.slice(0, after.indexOf("."))), ledgerId: after.slice(after.indexOf(".") + 1) };
    const page = await ledgerHistoryPage(c.env.DB, issuer.id, {
      limit: limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit),
      ...(cursor ? { after: cursor } : {}),
    });
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(
      {
        issuer: issuer.id,
        ledgers: page.entries.map(entryJson),
        nextAfter: page.next && `${page.next.asOf}.${page.next.ledgerId}`,
      },
      200,
    );
  },
);
