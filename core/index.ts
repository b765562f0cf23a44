/**
 * Solvent's pure domain: every format of the SPEC, the trees, the signing and
 * the checks. Imports nothing from Workers, Node or the network, so the
 * Worker, the CLI, the browser page and the tests all share it.
 */
export * from "./address.js";
export * from "./attestation.js";
export * from "./bytes.js";
export * from "./custodianStatement.js";
export * from "./dispute.js";
export * from "./errors.js";
export * from "./flags.js";
export * from "./inclusionCheck.js";
export * from "./keysDocument.js";
export * from "./liabilities/index.js";
export * from "./numbers.js";
export * from "./ownershipProof.js";
export * from "./receipt.js";
export * from "./reservesTree.js";
export * from "./signature.js";
