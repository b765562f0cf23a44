import { createRoute, z } from "@hono/zod-openapi";
import { attestedProof } from "../ledger/attestedProof.js";
import { knownIssuer } from "./issuer.js";
import { answerLedgerError } from "./ledgerRequest.js";
import { IMMUTABLE_CACHE, publicApi } from "./openapi.js";
import {
  commonErrors,
  ErrorBody,
  InclusionProof,
  IssuerParam,
  NonInclusionProof,
  PrivateInclusionProof,
  PrivateNonInclusionProof,
  SequenceParam,
} from "./schemas.js";

const ProofParams = z.object({
  issuer: IssuerParam,
  sequence: SequenceParam,
  commitment: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, { error: "must be 0x followed by 64 hex digits (the SPEC §2 user commitment)" })
    .transform((s) => s.toLowerCase())
    .openapi({
      param: { name: "commitment", in: "path" },
      type: "string",
      pattern: "^0x[0-9a-fA-F]{64}$",
      description: "The user's SPEC §2 commitment, computed locally from the user id and salt (never sent).",
      example: `0x${"5e".repeat(32)}`,
    }),
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
          'UNKNOWN_ISSUER, or NOT_FOUND: no such attestation, it has no user ledger, or the commitment is not in it. When the attested ledger is in commitment order (its report says `order: "commitment"`), an absent commitment\'s answer carries `nonInclusion`, the SPEC §2.1 proof of its absence (SPEC §11 for a private ledger), beside the error; older ledgers answer the error alone.',
        headers: {
          "Cache-Control": {
            schema: { type: "string" },
            description: `${IMMUTABLE_CACHE} when the body carries nonInclusion`,
          },
        },
        content: {
          "application/json": {
            schema: ErrorBody.extend({
              nonInclusion: z.union([NonInclusionProof, PrivateNonInclusionProof]).optional(),
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
