/**
 * SPEC §11 proofs read from a stored private ledger (layout:
 * privateLayout.ts). An inclusion proof is made on its first request: the
 * leaf, its siblings and the root are read from R2 (top.bin is cached per
 * isolate, as for plain ledgers), core's privateInclusionProof proves every sibling value in range
 * with the Worker's Bulletproofs engine, the proof is checked, and it is
 * stored at `ledgers/{ledgerId}/private-proofs/{leafIndex}.json` with a
 * put-if-absent. Every answer is the stored bytes: Bulletproofs are
 * randomised, so two isolates racing on one leaf make two different valid
 * proofs, and the first one stored is the one everybody gets, then and later.
 *
 * A proof shows the user's own opening and, of every other node, only its
 * commitments and hash; a non-inclusion proof shows of its neighbours only
 * their user commitment, leaf commitments and path. No other value or
 * blinding leaves the publisher.
 */
import { bytesEqual, bytesToHex, type Hex, hexToBytes } from "../../core/bytes.js";
import { compareCommitments } from "../../core/liabilities/index.js";
import {
  checkPrivateInclusion,
  type PrivateAsset,
  type PrivateInclusionProof,
  type PrivateLedger,
  type PrivateNeighbour,
  type PrivateNode,
  type PrivateNonInclusionProof,
  privateInclusionProof,
  privateLeafHash,
  type RangeProofEngine,
  SCHEME,
} from "../../core/liabilities/private/index.js";
import { readObject } from "./ledgerStore.js";
import {
  decodePrivateNode,
  PRIVATE_HASH_BYTES,
  type PrivateTreeManifest,
  privateNodeLocation,
  privateProofKey,
  privateShardGeometry,
  readLeafCommitment,
  readPrivateNode,
} from "./privateLayout.js";
import { completeTop, findLeaf, insertionPoint } from "./proofLookup.js";

/** Node `index` of `level`: from the cached top.bin at the shard tops and above, else one ranged read of its shard. */
async function node(bucket: R2Bucket, m: PrivateTreeManifest, level: number, index: number): Promise<PrivateNode> {
  if (level < privateShardGeometry(m).topLevel) return readPrivateNode(bucket, m, level, index);
  const top = await completeTop(bucket, m);
  const at = privateNodeLocation(m, level, index);
  return decodePrivateNode(top, m.assets.length, `ledger ${m.ledgerId} level ${level} node ${index}`, at.offset);
}

/** The leaf, its sibling at every level (bottom up) and the root, read in parallel. */
async function pathNodes(
  bucket: R2Bucket,
  m: PrivateTreeManifest,
  leafIndex: number,
): Promise<{ leaf: PrivateNode; siblings: PrivateNode[]; root: PrivateNode }> {
  const [leaf, root, ...siblings] = await Promise.all([
    node(bucket, m, 0, leafIndex),
    node(bucket, m, m.depth, 0),
    ...Array.from({ length: m.depth }, (_, l) => node(bucket, m, l, (leafIndex >> l) ^ 1)),
  ]);
  if (bytesToHex(root!.hash) !== m.root.toLowerCase())
    throw new Error(`ledger ${m.ledgerId}: the stored root node is not the manifest's root ${m.root}`);
  return { leaf: leaf!, siblings, root: root! };
}

/**
 * The ledger as core's proof functions see it, holding only the nodes a proof
 * of `leafIndex` reads: the leaf, its siblings and the root (the other
 * entries of `levels` are holes that nothing reads).
 */
function pathView(
  m: PrivateTreeManifest,
  leafIndex: number,
  nodes: { leaf: PrivateNode; siblings: PrivateNode[]; root: PrivateNode },
): PrivateLedger {
  const levels: PrivateNode[][] = Array.from({ length: m.depth + 1 }, () => []);
  levels[0]![leafIndex] = nodes.leaf;
  nodes.siblings.forEach((s, l) => {
    levels[l]![(leafIndex >> l) ^ 1] = s;
  });
  levels[m.depth]![0] = nodes.root;
  const assets: PrivateAsset[] = m.assets.map((symbol, k) => ({
    symbol,
    decimals: m.decimals[k]!,
    unitDecimals: m.unitDecimals[k]!,
  }));
  return {
    ledgerId: m.ledgerId,
    assets,
    depth: m.depth,
    commitments: [],
    levels,
    root: nodes.root,
    totals: nodes.root.values,
    totalBlindings: nodes.root.blindings,
  };
}

/**
 * Stores `bytes` at `key` unless something is stored there already, and
 * returns what is stored: `bytes`, or the proof that got there first.
 */
export async function storeOnce(bucket: R2Bucket, key: string, bytes: Uint8Array): Promise<Uint8Array> {
  const written = await bucket.put(key, bytes, {
    onlyIf: { etagDoesNotMatch: "*" },
    httpMetadata: { contentType: "application/json" },
  });
  if (written !== null) return bytes;
  const stored = await readObject(bucket, key);
  if (stored === null) throw new Error(`${key}: the put was refused as present, yet nothing is stored`);
  return stored;
}

/** Proofs being made in this isolate, so concurrent first requests for one leaf wait for one proof. */
const making = new Map<string, Promise<Uint8Array>>();

/** Makes, checks and stores the proof of `leafIndex` (whose user commitment is `commitment`); returns the stored bytes. */
async function makeProof(
  bucket: R2Bucket,
  m: PrivateTreeManifest,
  leafIndex: number,
  commitment: Uint8Array,
  engine: RangeProofEngine,
): Promise<Uint8Array> {
  const nodes = await pathNodes(bucket, m, leafIndex);
  if (!bytesEqual(privateLeafHash(commitment, nodes.leaf.encoded), nodes.leaf.hash))
    throw new Error(`ledger ${m.ledgerId}: the index and the shard disagree on leaf ${leafIndex}`);
  const proof = privateInclusionProof(pathView(m, leafIndex, nodes), leafIndex, engine);
  // A stored proof is served forever: never store one a verifier would refuse.
  const check = checkPrivateInclusion(proof, { commitment }, engine, { root: m.root });
  if (!check.ok)
    throw new Error(
      `ledger ${m.ledgerId} leaf ${leafIndex}: the proof made from stored nodes fails (${check.record}: ${check.reason})`,
    );
  return storeOnce(bucket, privateProofKey(m.ledgerId, leafIndex), new TextEncoder().encode(JSON.stringify(proof)));
}

/**
 * The stored bytes of the SPEC §11 inclusion proof (a PrivateInclusionProof
 * as JSON) of `commitmentHex` in the private ledger `m`, made and stored on
 * first request; null when the commitment is not a leaf.
 */
export async function readPrivateInclusionProof(
  bucket: R2Bucket,
  m: PrivateTreeManifest,
  commitmentHex: string,
  engine: () => RangeProofEngine,
): Promise<Uint8Array | null> {
  const commitment = hexToBytes(commitmentHex, "commitment", PRIVATE_HASH_BYTES);
  const leafIndex = await findLeaf(bucket, m, commitment);
  if (leafIndex === null || leafIndex >= m.leafCount) return null;
  const key = privateProofKey(m.ledgerId, leafIndex);
  const stored = await readObject(bucket, key);
  if (stored !== null) return stored;
  let pending = making.get(key);
  if (pending === undefined) {
    pending = makeProof(bucket, m, leafIndex, commitment, engine()).finally(() => making.delete(key));
    making.set(key, pending);
  }
  return pending;
}

/** What a non-inclusion proof shows of leaf `i`: its user commitment, leaf commitments and path (hashes and commitments). */
async function neighbour(bucket: R2Bucket, m: PrivateTreeManifest, i: number): Promise<PrivateNeighbour> {
  const [c, nodes] = await Promise.all([readLeafCommitment(bucket, m, i), pathNodes(bucket, m, i)]);
  if (!bytesEqual(privateLeafHash(c, nodes.leaf.encoded), nodes.leaf.hash))
    throw new Error(`ledger ${m.ledgerId}: the stored commitment of leaf ${i} is not the one its leaf hash binds`);
  return {
    leafIndex: i,
    commitment: bytesToHex(c),
    leafCommitments: nodes.leaf.encoded.map(bytesToHex),
    path: nodes.siblings.map((s) => ({ hash: bytesToHex(s.hash), commitments: s.encoded.map(bytesToHex) })),
  };
}

/**
 * The SPEC §11 non-inclusion proof of `commitmentHex` in the private ledger
 * `m` (the §2.1 shape: the adjacent leaves around where it would sit, with
 * their paths), or null when the commitment is a leaf after all. Padding
 * leaves count: the edges are leaf 0 and leaf 2^depth − 1.
 */
export async function readPrivateNonInclusionProof(
  bucket: R2Bucket,
  m: PrivateTreeManifest,
  commitmentHex: string,
): Promise<PrivateNonInclusionProof | null> {
  const commitment = hexToBytes(commitmentHex, "commitment", PRIVATE_HASH_BYTES);
  const j = await insertionPoint(bucket, m, commitment, (leaf) => readLeafCommitment(bucket, m, leaf));
  if (j === null) return null;
  const [root, left, right] = await Promise.all([
    node(bucket, m, m.depth, 0),
    j > 0 ? neighbour(bucket, m, j - 1) : undefined,
    j < m.leafCount ? neighbour(bucket, m, j) : undefined,
  ]);
  // Never serve a proof the verifier would refuse: the stored order must bracket the commitment.
  const below = (a: Hex, b: Uint8Array | Hex) =>
    compareCommitments(hexToBytes(a, "commitment"), typeof b === "string" ? hexToBytes(b, "commitment") : b) < 0;
  if ((left && !below(left.commitment, commitment)) || (right && !below(commitmentHex as Hex, right.commitment))) {
    throw new Error(`ledger ${m.ledgerId}: stored leaves ${j - 1} and ${j} do not bracket ${commitmentHex}`);
  }
  return {
    version: 1,
    scheme: SCHEME,
    assets: [...m.assets],
    root: bytesToHex(root.hash),
    rootCommitments: root.encoded.map(bytesToHex),
    ...(left ? { left } : {}),
    ...(right ? { right } : {}),
  };
}

/** The root a stored proof names (to compare with the signed liabilitiesRoot before serving it). */
export function storedProofRoot(bytes: Uint8Array): string {
  const proof = JSON.parse(new TextDecoder().decode(bytes)) as Partial<PrivateInclusionProof>;
  return typeof proof.root === "string" ? proof.root.toLowerCase() : "";
}
