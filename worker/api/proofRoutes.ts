import { Hono } from "hono";
import { UINT64_MAX } from "../../core/numbers.js";
import { readInclusionProof } from "../ledger/proofLookup.js";
import { attestationBySequence } from "../storage/attestationStore.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

const SEQUENCE = /^[1-9][0-9]{0,19}$/;
const COMMITMENT = /^0x[0-9a-fA-F]{64}$/;

/**
 * SPEC §10 `GET /v1/issuers/:issuer/proofs/:sequence/:commitment`: the SPEC §2
 * inclusion proof of a user commitment in the ledger attested at `sequence`.
 * Public, CORS-open, cached forever (a published snapshot never changes). Mounted at `/`.
 */
export const proofRoutes = new Hono<AppEnv>();

proofRoutes.get("/v1/issuers/:issuer/proofs/:sequence/:commitment", async (c) => {
  c.header("Access-Control-Allow-Origin", "*");
  const issuerId = c.req.param("issuer");
  const sequenceText = c.req.param("sequence");
  const commitment = c.req.param("commitment");
  if (!SEQUENCE.test(sequenceText) || BigInt(sequenceText) > UINT64_MAX) {
    throw new ApiError(400, "INVALID_PARAMETER", "sequence must be a positive decimal integer below 2^64 without leading zeros", {
      field: "sequence",
    });
  }
  if (!COMMITMENT.test(commitment)) {
    throw new ApiError(400, "INVALID_PARAMETER", "commitment must be 0x followed by 64 hex digits (SPEC §2 user commitment)", {
      field: "commitment",
    });
  }
  if (!c.var.config.issuers.some((i) => i.id === issuerId)) {
    throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${issuerId.slice(0, 80)}" is not published here`);
  }
  const stored = await attestationBySequence(c.env.DB, issuerId, BigInt(sequenceText));
  if (stored === null) throw new ApiError(404, "NOT_FOUND", `issuer "${issuerId}" has no attestation ${sequenceText}`);
  if (stored.ledgerId === null) {
    throw new ApiError(404, "NOT_FOUND", `attestation ${sequenceText} of "${issuerId}" has no user ledger`);
  }
  const proof = await readInclusionProof(c.env.BUCKET, stored.ledgerId, commitment.toLowerCase());
  if (proof === null) {
    throw new ApiError(404, "NOT_FOUND", `commitment ${commitment.toLowerCase()} is not in the ledger of attestation ${sequenceText}`);
  }
  if (proof.root !== stored.attestation.liabilitiesRoot.toLowerCase()) {
    // Never serve a proof that would not verify against the signed root.
    console.error("proof root differs from the attested liabilitiesRoot", issuerId, sequenceText, stored.ledgerId);
    throw new ApiError(500, "INTERNAL", "the stored ledger does not match the attestation");
  }
  c.header("Cache-Control", "public, max-age=31536000, immutable");
  return c.json(proof);
});
