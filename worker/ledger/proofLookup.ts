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

/** Manifests of ledgers served recently, per isolate: a stored tree never changes once its ledger is complete. */
const manifests = new Map<string, TreeManifest>();
const MANIFEST_CACHE_SIZE = 32;

/** Shard levels with at most this many nodes are read together (64 nodes of 2 assets: 4 KiB a level). */
const TAIL_NODES = 64;

/** top.bin of recently served ledgers (shardCount * 2 nodes at most: 80 KB at 10M users, 2 assets). */
const tops = new Map<string, Uint8Array>();

async function completeTop(bucket: R2Bucket, m: TreeManifest): Promise<Uint8Array> {
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
async function completeManifest(bucket: R2Bucket, ledgerId: string): Promise<TreeManifest | null> {
  const cached = manifests.get(ledgerId);
  if (cached !== undefined) return cached;
  const m = await readJson<TreeManifest>(bucket, treeManifestKey(ledgerId));
  if (m === null) return null;
  // Only proofs of attested (hence complete) ledgers reach here, so the pointer is final.
  if (manifests.size >= MANIFEST_CACHE_SIZE) manifests.delete(manifests.keys().next().value!);
  manifests.set(ledgerId, m);
  return m;
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
  const m = await completeManifest(bucket, ledgerId);
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
  const localLeaf = leaf - shard * m.shardSize;
  // Levels of the shard from `tail` up hold at most TAIL_NODES nodes each: one ranged read takes them all.
  let tail = 1;
  while (tail < counts.length - 1 && counts[tail]! > TAIL_NODES) tail++;
  const [pair, singles, tailBytes, top, stored] = await Promise.all([
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
      ? readRange(bucket, key, shardNodeOffset(counts, leaves, tail, 0, k), shardNodeOffset(counts, leaves, counts.length - 1, 0, k) - shardNodeOffset(counts, leaves, tail, 0, k))
      : null,
    m.topCounts.length > 1 ? completeTop(bucket, m) : null,
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
  for (let t = 0; t < m.topCounts.length - 1; t++) {
    const at = topNodeOffset(m.topCounts, t, (leaf >> (m.topLevel + t)) ^ 1, k);
    path.push(top!.subarray(at, at + nb));
  }
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
