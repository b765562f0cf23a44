/**
 * SPEC §2 inclusion proofs read from a stored ledger (layout: ledgerFormat.ts,
 * shards: shardLayout.ts). The manifest and top.bin are cached per isolate; a
 * proof then reads one index bucket, then, in parallel, the leaf's block and
 * one span of its shard's upper levels (layout 2: 3 ranged reads in all). A
 * ledger stored in layout 1 is read as before: about one read per shard level.
 */
import { bytesEqual, bytesToHex, type Hex, hexToBytes, readUint128 } from "../../core/bytes.js";
import {
  assembleNonInclusionProof,
  compareCommitments,
  HASH_BYTES,
  type InclusionProof,
  insertionIndex,
  type NonInclusionProof,
  PROOF_VERSION,
  SUM_BYTES,
} from "../../core/liabilities/index.js";
import {
  indexKey,
  indexPrefix,
  nodeBytes,
  shardKey,
  shardNodeOffset,
  type TreeManifest,
  topKey,
  topNodeOffset,
  treeManifestKey,
} from "./ledgerFormat.js";
import { readJson, readObject, readRange } from "./ledgerStore.js";
import { isPrivateManifest, type PrivateTreeManifest } from "./privateLayout.js";
import { commitmentOffset, parseProofReads, proofReads, shardGeometry, shardLeaves } from "./shardLayout.js";

const INDEX_ENTRY = HASH_BYTES + 4;

function sumsToStrings(node: Uint8Array, assets: number): string[] {
  const out: string[] = [];
  for (let a = 0; a < assets; a++) out.push(readUint128(node, HASH_BYTES + a * SUM_BYTES).toString(10));
  return out;
}

/** What the commitment index of a stored tree is found by (the plain and the private manifests both have it). */
export interface IndexedTree {
  ledgerId: string;
  buildId: string;
  indexBits: number;
}

/** Leaf index of `commitment` from its sorted index bucket, or null. */
export async function findLeaf(bucket: R2Bucket, m: IndexedTree, commitment: Uint8Array): Promise<number | null> {
  const entries = await readObject(bucket, indexKey(m.ledgerId, m.buildId, indexPrefix(commitment, m.indexBits)));
  if (entries === null) return null;
  let lo = 0;
  let hi = entries.length / INDEX_ENTRY - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = mid * INDEX_ENTRY;
    let cmp = 0;
    for (let i = 0; i < HASH_BYTES && cmp === 0; i++) cmp = entries[at + i]! - commitment[i]!;
    if (cmp === 0) return new DataView(entries.buffer, entries.byteOffset).getUint32(at + HASH_BYTES);
    if (cmp < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** A stored tree's manifest: the SPEC §2 sum tree's, or a private ledger's (privateLayout.ts). */
export type StoredManifest = TreeManifest | PrivateTreeManifest;

/** Manifests of ledgers served recently, per isolate: a stored tree never changes once its ledger is complete. */
const manifests = new Map<string, StoredManifest>();
const MANIFEST_CACHE_SIZE = 32;

/** Shard levels with at most this many nodes are read together (64 nodes of 2 assets: 4 KiB a level). */
const TAIL_NODES = 64;

/** top.bin of recently served ledgers (shardCount * 2 nodes at most: 80 KB at 10M users, 2 assets; a private ledger's 72 bytes more per asset and node). */
const tops = new Map<string, Uint8Array>();

/** top.bin of a complete build (plain or private layout), cached per isolate. */
export async function completeTop(bucket: R2Bucket, m: { ledgerId: string; buildId: string }): Promise<Uint8Array> {
  const cacheKey = `${m.ledgerId}/${m.buildId}`;
  const cached = tops.get(cacheKey);
  if (cached !== undefined) return cached;
  const top = await readObject(bucket, topKey(m.ledgerId, m.buildId));
  if (top === null) throw new Error(`ledger ${m.ledgerId}: top.bin is missing`);
  if (tops.size >= MANIFEST_CACHE_SIZE) tops.delete(tops.keys().next().value!);
  tops.set(cacheKey, top);
  return top;
}

/** The ledger's manifest (the pointer to its complete build), cached; null when it has none yet. */
export async function completeManifest(bucket: R2Bucket, ledgerId: string): Promise<StoredManifest | null> {
  const cached = manifests.get(ledgerId);
  if (cached !== undefined) return cached;
  const m = await readJson<StoredManifest>(bucket, treeManifestKey(ledgerId));
  if (m === null) return null;
  // Only proofs of attested (hence complete) ledgers reach here, so the pointer is final.
  if (manifests.size >= MANIFEST_CACHE_SIZE) manifests.delete(manifests.keys().next().value!);
  manifests.set(ledgerId, m);
  return m;
}

/** The ledger's SPEC §2 manifest, or null when it has no stored tree; a private ledger is read by privateProof.ts. */
async function plainManifest(bucket: R2Bucket, ledgerId: string): Promise<TreeManifest | null> {
  const m = await completeManifest(bucket, ledgerId);
  if (m !== null && isPrivateManifest(m))
    throw new Error(`ledger ${ledgerId} is a private (SPEC §11) ledger: its proofs come from privateProof.ts`);
  return m;
}

/** The stored commitment, leaf node and in-shard sibling path (node bytes, bottom up) of a leaf. */
interface ShardPath {
  commitment: Uint8Array;
  leafNode: Uint8Array;
  path: Uint8Array[];
}

/** Layout 2 (shardLayout.ts): the leaf's block and one span of the upper levels, in parallel. */
async function readShardPath(bucket: R2Bucket, m: TreeManifest, shard: number, localLeaf: number): Promise<ShardPath> {
  const g = shardGeometry(m, shard);
  const key = shardKey(m.ledgerId, m.buildId, shard);
  const reads = proofReads(g, localLeaf);
  const [block, upper] = await Promise.all([
    readRange(bucket, key, reads.block.offset, reads.block.length),
    reads.upper === null ? null : readRange(bucket, key, reads.upper.offset, reads.upper.length),
  ]);
  return parseProofReads(g, localLeaf, reads, block, upper);
}

/**
 * Layout 1 (ledgers stored before layout 2, level-major shards): the leaf
 * pair, one node per lower level, the small levels together, and the stored
 * commitment, in parallel.
 */
async function readShardPathV1(bucket: R2Bucket, m: TreeManifest, shard: number, leaf: number): Promise<ShardPath> {
  const k = m.assets.length;
  const nb = nodeBytes(k);
  const last = shard === m.shardCount - 1;
  const counts = last ? m.lastShardCounts : m.fullShardCounts;
  const leaves = last ? m.leafCount - shard * m.shardSize : m.shardSize;
  const key = shardKey(m.ledgerId, m.buildId, shard);
  const localLeaf = leaf - shard * m.shardSize;
  // Levels of the shard from `tail` up hold at most TAIL_NODES nodes each: one ranged read takes them all.
  let tail = 1;
  while (tail < counts.length - 1 && counts[tail]! > TAIL_NODES) tail++;
  const [pair, singles, tailBytes, stored] = await Promise.all([
    // Level 0: the leaf and its sibling are adjacent (padding keeps every level below the top even).
    counts.length > 1 ? readRange(bucket, key, shardNodeOffset(counts, leaves, 0, localLeaf & ~1, k), 2 * nb) : null,
    Promise.all(
      Array.from({ length: Math.max(0, tail - 1) }, (_, i) => {
        const l = i + 1;
        const local = ((leaf >> l) ^ 1) - ((shard * m.shardSize) >> l);
        return readRange(bucket, key, shardNodeOffset(counts, leaves, l, local, k), nb);
      }),
    ),
    tail < counts.length - 1
      ? readRange(
          bucket,
          key,
          shardNodeOffset(counts, leaves, tail, 0, k),
          shardNodeOffset(counts, leaves, counts.length - 1, 0, k) - shardNodeOffset(counts, leaves, tail, 0, k),
        )
      : null,
    // The stored commitment is read alongside the path.
    readRange(bucket, key, localLeaf * HASH_BYTES, HASH_BYTES),
  ]);
  let leafNode: Uint8Array;
  const path: Uint8Array[] = [];
  if (pair !== null) {
    const left = leaf % 2 === 0;
    leafNode = pair.subarray(left ? 0 : nb, left ? nb : 2 * nb);
    path.push(pair.subarray(left ? nb : 0, left ? 2 * nb : nb), ...singles);
    const tailStart = shardNodeOffset(counts, leaves, tail, 0, k);
    for (let l = tail; l < counts.length - 1; l++) {
      const local = ((leaf >> l) ^ 1) - ((shard * m.shardSize) >> l);
      const at = shardNodeOffset(counts, leaves, l, local, k) - tailStart;
      path.push(tailBytes!.subarray(at, at + nb));
    }
  } else {
    // One leaf: the root is the leaf and the path is empty.
    leafNode = await readRange(bucket, key, shardNodeOffset(counts, leaves, 0, 0, k), nb);
  }
  return { commitment: stored, leafNode, path };
}

/**
 * The SPEC §2 inclusion proof of `commitmentHex` (0x + 64 hex) in the complete
 * ledger `ledgerId`, or null when the ledger has no stored tree or the
 * commitment is not in it.
 *
 * @example
 * const proof = await readInclusionProof(env.BUCKET, ledgerId, "0x9f…");
 */
export async function readInclusionProof(
  bucket: R2Bucket,
  ledgerId: string,
  commitmentHex: string,
): Promise<InclusionProof | null> {
  const commitment = hexToBytes(commitmentHex, "commitment", HASH_BYTES);
  const m = await plainManifest(bucket, ledgerId);
  if (m === null) return null;
  const leaf = await findLeaf(bucket, m, commitment);
  if (leaf === null || leaf >= m.leafCount) return null;
  const read = await readLeafProof(bucket, m, leaf);
  if (!bytesEqual(read.commitment, commitment))
    throw new Error(`ledger ${ledgerId}: index and shard disagree on leaf ${leaf}`);
  return read.proof;
}

/** The §2 proof of leaf `leaf` and the commitment stored for it. */
async function readLeafProof(
  bucket: R2Bucket,
  m: TreeManifest,
  leaf: number,
): Promise<{ proof: InclusionProof; commitment: Uint8Array }> {
  const k = m.assets.length;
  const nb = nodeBytes(k);
  const shard = Math.floor(leaf / m.shardSize);
  const [inShard, top] = await Promise.all([
    m.layout === undefined
      ? readShardPathV1(bucket, m, shard, leaf)
      : readShardPath(bucket, m, shard, leaf - shard * m.shardSize),
    m.topCounts.length > 1 ? completeTop(bucket, m) : null,
  ]);
  const path = [...inShard.path];
  for (let t = 0; t < m.topCounts.length - 1; t++) {
    const at = topNodeOffset(m.topCounts, t, (leaf >> (m.topLevel + t)) ^ 1, k);
    path.push(top!.subarray(at, at + nb));
  }
  const proof: InclusionProof = {
    version: PROOF_VERSION,
    assets: [...m.assets],
    root: m.root,
    rootSums: [...m.rootSums],
    leafIndex: leaf,
    balances: sumsToStrings(inShard.leafNode, k),
    path: path.map((node) => ({ hash: bytesToHex(node.subarray(0, HASH_BYTES)) as Hex, sums: sumsToStrings(node, k) })),
  };
  return { proof, commitment: inShard.commitment };
}

/** The stored commitment of leaf `leaf` (one 32-byte ranged read). */
async function readLeafCommitment(bucket: R2Bucket, m: TreeManifest, leaf: number): Promise<Uint8Array> {
  const shard = Math.floor(leaf / m.shardSize);
  const g = shardGeometry(m, shard);
  return readRange(
    bucket,
    shardKey(m.ledgerId, m.buildId, shard),
    commitmentOffset(g, leaf - shard * m.shardSize),
    HASH_BYTES,
  );
}

/**
 * Where `commitment` would be inserted among the leaves of a ledger in
 * commitment order (the count of leaves below it), or null when it is a leaf.
 * Leaf indices follow commitment order, so the commitment's index bucket
 * answers in one read: the first entry above it is the right neighbour, or the
 * last entry below it the left one. Only an empty bucket (an index prefix no
 * commitment of the ledger has) falls back to a binary search over the stored
 * commitments: about log2(leafCount) reads of 32 bytes.
 */
export async function insertionPoint(
  bucket: R2Bucket,
  m: IndexedTree & { leafCount: number },
  commitment: Uint8Array,
  commitmentAt: (leaf: number) => Promise<Uint8Array>,
): Promise<number | null> {
  const entries = await readObject(bucket, indexKey(m.ledgerId, m.buildId, indexPrefix(commitment, m.indexBits)));
  const count = entries === null ? 0 : entries.length / INDEX_ENTRY;
  if (entries !== null && count > 0) {
    const at = (i: number) => entries.subarray(i * INDEX_ENTRY, i * INDEX_ENTRY + HASH_BYTES);
    const leafOf = (i: number) =>
      new DataView(entries.buffer, entries.byteOffset).getUint32(i * INDEX_ENTRY + HASH_BYTES);
    const pos = insertionIndex(count, at, commitment);
    if (pos < count && bytesEqual(at(pos), commitment)) return null;
    return pos < count ? leafOf(pos) : leafOf(count - 1) + 1;
  }
  const cache = new Map<number, Uint8Array>();
  let lo = 0;
  let hi = m.leafCount;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = await commitmentAt(mid);
    cache.set(mid, c);
    if (compareCommitments(c, commitment) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo < m.leafCount && bytesEqual(cache.get(lo) ?? (await commitmentAt(lo)), commitment)) return null;
  return lo;
}

/**
 * The SPEC §2.1 non-inclusion proof of `commitmentHex` in the complete ledger
 * `ledgerId`, or null when the ledger has no stored tree, is not in commitment
 * order (built before that rule), or holds the commitment after all.
 */
export async function readNonInclusionProof(
  bucket: R2Bucket,
  ledgerId: string,
  commitmentHex: string,
): Promise<NonInclusionProof | null> {
  const commitment = hexToBytes(commitmentHex, "commitment", HASH_BYTES);
  const m = await plainManifest(bucket, ledgerId);
  if (m === null || m.order !== "commitment") return null;
  const j = await insertionPoint(bucket, m, commitment, (leaf) => readLeafCommitment(bucket, m, leaf));
  if (j === null) return null;
  const [left, right] = await Promise.all([
    j > 0 ? readLeafProof(bucket, m, j - 1) : null,
    j < m.leafCount ? readLeafProof(bucket, m, j) : null,
  ]);
  // Never serve a proof the verifier would refuse: the stored order must bracket the commitment.
  if (
    (left !== null && compareCommitments(left.commitment, commitment) >= 0) ||
    (right !== null && compareCommitments(commitment, right.commitment) >= 0)
  ) {
    throw new Error(`ledger ${ledgerId}: stored leaves ${j - 1} and ${j} do not bracket ${commitmentHex}`);
  }
  return assembleNonInclusionProof(commitment, m.leafCount, left, right);
}

/**
 * Every stored leaf in leaf (publication) order: the normalized rows as the
 * tree holds them, for audits and re-computation. Reads whole shards, in
 * either layout (shardLayout.ts).
 */
export async function readLedgerLeaves(
  bucket: R2Bucket,
  ledgerId: string,
): Promise<{ commitment: Hex; balances: bigint[] }[] | null> {
  const m = await readJson<StoredManifest>(bucket, treeManifestKey(ledgerId));
  if (m === null) return null;
  if (isPrivateManifest(m))
    throw new Error(`ledger ${ledgerId} is a private (SPEC §11) ledger: its leaves are commitments, not balances`);
  const k = m.assets.length;
  const out: { commitment: Hex; balances: bigint[] }[] = [];
  for (let s = 0; s < m.shardCount; s++) {
    const obj = await readObject(bucket, shardKey(m.ledgerId, m.buildId, s));
    if (obj === null) throw new Error(`ledger ${ledgerId}: shard ${s} is missing`);
    const g = shardGeometry(m, s);
    const { commitments, balances } = shardLeaves(obj, g);
    for (let i = 0; i < g.leaves; i++) {
      out.push({
        commitment: bytesToHex(commitments.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)),
        balances: Array.from({ length: k }, (_, a) => readUint128(balances, (i * k + a) * SUM_BYTES)),
      });
    }
  }
  return out;
}
