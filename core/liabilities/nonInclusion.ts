/**
 * SPEC §2.1 non-inclusion proofs for plain (`sum-sha256-v1`) ledgers whose
 * leaves are in commitment order: the two leaves adjacent to where an absent
 * commitment would sit, each with its §2 path to the root.
 *
 * A neighbour reveals its commitment and its balances: the leaf hash is
 * H(0x00 || c || balances), so nothing short of that preimage ties the
 * neighbour's commitment to the leaf the path starts from (docs/spec.md).
 */
import { bytesEqual, bytesToHex, type Hex, hexToBytes, readUint128 } from "../bytes.js";
import { fail, SolventError, type SolventErrorCode } from "../errors.js";
import { parseSafeInteger } from "../numbers.js";
import {
  encodeSums,
  type InclusionProof,
  isRecord,
  type LiabilityTree,
  PROOF_VERSION,
  type ProofSubject,
  parsePath,
  parseProofHeader,
  parseSums,
  subjectCommitment,
} from "./sumTree.js";
import { foldPath, HASH_BYTES, leafHash, SUM_BYTES } from "./sumTreeCore.js";

/** One neighbour of the absent commitment: a §2 proof carrying the leaf's preimage instead of a user's secrets. */
export interface NeighbourProof {
  leafIndex: number;
  /** The neighbour's own commitment c. */
  commitment: Hex;
  /** The neighbour's balances, one per asset: with `commitment`, the preimage of `leafHash`. */
  balances: string[];
  /** H(0x00 || commitment || enc128(balances)); a verifier recomputes it and rejects a mismatch. */
  leafHash: Hex;
  path: { hash: Hex; sums: string[] }[];
}

/** SPEC §2.1 non-inclusion proof JSON (exact form: docs/spec.md). */
export interface NonInclusionProof {
  version: 1;
  kind: "non-inclusion";
  /** The commitment shown absent. */
  commitment: Hex;
  assets: string[];
  root: Hex;
  rootSums: string[];
  /** Real leaves of the ledger; MUST equal the report's liabilities.ledger.leafCount. */
  leafCount: number;
  /** The leaf with the greatest commitment below `commitment`, or null when it sorts first. */
  left: NeighbourProof | null;
  /** The leaf with the smallest commitment above `commitment`, or null when it sorts last. */
  right: NeighbourProof | null;
}

/** Unsigned byte-wise comparison of two 32-byte commitments. */
export function compareCommitments(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < HASH_BYTES; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** A neighbour's proof from a §2 inclusion proof of that leaf and its commitment. */
export function neighbourFromInclusion(proof: InclusionProof, commitment: Uint8Array): NeighbourProof {
  return {
    leafIndex: proof.leafIndex,
    commitment: bytesToHex(commitment),
    balances: proof.balances,
    leafHash: bytesToHex(leafHash(commitment, encodeSums(proof.balances.map(BigInt)))),
    path: proof.path,
  };
}

/** Assembles the proof from the neighbours' inclusion proofs (the Worker builds these from R2, the tree from memory). */
export function assembleNonInclusionProof(
  commitment: Uint8Array,
  leafCount: number,
  left: { proof: InclusionProof; commitment: Uint8Array } | null,
  right: { proof: InclusionProof; commitment: Uint8Array } | null,
): NonInclusionProof {
  const any = (left ?? right)?.proof;
  if (any === undefined) fail("INVALID_ARGUMENT", "neighbours", "a non-inclusion proof needs at least one neighbour");
  return {
    version: PROOF_VERSION,
    kind: "non-inclusion",
    commitment: bytesToHex(commitment),
    assets: any.assets,
    root: any.root,
    rootSums: any.rootSums,
    leafCount,
    left: left === null ? null : neighbourFromInclusion(left.proof, left.commitment),
    right: right === null ? null : neighbourFromInclusion(right.proof, right.commitment),
  };
}

/**
 * The number of leaves of a commitment-ordered tree whose commitment is below
 * `c` (where `c` would be inserted), by binary search over `commitmentAt`.
 */
export function insertionIndex(count: number, commitmentAt: (i: number) => Uint8Array, c: Uint8Array): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareCommitments(commitmentAt(mid), c) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The SPEC §2.1 proof that `commitment` is not a leaf of `tree`, whose leaves
 * must be in commitment order. Fails when the commitment is in the tree or the
 * tree is not in commitment order.
 */
export function buildNonInclusionProof(tree: LiabilityTree, commitment: Uint8Array | Hex): NonInclusionProof {
  const c = typeof commitment === "string" ? hexToBytes(commitment, "commitment", HASH_BYTES) : commitment;
  if (c.length !== HASH_BYTES) fail("INVALID_BYTES", "commitment", `must be ${HASH_BYTES} bytes, got ${c.length}`);
  for (let i = 1; i < tree.size; i++) {
    if (compareCommitments(tree.commitmentAt(i - 1), tree.commitmentAt(i)) >= 0) {
      fail(
        "INVALID_ARGUMENT",
        `rows[${i}].commitment`,
        "the tree is not in commitment order (SPEC §2): absence cannot be proven",
      );
    }
  }
  const j = insertionIndex(tree.size, (i) => tree.commitmentAt(i), c);
  if (j < tree.size && bytesEqual(tree.commitmentAt(j), c)) {
    fail("INVALID_ARGUMENT", "commitment", `${bytesToHex(c)} is leaf ${j} of the tree: it has an inclusion proof`);
  }
  const side = (i: number) =>
    i < 0 || i >= tree.size ? null : { proof: tree.proof(i), commitment: tree.commitmentAt(i) };
  return assembleNonInclusionProof(c, tree.size, side(j - 1), side(j));
}

export type NonInclusionProofResult =
  | {
      ok: true;
      commitment: Hex;
      assets: string[];
      root: Hex;
      rootSums: bigint[];
      leafCount: number;
      left: number | null;
      right: number | null;
    }
  | { ok: false; code: SolventErrorCode; record: string; reason: string };

interface ParsedNeighbour {
  leafIndex: number;
  commitment: Uint8Array;
  balances: bigint[];
  path: { hash: Uint8Array; sums: Uint8Array }[];
}

function parseNeighbour(value: unknown, field: string, assets: number): ParsedNeighbour | null {
  if (value === null) return null;
  if (!isRecord(value)) fail("INVALID_PROOF", field, "must be an object (the neighbour's proof) or null");
  const leafIndex = parseSafeInteger(value.leafIndex, `${field}.leafIndex`);
  if (typeof value.commitment !== "string") fail("INVALID_BYTES", `${field}.commitment`, "must be 0x-hex");
  const commitment = hexToBytes(value.commitment, `${field}.commitment`, HASH_BYTES);
  const balances = parseSums(value.balances, `${field}.balances`, assets);
  if (typeof value.leafHash !== "string") fail("INVALID_BYTES", `${field}.leafHash`, "must be 0x-hex");
  const claimed = hexToBytes(value.leafHash, `${field}.leafHash`, HASH_BYTES);
  if (!bytesEqual(claimed, leafHash(commitment, encodeSums(balances)))) {
    fail("INVALID_PROOF", `${field}.leafHash`, "is not H(0x00 || commitment || balances) of this neighbour");
  }
  const path = parsePath(value.path, `${field}.path`, assets, leafIndex, `${field}.leafIndex`);
  return { leafIndex, commitment, balances, path };
}

function checkPath(
  n: ParsedNeighbour,
  field: string,
  root: Uint8Array,
  rootSums: readonly bigint[],
  assets: string[],
): void {
  const k = assets.length;
  const sums = encodeSums(n.balances);
  const top = foldPath(leafHash(n.commitment, sums), sums, n.leafIndex, n.path, k);
  if (!top.ok)
    fail(
      "SUM_OVERFLOW",
      `${field}.path[${top.step}].sums[${top.asset}]`,
      `the partial sum of ${assets[top.asset]} reaches 2^128`,
    );
  if (!bytesEqual(top.hash, root))
    fail("INVALID_PROOF", `${field}.path`, `hashes to ${bytesToHex(top.hash)}, not to the proof's root`);
  for (let a = 0; a < k; a++) {
    const got = readUint128(top.sums, a * SUM_BYTES);
    if (got !== rootSums[a])
      fail("INVALID_PROOF", `${field}.path`, `sums ${assets[a]} to ${got}, not to rootSums ${rootSums[a]}`);
  }
}

/**
 * Checks a SPEC §2.1 non-inclusion proof for `who` (or for the commitment it
 * names when `who` is omitted). Never throws on bad input. Tying `root` to a
 * signed attestation and `leafCount` to the attested report (with
 * `order: "commitment"`) is the caller's job (core/inclusionCheck.ts).
 */
export function verifyNonInclusionProof(proofJson: unknown, who?: ProofSubject): NonInclusionProofResult {
  try {
    const { json, assets, root, rootSums } = parseProofHeader(proofJson);
    const k = assets.length;
    if (json.kind !== "non-inclusion") fail("INVALID_PROOF", "kind", 'must be "non-inclusion"');
    if (typeof json.commitment !== "string") fail("INVALID_BYTES", "commitment", "must be 0x-hex");
    const c = hexToBytes(json.commitment, "commitment", HASH_BYTES);
    if (who !== undefined) {
      const mine = subjectCommitment(who);
      if (!bytesEqual(mine, c))
        fail(
          "INVALID_PROOF",
          "commitment",
          `the proof is about ${bytesToHex(c)}, not your commitment ${bytesToHex(mine)}`,
        );
    }
    const leafCount = parseSafeInteger(json.leafCount, "leafCount");
    if (leafCount < 1) fail("INVALID_PROOF", "leafCount", "must be at least 1");
    if (!("left" in json) || !("right" in json))
      fail("INVALID_PROOF", "proof", "must have left and right (a neighbour's proof or null)");
    const left = parseNeighbour(json.left, "left", k);
    const right = parseNeighbour(json.right, "right", k);
    if (left === null && right === null)
      fail("INVALID_PROOF", "proof", "left and right are both null: at least one neighbour is needed");
    for (const [n, field] of [
      [left, "left"],
      [right, "right"],
    ] as const) {
      if (n === null) continue;
      if (n.leafIndex >= leafCount)
        fail("INVALID_PROOF", `${field}.leafIndex`, `${n.leafIndex} is not a real leaf (the ledger has ${leafCount})`);
      checkPath(n, field, root, rootSums, assets);
    }
    if (left !== null && compareCommitments(left.commitment, c) >= 0) {
      fail("INVALID_PROOF", "left.commitment", "is not below the commitment shown absent");
    }
    if (right !== null && compareCommitments(c, right.commitment) >= 0) {
      fail("INVALID_PROOF", "right.commitment", "is not above the commitment shown absent");
    }
    if (left !== null && right !== null && right.leafIndex !== left.leafIndex + 1) {
      fail(
        "INVALID_PROOF",
        "right.leafIndex",
        `must be left.leafIndex + 1 = ${left.leafIndex + 1}, got ${right.leafIndex}: the neighbours are not adjacent`,
      );
    }
    if (left === null && right!.leafIndex !== 0) {
      fail("INVALID_PROOF", "right.leafIndex", `must be 0 when there is no left neighbour, got ${right!.leafIndex}`);
    }
    if (right === null && left!.leafIndex !== leafCount - 1) {
      fail(
        "INVALID_PROOF",
        "left.leafIndex",
        `must be the last leaf ${leafCount - 1} when there is no right neighbour, got ${left!.leafIndex}`,
      );
    }
    return {
      ok: true,
      commitment: bytesToHex(c),
      assets,
      root: bytesToHex(root),
      rootSums,
      leafCount,
      left: left?.leafIndex ?? null,
      right: right?.leafIndex ?? null,
    };
  } catch (e) {
    if (e instanceof SolventError) return { ok: false, code: e.code, record: e.record, reason: e.message };
    throw e;
  }
}
