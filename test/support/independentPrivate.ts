/**
 * SPEC §11 re-computed from SPEC.md and docs/spec.md §11 alone, sharing no
 * code with core/: the generator H, quantisation, blindings and padding from
 * the secret, the sorted padded leaves, every level, the root's opening, and
 * each proof's path. Range proofs are out of its reach (they need a
 * Bulletproofs verifier); it checks everything else a proof claims.
 */
import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { hex, unhex } from "./independentVerifier.js";

const RP = ristretto255.Point;
type Pt = InstanceType<typeof RP>;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const text = (s: string) => new TextEncoder().encode(s);
const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const bigEndian = (v: bigint, n: number) =>
  Uint8Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * (n - 1 - i))) & 255n));
const littleEndianInt = (b: Uint8Array) => [...b].reverse().reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
const scalarHex = (s: bigint) => hex(bigEndian(s, 32).reverse());

export const G: Pt = RP.BASE;
export const H: Pt = ristretto255_hasher.deriveToCurve!(sha512(text("solvent/pedersen-ristretto255-v2/H")));

const commit = (v: bigint, r: bigint): Pt => {
  let p = RP.ZERO;
  if (v % L !== 0n) p = p.add(G.multiply(v % L));
  if (r % L !== 0n) p = p.add(H.multiply(r % L));
  return p;
};

function kdf(secret: Uint8Array, label: string, ledgerId: string, index: number, asset?: number): Uint8Array {
  const id = text(ledgerId);
  const tail = asset === undefined ? [] : [Uint8Array.of(asset)];
  return hmac(
    sha512,
    secret,
    join(text(label), Uint8Array.of(0), bigEndian(BigInt(id.length), 2), id, bigEndian(BigInt(index), 8), ...tail),
  );
}

interface Node {
  hash: Uint8Array;
  C: Pt[];
}

const leafNode = (c: Uint8Array, C: Pt[]): Node => ({
  hash: sha256(join(Uint8Array.of(0x10), c, ...C.map((p) => p.toBytes()))),
  C,
});
const parent = (l: Node, r: Node): Node => ({
  hash: sha256(
    join(Uint8Array.of(0x11), ...l.C.map((p) => p.toBytes()), l.hash, ...r.C.map((p) => p.toBytes()), r.hash),
  ),
  C: l.C.map((p, k) => p.add(r.C[k]!)),
});

const userC = (salt: Uint8Array, userId: string) => sha256(join(Uint8Array.of(0x02), salt, text(userId)));

/** Rebuilds a private-ledger vector from its inputs; returns the first mismatch, or null. */
export function recheckPrivateLedger(v: any): string | null {
  if (hex(H.toBytes()) !== v.H) return "H is not the documented derivation";
  if (hex(G.toBytes()) !== v.G) return "G is not the ristretto255 base point";
  const secret = unhex(v.secret);
  const K = v.assets.length;
  // quantise
  const values: bigint[][] = v.users.map((u: any) =>
    v.assets.map((a: any, k: number) => {
      const unit = 10n ** BigInt(a.decimals - a.unitDecimals);
      const b = BigInt(u.balances[k]);
      if (b % unit !== 0n) throw new Error(`${u.userId} does not divide`);
      return b / unit;
    }),
  );
  let size = 2 ** v.minDepth;
  while (size < v.users.length) size *= 2;
  const leaves: { c: Uint8Array; values: bigint[] }[] = v.users.map((u: any, i: number) => ({
    c: userC(unhex(u.salt), u.userId),
    values: values[i]!,
  }));
  for (let j = 0; leaves.length < size; j++)
    leaves.push({
      c: kdf(secret, "solvent/pedersen-ristretto255-v2/padding", v.ledgerId, j).slice(0, 32),
      values: Array(K).fill(0n),
    });
  leaves.sort((a, b) => (hex(a.c) < hex(b.c) ? -1 : hex(a.c) > hex(b.c) ? 1 : 0));
  if (leaves.length !== v.leaves.length) return `leaf count ${v.leaves.length}, expected ${leaves.length}`;
  let level: Node[] = [];
  const blindingSum = Array(K).fill(0n);
  for (let i = 0; i < leaves.length; i++) {
    const r = v.assets.map(
      (_: any, k: number) =>
        littleEndianInt(kdf(secret, "solvent/pedersen-ristretto255-v2/blinding", v.ledgerId, i, k)) % L,
    );
    r.forEach((x: bigint, k: number) => {
      blindingSum[k] = (blindingSum[k] + x) % L;
    });
    const node = leafNode(
      leaves[i]!.c,
      leaves[i]!.values.map((x, k) => commit(x, r[k])),
    );
    const want = v.leaves[i];
    if (hex(leaves[i]!.c) !== want.commitment) return `leaf ${i} commitment`;
    if (r.map(scalarHex).join() !== want.blindings.join()) return `leaf ${i} blindings`;
    if (node.C.map((p) => hex(p.toBytes())).join() !== want.commitments.join()) return `leaf ${i} commitments`;
    if (hex(node.hash) !== want.hash) return `leaf ${i} hash`;
    level.push(node);
  }
  let depth = 0;
  while (level.length > 1) {
    const up: Node[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(parent(level[i]!, level[i + 1]!));
    const want = v.levels[depth];
    for (let i = 0; i < up.length; i++)
      if (hex(up[i]!.hash) !== want[i].hash) return `level ${depth + 1} node ${i} hash`;
    level = up;
    depth++;
  }
  const root = level[0]!;
  if (hex(root.hash) !== v.root) return "root hash";
  if (root.C.map((p) => hex(p.toBytes())).join() !== v.rootCommitments.join()) return "root commitments";
  const totals = v.assets.map((_: any, k: number) => values.reduce((s, row) => s + row[k]!, 0n));
  if (totals.map(String).join() !== v.totals.join()) return "totals are not the column sums";
  if (totals.some((t: bigint) => t >= 2n ** 64n)) return "a total reaches 2^64";
  if (blindingSum.map(scalarHex).join() !== v.totalBlindings.join())
    return "total blindings are not the sums of the leaf blindings";
  for (let k = 0; k < K; k++)
    if (!root.C[k]!.equals(commit(totals[k], blindingSum[k]))) return `root commitment ${k} does not open to the total`;
  return null;
}

/** Checks a proof body (no range proofs) for (salt, userId); returns the first failure, or null. */
export function recheckPrivateProof(p: any, salt: Uint8Array, userId: string): string | null {
  const values = p.values.map(BigInt);
  if (values.some((x: bigint) => x >= 2n ** 64n)) return "value out of range";
  const blindings = p.blindings.map((b: string) => littleEndianInt(unhex(b)));
  if (blindings.some((b: bigint) => b >= L)) return "non-canonical blinding";
  let node = leafNode(
    userC(salt, userId),
    values.map((x: bigint, k: number) => commit(x, blindings[k])),
  );
  if (p.leafIndex >= 2 ** p.path.length) return "leafIndex does not fit the path";
  p.path.forEach((s: any, l: number) => {
    const sib: Node = { hash: unhex(s.hash), C: s.commitments.map((c: string) => RP.fromBytes(unhex(c))) };
    node = (p.leafIndex >> l) % 2 === 0 ? parent(node, sib) : parent(sib, node);
  });
  if (hex(node.hash) !== p.root) return "path does not reach the root hash";
  if (node.C.map((c) => hex(c.toBytes())).join() !== p.rootCommitments.join())
    return "path does not reach the root commitments";
  for (let k = 0; k < node.C.length; k++) {
    if (!node.C[k]!.equals(commit(BigInt(p.totals[k]), littleEndianInt(unhex(p.totalBlindings[k])))))
      return `root commitment ${k} does not open to the total`;
  }
  return null;
}
