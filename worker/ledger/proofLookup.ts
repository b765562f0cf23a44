/**
 * SPEC §2 inclusion proofs read from a stored ledger (layout: ledgerStore.ts):
 * the manifest, one index bucket, then one ranged read per tree level.
 */
import { bytesEqual, bytesToHex, hexToBytes, readUint128, type Hex } from "../../core/bytes.js";
import { PROOF_VERSION, type InclusionProof } from "../../core/liabilities/index.js";
import {
  HASH_BYTES,
  SUM_BYTES,
  indexKey,
  indexPrefix,
  nodeBytes,
  readJson,
  readObject,
  readRange,
  shardKey,
  shardNodeOffset,
  topKey,
  topNodeOffset,
  treeManifestKey,
  type TreeManifest,
} from "./ledgerStore.js";

const INDEX_ENTRY = HASH_BYTES + 4;

function sumsToStrings(node: Uint8Array, assets: number): string[] {
  const out: string[] = [];
  for (let a = 0; a < assets; a++) out.push(readUint128(node, HASH_BYTES + a * SUM_BYTES).toString(10));
  return out;
}

/** Leaf index of `commitment` from its sorted index bucket, or null. */
async function findLeaf(bucket: R2Bucket, m: TreeManifest, commitment: Uint8Array): Promise<number | null> {
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

/**
 * The SPEC §2 inclusion proof of `commitmentHex` (0x + 64 hex) in the complete
 * ledger `ledgerId`, or null when the ledger has no stored tree or the
 * commitment is not in it.
 *
 * @example
 * const proof = await readInclusionProof(env.BUCKET, ledgerId, "0x9f…");
 */
export async function readInclusionProof(bucket: R2Bucket, ledgerId: string, commitmentHex: string): Promise<InclusionProof | null> {
  const commitment = hexToBytes(commitmentHex, "commitment", HASH_BYTES);
  const m = await readJson<TreeManifest>(bucket, treeManifestKey(ledgerId));
  if (m === null) return null;
  const leaf = await findLeaf(bucket, m, commitment);
  if (leaf === null || leaf >= m.leafCount) return null;

  const k = m.assets.length;
  const nb = nodeBytes(k);
  const shard = Math.floor(leaf / m.shardSize);
  const last = shard === m.shardCount - 1;
  const counts = last ? m.lastShardCounts : m.fullShardCounts;
  const leaves = last ? m.leafCount - shard * m.shardSize : m.shardSize;
  const key = shardKey(m.ledgerId, m.buildId, shard);
  const reads: Promise<Uint8Array>[] = [];
  // Level 0: the leaf and its sibling are adjacent (padding keeps every level below the top even).
  const pairLocal = (leaf - shard * m.shardSize) & ~1;
  if (counts.length > 1) reads.push(readRange(bucket, key, shardNodeOffset(counts, leaves, 0, pairLocal, k), 2 * nb));
  for (let l = 1; l < counts.length - 1; l++) {
    const sibling = (leaf >> l) ^ 1;
    const local = sibling - ((shard * m.shardSize) >> l);
    reads.push(readRange(bucket, key, shardNodeOffset(counts, leaves, l, local, k), nb));
  }
  for (let t = 0; t < m.topCounts.length - 1; t++) {
    const sibling = (leaf >> (m.topLevel + t)) ^ 1;
    reads.push(readRange(bucket, topKey(m.ledgerId, m.buildId), topNodeOffset(m.topCounts, t, sibling, k), nb));
  }
  const nodes = await Promise.all(reads);
  let leafNode: Uint8Array;
  const path: Uint8Array[] = [];
  if (counts.length > 1) {
    const pair = nodes[0]!;
    const left = leaf % 2 === 0;
    leafNode = pair.subarray(left ? 0 : nb, left ? nb : 2 * nb);
    path.push(pair.subarray(left ? nb : 0, left ? 2 * nb : nb), ...nodes.slice(1));
  } else {
    // One leaf: the root is the leaf and the path is empty.
    leafNode = await readRange(bucket, key, shardNodeOffset(counts, leaves, 0, 0, k), nb);
  }
  const stored = await readRange(bucket, key, (leaf - shard * m.shardSize) * HASH_BYTES, HASH_BYTES);
  if (!bytesEqual(stored, commitment)) throw new Error(`ledger ${ledgerId}: index and shard disagree on leaf ${leaf}`);
  return {
    version: PROOF_VERSION,
    assets: [...m.assets],
    root: m.root,
    rootSums: [...m.rootSums],
    leafIndex: leaf,
    balances: sumsToStrings(leafNode, k),
    path: path.map((node) => ({ hash: bytesToHex(node.subarray(0, HASH_BYTES)) as Hex, sums: sumsToStrings(node, k) })),
  };
}

/**
 * Every stored leaf in leaf (publication) order: the normalized rows as the
 * tree holds them, for audits and re-computation. Reads whole shards.
 */
export async function readLedgerLeaves(bucket: R2Bucket, ledgerId: string): Promise<{ commitment: Hex; balances: bigint[] }[] | null> {
  const m = await readJson<TreeManifest>(bucket, treeManifestKey(ledgerId));
  if (m === null) return null;
  const k = m.assets.length;
  const nb = nodeBytes(k);
  const out: { commitment: Hex; balances: bigint[] }[] = [];
  for (let s = 0; s < m.shardCount; s++) {
    const obj = await readObject(bucket, shardKey(m.ledgerId, m.buildId, s));
    if (obj === null) throw new Error(`ledger ${ledgerId}: shard ${s} is missing`);
    const leaves = s === m.shardCount - 1 ? m.leafCount - s * m.shardSize : m.shardSize;
    for (let i = 0; i < leaves; i++) {
      const node = obj.subarray(leaves * HASH_BYTES + i * nb, leaves * HASH_BYTES + (i + 1) * nb);
      out.push({
        commitment: bytesToHex(obj.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)),
        balances: sumsToStrings(node, k).map((x) => BigInt(x)),
      });
    }
  }
  return out;
}
