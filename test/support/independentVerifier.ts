/**
 * A second, deliberately naive implementation of the SPEC formats, written
 * from SPEC.md alone and sharing no code with core/. Tests use it to check
 * that what core/ produces is what a third-party verifier would re-compute.
 * It favours obviousness over speed: objects per node, bigint everywhere.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { encodeAbiParameters, recoverAddress } from "viem";

const enc = new TextEncoder();

export function hex(bytes: Uint8Array): `0x${string}` {
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function unhex(h: string): Uint8Array {
  const body = h.startsWith("0x") ? h.slice(2) : h;
  return Uint8Array.from(body.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

function be(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

const LIMIT = 1n << 128n;

// ---------------------------------------------------------------- SPEC §2

export interface SumNode {
  hash: Uint8Array;
  sums: bigint[];
}

export function commitment(salt: Uint8Array, userId: string): Uint8Array {
  return sha256(cat(Uint8Array.of(2), salt, enc.encode(userId)));
}

export function leafNode(c: Uint8Array, balances: bigint[]): SumNode {
  return { hash: sha256(cat(Uint8Array.of(0), c, ...balances.map((b) => be(b, 16)))), sums: [...balances] };
}

export function paddingNode(level: number, index: number, assets: number): SumNode {
  return {
    hash: sha256(cat(Uint8Array.of(3), Uint8Array.of(level), be(BigInt(index), 8))),
    sums: Array<bigint>(assets).fill(0n),
  };
}

export function innerNode(l: SumNode, r: SumNode): SumNode {
  const sums = l.sums.map((s, i) => s + r.sums[i]!);
  if (sums.some((s) => s >= LIMIT)) throw new Error("sum overflow");
  return {
    hash: sha256(
      cat(Uint8Array.of(1), l.hash, ...l.sums.map((s) => be(s, 16)), r.hash, ...r.sums.map((s) => be(s, 16))),
    ),
    sums,
  };
}

/** Root of a sum tree built level by level exactly as SPEC §2 describes. */
export function sumTreeRoot(leaves: SumNode[]): SumNode {
  let level = leaves;
  let l = 0;
  const assets = leaves[0]!.sums.length;
  while (level.length > 1) {
    if (level.length % 2 === 1) level = [...level, paddingNode(l, level.length, assets)];
    const next: SumNode[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(innerNode(level[i]!, level[i + 1]!));
    level = next;
    l++;
  }
  return level[0]!;
}

/** SPEC §2 verification of a proof JSON for (salt, userId); returns the reason on failure. */
export function checkProof(proof: any, salt: Uint8Array, userId: string): string | null {
  const balances = (proof.balances as string[]).map(BigInt);
  let node = leafNode(commitment(salt, userId), balances);
  if (BigInt(proof.leafIndex) >= 1n << BigInt(proof.path.length)) return "leafIndex out of range";
  for (let l = 0; l < proof.path.length; l++) {
    const sib: SumNode = { hash: unhex(proof.path[l].hash), sums: proof.path[l].sums.map(BigInt) };
    if (sib.sums.some((s) => s >= LIMIT)) return "sibling sum out of range";
    const right = (BigInt(proof.leafIndex) >> BigInt(l)) & 1n;
    try {
      node = right ? innerNode(sib, node) : innerNode(node, sib);
    } catch {
      return "partial sum overflow";
    }
  }
  if (hex(node.hash) !== proof.root) return "root mismatch";
  if (node.sums.map(String).join() !== proof.rootSums.join()) return "root sums mismatch";
  return null;
}

/**
 * SPEC §2.1 (with the project's fixed JSON, docs/spec.md): is commitment `c`
 * provably absent from the tree with this `root`, whose report states
 * `leafCount` real leaves? Each neighbour's leaf is rebuilt from its own c and
 * balances (and must match the leaf hash it states), then folded up its path
 * exactly as an inclusion proof. Returns the reason on failure.
 */
export function checkNonInclusion(proof: any, c: Uint8Array, root: string, leafCount: number): string | null {
  if (proof?.kind !== "non-inclusion") return "not a non-inclusion proof";
  if (proof.commitment !== hex(c)) return "the proof is about another commitment";
  if (proof.root !== root) return "root is not the attested root";
  if (proof.leafCount !== leafCount) return "leafCount is not the report's";
  const cmp = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  const walk = (n: any): string | null => {
    const nc = unhex(n.commitment);
    const leaf = leafNode(nc, n.balances.map(BigInt));
    if (hex(leaf.hash) !== n.leafHash) return "a neighbour's leaf hash is not H(0x00 || c || balances)";
    if (!(n.leafIndex < leafCount)) return "a neighbour is past the last leaf";
    let node = leaf;
    if (BigInt(n.leafIndex) >= 1n << BigInt(n.path.length)) return "leafIndex out of range";
    for (let l = 0; l < n.path.length; l++) {
      const sib: SumNode = { hash: unhex(n.path[l].hash), sums: n.path[l].sums.map(BigInt) };
      const right = (BigInt(n.leafIndex) >> BigInt(l)) & 1n;
      try {
        node = right ? innerNode(sib, node) : innerNode(node, sib);
      } catch {
        return "partial sum overflow";
      }
    }
    if (hex(node.hash) !== root) return "a neighbour's path does not reach the root";
    if (node.sums.map(String).join() !== proof.rootSums.join())
      return "a neighbour's path does not reach the root sums";
    return null;
  };
  const { left, right } = proof;
  if (!left && !right) return "no neighbour";
  for (const n of [left, right]) {
    if (n) {
      const why = walk(n);
      if (why) return why;
    }
  }
  if (left && !(cmp(unhex(left.commitment), c) < 0)) return "left neighbour is not below c";
  if (right && !(cmp(c, unhex(right.commitment)) < 0)) return "right neighbour is not above c";
  if (left && right && right.leafIndex !== left.leafIndex + 1) return "neighbours are not adjacent";
  if (!left && right.leafIndex !== 0) return "c sorts first but the right neighbour is not leaf 0";
  if (!right && left.leafIndex !== leafCount - 1) return "c sorts last but the left neighbour is not the last leaf";
  return null;
}

/**
 * SPEC §2 leaf order and §4 `liabilities.ledger`: when the report's ledger says
 * `"order": "commitment"`, the leaves (every leaf, in leaf order, as
 * commitments) must be strictly ascending by the 32 bytes of c and as many as
 * `leafCount`; the root built from `leaves` nodes must be the report's root.
 * Without `order` (ledgers from before the rule) only the count and root are
 * checked. Returns the reason on failure.
 */
export function checkLedgerLeaves(report: any, leaves: { c: Uint8Array; balances: bigint[] }[]): string | null {
  const ledger = report?.liabilities?.ledger;
  if (!ledger) return "the report names no ledger";
  if (ledger.scheme !== undefined && ledger.scheme !== "sum-sha256-v1")
    return `scheme ${String(ledger.scheme)} is not the SPEC §2 sum tree`;
  const count = ledger.leafCount ?? ledger.users;
  if (String(leaves.length) !== String(count)) return `${leaves.length} leaves, the report says ${String(count)}`;
  if (ledger.order !== undefined && ledger.order !== "commitment") return `unknown order ${String(ledger.order)}`;
  if (ledger.order === "commitment") {
    for (let i = 1; i < leaves.length; i++) {
      const a = leaves[i - 1]!.c;
      const b = leaves[i]!.c;
      let d = 0;
      for (let j = 0; j < 32 && d === 0; j++) d = a[j]! - b[j]!;
      if (d >= 0) return `leaf ${i} is not above leaf ${i - 1} in commitment order`;
    }
  }
  const root = sumTreeRoot(leaves.map((l) => leafNode(l.c, l.balances)));
  if (hex(root.hash) !== String(report.liabilities.root).toLowerCase())
    return "the leaves do not build the report's liabilities root";
  return null;
}

// ---------------------------------------------------------------- SPEC §3

const RESERVE_TYPES = ["bytes32", "uint256", "address", "address", "uint256", "uint256", "uint256", "uint8"] as const;

export function keccak(bytes: Uint8Array): Uint8Array {
  return keccak_256(bytes);
}

export function reserveLeafHash(item: any): Uint8Array {
  const encoded = encodeAbiParameters(
    RESERVE_TYPES.map((type) => ({ type })),
    [
      hex(keccak(enc.encode(item.label))),
      BigInt(item.chainId),
      item.holder,
      item.token,
      BigInt(item.amount),
      BigInt(item.priceUsd),
      BigInt(item.valueUsd),
      Number(item.status),
    ],
  );
  return keccak(keccak(unhex(encoded)));
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function hashPairSorted(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compare(a, b) <= 0 ? keccak(cat(a, b)) : keccak(cat(b, a));
}

/**
 * The root OpenZeppelin's StandardMerkleTree.of computes with default options:
 * leaves sorted by hash, laid out as a complete binary tree in an array.
 */
export function standardTreeRoot(leafHashes: Uint8Array[]): `0x${string}` {
  const sorted = [...leafHashes].sort(compare);
  const n = sorted.length;
  const tree: Uint8Array[] = new Array(2 * n - 1);
  sorted.forEach((leaf, i) => {
    tree[tree.length - 1 - i] = leaf;
  });
  for (let i = tree.length - 1 - n; i >= 0; i--) tree[i] = hashPairSorted(tree[2 * i + 1]!, tree[2 * i + 2]!);
  return hex(tree[0]!);
}

/** OpenZeppelin MerkleProof.verify. */
export function verifySortedProof(root: string, leaf: Uint8Array, proof: string[]): boolean {
  return hex(proof.reduce((acc, p) => hashPairSorted(acc, unhex(p)), leaf)) === root;
}

// ---------------------------------------------------------------- SPEC §5 / §9 (EIP-712 by hand)

const ATTESTATION_TYPE =
  "SolvencyAttestation(bytes32 issuer,uint64 sequence,bytes32 previous,uint64 observedAt,uint64 validUntil," +
  "uint256 reservesUsd,uint256 onchainReservesUsd,uint256 offchainReservesUsd,uint256 liabilitiesUsd,uint32 ratioBps," +
  "bytes32 reservesRoot,bytes32 liabilitiesRoot,uint64 flags,bytes32 reportHash)";
const ATTESTATION_FIELDS = ATTESTATION_TYPE.slice(ATTESTATION_TYPE.indexOf("(") + 1, -1)
  .split(",")
  .map((f) => f.split(" ") as [string, string]);

const STATEMENT_TYPE =
  "CustodianStatement(bytes32 issuer,bytes32 custodian,bytes32 account,bytes32 asset,uint256 amount,uint64 asOf,uint64 nonce)";

function word(type: string, value: string): Uint8Array {
  return type === "bytes32" ? unhex(value) : be(BigInt(value), 32);
}

function domainSeparator(name: string, version: string): Uint8Array {
  return keccak(
    cat(
      keccak(enc.encode("EIP712Domain(string name,string version)")),
      keccak(enc.encode(name)),
      keccak(enc.encode(version)),
    ),
  );
}

function eip712(domain: Uint8Array, structHash: Uint8Array): `0x${string}` {
  return hex(keccak(cat(Uint8Array.of(0x19, 0x01), domain, structHash)));
}

/** EIP-712 digest of an attestation given in its JSON form (§10). */
export function attestationDigest(a: Record<string, string>): `0x${string}` {
  const struct = keccak(
    cat(keccak(enc.encode(ATTESTATION_TYPE)), ...ATTESTATION_FIELDS.map(([t, n]) => word(t, a[n]!))),
  );
  return eip712(domainSeparator("Solvent", "1"), struct);
}

/** EIP-712 digest of a custodian statement whose ids are readable strings. */
export function custodianStatementDigest(s: Record<string, string>): `0x${string}` {
  const id = (v: string) => keccak(enc.encode(v));
  const struct = keccak(
    cat(
      keccak(enc.encode(STATEMENT_TYPE)),
      id(s.issuer!),
      id(s.custodian!),
      id(s.account!),
      id(s.asset!),
      be(BigInt(s.amount!), 32),
      be(BigInt(s.asOf!), 32),
      be(BigInt(s.nonce!), 32),
    ),
  );
  return eip712(domainSeparator("Solvent Custodian Statement", "1"), struct);
}

export async function recoverDigestSigner(digest: `0x${string}`, signature: `0x${string}`): Promise<string> {
  return (await recoverAddress({ hash: digest, signature })).toLowerCase();
}

/** EIP-191 personal_sign hash of a UTF-8 message. */
export function personalMessageHash(message: string): `0x${string}` {
  const body = enc.encode(message);
  return hex(keccak(cat(enc.encode(`\x19Ethereum Signed Message:\n${body.length}`), body)));
}
