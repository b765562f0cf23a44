/** SPEC §11 private liabilities (scheme `pedersen-ristretto255-v2`): commitments, tree, proofs. */
export {
  G,
  GROUP_ORDER,
  H,
  H_DOMAIN,
  SCHEME,
  parsePoint,
  parseScalar,
  pedersen,
  scalarToBytes,
  scalarToHex,
  type Point,
} from "./group.js";
export { chooseUnitDecimals, quantiseAsset, VALUE_BITS, VALUE_LIMIT, type PrivateAsset } from "./quantise.js";
export { deriveBlinding, paddingCommitment, SECRET_MIN_BYTES } from "./blinding.js";
export {
  buildPrivateLedger,
  buildPrivateLevels,
  INNER_TAG,
  LEAF_TAG,
  privateInnerHash,
  privateLeaf,
  privateLeafHash,
  privateParent,
  privateSiblings,
  publicParent,
  type PrivateLedger,
  type PrivateLedgerInput,
  type PrivateNode,
  type PublicPrivateNode,
} from "./tree.js";
export {
  dalekRangeProofs,
  MAX_AGGREGATION,
  proveRanges,
  rangeProofChunks,
  TRANSCRIPT_LABEL,
  type RangeProofEngine,
} from "./rangeProof.js";
export {
  checkPrivateInclusion,
  PRIVATE_PROOF_VERSION,
  privateInclusionProof,
  privateLeafIndex,
  privateProofBody,
  type PrivateProofBody,
  type PrivateExpectation,
  type PrivateInclusionProof,
  type PrivateInclusionResult,
} from "./proof.js";
export {
  checkPrivateNonInclusion,
  privateNonInclusionProof,
  type PrivateNeighbour,
  type PrivateNonInclusionProof,
  type PrivateNonInclusionResult,
} from "./nonInclusion.js";
