/**
 * SHA-256 (FIPS 180-4) written for the sum tree's hot loop: the message lives in
 * a caller-filled, pre-padded buffer and the digest is written into the caller's
 * array, so hashing a node allocates nothing. `@noble/hashes` is the reference it
 * is tested against; see docs/benchmarks.md for why the tree does not use it.
 */

const ROUND = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

// Shared scratch: JavaScript runs one call at a time, and no call here yields.
const W = new Int32Array(64);
const STATE = new Int32Array(8);

/** Runs the compression function on the 64-byte block at `block[offset..]`, updating STATE. */
function compress(block: Uint8Array, offset: number): void {
  const w = W;
  for (let i = 0, j = offset; i < 16; i++, j += 4) {
    w[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  compressW();
}

/** Compression of the block held as 16 big-endian words at `words[offset..]`. */
function compressWords(words: Int32Array, offset: number): void {
  const w = W;
  for (let i = 0; i < 16; i++) w[i] = words[offset + i]!;
  compressW();
}

/** The compression function over W[0..16), updating STATE. */
function compressW(): void {
  const w = W;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  const st = STATE;
  let a = st[0]!,
    b = st[1]!,
    c = st[2]!,
    d = st[3]!,
    e = st[4]!,
    f = st[5]!,
    g = st[6]!,
    h = st[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + ROUND[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  st[0] = (st[0]! + a) | 0;
  st[1] = (st[1]! + b) | 0;
  st[2] = (st[2]! + c) | 0;
  st[3] = (st[3]! + d) | 0;
  st[4] = (st[4]! + e) | 0;
  st[5] = (st[5]! + f) | 0;
  st[6] = (st[6]! + g) | 0;
  st[7] = (st[7]! + h) | 0;
}

/** Hashes the already padded `blocks` 64-byte blocks of `padded` into `out[outOffset..+32)`. */
function hashPadded(padded: Uint8Array, blocks: number, out: Uint8Array, outOffset: number): void {
  STATE.set(IV);
  for (let i = 0; i < blocks; i++) compress(padded, i * 64);
  for (let i = 0, o = outOffset; i < 8; i++, o += 4) {
    const v = STATE[i]!;
    out[o] = v >>> 24;
    out[o + 1] = v >>> 16;
    out[o + 2] = v >>> 8;
    out[o + 3] = v;
  }
}

/** Writes the SHA-256 padding for a `length`-byte message into `padded` (zeroed past `length`). */
function writePadding(padded: Uint8Array, length: number): void {
  padded[length] = 0x80;
  const bits = length * 8;
  const end = padded.length;
  const high = Math.floor(bits / 0x1_0000_0000);
  for (let i = 0; i < 4; i++) {
    padded[end - 1 - i] = (bits >>> (8 * i)) & 0xff;
    padded[end - 5 - i] = (high >>> (8 * i)) & 0xff;
  }
}

function blockCount(length: number): number {
  return Math.ceil((length + 9) / 64);
}

/**
 * A reusable hasher for messages of one fixed length. Write the message into
 * `input[0..length)` and call `digestInto`; the padding after it is written once
 * at construction and never touched again.
 */
export class FixedLengthSha256 {
  readonly length: number;
  /** Message bytes go in `input[0..length)`; do not write past `length`. */
  readonly input: Uint8Array;
  private readonly padded: Uint8Array;
  private readonly blocks: number;

  constructor(length: number) {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad message length ${length}`);
    this.length = length;
    this.blocks = blockCount(length);
    this.padded = new Uint8Array(this.blocks * 64);
    writePadding(this.padded, length);
    this.input = this.padded.subarray(0, length);
  }

  digestInto(out: Uint8Array, outOffset: number): void {
    hashPadded(this.padded, this.blocks, out, outOffset);
  }
}

/**
 * A reusable hasher for `0xPP || stream`, where the stream is `streamWords`
 * 32-bit words (every sum tree node is such a message: a domain byte, then
 * hashes and enc128 sums). The caller writes the message as big-endian words:
 * with the one-byte prefix, word j is `(s[j-1] << 24) | (s[j] >>> 8)` of the
 * stream words s (s[-1] = prefix), and the last word `(s[last] << 24) | 0x800000`
 * carries the padding's 0x80 byte. Nothing is copied byte by byte.
 */
export class PrefixedWordsSha256 {
  /** The padded message as big-endian words; write `words[0..streamWords]`. */
  readonly words: Int32Array;
  readonly streamWords: number;
  private readonly blocks: number;

  constructor(streamWords: number) {
    const length = 1 + 4 * streamWords;
    this.streamWords = streamWords;
    this.blocks = blockCount(length);
    const padded = new Uint8Array(this.blocks * 64);
    writePadding(padded, length);
    this.words = new Int32Array(this.blocks * 16);
    const view = new DataView(padded.buffer);
    for (let i = 0; i < this.words.length; i++) this.words[i] = view.getInt32(i * 4);
  }

  /** Writes the digest of `words` into `out` (big-endian) at byte `outOffset`. */
  digestInto(out: DataView, outOffset: number): void {
    STATE.set(IV);
    for (let i = 0; i < this.blocks; i++) compressWords(this.words, i * 16);
    for (let i = 0; i < 8; i++) out.setInt32(outOffset + 4 * i, STATE[i]!);
  }
}

/** The 0x80 padding byte in second position of a big-endian word. */
export const PAD_AFTER_FIRST_BYTE = 0x00800000;

/** One-shot SHA-256 of any byte string (allocates; not for hot loops). */
export function sha256(message: Uint8Array): Uint8Array {
  const padded = new Uint8Array(blockCount(message.length) * 64);
  padded.set(message);
  writePadding(padded, message.length);
  const out = new Uint8Array(32);
  hashPadded(padded, padded.length / 64, out, 0);
  return out;
}
