import { createRoute, z } from "@hono/zod-openapi";
import { attestationBySequence } from "../storage/attestationStore.js";
import { getReport } from "../storage/reportStore.js";
import { ApiError, noAttestation } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { IMMUTABLE_CACHE, publicApi } from "./openapi.js";
import { cacheHeader, commonErrors, IssuerSequenceParams, unknownIssuerOrMissing } from "./schemas.js";

/** SPEC §10 `GET /v1/issuers/{issuer}/reports/{sequence}`: the report bytes as stored. */
export const reportRoute = publicApi();

reportRoute.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/reports/{sequence}",
    tags: ["attestations"],
    summary: "Report bytes",
    description:
      "The SPEC §4 report of one attestation, byte for byte as stored: keccak256 of the body equals the attestation's `reportHash`. Do not re-serialise before hashing.",
    middleware: [knownIssuer] as const,
    request: { params: IssuerSequenceParams },
    responses: {
      200: {
        description: "The report bytes (JSON). `ETag` is the reportHash.",
        headers: cacheHeader(IMMUTABLE_CACHE),
        content: {
          "application/json": {
            schema: z
              .object({})
              .passthrough()
              .openapi({
                description: "SPEC §4 report",
                example: { version: 1, issuer: "demo-stable", sequence: "42" },
              }),
          },
        },
      },
      404: unknownIssuerOrMissing,
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    const { sequence } = c.req.valid("param");
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
