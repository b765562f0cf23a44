import { createRoute } from "@hono/zod-openapi";
import { issuerSummaries } from "../storage/attestationStore.js";
import { publicApi, SHORT_CACHE } from "./openapi.js";
import { cacheHeader, commonErrors, IssuerList } from "./schemas.js";

/** SPEC §10 `GET /v1/issuers`. */
export const issuerListRoute = publicApi();

issuerListRoute.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers",
    tags: ["attestations"],
    summary: "List issuers",
    description:
      "Every configured issuer with its latest sequence, ratioBps, flags and observedAt (null before its first attestation).",
    responses: {
      200: {
        description: "The issuers.",
        headers: cacheHeader(SHORT_CACHE),
        content: { "application/json": { schema: IssuerList } },
      },
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
