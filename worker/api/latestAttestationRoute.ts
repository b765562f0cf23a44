import { createRoute } from "@hono/zod-openapi";
import { latestAttestation } from "../storage/attestationStore.js";
import { noAttestation } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { publicApi, requestOrigin, SHORT_CACHE } from "./openapi.js";
import {
  cacheHeader,
  commonErrors,
  IssuerParams,
  SignedAttestation,
  signedAttestationJson,
  unknownIssuerOrMissing,
} from "./schemas.js";

/** SPEC §10 `GET /v1/issuers/{issuer}/attestations/latest`. */
export const latestAttestationRoute = publicApi();

latestAttestationRoute.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/attestations/latest",
    tags: ["attestations"],
    summary: "Latest attestation",
    description: "The issuer's newest signed attestation with its digest, signer and report URL.",
    middleware: [knownIssuer] as const,
    request: { params: IssuerParams },
    responses: {
      200: {
        description: "The latest attestation.",
        headers: cacheHeader(SHORT_CACHE),
        content: { "application/json": { schema: SignedAttestation } },
      },
      404: unknownIssuerOrMissing,
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    const stored = await latestAttestation(c.env.DB, issuer.id);
    if (!stored) noAttestation(issuer.id);
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(signedAttestationJson(stored, requestOrigin(c)), 200);
  },
);
