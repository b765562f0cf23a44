/** SPEC §11 private liabilities (scheme `pedersen-ristretto255-v2`): commitments, tree, proofs. */

export { blindingDeriver, deriveBlinding, paddingCommitment, SECRET_MIN_BYTES } from "./blinding.js";
export {
  G,
  GROUP_ORDER,
  H,
  H_DOMAIN,
  type Point,
  parsePoint,
  parseScalar,
  pedersen,
  SCHEME,
  scalarToBytes,
  scalarToHex,
} from "./group.js";
export {
  checkPrivateNonInclusion,
  type PrivateNeighbour,
  type PrivateNonInclusionProof,
  type PrivateNonInclusionResult,
  privateNonInclusionProof,
} from "./nonInclusion.js";
export {
  checkPrivateInclusion,
  PRIVATE_PROOF_VERSION,
  type PrivateExpectation,
  type PrivateInclusionProof,
  type PrivateInclusionResult,
  type PrivateProofBody,
  privateInclusionProof,
  privateLeafIndex,
  privateProofBody,
} from "./proof.js";
export { chooseUnitDecimals, type PrivateAsset, quantiseAsset, VALUE_BITS, VALUE_LIMIT } from "./quantise.js";
export {
  dalekRangeProofs,
  MAX_AGGREGATION,
  proveRanges,
  type RangeProofEngine,
  rangeProofChunks,
  TRANSCRIPT_LABEL,
} from "./rangeProof.js";
export {
  buildPrivateLedger,
  buildPrivateLevels,
  INNER_TAG,
  LEAF_TAG,
  type PrivateLeafInput,
  type PrivateLedger,
  type PrivateLedgerInput,
  type PrivateNode,
  type PublicPrivateNode,
  privateInnerHash,
  privateLeaf,
  privateLeafHash,
  privateLeaves,
  privateParent,
  privateSiblings,
  publicParent,
} from "./tree.js";
