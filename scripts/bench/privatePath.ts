/**
 * A real SPEC §11 proof at 2^depth leaves without building 2^depth leaves:
 * only the proven leaf's path exists. Every sibling is a synthetic subtree
 * root (random value below 2^(40+level), random blinding, random hash), which
 * is all a prover reads of the tree; the path above is computed from them, so
 * the proof verifies like any other.
 */
import { randomBytes } from "node:crypto";
import { userCommitment } from "../../core/liabilities/index.js";
import {
  GROUP_ORDER,
  type PrivateAsset,
  type PrivateLedger,
  type PrivateNode,
  pedersen,
  privateLeaf,
  privateParent,
} from "../../core/liabilities/private/index.js";

export const randomBigint = (bits: number) =>
  BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString("hex")}`) & ((1n << BigInt(bits)) - 1n);
export const randomScalar = () => BigInt(`0x${randomBytes(64).toString("hex")}`) % GROUP_ORDER;

/** A ledger holding only the path of leaf `index` in a tree of 2^depth leaves (see the header). */
export function syntheticPath(
  depth: number,
  assets: PrivateAsset[],
): { ledger: PrivateLedger; salt: Uint8Array; userId: string; index: number } {
  const salt = new Uint8Array(randomBytes(16));
  const userId = "bench-user";
  const index = Number(randomBigint(depth));
  const k = assets.length;
  let node: PrivateNode = privateLeaf(
    userCommitment(salt, userId),
    assets.map(() => randomBigint(40)),
    assets.map(randomScalar),
  );
  const levels: PrivateNode[][] = [];
  for (let l = 0; l < depth; l++) {
    const values = Array.from({ length: k }, () => randomBigint(40 + l));
    const blindings = values.map(randomScalar);
    const commitments = values.map((v, a) => pedersen(v, blindings[a]!));
    const sibling: PrivateNode = {
      hash: new Uint8Array(randomBytes(32)),
      commitments,
      encoded: commitments.map((c) => c.toBytes()),
      values,
      blindings,
    };
    const at = index >> l;
    levels[l] = [];
    levels[l]![at] = node;
    levels[l]![at ^ 1] = sibling;
    node = (at & 1) === 0 ? privateParent(node, sibling) : privateParent(sibling, node);
  }
  levels[depth] = [node];
  const ledger: PrivateLedger = {
    ledgerId: "bench",
    assets,
    depth,
    commitments: [],
    levels,
    root: node,
    totals: node.values,
    totalBlindings: node.blindings,
  };
  return { ledger, salt, userId, index };
}
