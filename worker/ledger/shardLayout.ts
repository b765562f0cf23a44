/**
 * The bytes of a shard object (`builds/{buildId}/shards/{s}.bin`, ledgerFormat.ts):
 * where each commitment and node of a shard sits, so that a proof reads a few
 * ranges. Pure: no I/O.
 *
 * A shard holds leaves s*S .. s*S+n-1 (S = manifest.shardSize, n = S except in
 * the last shard) and its SPEC §2 subtree from level 0 up to the shard top
 * (level T = manifest.topLevel: log2 S, or the root level when the ledger has
 * one shard). `counts[l]` is the node count of local level l, padding nodes
 * included (manifest.fullShardCounts / lastShardCounts); a node is
 * hash (32) || enc128 sums (16 per asset), a commitment is 32 bytes.
 *
 * Layout 2 (manifest `layout: 2`, `blockBits` = b = ceil(T / 2)): blocked.
 *
 *   [block 0][block 1]…[block B-1][upper]          B = ceil(n / 2^b)
 *
 *   block j   leaves j*2^b .. min(n, (j+1)*2^b) - 1 and the nodes above them
 *             up to level b-1, contiguously: the leaves' commitments (32 each),
 *             then its nodes of level 0, level 1, …, level b-1; at level l the
 *             block holds nodes j*2^(b-l) .. min(counts[l], (j+1)*2^(b-l)) - 1.
 *             Every block but the last is full: 2^b*32 + (2^(b+1)-2)*node bytes.
 *             A level's padding node (at its end) is in the last block.
 *   upper     levels b .. T, level-major as in layout 1 (every node of level b,
 *             then of level b+1, …, the shard top last).
 *
 * A proof of local leaf i reads block i >> b (its commitment, its leaf node,
 * and its siblings at levels 0..b-1: the pair (x & ~1, x | 1) of a level below
 * b never straddles a block) and one span of upper (the sibling pairs at
 * levels b..T-1). The shard top is the object's last node in both layouts.
 *
 * Layout 1 (manifests without `layout`, ledgers stored before layout 2):
 *
 *   [commitments n*32][level 0 nodes][level 1 nodes]…[shard top]
 *
 * which is layout 2 with b = 0 (one-leaf blocks holding only the commitment,
 * every level in upper), so the offset helpers below serve both; only the
 * proof's read plan differs (proofLookup.ts reads layout 1 node by node).
 */
import { HASH_BYTES, SUM_BYTES, type SumTreeLevels } from "../../core/liabilities/index.js";
import { nodeBytes, type TreeManifest } from "./ledgerFormat.js";

/** The layout new builds write (TreeManifest.layout). */
export const SHARD_LAYOUT = 2;

/** Where one shard's bytes go. */
export interface ShardGeometry {
  /** Node counts per local level (padding included), level 0 first, the shard top (1) last. */
  readonly counts: readonly number[];
  /** The shard's leaves (commitments); counts[0] is this plus a padding node, if any. */
  readonly leaves: number;
  /** Leaves per block are 2^blockBits; 0 is layout 1. */
  readonly blockBits: number;
  readonly assets: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

/** Block bits for shards whose top is local level `topLevel`: ceil(topLevel / 2), so a block and upper are about the same size. */
export function blockBitsFor(topLevel: number): number {
  if (!Number.isSafeInteger(topLevel) || topLevel < 0) throw new Error(`bad shard top level ${topLevel}`);
  return Math.ceil(topLevel / 2);
}

/** The geometry of shard `shard` of a stored ledger, in the manifest's layout. */
export function shardGeometry(m: TreeManifest, shard: number): ShardGeometry {
  if (m.layout !== undefined && m.layout !== SHARD_LAYOUT)
    throw new Error(`ledger ${m.ledgerId}: unknown shard layout ${String(m.layout)}`);
  if (!Number.isSafeInteger(shard) || shard < 0 || shard >= m.shardCount)
    throw new Error(`ledger ${m.ledgerId} has no shard ${shard}`);
  const last = shard === m.shardCount - 1;
  const g: ShardGeometry = {
    counts: last ? m.lastShardCounts : m.fullShardCounts,
    leaves: last ? m.leafCount - shard * m.shardSize : m.shardSize,
    blockBits: m.layout === SHARD_LAYOUT ? m.blockBits! : 0,
    assets: m.assets.length,
  };
  checkGeometry(g);
  return g;
}

function checkGeometry(g: ShardGeometry): void {
  const top = g.counts.length - 1;
  if (top < 0 || g.counts[top] !== 1) throw new Error("shard level counts must end with the shard top (1 node)");
  if (!Number.isSafeInteger(g.blockBits) || g.blockBits < 0 || g.blockBits > top)
    throw new Error(`block bits ${g.blockBits} do not fit a shard of ${top} levels`);
  if (!Number.isSafeInteger(g.leaves) || g.leaves < 1 || g.counts[0]! - g.leaves > 1 || g.counts[0]! < g.leaves) {
    throw new Error(`${g.leaves} leaves do not fit ${g.counts[0]} level 0 nodes`);
  }
}

/** The shard top's local level. */
export function shardTopLevel(g: ShardGeometry): number {
  return g.counts.length - 1;
}

/** Number of blocks. */
export function blockCount(g: ShardGeometry): number {
  return Math.ceil(g.leaves / 2 ** g.blockBits);
}

/** Bytes of a full block. */
export function fullBlockBytes(g: ShardGeometry): number {
  const b = g.blockBits;
  return 2 ** b * HASH_BYTES + (2 ** (b + 1) - 2) * nodeBytes(g.assets);
}

/** Leaves first .. end-1 of block j. */
export function blockLeaves(g: ShardGeometry, j: number): { first: number; end: number } {
  const size = 2 ** g.blockBits;
  return { first: j * size, end: Math.min(g.leaves, (j + 1) * size) };
}

/** Nodes first .. end-1 of local level `level` (< blockBits) held by block j. */
export function blockNodes(g: ShardGeometry, j: number, level: number): { first: number; end: number } {
  const size = 2 ** (g.blockBits - level);
  return { first: j * size, end: Math.min(g.counts[level]!, (j + 1) * size) };
}

/** Bytes of block j within the shard object. */
export function blockRange(g: ShardGeometry, j: number): ByteRange {
  if (!Number.isSafeInteger(j) || j < 0 || j >= blockCount(g))
    throw new Error(`no block ${j} in a shard of ${blockCount(g)} blocks`);
  const leaves = blockLeaves(g, j);
  let length = (leaves.end - leaves.first) * HASH_BYTES;
  for (let l = 0; l < g.blockBits; l++) {
    const nodes = blockNodes(g, j, l);
    length += (nodes.end - nodes.first) * nodeBytes(g.assets);
  }
  return { offset: j * fullBlockBytes(g), length };
}

/** Offset of local level `level` (blockBits .. top + 1, the latter being the object's end) in upper. */
export function upperLevelOffset(g: ShardGeometry, level: number): number {
  if (level < g.blockBits || level > g.counts.length) throw new Error(`level ${level} is not in upper`);
  const nb = nodeBytes(g.assets);
  let offset = g.leaves * HASH_BYTES;
  for (let l = 0; l < level; l++) offset += g.counts[l]! * nb;
  return offset;
}

/** Offset of the commitment of local leaf `leaf`. */
export function commitmentOffset(g: ShardGeometry, leaf: number): number {
  if (!Number.isSafeInteger(leaf) || leaf < 0 || leaf >= g.leaves)
    throw new Error(`no leaf ${leaf} in a shard of ${g.leaves} leaves`);
  const j = leaf >> g.blockBits;
  return j * fullBlockBytes(g) + (leaf - j * 2 ** g.blockBits) * HASH_BYTES;
}

/** Offset of node `index` (local to the shard) of local level `level`. */
export function nodeOffset(g: ShardGeometry, level: number, index: number): number {
  if (!Number.isSafeInteger(index) || index < 0 || index >= (g.counts[level] ?? 0))
    throw new Error(`no node ${index} at level ${level}`);
  const nb = nodeBytes(g.assets);
  if (level >= g.blockBits) return upperLevelOffset(g, level) + index * nb;
  const j = index >> (g.blockBits - level);
  const leaves = blockLeaves(g, j);
  let offset = j * fullBlockBytes(g) + (leaves.end - leaves.first) * HASH_BYTES;
  for (let l = 0; l < level; l++) {
    const nodes = blockNodes(g, j, l);
    offset += (nodes.end - nodes.first) * nb;
  }
  return offset + (index - blockNodes(g, j, level).first) * nb;
}

/** Offset of the shard top (the object's last node, in both layouts): what combine reads. */
export function shardTopOffset(g: ShardGeometry): number {
  return upperLevelOffset(g, g.counts.length - 1);
}

/** Size of the shard object. */
export function shardBytes(g: ShardGeometry): number {
  return upperLevelOffset(g, g.counts.length);
}

/**
 * The shard object of `tree` (a shard's levels from level 0 to its top, as
 * buildSumTreeLevels stores them) and its leaves' commitments, with blocks of
 * 2^blockBits leaves (0: layout 1).
 */
export function serializeShard(tree: SumTreeLevels, commitments: Uint8Array, blockBits: number): Uint8Array {
  const k = tree.assets;
  const sb = SUM_BYTES * k;
  const nb = nodeBytes(k);
  if (tree.levels[0]?.level !== 0) throw new Error("a shard's levels start at level 0");
  const g: ShardGeometry = {
    counts: tree.levels.map((l) => l.count),
    leaves: commitments.length / HASH_BYTES,
    blockBits,
    assets: k,
  };
  checkGeometry(g);
  const out = new Uint8Array(shardBytes(g));
  let o = 0;
  const copyNodes = (level: number, first: number, end: number) => {
    const lv = tree.levels[level]!;
    for (let i = first; i < end; i++) {
      out.set(lv.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), o);
      out.set(lv.sums.subarray(i * sb, (i + 1) * sb), o + HASH_BYTES);
      o += nb;
    }
  };
  for (let j = 0; j < blockCount(g); j++) {
    const leaves = blockLeaves(g, j);
    out.set(commitments.subarray(leaves.first * HASH_BYTES, leaves.end * HASH_BYTES), o);
    o += (leaves.end - leaves.first) * HASH_BYTES;
    for (let l = 0; l < blockBits; l++) {
      const nodes = blockNodes(g, j, l);
      copyNodes(l, nodes.first, nodes.end);
    }
  }
  for (let l = blockBits; l < g.counts.length; l++) copyNodes(l, 0, g.counts[l]!);
  if (o !== out.length) throw new Error(`shard object: wrote ${o} of ${out.length} bytes`);
  return out;
}

/** The ranges a proof of local leaf `leaf` reads (layout 2): its block, and the span of upper holding its siblings (null when none is there). */
export function proofReads(g: ShardGeometry, leaf: number): { block: ByteRange; upper: ByteRange | null } {
  const b = g.blockBits;
  const top = g.counts.length - 1;
  const block = blockRange(g, leaf >> b);
  // Upper levels the proof needs: the sibling pairs of levels b..top-1, and with
  // b = 0 the leaf node itself (level 0, which is the top when the shard has one leaf).
  const high = b === 0 ? Math.max(top - 1, 0) : top - 1;
  if (high < b) return { block, upper: null };
  const pairStart = (l: number) => (l === top ? 0 : (leaf >> l) & ~1);
  const pairEnd = (l: number) => (l === top ? 1 : ((leaf >> l) | 1) + 1);
  const offset = nodeOffset(g, b, pairStart(b));
  const end = nodeOffset(g, high, pairEnd(high) - 1) + nodeBytes(g.assets);
  return { block, upper: { offset, length: end - offset } };
}

/**
 * The stored commitment, leaf node and sibling path (levels 0..top-1, bottom
 * up; node bytes) of local leaf `leaf`, from the bytes `proofReads` named.
 */
export function parseProofReads(
  g: ShardGeometry,
  leaf: number,
  reads: { block: ByteRange; upper: ByteRange | null },
  block: Uint8Array,
  upper: Uint8Array | null,
): { commitment: Uint8Array; leafNode: Uint8Array; path: Uint8Array[] } {
  const nb = nodeBytes(g.assets);
  const node = (level: number, index: number) => {
    const at = nodeOffset(g, level, index);
    const [bytes, range] = level < g.blockBits ? [block, reads.block] : [upper, reads.upper];
    const from = at - (range?.offset ?? Infinity);
    if (bytes === null || !(from >= 0 && from + nb <= bytes.length))
      throw new Error(`node ${index} of level ${level} is not in the bytes read`);
    return bytes.subarray(from, from + nb);
  };
  const c = commitmentOffset(g, leaf) - reads.block.offset;
  const path: Uint8Array[] = [];
  for (let l = 0; l < g.counts.length - 1; l++) path.push(node(l, (leaf >> l) ^ 1));
  return { commitment: block.subarray(c, c + HASH_BYTES), leafNode: node(0, leaf), path };
}

/** Every leaf of a whole shard object in leaf order: commitments (n*32) and balances (n * 16 per asset), as the tree's leaves hold them. */
export function shardLeaves(object: Uint8Array, g: ShardGeometry): { commitments: Uint8Array; balances: Uint8Array } {
  checkGeometry(g);
  if (object.length !== shardBytes(g))
    throw new Error(`shard object holds ${object.length} bytes, its manifest says ${shardBytes(g)}`);
  const sb = SUM_BYTES * g.assets;
  const commitments = new Uint8Array(g.leaves * HASH_BYTES);
  const balances = new Uint8Array(g.leaves * sb);
  for (let j = 0; j < blockCount(g); j++) {
    const leaves = blockLeaves(g, j);
    const c = commitmentOffset(g, leaves.first);
    commitments.set(object.subarray(c, c + (leaves.end - leaves.first) * HASH_BYTES), leaves.first * HASH_BYTES);
    // Level 0 nodes of a block are contiguous (in upper when b = 0: all of level 0).
    const n = nodeOffset(g, 0, leaves.first);
    for (let i = leaves.first; i < leaves.end; i++) {
      const at = n + (i - leaves.first) * nodeBytes(g.assets) + HASH_BYTES;
      balances.set(object.subarray(at, at + sb), i * sb);
    }
  }
  return { commitments, balances };
}

/** `prefix` bytes, then per level every node as hash || sums: top.bin (and layout 1 shards, shardLayout.ts). */
export function serializeLevels(tree: SumTreeLevels, prefix: Uint8Array): Uint8Array {
  const nb = nodeBytes(tree.assets);
  const sb = SUM_BYTES * tree.assets;
  const total = prefix.length + tree.levels.reduce((s, l) => s + l.count * nb, 0);
  const out = new Uint8Array(total);
  out.set(prefix);
  let o = prefix.length;
  for (const level of tree.levels) {
    for (let i = 0; i < level.count; i++) {
      out.set(level.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), o);
      out.set(level.sums.subarray(i * sb, (i + 1) * sb), o + HASH_BYTES);
      o += nb;
    }
  }
  return out;
}
