/**
 * The build's fast paths for SPEC §11 commitments (same bytes as `pedersen`
 * and `Point.toBytes`, computed with less field arithmetic):
 *
 * - fixed-base tables: `v·G + r·H` as a sum of table points, one addition per
 *   byte of each scalar (a value below 2^64 is 8 bytes), instead of a generic
 *   constant-time multiplication that normalises its result (one field
 *   inversion) each time;
 * - batched encoding: the canonical encoding of a point needs an inverse square
 *   root (about 255 field squarings). For a point known as the double of
 *   another, RFC 9496's encoding can be computed from the half with one field
 *   inversion and no square root (the "double and compress" formulas of
 *   curve25519-dalek), and the inversions of a whole batch share one
 *   (Montgomery's trick). So the build keeps every commitment's half
 *   `C/2 = v·(G/2) + r·(H/2)`, and the half of a parent is the sum of its
 *   children's halves.
 *
 * Everything here is checked against @noble/curves' own `multiply` and
 * `toBytes` by test/core/privateBatch.test.ts; the vectors check the bytes.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { G, GROUP_ORDER, H, Point } from "./group.js";

const Fp = Point.Fp;
const P = Fp.ORDER;
type Field = bigint;

/** `a·b mod p` for any integers a, b (negative or wider than p included): the result is in 0..p-1. */
function mul(a: Field, b: Field): Field {
  const r = (a * b) % P;
  return r < 0n ? r + P : r;
}
const EdPoint = ed25519.Point;
type EdPoint = InstanceType<typeof EdPoint>;

/** The Edwards d of edwards25519 (RFC 7748): -121665/121666 mod p. */
const D: Field = Fp.div(Fp.neg(121665n), 121666n);
const D2: Field = Fp.add(D, D);
/** RFC 9496 §4.1: SQRT_M1 and INVSQRT_A_MINUS_D. */
const SQRT_M1: Field = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
const INVSQRT_A_MINUS_D: Field = 54469307008909316920995813868745141605393597292927456921205312896311721017578n;
const isNegative = (x: Field) => (x & 1n) === 1n;

/** An Edwards point in extended coordinates (x = X/Z, y = Y/Z, xy = T/Z), as plain fields. */
export interface Extended {
  X: Field;
  Y: Field;
  Z: Field;
  T: Field;
}
const IDENTITY: Extended = { X: 0n, Y: 1n, Z: 1n, T: 0n };

/*
 * Point additions below: sums and differences are left unreduced (possibly
 * negative, a few bits wider than p); every product goes through `mul`, which
 * reduces any integer into 0..p-1, so the coordinates stored are canonical.
 */

/** `a + b` in extended coordinates (add-2008-hwcd-3 for a = -1: 8 multiplications, complete). */
export function addExtended(a: Extended, b: Extended): Extended {
  const A = mul(a.Y - a.X, b.Y - b.X);
  const B = mul(a.Y + a.X, b.Y + b.X);
  const C = mul(mul(a.T, D2), b.T);
  return sumTerms(A, B, C, mul(a.Z + a.Z, b.Z));
}

function sumTerms(A: Field, B: Field, C: Field, Dz: Field): Extended {
  const E = B - A;
  const F = Dz - C;
  const Gt = Dz + C;
  const Ht = B + A;
  return { X: mul(E, F), Y: mul(Gt, Ht), Z: mul(F, Gt), T: mul(E, Ht) };
}

const WINDOW_BITS = 8;
const WINDOW = 1 << WINDOW_BITS;
/** Bytes of a scalar below the group order (2^252 < l < 2^253). */
const SCALAR_WINDOWS = 32;

/**
 * A fixed-base table for `base`: window w holds `j · 256^w · base` for
 * j = 0..255 in affine form (y + x, y - x, 2d·x·y), built on first use.
 * Adding a table point to an extended point costs 7 field multiplications.
 */
class FixedBase {
  /** Per window, 3 fields per entry. */
  private readonly windows: Field[][] = [];
  private next: EdPoint;

  constructor(base: EdPoint) {
    this.next = base;
  }

  private window(w: number): Field[] {
    while (this.windows.length <= w) {
      const row: EdPoint[] = new Array(WINDOW);
      row[0] = EdPoint.ZERO;
      for (let j = 1; j < WINDOW; j++) row[j] = row[j - 1]!.add(this.next);
      this.next = row[WINDOW - 1]!.add(this.next);
      const zInv = Fp.invertBatch(row.map((p) => p.Z));
      const flat: Field[] = new Array(3 * WINDOW);
      row.forEach((p, j) => {
        const x = mul(p.X, zInv[j]!);
        const y = mul(p.Y, zInv[j]!);
        flat[3 * j] = Fp.add(y, x);
        flat[3 * j + 1] = Fp.sub(y, x);
        flat[3 * j + 2] = mul(mul(x, y), D2);
      });
      this.windows.push(flat);
    }
    return this.windows[w]!;
  }

  /**
   * `acc + scalar · base` for 0 <= scalar < 256^windows: one table point per
   * byte of the scalar (a zero byte adds the identity, so the additions do not
   * depend on the scalar's bytes).
   */
  addMultiple(acc: Extended, scalar: bigint, windows: number): Extended {
    let s = scalar;
    for (let w = 0; w < windows; w++) {
      const t = this.window(w);
      const j = 3 * Number(s & 0xffn);
      s >>= 8n;
      const A = mul(acc.Y - acc.X, t[j + 1]!);
      const B = mul(acc.Y + acc.X, t[j]!);
      const C = mul(acc.T, t[j + 2]!);
      acc = sumTerms(A, B, C, acc.Z + acc.Z);
    }
    if (s !== 0n) throw new RangeError("scalar wider than its windows");
    return acc;
  }
}

const edwardsOf = (p: Point): EdPoint => EdPoint.fromAffine(p.toAffine());
/** 1/2 mod l. */
const HALF = (GROUP_ORDER + 1n) / 2n;
const halfG = new FixedBase(edwardsOf(G.multiply(HALF)));
const halfH = new FixedBase(edwardsOf(H.multiply(HALF)));
/** Windows a value needs: values below 2^64 (every quantised value) take 8. */
const VALUE_WINDOWS = 8;

/** `(v·G + r·H) / 2` for 0 <= v, r < l: the half of the Pedersen commitment. */
export function halfCommitment(value: bigint, blinding: bigint): Extended {
  if (value < 0n || value >= GROUP_ORDER || blinding < 0n || blinding >= GROUP_ORDER)
    throw new RangeError("value and blinding must be reduced modulo the group order");
  const acc = halfG.addMultiple(IDENTITY, value, value >> 64n === 0n ? VALUE_WINDOWS : SCALAR_WINDOWS);
  return halfH.addMultiple(acc, blinding, SCALAR_WINDOWS);
}

/** `2·P` as a ristretto255 point (the commitment whose half is P). */
export function doubled(half: Extended): Point {
  return new Point(new EdPoint(half.X, half.Y, half.Z, half.T).double());
}

/**
 * The canonical encodings of `2·P` for every P of `halves`, sharing one field
 * inversion. A half whose intermediate product is zero (the identity, among
 * others) is encoded the plain way.
 */
export function encodeDoubles(halves: readonly Extended[]): Uint8Array[] {
  const n = halves.length;
  const e: Field[] = new Array(n);
  const f: Field[] = new Array(n);
  const g: Field[] = new Array(n);
  const h: Field[] = new Array(n);
  const eg: Field[] = new Array(n);
  const fh: Field[] = new Array(n);
  const product: Field[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { X, Y, Z, T } = halves[i]!;
    const xx = mul(X, X);
    const yy = mul(Y, Y);
    const zz = mul(Z, Z);
    const dtt = mul(mul(T, T), D);
    e[i] = mul(X, Fp.add(Y, Y));
    f[i] = Fp.add(zz, dtt);
    g[i] = Fp.add(yy, xx);
    h[i] = Fp.sub(zz, dtt);
    eg[i] = mul(e[i]!, g[i]!);
    fh[i] = mul(f[i]!, h[i]!);
    product[i] = mul(eg[i]!, fh[i]!);
  }
  const inverses = invertNonZero(product);
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const inv = inverses[i];
    if (inv === undefined) {
      out[i] = doubled(halves[i]!).toBytes();
      continue;
    }
    const zInv = mul(eg[i]!, inv);
    const tInv = mul(fh[i]!, inv);
    let ei = e[i]!;
    let gi = g[i]!;
    let hi = h[i]!;
    let magic = INVSQRT_A_MINUS_D;
    if (isNegative(mul(eg[i]!, zInv))) {
      const minusE = Fp.neg(ei);
      ei = gi;
      gi = minusE;
      hi = mul(f[i]!, SQRT_M1);
      magic = SQRT_M1;
    }
    if (isNegative(mul(mul(hi, ei), zInv))) gi = Fp.neg(gi);
    let s = mul(Fp.sub(hi, gi), mul(magic, mul(gi, tInv)));
    if (isNegative(s)) s = Fp.neg(s);
    out[i] = Fp.toBytes(s);
  }
  return out;
}

/** Montgomery's batch inversion; zero entries stay out of the batch and get `undefined`. */
function invertNonZero(xs: readonly Field[]): (Field | undefined)[] {
  const prefix: Field[] = new Array(xs.length);
  let acc = 1n;
  for (let i = 0; i < xs.length; i++) {
    prefix[i] = acc;
    if (xs[i] !== 0n) acc = mul(acc, xs[i]!);
  }
  let inv = Fp.inv(acc);
  const out: (Field | undefined)[] = new Array(xs.length);
  for (let i = xs.length - 1; i >= 0; i--) {
    if (xs[i] === 0n) continue;
    out[i] = mul(inv, prefix[i]!);
    inv = mul(inv, xs[i]!);
  }
  return out;
}
