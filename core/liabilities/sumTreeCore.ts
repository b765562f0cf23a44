/**
 * Byte-level Merkle sum tree of SPEC §2 (exact bytes: docs/spec.md §2).
 *
 * Fast and dumb on purpose: a level is one flat array of 32-byte hashes and one
 * flat array of sums (`assets` enc128 values per node, big-endian); sums are
 * added byte by byte with carry and nothing is allocated per node. It knows
 * nothing about JSON, hex or asset names: see sumTree.ts for that.
 */
import { fail } from "../errors.js";
import { FixedLengthSha256, PAD_AFTER_FIRST_BYTE, PrefixedWordsSha256, sha256 } from "./sha256.js";

export const HASH_BYTES = 32;
/** Bytes of one enc128 value. */
export const SUM_BYTES = 16;
export const MAX_ASSETS = 64;

const LEAF_PREFIX = 0x00;
const INNER_PREFIX = 0x01;
const PADDING_PREFIX = 0x03;

/** One level of the tree: nodes `index .. index+count-1` of that level, padding included. */
export interface SumTreeLevel {
  /** SPEC level number (0 = leaves). */
  readonly level: number;
  /** Position, within the whole tree's level, of the first node held here. */
  readonly index: number;
  readonly count: number;
  /** `count * 32` bytes. */
  readonly hashes: Uint8Array;
  /** `count * 16 * assets` bytes. */
  readonly sums: Uint8Array;
}

export interface SumTreeLevels {
  readonly assets: number;
  /** `levels[0]` is the start level; the last entry is the root (or, for a shard, its top node). */
  readonly levels: readonly SumTreeLevel[];
}

/** Nodes at one level, as given to `buildSumTreeLevels`. */
export interface SumTreeNodes {
  readonly hashes: Uint8Array;
  readonly sums: Uint8Array;
  readonly count: number;
}

/**
 * Where `SumTreeNodes` sit in the whole tree. Defaults build the whole tree from
 * level 0: `{ level: 0, index: 0, width: count }`.
 */
export interface SumTreePosition {
  /** SPEC level of the given nodes. */
  readonly level: number;
  /** Index of the first given node within its level. */
  readonly index: number;
  /** Number of nodes the whole tree has at that level. */
  readonly width: number;
  /** Stop after reaching this level (a shard's top); default: go on to the root. */
  readonly stopLevel?: number;
}

export function sumBytes(assets: number): number {
  return SUM_BYTES * assets;
}

/** Node count of level `level + 1` given `width` nodes at `level` (the root level has width 1). */
export function parentWidth(width: number): number {
  return width <= 1 ? width : Math.ceil(width / 2);
}

/** Node count (before padding) of level `level` in a tree with `leafCount` leaves. */
export function levelWidth(leafCount: number, level: number): number {
  let width = leafCount;
  for (let l = 0; l < level; l++) width = parentWidth(width);
  return width;
}

export function siblingIndex(index: number): number {
  return index ^ 1;
}

function checkAssets(assets: number): void {
  if (!Number.isInteger(assets) || assets < 1 || assets > MAX_ASSETS) {
    fail("INVALID_ARGUMENT", "assets", `asset count must be 1..${MAX_ASSETS}, got ${assets}`);
  }
}

/** Writes `H(0x03 || uint8(level) || uint64be(index))` into `out[offset..+32)`. */
function writePaddingHash(
  hasher: FixedLengthSha256,
  level: number,
  index: number,
  out: Uint8Array,
  offset: number,
): void {
  const m = hasher.input;
  m[0] = PADDING_PREFIX;
  m[1] = level;
  const high = Math.floor(index / 0x1_0000_0000);
  const low = index >>> 0;
  for (let i = 0; i < 4; i++) {
    m[5 - i] = (high >>> (8 * i)) & 0xff;
    m[9 - i] = (low >>> (8 * i)) & 0xff;
  }
  hasher.digestInto(out, offset);
}

function checkPaddingPosition(level: number, index: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 255)
    fail("INVALID_ARGUMENT", "level", `${level} is not a uint8`);
  if (!Number.isSafeInteger(index) || index < 0) fail("INVALID_ARGUMENT", "index", `${index} is not a node index`);
}

/** SPEC §2 padding node hash at (level, index). */
export function paddingHash(level: number, index: number): Uint8Array {
  checkPaddingPosition(level, index);
  const out = new Uint8Array(HASH_BYTES);
  writePaddingHash(new FixedLengthSha256(10), level, index, out, 0);
  return out;
}

/** SPEC §2 leaf hash; `sums` holds the leaf's balances as enc128 values. */
export function leafHash(commitment: Uint8Array, sums: Uint8Array): Uint8Array {
  const m = new Uint8Array(1 + HASH_BYTES + sums.length);
  m[0] = LEAF_PREFIX;
  m.set(commitment, 1);
  m.set(sums, 1 + HASH_BYTES);
  return sha256(m);
}

/** SPEC §2 inner node hash from both children's hashes and sums. */
export function innerHash(
  leftHash: Uint8Array,
  leftSums: Uint8Array,
  rightHash: Uint8Array,
  rightSums: Uint8Array,
): Uint8Array {
  const m = new Uint8Array(1 + 2 * HASH_BYTES + leftSums.length + rightSums.length);
  m[0] = INNER_PREFIX;
  m.set(leftHash, 1);
  m.set(leftSums, 1 + HASH_BYTES);
  m.set(rightHash, 1 + HASH_BYTES + leftSums.length);
  m.set(rightSums, 1 + 2 * HASH_BYTES + leftSums.length);
  return sha256(m);
}

/**
 * `out[o..] = a[ao..] + b[bo..]` for `assets` enc128 values, in 32-bit limbs.
 * Returns -1, or the asset number whose sum reached 2^128.
 */
function addSums(a: DataView, ao: number, b: DataView, bo: number, out: DataView, o: number, assets: number): number {
  for (let k = 0; k < assets; k++) {
    let carry = 0;
    for (let i = k * SUM_BYTES + 12; i >= k * SUM_BYTES; i -= 4) {
      const s = a.getUint32(ao + i) + b.getUint32(bo + i) + carry;
      out.setUint32(o + i, s >>> 0);
      carry = s > 0xffffffff ? 1 : 0;
    }
    if (carry !== 0) return k;
  }
  return -1;
}

/**
 * Writes `count` big-endian words of `from` (at byte `offset`) into the message
 * words `w` from index `j`, shifted one byte right behind `prev` (the previous
 * stream word, or the prefix byte). Returns the last word read.
 */
function pushWords(w: Int32Array, j: number, prev: number, from: DataView, offset: number, count: number): number {
  let p = prev;
  for (let i = 0; i < count; i++) {
    const x = from.getInt32(offset + 4 * i);
    w[j + i] = (p << 24) | (x >>> 8);
    p = x;
  }
  return p;
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Human name of the leaves under node `index` of `level` (for errors). */
function rowsUnder(level: number, index: number, width0: number | undefined): string {
  const first = index * 2 ** level;
  let last = (index + 1) * 2 ** level - 1;
  if (width0 !== undefined) last = Math.min(last, width0 - 1);
  return first === last ? `rows[${first}]` : `rows[${first}..${last}]`;
}

/**
 * Hashes `count` leaves: `commitments` is `count * 32` bytes, `balances` is
 * `count * 16 * assets` bytes (enc128, the caller has range-checked them).
 * Returns the flat leaf hashes.
 */
export function hashLeaves(commitments: Uint8Array, balances: Uint8Array, count: number, assets: number): Uint8Array {
  checkAssets(assets);
  const sb = sumBytes(assets);
  if (commitments.length !== count * HASH_BYTES) fail("INVALID_ARGUMENT", "commitments", `must be ${count} * 32 bytes`);
  if (balances.length !== count * sb) fail("INVALID_ARGUMENT", "balances", `must be ${count} * ${sb} bytes`);
  // 0x00 || c || enc128(b_1) .. enc128(b_K), as one prefix byte and 8 + 4K words.
  const hw = HASH_BYTES / 4;
  const sw = sb / 4;
  const hasher = new PrefixedWordsSha256(hw + sw);
  const w = hasher.words;
  const c = view(commitments);
  const b = view(balances);
  const out = new Uint8Array(count * HASH_BYTES);
  const o = view(out);
  for (let n = 0; n < count; n++) {
    let last = pushWords(w, 0, LEAF_PREFIX, c, n * HASH_BYTES, hw);
    last = pushWords(w, hw, last, b, n * sb, sw);
    w[hw + sw] = (last << 24) | PAD_AFTER_FIRST_BYTE;
    hasher.digestInto(o, n * HASH_BYTES);
  }
  return out;
}

/**
 * Builds from `nodes` at `position.level` upward, exactly as SPEC §2 builds the
 * whole tree: a level of odd width gets the padding node for (level, width),
 * computed from the true level and index, so a shard (nodes at a power-of-two
 * aligned `index`, `stopLevel` set) yields the same nodes the single build has
 * there, and building from those shard tops at `stopLevel` yields the same root.
 */
export function buildSumTreeLevels(nodes: SumTreeNodes, assets: number, position?: SumTreePosition): SumTreeLevels {
  checkAssets(assets);
  const sb = sumBytes(assets);
  const { count } = nodes;
  const pos = position ?? { level: 0, index: 0, width: count };
  const stop = pos.stopLevel ?? Infinity;
  if (!Number.isSafeInteger(count) || count < 1) fail("INVALID_ARGUMENT", "count", "a tree needs at least one node");
  if (nodes.hashes.length !== count * HASH_BYTES) fail("INVALID_ARGUMENT", "hashes", `must be ${count} * 32 bytes`);
  if (nodes.sums.length !== count * sb) fail("INVALID_ARGUMENT", "sums", `must be ${count} * ${sb} bytes`);
  if (!Number.isSafeInteger(pos.index) || pos.index < 0 || pos.index + count > pos.width) {
    fail(
      "INVALID_ARGUMENT",
      "position",
      `nodes ${pos.index}..${pos.index + count - 1} do not fit a level of width ${pos.width}`,
    );
  }
  const width0 = pos.level === 0 ? pos.width : undefined;
  // 0x01 || L.hash || L.sums || R.hash || R.sums, as one prefix byte and 2 * (8 + 4K) words.
  const hw = HASH_BYTES / 4;
  const sw = sb / 4;
  const inner = new PrefixedWordsSha256(2 * (hw + sw));
  const w = inner.words;
  const padding = new FixedLengthSha256(10);

  const levels: SumTreeLevel[] = [];
  let level = pos.level;
  let index = pos.index;
  let width = pos.width;
  let n = count;
  // Copy the start level into arrays with room for a padding node.
  let pad = needsPadding(index, n, width, level < stop);
  let hashes = new Uint8Array((n + pad) * HASH_BYTES);
  let sums = new Uint8Array((n + pad) * sb);
  hashes.set(nodes.hashes);
  sums.set(nodes.sums);

  for (;;) {
    if (pad) {
      checkPaddingPosition(level, width);
      writePaddingHash(padding, level, width, hashes, n * HASH_BYTES);
      n += 1;
    }
    levels.push({ level, index, count: n, hashes, sums });
    if (width <= 1 || level >= stop) break;
    if (index % 2 !== 0 || n % 2 !== 0) {
      fail(
        "INVALID_ARGUMENT",
        "position",
        `nodes at level ${level} start or end between siblings; shards must be aligned`,
      );
    }
    const parents = n / 2;
    const nextIndex = index / 2;
    const nextWidth = parentWidth(width);
    const nextPad = needsPadding(nextIndex, parents, nextWidth, level + 1 < stop);
    const nextHashes = new Uint8Array((parents + nextPad) * HASH_BYTES);
    const nextSums = new Uint8Array((parents + nextPad) * sb);
    const h = view(hashes);
    const sv = view(sums);
    const nh = view(nextHashes);
    const ns = view(nextSums);
    for (let p = 0; p < parents; p++) {
      const lh = 2 * p * HASH_BYTES;
      const ls = 2 * p * sb;
      let last = pushWords(w, 0, INNER_PREFIX, h, lh, hw);
      last = pushWords(w, hw, last, sv, ls, sw);
      last = pushWords(w, hw + sw, last, h, lh + HASH_BYTES, hw);
      last = pushWords(w, 2 * hw + sw, last, sv, ls + sb, sw);
      w[2 * (hw + sw)] = (last << 24) | PAD_AFTER_FIRST_BYTE;
      const overflow = addSums(sv, ls, sv, ls + sb, ns, p * sb, assets);
      if (overflow >= 0) {
        fail(
          "SUM_OVERFLOW",
          `${rowsUnder(level + 1, nextIndex + p, width0)}.balances[${overflow}]`,
          "partial sum reaches 2^128",
        );
      }
      inner.digestInto(nh, p * HASH_BYTES);
    }
    level += 1;
    index = nextIndex;
    width = nextWidth;
    n = parents;
    pad = nextPad;
    hashes = nextHashes;
    sums = nextSums;
  }
  return { assets, levels };
}

/**
 * 1 when a level holding nodes `index..index+count-1` of `width` gets the padding
 * node: its width is odd, it is not the root level, the nodes reach its end, and
 * the build goes on pairing it (a shard's top level is padded by the combining build).
 */
function needsPadding(index: number, count: number, width: number, pairing: boolean): 0 | 1 {
  return pairing && width > 1 && width % 2 === 1 && index + count === width ? 1 : 0;
}

/** SPEC §2 tree over leaves; see `hashLeaves` for the layout of the inputs. */
export function buildSumTree(
  commitments: Uint8Array,
  balances: Uint8Array,
  count: number,
  assets: number,
): SumTreeLevels {
  const hashes = hashLeaves(commitments, balances, count, assets);
  return buildSumTreeLevels({ hashes, sums: balances, count }, assets);
}

/** The top node of `tree` (the root when built to the end). */
export function topNode(tree: SumTreeLevels): { hash: Uint8Array; sums: Uint8Array } {
  const top = tree.levels[tree.levels.length - 1]!;
  return { hash: top.hashes.subarray(0, HASH_BYTES), sums: top.sums.subarray(0, sumBytes(tree.assets)) };
}

/** Hash and sums of node `index` (an index within its whole level) of a stored level. */
export function nodeAt(
  tree: SumTreeLevels,
  levelOffset: number,
  index: number,
): { hash: Uint8Array; sums: Uint8Array } {
  const lv = tree.levels[levelOffset];
  const i = lv === undefined ? -1 : index - lv.index;
  if (lv === undefined || i < 0 || i >= lv.count)
    fail("INVALID_ARGUMENT", "index", `no node ${index} at level offset ${levelOffset}`);
  const sb = sumBytes(tree.assets);
  return {
    hash: lv.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES),
    sums: lv.sums.subarray(i * sb, (i + 1) * sb),
  };
}

/**
 * Siblings of node `index` of the start level, bottom up (`path[l]` is the
 * sibling at the l-th stored level, padding nodes included). The views share
 * memory with the tree.
 */
export function siblingPath(tree: SumTreeLevels, index: number): { hash: Uint8Array; sums: Uint8Array }[] {
  const path: { hash: Uint8Array; sums: Uint8Array }[] = [];
  let i = index;
  for (let l = 0; l < tree.levels.length - 1; l++) {
    path.push(nodeAt(tree, l, siblingIndex(i)));
    i = Math.floor(i / 2);
  }
  return path;
}

/**
 * Folds a SPEC §2 path onto a node: at step l the node is the left child when
 * bit l of `index` is 0. Returns the top node, or the step whose partial sum for
 * `asset` reached 2^128.
 */
export function foldPath(
  hash: Uint8Array,
  sums: Uint8Array,
  index: number,
  path: readonly { hash: Uint8Array; sums: Uint8Array }[],
  assets: number,
): { ok: true; hash: Uint8Array; sums: Uint8Array } | { ok: false; step: number; asset: number } {
  checkAssets(assets);
  const sb = sumBytes(assets);
  let h = hash;
  let s = sums;
  let i = index;
  for (let l = 0; l < path.length; l++) {
    const sib = path[l]!;
    if (sib.hash.length !== HASH_BYTES || sib.sums.length !== sb || s.length !== sb) {
      fail("INVALID_ARGUMENT", `path[${l}]`, "wrong hash or sums length");
    }
    const left = i % 2 === 0;
    const next = new Uint8Array(sb);
    const overflow = addSums(view(s), 0, view(sib.sums), 0, view(next), 0, assets);
    if (overflow >= 0) return { ok: false, step: l, asset: overflow };
    h = left ? innerHash(h, s, sib.hash, sib.sums) : innerHash(sib.hash, sib.sums, h, s);
    s = next;
    i = Math.floor(i / 2);
  }
  return { ok: true, hash: h, sums: s };
}
