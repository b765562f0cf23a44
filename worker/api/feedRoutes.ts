import { createRoute, z } from "@hono/zod-openapi";
import type { Attestation } from "../../core/attestation.js";
import { UINT64_MAX } from "../../core/numbers.js";
import { attestationBySequence, latestAttestation } from "../storage/attestationStore.js";
import { noAttestation } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { IMMUTABLE_CACHE, publicApi, SHORT_CACHE } from "./openapi.js";
import { commonErrors, decimalParam, errorResponse, IssuerParams } from "./schemas.js";

/** The feed's answer has 8 decimals, like Chainlink USD feeds. */
export const FEED_DECIMALS = 8;
/** usd18 → 8 decimals. */
const USD18_TO_FEED = 10n ** BigInt(18 - FEED_DECIMALS);

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);

export const FeedRound = z
  .object({
    roundId: decimal.openapi({ description: "the attestation's sequence", example: "42" }),
    answer: decimal.openapi({
      description: "reservesUsd at 8 decimals: floor(reservesUsd / 10^10)",
      example: "125000000000000",
    }),
    startedAt: decimal.openapi({ description: "the attestation's observedAt (unix seconds)", example: "1767225600" }),
    updatedAt: decimal.openapi({ description: "the attestation's observedAt (unix seconds)", example: "1767225600" }),
    answeredInRound: decimal.openapi({ description: "equal to roundId", example: "42" }),
    decimals: decimal.openapi({ description: `always "${FEED_DECIMALS}"`, example: String(FEED_DECIMALS) }),
  })
  .openapi("FeedRound", {
    description:
      "Chainlink AggregatorV3 `latestRoundData` / `getRoundData` shape for the issuer's counted reserves in USD. Integers are decimal strings (SPEC §10).",
  });

/** The AggregatorV3 round of one attestation. */
export function feedRound(a: Attestation): z.infer<typeof FeedRound> {
  const round = a.sequence.toString();
  const observed = a.observedAt.toString();
  return {
    roundId: round,
    answer: (a.reservesUsd / USD18_TO_FEED).toString(),
    startedAt: observed,
    updatedAt: observed,
    answeredInRound: round,
    decimals: String(FEED_DECIMALS),
  };
}

const FeedQuery = z.object({
  roundId: decimalParam({ min: 1n, max: UINT64_MAX })
    .optional()
    .openapi({
      param: { name: "roundId", in: "query" },
      description:
        "A past round (an attestation sequence), like `getRoundData`. Default: the latest round, like `latestRoundData`.",
      example: "41",
    }),
});

/**
 * SPEC §10 `GET /v1/issuers/{issuer}/feed`: the latest attestation's reserves
 * as a Chainlink AggregatorV3 round, for consumers that already read feeds.
 */
export const feedRoutes = publicApi();

feedRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/feed",
    tags: ["integration"],
    summary: "Reserves feed (AggregatorV3)",
    description:
      "The counted reserves (reservesUsd) of the latest attestation, or of `roundId`, as a Chainlink AggregatorV3 round with 8 decimals. " +
      "roundId = answeredInRound = sequence; startedAt = updatedAt = observedAt. Check `updatedAt` for freshness as with any feed; " +
      "the signed attestation itself is at /attestations/{sequence}.",
    middleware: [knownIssuer] as const,
    request: { params: IssuerParams, query: FeedQuery },
    responses: {
      200: {
        description: `The round. Latest: \`${SHORT_CACHE}\`; with roundId: \`${IMMUTABLE_CACHE}\`.`,
        headers: {
          "Cache-Control": {
            schema: { type: "string", example: SHORT_CACHE },
            description: `${SHORT_CACHE} (latest) or ${IMMUTABLE_CACHE} (roundId)`,
          },
        },
        content: { "application/json": { schema: FeedRound } },
      },
      404: errorResponse("UNKNOWN_ISSUER, or NOT_FOUND: no attestation (or no such round) yet."),
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    const { roundId } = c.req.valid("query");
    const stored =
      roundId === undefined
        ? await latestAttestation(c.env.DB, issuer.id)
        : await attestationBySequence(c.env.DB, issuer.id, roundId);
    if (!stored) noAttestation(issuer.id, roundId);
    c.header("Cache-Control", roundId === undefined ? SHORT_CACHE : IMMUTABLE_CACHE);
    return c.json(feedRound(stored.attestation), 200);
  },
);
