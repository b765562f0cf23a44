import { createRoute, z } from "@hono/zod-openapi";
import { attestedProof } from "../ledger/attestedProof.js";
import { knownIssuer } from "./issuer.js";
import { answerLedgerError } from "./ledgerRequest.js";
import { IMMUTABLE_CACHE, publicApi } from "./openapi.js";
import {
  CommitmentParam,
  commonErrors,
  ErrorBody,
  InclusionProof,
  IssuerParam,
  NonInclusionProof,
  PrivateInclusionProof,
  SequenceParam,
} from "./schemas.js";

const ProofParams = z.object({
  issuer: IssuerParam,
  sequence: SequenceParam,
  commitment: CommitmentParam,
});

/**
 * SPEC §10 `GET /v1/issuers/{issuer}/proofs/{sequence}/{commitment}`: the SPEC §2
 * inclusion proof of a user commitment in the ledger attested at `sequence`.
 * Public, CORS-open, cached forever (a published snapshot never changes). Mounted at `/`.
 */
export const proofRoutes = publicApi();
proofRoutes.onError(answerLedgerError);

proofRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/proofs/{sequence}/{commitment}",
    middleware: [knownIssuer] as const,
    tags: ["proofs"],
    summary: "Inclusion proof",
    description:
      "The SPEC §2 proof that a user commitment is a leaf of the liabilities tree attested at `sequence`; its root equals that attestation's `liabilitiesRoot`. " +
      'A private ledger (report `liabilities.ledger.scheme: "pedersen-ristretto255-v2"`) answers the SPEC §11 proof instead: range proofs are made on the first request for a leaf, which may take a few seconds, and the proof is stored, so every later answer is the same bytes.',
    request: { params: ProofParams },
    responses: {
      200: {
        description: "The proof.",
        headers: {
          "Cache-Control": { schema: { type: "string", example: IMMUTABLE_CACHE }, description: IMMUTABLE_CACHE },
        },
        content: {
          "application/json": {
            schema: z.union([InclusionProof, PrivateInclusionProof]).openapi("LedgerInclusionProof"),
          },
        },
      },
      404: {
        description:
          "UNKNOWN_ISSUER, or NOT_FOUND: no such attestation, it has no user ledger, or the commitment is not in it. When the attested ledger is in commitment order (its report says `order: \"commitment\"`), an absent commitment's answer carries `nonInclusion`, the SPEC §2.1 proof of its absence, beside the error; older ledgers answer the error alone, and so do private ledgers: a non-inclusion proof names the neighbouring leaves' commitments, which would fetch their balances, so the issuer hands it only to the user who asks (`GET /v1/admin/issuers/{issuer}/ledgers/{ledgerId}/non-inclusion/{commitment}`).",
        headers: {
          "Cache-Control": {
            schema: { type: "string" },
            description: `${IMMUTABLE_CACHE} when the body carries nonInclusion`,
          },
        },
        content: {
          "application/json": {
            schema: ErrorBody.extend({
              nonInclusion: NonInclusionProof.optional(),
            }).openapi("NotInLedger"),
          },
        },
      },
      ...commonErrors,
    },
  }),
  async (c) => {
    const { sequence, commitment } = c.req.valid("param");
    const answer = await attestedProof(c.env, c.var.issuer.id, sequence, commitment);
    c.header("Cache-Control", IMMUTABLE_CACHE);
    // A private ledger's proof is the bytes stored on its first request, never re-serialised; the
    // route's typing only knows c.json answers for a JSON response, hence the cast.
    if (answer.included && "stored" in answer) {
      const response = c.body(answer.stored as Uint8Array<ArrayBuffer>, 200, { "Content-Type": "application/json" });
      return response as unknown as never;
    }
    if (answer.included) return c.json(answer.proof, 200);
    return c.json({ error: { code: "NOT_FOUND", message: answer.message }, nonInclusion: answer.nonInclusion }, 404);
  },
);
