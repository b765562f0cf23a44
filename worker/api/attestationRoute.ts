import { createRoute } from "@hono/zod-openapi";
import { attestationBySequence } from "../storage/attestationStore.js";
import { noAttestation } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { IMMUTABLE_CACHE, publicApi, requestOrigin } from "./openapi.js";
import {
  cacheHeader,
  commonErrors,
  IssuerSequenceParams,
  SignedAttestation,
  signedAttestationJson,
  unknownIssuerOrMissing,
} from "./schemas.js";

/** SPEC §10 `GET /v1/issuers/{issuer}/attestations/{sequence}`. */
export const attestationRoute = publicApi();

attestationRoute.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/attestations/{sequence}",
    tags: ["attestations"],
    summary: "Attestation by sequence",
    description: "One attestation of the hash chain. Published attestations never change: cached for a year.",
    middleware: [knownIssuer] as const,
    request: { params: IssuerSequenceParams },
    responses: {
      200: {
        description: "The attestation.",
        headers: cacheHeader(IMMUTABLE_CACHE),
        content: { "application/json": { schema: SignedAttestation } },
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
    c.header("Cache-Control", IMMUTABLE_CACHE);
    return c.json(signedAttestationJson(stored, requestOrigin(c)), 200);
  },
);
