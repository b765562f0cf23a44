/**
 * How a private ledger (SPEC §11, scheme `pedersen-ristretto255-v2`) is
 * stored in R2: the byte records of its nodes, the shard and top objects that
 * hold them, and where node (level, index) of the tree sits. The keys are the
 * plain scheme's (ledgerFormat.ts: shardKey, topKey, indexKey,
 * treeManifestKey); only the bytes inside differ. Pure but for the two ranged
 * readers at the end.
 *
 * Node record (NODE bytes = 32 + 72·K for K assets):
 *
 *   hash (32) || for k in 0..K-1: C_k (32, canonical ristretto255)
 *                                 || v_k (8, uint64 big-endian)
 *                                 || r_k (32, scalar little-endian, < l)
 *
 * Every node keeps its opening (v_k, r_k) because a proof's range proofs over
 * the siblings need them, and proofs are made on demand long after the build:
 * the blinding secret is never needed to serve a proof. R2 is the publisher's
 * private storage, as for the plain ledger's balances.
 *
 * The leaf count is 2^depth (padding leaves included), so every shard is full.
 * With s = min(shardSize, leafCount) leaves per shard and t = log2(s):
 *
 *   shards/{i}.bin   leaves i·s .. i·s+s−1: their user commitments c (s × 32,
 *                    padding leaves' included), then the shard's levels bottom
 *                    first: level 0 (s nodes), level 1 (s/2) … level t (1, the
 *                    shard top).
 *   top.bin          the levels from t up, bottom first: level t (shardCount
 *                    nodes, the shard tops again) … level depth (1, the root).
 *
 * Nodes of levels below t are read from their shard, nodes of level t and
 * above from top.bin (small: 2·shardCount − 1 nodes).
 *
 *   ledgers/{ledgerId}/private-proofs/{leafIndex}.json
 *                    a leaf's inclusion proof, made on its first request and
 *                    written once (privateProof.ts): every later answer is
 *                    these bytes.
 */
import { bytesToHex, type Hex } from "../../core/bytes.js";
import {
  GROUP_ORDER,
  type PrivateNode,
  parsePoint,
  SCHEME,
  scalarToBytes,
  VALUE_LIMIT,
} from "../../core/liabilities/private/index.js";
import { shardKey, topKey } from "./ledgerFormat.js";
import { readRange } from "./ledgerStore.js";

export const PRIVATE_LAYOUT = "private-1";
export const PRIVATE_HASH_BYTES = 32;
const POINT_BYTES = 32;
const VALUE_BYTES = 8;
const SCALAR_BYTES = 32;
/** Bytes of one asset's part of a node record: C_k || v_k || r_k. */
const ASSET_BYTES = POINT_BYTES + VALUE_BYTES + SCALAR_BYTES;

/** The tree manifest of a private ledger, at treeManifestKey(ledgerId) as the plain one. */
export interface PrivateTreeManifest {
  scheme: typeof SCHEME;
  layout: typeof PRIVATE_LAYOUT;
  ledgerId: string;
  buildId: string;
  /** 2^depth, padding leaves included: the only leaf count anyone outside the publisher sees. */
  leafCount: number;
  /** Real users (publisher-private: never served publicly). */
  users: number;
  depth: number;
  /** Leaves per shard object, a power of two (a ledger smaller than this has one shard of leafCount leaves). */
  shardSize: number;
  shardCount: number;
  /** Asset ids (symbols), in tree order. */
  assets: string[];
  /** Each asset's decimals (base units). */
  decimals: number[];
  /** Each asset's committed unit: values are base units / 10^(decimals − unitDecimals). */
  unitDecimals: number[];
  root: Hex;
  rootCommitments: Hex[];
  /** Per asset, the root's value in quantised units (decimal string). */
  totals: string[];
  /** Per asset, the root's blinding (0x, 32 bytes little-endian). */
  totalBlindings: Hex[];
  /** First 8 bytes of SHA-256("solvent/blinding-secret-id" || secret): which secret built it. */
  secretId: Hex;
  /** Index objects are keyed by the first `indexBits` bits of the commitment (as the plain ledger's). */
  indexBits: number;
}

/**
 * Where the inclusion proof of leaf `leafIndex` is kept once made (JSON of
 * core's PrivateInclusionProof, written once: privateProof.ts).
 */
export const privateProofKey = (ledgerId: string, leafIndex: number) =>
  `ledgers/${ledgerId}/private-proofs/${leafIndex}.json`;

/** Whether a stored tree manifest is a private ledger's (the plain manifest has no `scheme`). */
export function isPrivateManifest(m: object): m is PrivateTreeManifest {
  return (m as { scheme?: unknown }).scheme === SCHEME;
}

/** Bytes of one node record with `assets` assets. */
export function privateNodeBytes(assets: number): number {
  return PRIVATE_HASH_BYTES + ASSET_BYTES * assets;
}

/** Writes `node`'s record at `offset` of `out`. */
export function writePrivateNode(out: Uint8Array, offset: number, node: PrivateNode): void {
  const k = node.encoded.length;
  if (node.hash.length !== PRIVATE_HASH_BYTES) throw new Error("a private node's hash must be 32 bytes");
  if (node.values.length !== k || node.blindings.length !== k)
    throw new Error(`a private node needs one value and one blinding per commitment (${k})`);
  if (offset < 0 || offset + privateNodeBytes(k) > out.length) throw new Error("node record does not fit its buffer");
  out.set(node.hash, offset);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let a = 0; a < k; a++) {
    const at = offset + PRIVATE_HASH_BYTES + a * ASSET_BYTES;
    const v = node.values[a]!;
    if (v < 0n || v >= VALUE_LIMIT) throw new Error(`node value ${v} of asset ${a} is outside [0, 2^64)`);
    out.set(node.encoded[a]!, at);
    view.setBigUint64(at + POINT_BYTES, v, false);
    out.set(scalarToBytes(node.blindings[a]!), at + POINT_BYTES + VALUE_BYTES);
  }
}

/** One node's record: hash || per asset C || v || r. */
export function encodePrivateNode(node: PrivateNode): Uint8Array {
  const out = new Uint8Array(privateNodeBytes(node.encoded.length));
  writePrivateNode(out, 0, node);
  return out;
}

/**
 * The node in a record of `assets` assets (at `offset` of `bytes`). Refuses a
 * record of the wrong size, a non-canonical point or scalar, naming `where`.
 */
export function decodePrivateNode(bytes: Uint8Array, assets: number, where = "node", offset = 0): PrivateNode {
  const size = privateNodeBytes(assets);
  if (offset < 0 || offset + size > bytes.length)
    throw new Error(`${where}: a record of ${assets} assets takes ${size} bytes, ${bytes.length - offset} are there`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hash = bytes.slice(offset, offset + PRIVATE_HASH_BYTES);
  const commitments = [];
  const encoded = [];
  const values = [];
  const blindings = [];
  for (let a = 0; a < assets; a++) {
    const at = offset + PRIVATE_HASH_BYTES + a * ASSET_BYTES;
    const c = bytes.slice(at, at + POINT_BYTES);
    try {
      commitments.push(parsePoint(bytesToHex(c), `${where}.commitments[${a}]`));
    } catch (e) {
      throw new Error(`${where}: commitment ${a} is not a canonical ristretto255 point (${(e as Error).message})`);
    }
    encoded.push(c);
    values.push(view.getBigUint64(at + POINT_BYTES, false));
    let r = 0n;
    for (let i = SCALAR_BYTES - 1; i >= 0; i--) r = (r << 8n) | BigInt(bytes[at + POINT_BYTES + VALUE_BYTES + i]!);
    if (r >= GROUP_ORDER) throw new Error(`${where}: blinding ${a} is not reduced modulo the group order`);
    blindings.push(r);
  }
  return { hash, commitments, encoded, values, blindings };
}

function flatCommitments(commitments: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (commitments instanceof Uint8Array) return commitments;
  const out = new Uint8Array(commitments.length * PRIVATE_HASH_BYTES);
  commitments.forEach((c, i) => {
    if (c.length !== PRIVATE_HASH_BYTES) throw new Error(`leaf commitment ${i} must be 32 bytes`);
    out.set(c, i * PRIVATE_HASH_BYTES);
  });
  return out;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

function levelsBytes(levels: readonly (readonly PrivateNode[])[], nb: number): number {
  return levels.reduce((s, l) => s + l.length * nb, 0);
}

function writeLevels(out: Uint8Array, offset: number, levels: readonly (readonly PrivateNode[])[], nb: number): number {
  let o = offset;
  for (const level of levels) {
    for (const node of level) {
      writePrivateNode(out, o, node);
      o += nb;
    }
  }
  return o;
}

/** Checks that `levels` halve from a power of two down to one node. */
function checkLevels(levels: readonly (readonly PrivateNode[])[], what: string): number {
  const width = levels[0]?.length ?? 0;
  if (!isPowerOfTwo(width)) throw new Error(`${what}: level 0 must hold a power of two of nodes, got ${width}`);
  levels.forEach((l, i) => {
    if (l.length !== width >> i) throw new Error(`${what}: level ${i} holds ${l.length} nodes, not ${width >> i}`);
  });
  if (levels[levels.length - 1]!.length !== 1) throw new Error(`${what}: the levels must end with one node`);
  return levels[0]![0]!.encoded.length;
}

/**
 * A shard object: the shard's s leaf commitments (32 bytes each, flat or one
 * array each), then its levels from the leaves (s nodes) to its top (1 node).
 */
export function privateShardObject(
  commitments: Uint8Array | readonly Uint8Array[],
  levels: readonly (readonly PrivateNode[])[],
): Uint8Array {
  const k = checkLevels(levels, "private shard");
  const flat = flatCommitments(commitments);
  const s = levels[0]!.length;
  if (flat.length !== s * PRIVATE_HASH_BYTES)
    throw new Error(`private shard: ${flat.length / PRIVATE_HASH_BYTES} commitments for ${s} leaves`);
  const nb = privateNodeBytes(k);
  const out = new Uint8Array(flat.length + levelsBytes(levels, nb));
  out.set(flat);
  const end = writeLevels(out, flat.length, levels, nb);
  if (end !== out.length) throw new Error(`private shard: wrote ${end} of ${out.length} bytes`);
  return out;
}

/** The top object: the levels from the shard tops (shardCount nodes) to the root (1 node). */
export function privateTopObject(levels: readonly (readonly PrivateNode[])[]): Uint8Array {
  const k = checkLevels(levels, "private top");
  const nb = privateNodeBytes(k);
  const out = new Uint8Array(levelsBytes(levels, nb));
  writeLevels(out, 0, levels, nb);
  return out;
}

/** The geometry a manifest implies: leaves per shard object and the level of the shard tops. */
export function privateShardGeometry(m: PrivateTreeManifest): { shardLeaves: number; topLevel: number } {
  if (m.scheme !== SCHEME || m.layout !== PRIVATE_LAYOUT)
    throw new Error(`ledger ${m.ledgerId}: not a "${PRIVATE_LAYOUT}" private ledger`);
  if (!Number.isSafeInteger(m.depth) || m.depth < 0 || m.depth > 40 || m.leafCount !== 2 ** m.depth)
    throw new Error(`ledger ${m.ledgerId}: leafCount ${m.leafCount} is not 2^depth (depth ${m.depth})`);
  if (!isPowerOfTwo(m.shardSize))
    throw new Error(`ledger ${m.ledgerId}: shardSize ${m.shardSize} is not a power of two`);
  const shardLeaves = Math.min(m.shardSize, m.leafCount);
  if (m.shardCount * shardLeaves !== m.leafCount)
    throw new Error(`ledger ${m.ledgerId}: ${m.shardCount} shards of ${shardLeaves} leaves do not make ${m.leafCount}`);
  return { shardLeaves, topLevel: Math.log2(shardLeaves) };
}

/** Where one node or commitment sits: the object's key and the byte range. */
export interface PrivateLocation {
  key: string;
  offset: number;
  length: number;
}

/** Where node `index` of tree level `level` (0 = leaves, depth = root) is stored. */
export function privateNodeLocation(m: PrivateTreeManifest, level: number, index: number): PrivateLocation {
  const { shardLeaves, topLevel } = privateShardGeometry(m);
  if (!Number.isSafeInteger(level) || level < 0 || level > m.depth)
    throw new Error(`ledger ${m.ledgerId} has no level ${level} (depth ${m.depth})`);
  const width = 2 ** (m.depth - level);
  if (!Number.isSafeInteger(index) || index < 0 || index >= width)
    throw new Error(`ledger ${m.ledgerId} has no node ${index} at level ${level} (${width} nodes)`);
  const nb = privateNodeBytes(m.assets.length);
  if (level < topLevel) {
    const perShard = shardLeaves >> level;
    const shard = Math.floor(index / perShard);
    let offset = shardLeaves * PRIVATE_HASH_BYTES;
    for (let l = 0; l < level; l++) offset += (shardLeaves >> l) * nb;
    return {
      key: shardKey(m.ledgerId, m.buildId, shard),
      offset: offset + (index - shard * perShard) * nb,
      length: nb,
    };
  }
  let offset = 0;
  for (let l = topLevel; l < level; l++) offset += (m.shardCount >> (l - topLevel)) * nb;
  return { key: topKey(m.ledgerId, m.buildId), offset: offset + index * nb, length: nb };
}

/** Where the user commitment c of leaf `leafIndex` is stored. */
export function privateCommitmentLocation(m: PrivateTreeManifest, leafIndex: number): PrivateLocation {
  const { shardLeaves } = privateShardGeometry(m);
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= m.leafCount)
    throw new Error(`ledger ${m.ledgerId} has no leaf ${leafIndex} (${m.leafCount} leaves)`);
  const shard = Math.floor(leafIndex / shardLeaves);
  return {
    key: shardKey(m.ledgerId, m.buildId, shard),
    offset: (leafIndex - shard * shardLeaves) * PRIVATE_HASH_BYTES,
    length: PRIVATE_HASH_BYTES,
  };
}

/** Node `index` of level `level`, read with one ranged R2 read. */
export async function readPrivateNode(
  bucket: R2Bucket,
  m: PrivateTreeManifest,
  level: number,
  index: number,
): Promise<PrivateNode> {
  const at = privateNodeLocation(m, level, index);
  const bytes = await readRange(bucket, at.key, at.offset, at.length);
  return decodePrivateNode(bytes, m.assets.length, `ledger ${m.ledgerId} level ${level} node ${index}`);
}

/** The user commitment c of leaf `leafIndex`, read with one ranged R2 read. */
export async function readLeafCommitment(
  bucket: R2Bucket,
  m: PrivateTreeManifest,
  leafIndex: number,
): Promise<Uint8Array> {
  const at = privateCommitmentLocation(m, leafIndex);
  return readRange(bucket, at.key, at.offset, at.length);
}
