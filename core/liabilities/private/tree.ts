/**
 * SPEC §11 private sum tree: per node, one Pedersen commitment per asset and a
 * SHA-256 hash binding the children's commitments and hashes. The functions
 * work on any power-of-two slice of leaves, so a shard can build a subtree and
 * a combiner the levels above the shard roots (`buildPrivateLevels` on both).
 */
import { fail } from "../../errors.js";
import { compareCommitments } from "../nonInclusion.js";
import { FixedLengthSha256 } from "../sha256.js";
import { addExtended, doubled, type Extended, encodeDoubles, halfCommitment } from "./batch.js";
import { blindingDeriver, paddingCommitment } from "./blinding.js";
import { addScalars, POINT_BYTES, type Point } from "./group.js";
import { type PrivateAsset, quantiseAsset, VALUE_LIMIT } from "./quantise.js";

export const LEAF_TAG = 0x10;
export const INNER_TAG = 0x11;
export const HASH_BYTES = 32;

/** What a verifier sees of a node. */
export interface PublicPrivateNode {
  hash: Uint8Array;
  commitments: Point[];
  /** Canonical encodings of `commitments` (computed once, hashed by the parent). */
  encoded: Uint8Array[];
}

/** A node as the publisher holds it: the public part plus the opening of each commitment. */
export interface PrivateNode extends PublicPrivateNode {
  values: bigint[];
  blindings: bigint[];
}

function encodeAll(points: Point[]): Uint8Array[] {
  return points.map((p) => p.toBytes());
}

/**
 * The halves `C/2` of a node's commitments, for nodes built here (leaves from
 * `privateLeaf`/`privateLeaves`, parents of two such nodes): they let the
 * encodings of a whole level share one field inversion (see batch.ts). Nodes
 * from elsewhere (decoded from storage, a verifier's path) have none and are
 * encoded the plain way.
 */
const HALVES = new WeakMap<PublicPrivateNode, Extended[]>();

/** Reusable hashers, one per message length (a ledger uses two). */
const HASHERS = new Map<number, FixedLengthSha256>();
function hasher(length: number): FixedLengthSha256 {
  let h = HASHERS.get(length);
  if (!h) {
    h = new FixedLengthSha256(length);
    HASHERS.set(length, h);
  }
  return h;
}

function digest(h: FixedLengthSha256): Uint8Array {
  const out = new Uint8Array(HASH_BYTES);
  h.digestInto(out, 0);
  return out;
}

/** `SHA-256(0x10 || c || C_1 || .. || C_K)`. */
export function privateLeafHash(commitment: Uint8Array, encoded: readonly Uint8Array[]): Uint8Array {
  if (commitment.length !== HASH_BYTES) fail("INVALID_BYTES", "commitment", `must be ${HASH_BYTES} bytes`);
  const h = hasher(1 + HASH_BYTES + encoded.length * POINT_BYTES);
  const m = h.input;
  m[0] = LEAF_TAG;
  m.set(commitment, 1);
  for (let k = 0; k < encoded.length; k++) m.set(encoded[k]!, 1 + HASH_BYTES + k * POINT_BYTES);
  return digest(h);
}

/** `SHA-256(0x11 || L.C_1..L.C_K || L.hash || R.C_1..R.C_K || R.hash)`. */
export function privateInnerHash(left: PublicPrivateNode, right: PublicPrivateNode): Uint8Array {
  const k = left.encoded.length;
  const side = k * POINT_BYTES + HASH_BYTES;
  const h = hasher(1 + 2 * side);
  const m = h.input;
  m[0] = INNER_TAG;
  for (let s = 0; s < 2; s++) {
    const node = s === 0 ? left : right;
    const at = 1 + s * side;
    for (let a = 0; a < k; a++) m.set(node.encoded[a]!, at + a * POINT_BYTES);
    m.set(node.hash, at + k * POINT_BYTES);
  }
  return digest(h);
}

/** One leaf's user commitment and openings, per asset. */
export interface PrivateLeafInput {
  commitment: Uint8Array;
  values: bigint[];
  blindings: bigint[];
}

/**
 * Leaves `v_k·G + r_k·H` for many rows at once: the same nodes as
 * `privateLeaf` on each row, with the point encodings of all of them sharing
 * one field inversion. What a shard should call.
 */
export function privateLeaves(rows: readonly PrivateLeafInput[]): PrivateNode[] {
  const halves = rows.map((row) => row.values.map((v, k) => halfCommitment(v, row.blindings[k]!)));
  const encoded = encodeDoubles(halves.flat());
  let at = 0;
  return rows.map((row, i) => {
    const own = halves[i]!;
    const enc = encoded.slice(at, at + own.length);
    at += own.length;
    const node: PrivateNode = {
      hash: privateLeafHash(row.commitment, enc),
      commitments: own.map(doubled),
      encoded: enc,
      values: row.values,
      blindings: row.blindings,
    };
    HALVES.set(node, own);
    return node;
  });
}

export function privateLeaf(commitment: Uint8Array, values: bigint[], blindings: bigint[]): PrivateNode {
  return privateLeaves([{ commitment, values, blindings }])[0]!;
}

/** The verifier's parent: commitments added, hash over both children. */
export function publicParent(left: PublicPrivateNode, right: PublicPrivateNode): PublicPrivateNode {
  const commitments = left.commitments.map((c, k) => c.add(right.commitments[k]!));
  return { hash: privateInnerHash(left, right), commitments, encoded: encodeAll(commitments) };
}

/** The publisher's parent: as `publicParent`, with values summed and blindings summed mod l. */
export function privateParent(left: PrivateNode, right: PrivateNode): PrivateNode {
  return privateParents([left, right])[0]!;
}

/**
 * The parents of `below` (pairs 2i, 2i+1), encoded in one batch when every
 * child carries its halves, else one by one.
 */
function privateParents(below: readonly PrivateNode[]): PrivateNode[] {
  const count = below.length / 2;
  const childHalves = below.map((n) => HALVES.get(n));
  const batched = childHalves.every((h) => h !== undefined);
  const halves: Extended[][] = [];
  if (batched) {
    for (let i = 0; i < count; i++) {
      const l = childHalves[2 * i]!;
      const r = childHalves[2 * i + 1]!;
      halves.push(l.map((h, k) => addExtended(h, r[k]!)));
    }
  }
  const encoded = batched ? encodeDoubles(halves.flat()) : [];
  const out: PrivateNode[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const left = below[2 * i]!;
    const right = below[2 * i + 1]!;
    const k = left.commitments.length;
    const commitments = batched
      ? halves[i]!.map(doubled)
      : left.commitments.map((c, a) => c.add(right.commitments[a]!));
    const node: PrivateNode = {
      hash: privateInnerHash(left, right),
      commitments,
      encoded: batched ? encoded.slice(i * k, (i + 1) * k) : encodeAll(commitments),
      values: left.values.map((v, a) => v + right.values[a]!),
      blindings: left.blindings.map((r, a) => addScalars(r, right.blindings[a]!)),
    };
    if (batched) HALVES.set(node, halves[i]!);
    out[i] = node;
  }
  return out;
}

/** Every level of a power-of-two slice of leaves, leaves first, its top last. */
export function buildPrivateLevels(leaves: PrivateNode[]): PrivateNode[][] {
  const n = leaves.length;
  if (n === 0 || (n & (n - 1)) !== 0) fail("INVALID_ARGUMENT", "leaves", `count must be a power of two, got ${n}`);
  const levels = [leaves];
  while (levels[levels.length - 1]!.length > 1) {
    levels.push(privateParents(levels[levels.length - 1]!));
  }
  return levels;
}

export interface PrivateLedgerInput {
  ledgerId: string;
  /** The publisher's blinding secret (at least 32 random bytes). */
  secret: Uint8Array;
  assets: PrivateAsset[];
  /** Users in any order: the §2 user commitment and one balance per asset, in base units. */
  users: { commitment: Uint8Array; balances: bigint[] }[];
  /** Names user row i in errors; default `users[i]`. */
  rowName?: (i: number) => string;
  /** At least 2^minDepth leaves (hides small user counts); default 0. */
  minDepth?: number;
}

export interface PrivateLedger {
  ledgerId: string;
  assets: PrivateAsset[];
  depth: number;
  /** Leaf commitments (users' and padding), ascending: leaf i has commitments[i]. */
  commitments: Uint8Array[];
  levels: PrivateNode[][];
  root: PrivateNode;
  /** Per asset: the total in quantised units and the total blinding (the root's opening). */
  totals: bigint[];
  totalBlindings: bigint[];
}

/**
 * Builds a private ledger in memory: quantises, pads with pseudorandom leaves
 * to a power of two, sorts every leaf by its commitment, derives blindings
 * from (secret, ledgerId, leaf index, asset), and builds every level.
 */
export function buildPrivateLedger(input: PrivateLedgerInput): PrivateLedger {
  const { ledgerId, secret, assets, users } = input;
  const rowName = input.rowName ?? ((i: number) => `users[${i}]`);
  if (assets.length < 1 || assets.length > 64)
    fail("INVALID_ARGUMENT", "assets", `must list 1 to 64 assets, got ${assets.length}`);
  users.forEach((u, i) => {
    if (!(u.commitment instanceof Uint8Array) || u.commitment.length !== HASH_BYTES)
      fail("INVALID_BYTES", rowName(i), "commitment must be 32 bytes");
    if (!Array.isArray(u.balances) || u.balances.length !== assets.length) {
      fail("INVALID_ARGUMENT", rowName(i), `must hold ${assets.length} balances, one per asset`);
    }
  });
  const quantised = assets.map((a, k) =>
    quantiseAsset(
      a,
      users.map((u) => u.balances[k]!),
      rowName,
    ),
  );
  let depth = Math.max(0, input.minDepth ?? 0);
  while (2 ** depth < users.length) depth++;
  const size = 2 ** depth;
  const entries: { c: Uint8Array; values: bigint[]; row: string }[] = users.map((u, i) => ({
    c: u.commitment,
    values: quantised.map((q) => q[i]!),
    row: rowName(i),
  }));
  for (let j = 0; entries.length < size; j++) {
    entries.push({ c: paddingCommitment(secret, ledgerId, j), values: assets.map(() => 0n), row: `padding leaf ${j}` });
  }
  entries.sort((a, b) => compareCommitments(a.c, b.c));
  for (let i = 1; i < entries.length; i++) {
    if (compareCommitments(entries[i - 1]!.c, entries[i]!.c) === 0) {
      fail("DUPLICATE_USER", entries[i]!.row, `has the same commitment as ${entries[i - 1]!.row}`);
    }
  }
  const blinding = blindingDeriver(secret, ledgerId);
  const leaves = privateLeaves(
    entries.map((e, i) => ({ commitment: e.c, values: e.values, blindings: assets.map((_, k) => blinding(i, k)) })),
  );
  const levels = buildPrivateLevels(leaves);
  const root = levels[levels.length - 1]![0]!;
  root.values.forEach((v, k) => {
    if (v >= VALUE_LIMIT) fail("SUM_OVERFLOW", `assets.${assets[k]!.symbol}`, "total reaches 2^64 units");
  });
  return {
    ledgerId,
    assets,
    depth,
    commitments: entries.map((e) => e.c),
    levels,
    root,
    totals: root.values,
    totalBlindings: root.blindings,
  };
}

/** The sibling of leafIndex at every level, bottom first. */
export function privateSiblings(levels: readonly PrivateNode[][], leafIndex: number): PrivateNode[] {
  const width = levels[0]!.length;
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= width)
    fail("INVALID_ARGUMENT", "leafIndex", `must be 0..${width - 1}`);
  const out: PrivateNode[] = [];
  for (let l = 0; l < levels.length - 1; l++) out.push(levels[l]![(leafIndex >> l) ^ 1]!);
  return out;
}
