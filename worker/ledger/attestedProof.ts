/**
 * SPEC §10 proofs of one attestation: the inclusion proof of a user commitment
 * in the ledger attested at a sequence, or, when the commitment is absent and
 * the ledger is in commitment order, the SPEC §2.1 proof of its absence. A
 * private ledger (SPEC §11) answers its own proofs (privateProof.ts): an
 * inclusion proof as the bytes stored on its first request. A proof whose
 * root differs from the signed liabilitiesRoot is never served.
 */
import type { InclusionProof, NonInclusionProof } from "../../core/liabilities/index.js";
import type { PrivateNonInclusionProof, RangeProofEngine } from "../../core/liabilities/private/index.js";
import { attestationBySequence } from "../storage/attestationStore.js";
import { LedgerError } from "./ledgerErrors.js";
import { isPrivateManifest } from "./privateLayout.js";
import { readPrivateInclusionProof, readPrivateNonInclusionProof, storedProofRoot } from "./privateProof.js";
import { completeManifest, readInclusionProof, readNonInclusionProof } from "./proofLookup.js";
import { workerRangeProofs } from "./rangeProofEngine.js";

export type AttestedProof =
  | { included: true; proof: InclusionProof }
  /** A private ledger's proof: the stored JSON bytes of a PrivateInclusionProof, served as they are. */
  | { included: true; stored: Uint8Array }
  /** The commitment is not a leaf: `message` says so, `nonInclusion` proves it. */
  | { included: false; message: string; nonInclusion: NonInclusionProof | PrivateNonInclusionProof };

/**
 * The proof for `commitment` (lower-case 0x hex) in the ledger attestation
 * `sequence` of `issuerId` names. NOT_FOUND when there is no such attestation,
 * it names no ledger, or the commitment is absent from a ledger that cannot
 * prove absence (built before commitment order). `engine` makes a private
 * ledger's range proofs (default: the Worker's bundled module).
 */
export async function attestedProof(
  store: { DB: D1Database; BUCKET: R2Bucket },
  issuerId: string,
  sequence: bigint,
  commitment: string,
  engine: () => RangeProofEngine = workerRangeProofs,
): Promise<AttestedProof> {
  const stored = await attestationBySequence(store.DB, issuerId, sequence);
  if (stored === null) throw new LedgerError("NOT_FOUND", `issuer "${issuerId}" has no attestation ${sequence}`);
  const ledgerId = stored.ledgerId;
  if (ledgerId === null)
    throw new LedgerError("NOT_FOUND", `attestation ${sequence} of "${issuerId}" has no user ledger`);
  const signedRoot = stored.attestation.liabilitiesRoot.toLowerCase();
  const checked = (root: string): void => {
    if (root.toLowerCase() === signedRoot) return;
    console.error("proof root differs from the attested liabilitiesRoot", issuerId, String(sequence), ledgerId);
    throw new LedgerError("INTERNAL", "the stored ledger does not match the attestation");
  };
  const message = `commitment ${commitment} is not in the ledger of attestation ${sequence}`;
  const manifest = await completeManifest(store.BUCKET, ledgerId);
  if (manifest !== null && isPrivateManifest(manifest)) {
    checked(manifest.root);
    const bytes = await readPrivateInclusionProof(store.BUCKET, manifest, commitment, engine);
    if (bytes !== null) {
      checked(storedProofRoot(bytes));
      return { included: true, stored: bytes };
    }
    const absent = await readPrivateNonInclusionProof(store.BUCKET, manifest, commitment);
    if (absent === null) throw new LedgerError("NOT_FOUND", message);
    checked(absent.root);
    return { included: false, message: `${message}; nonInclusion proves it (SPEC §11)`, nonInclusion: absent };
  }
  const proof = await readInclusionProof(store.BUCKET, ledgerId, commitment);
  if (proof !== null) {
    checked(proof.root);
    return { included: true, proof };
  }
  const absent = await readNonInclusionProof(store.BUCKET, ledgerId, commitment);
  if (absent === null) throw new LedgerError("NOT_FOUND", message);
  checked(absent.root);
  return { included: false, message: `${message}; nonInclusion proves it (SPEC §2.1)`, nonInclusion: absent };
}
