/**
 * The liabilities tree as the SPEC speaks it (§2): asset names, bigint balances,
 * 0x-hex, and the inclusion proof JSON. All hashing is in sumTreeCore.ts.
 */
import { bytesEqual, bytesToHex, type Hex, hexToBytes, readUint128, writeUint128 } from "../bytes.js";
import { fail, SolventError, type SolventErrorCode } from "../errors.js";
import { parseAmount, parseSafeInteger, UINT128_MAX } from "../numbers.js";
import { userCommitment } from "./commitment.js";
import {
  buildSumTree,
  foldPath,
  HASH_BYTES,
  leafHash,
  MAX_ASSETS,
  SUM_BYTES,
  type SumTreeLevels,
  siblingPath,
  sumBytes,
  topNode,
} from "./sumTreeCore.js";

export const PROOF_VERSION = 1;

/** A leaf as published: the user's commitment and one balance per asset, in asset order. */
export interface LiabilityRow {
  readonly commitment: Uint8Array | Hex;
  readonly balances: readonly bigint[];
}

/** A leaf before commitment: the publisher holds userId and salt, never publishes them. */
export interface UserRow {
  readonly userId: string;
  readonly salt: Uint8Array | Hex;
  readonly balances: readonly bigint[];
}

/** SPEC §2 inclusion proof JSON. */
export interface InclusionProof {
  version: 1;
  assets: string[];
  root: Hex;
  rootSums: string[];
  leafIndex: number;
  balances: string[];
  path: { hash: Hex; sums: string[] }[];
}

/** Checks the asset list (1..64 non-empty, unique names) and returns a copy. */
export function parseAssets(assets: unknown, field = "assets"): string[] {
  if (!Array.isArray(assets)) fail("INVALID_ARGUMENT", field, "must be an array of asset names");
  if (assets.length < 1 || assets.length > MAX_ASSETS) {
    fail("INVALID_ARGUMENT", field, `must list 1 to ${MAX_ASSETS} assets, got ${assets.length}`);
  }
  const seen = new Map<string, number>();
  assets.forEach((name, i) => {
    if (typeof name !== "string" || name === "")
      fail("INVALID_ARGUMENT", `${field}[${i}]`, "must be a non-empty string");
    const first = seen.get(name);
    if (first !== undefined) fail("INVALID_ARGUMENT", `${field}[${i}]`, `"${name}" repeats ${field}[${first}]`);
    seen.set(name, i);
  });
  return [...(assets as string[])];
}

function sumsToStrings(sums: Uint8Array, assets: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < assets; k++) out.push(readUint128(sums, k * SUM_BYTES).toString(10));
  return out;
}

function toBytes(value: Uint8Array | Hex, field: string, length: number): Uint8Array {
  if (typeof value === "string") return hexToBytes(value, field, length);
  if (!(value instanceof Uint8Array)) fail("INVALID_BYTES", field, "must be bytes or 0x-hex");
  if (value.length !== length) fail("INVALID_BYTES", field, `must be ${length} bytes, got ${value.length}`);
  return value;
}

/** Key for duplicate detection without hex strings: the first 6 bytes as a number. */
function prefixKey(bytes: Uint8Array, offset: number): number {
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + bytes[offset + i]!;
  return k;
}

/**
 * SPEC §2 liabilities tree over `assets` (in that order) and rows in
 * publication order (shuffle them before building; SPEC §2 asks for a fresh
 * random order per snapshot).
 *
 * @example
 * const tree = LiabilityTree.fromUsers(["USDC"], [{ userId: "alice", salt, balances: [100n] }]);
 * tree.root; // 0x…
 */
export class LiabilityTree {
  readonly assets: readonly string[];
  readonly core: SumTreeLevels;
  private commitments: Uint8Array;
  private index: Map<number, number | number[]> | undefined;

  private constructor(assets: string[], core: SumTreeLevels, commitments: Uint8Array) {
    this.assets = assets;
    this.core = core;
    this.commitments = commitments;
  }

  /** Builds from published rows; fails naming the row on a bad balance, a repeated commitment or an overflowing sum. */
  static fromRows(assets: readonly string[], rows: readonly LiabilityRow[]): LiabilityTree {
    const names = parseAssets(assets);
    if (!Array.isArray(rows) || rows.length === 0) fail("INVALID_ARGUMENT", "rows", "a tree needs at least one row");
    const commitments = new Uint8Array(rows.length * HASH_BYTES);
    rows.forEach((row, i) => {
      commitments.set(toBytes(row.commitment, `rows[${i}].commitment`, HASH_BYTES), i * HASH_BYTES);
    });
    return LiabilityTree.build(names, commitments, rows, "rows");
  }

  /** Builds from users: computes each commitment; a repeated userId fails naming both rows. */
  static fromUsers(assets: readonly string[], users: readonly UserRow[]): LiabilityTree {
    const names = parseAssets(assets);
    if (!Array.isArray(users) || users.length === 0) fail("INVALID_ARGUMENT", "rows", "a tree needs at least one row");
    const seen = new Map<string, number>();
    const commitments = new Uint8Array(users.length * HASH_BYTES);
    users.forEach((user, i) => {
      if (typeof user.userId !== "string" || user.userId === "") {
        fail("INVALID_ARGUMENT", `rows[${i}].userId`, "must be a non-empty string");
      }
      const first = seen.get(user.userId);
      if (first !== undefined) fail("DUPLICATE_USER", `rows[${i}].userId`, `same userId as rows[${first}]`);
      seen.set(user.userId, i);
      const salt = typeof user.salt === "string" ? hexToBytes(user.salt, `rows[${i}].salt`) : user.salt;
      commitments.set(userCommitment(salt, user.userId, `rows[${i}].salt`), i * HASH_BYTES);
    });
    return LiabilityTree.build(names, commitments, users, "rows");
  }

  private static build(
    assets: string[],
    commitments: Uint8Array,
    rows: readonly { balances: readonly bigint[] }[],
    field: string,
  ): LiabilityTree {
    const k = assets.length;
    const sb = sumBytes(k);
    const balances = new Uint8Array(rows.length * sb);
    rows.forEach((row, i) => {
      if (!Array.isArray(row.balances) || row.balances.length !== k) {
        fail("INVALID_ARGUMENT", `${field}[${i}].balances`, `must hold ${k} balances, one per asset`);
      }
      row.balances.forEach((b, j) => {
        const where = `${field}[${i}].balances[${j}]`;
        if (typeof b !== "bigint") fail("INVALID_NUMBER", where, "must be a bigint");
        if (b < 0n) fail("INVALID_NUMBER", where, "is negative");
        if (b > UINT128_MAX) fail("SUM_OVERFLOW", where, `${b} is not below 2^128`);
        writeUint128(balances, i * sb + j * SUM_BYTES, b);
      });
    });
    const tree = new LiabilityTree(assets, buildSumTree(commitments, balances, rows.length, k), commitments);
    tree.buildIndex(field);
    return tree;
  }

  /** Indexes commitments for `indexOf` and rejects a commitment that appears twice. */
  private buildIndex(field: string): void {
    const index = new Map<number, number | number[]>();
    const c = this.commitments;
    for (let i = 0; i < this.size; i++) {
      const key = prefixKey(c, i * HASH_BYTES);
      const prev = index.get(key);
      if (prev === undefined) {
        index.set(key, i);
        continue;
      }
      const others = typeof prev === "number" ? [prev] : prev;
      for (const j of others) {
        if (this.sameCommitment(i, j))
          fail("DUPLICATE_USER", `${field}[${i}].commitment`, `same commitment as ${field}[${j}]`);
      }
      index.set(key, [...others, i]);
    }
    this.index = index;
  }

  private sameCommitment(i: number, j: number): boolean {
    const c = this.commitments;
    return bytesEqual(
      c.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES),
      c.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES),
    );
  }

  /** Number of leaves (users). */
  get size(): number {
    return this.commitments.length / HASH_BYTES;
  }

  get root(): Hex {
    return bytesToHex(topNode(this.core).hash);
  }

  get rootSums(): bigint[] {
    const { sums } = topNode(this.core);
    return this.assets.map((_, k) => readUint128(sums, k * SUM_BYTES));
  }

  /** The commitment of leaf `index` (a view, do not modify). */
  commitmentAt(index: number): Uint8Array {
    return this.commitments.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }

  /** Leaf index of a commitment, or undefined when it is not in the tree. */
  indexOf(commitment: Uint8Array | Hex): number | undefined {
    const c = toBytes(commitment, "commitment", HASH_BYTES);
    const hit = this.index?.get(prefixKey(c, 0));
    const candidates = hit === undefined ? [] : typeof hit === "number" ? [hit] : hit;
    return candidates.find((i) => bytesEqual(c, this.commitments.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)));
  }

  /** SPEC §2 inclusion proof for leaf `index`. */
  proof(index: number): InclusionProof {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      fail("INVALID_ARGUMENT", "index", `${index} is not a leaf index (tree has ${this.size} leaves)`);
    }
    const k = this.assets.length;
    const sb = sumBytes(k);
    const leafSums = this.core.levels[0]!.sums.subarray(index * sb, (index + 1) * sb);
    return {
      version: PROOF_VERSION,
      assets: [...this.assets],
      root: this.root,
      rootSums: sumsToStrings(topNode(this.core).sums, k),
      leafIndex: index,
      balances: sumsToStrings(leafSums, k),
      path: siblingPath(this.core, index).map((node) => ({
        hash: bytesToHex(node.hash),
        sums: sumsToStrings(node.sums, k),
      })),
    };
  }
}

/** Function form of `LiabilityTree.fromRows`. */
export function buildLiabilityTree(input: { assets: readonly string[]; rows: readonly LiabilityRow[] }): LiabilityTree {
  return LiabilityTree.fromRows(input.assets, input.rows);
}

/** Function form of `LiabilityTree.fromUsers`. */
export function buildLiabilityTreeFromUsers(input: {
  assets: readonly string[];
  users: readonly UserRow[];
}): LiabilityTree {
  return LiabilityTree.fromUsers(input.assets, input.users);
}

/** Who the proof is for: the user's own secrets, or the commitment they already computed. */
export type ProofSubject = { userId: string; salt: Uint8Array | Hex } | { commitment: Uint8Array | Hex };

export type InclusionProofResult =
  | {
      ok: true;
      assets: string[];
      root: Hex;
      rootSums: bigint[];
      leafIndex: number;
      balances: bigint[];
    }
  | { ok: false; code: SolventErrorCode; record: string; reason: string };

interface ParsedProof {
  assets: string[];
  root: Uint8Array;
  rootSums: bigint[];
  leafIndex: number;
  balances: bigint[];
  path: { hash: Uint8Array; sums: Uint8Array }[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses one decimal string per asset (SPEC §1), each below 2^128. */
export function parseSums(value: unknown, field: string, assets: number): bigint[] {
  if (!Array.isArray(value)) fail("INVALID_PROOF", field, "must be an array of decimal strings");
  if (value.length !== assets)
    fail("INVALID_PROOF", field, `must hold ${assets} values, one per asset, got ${value.length}`);
  return value.map((v, k) => parseAmount(v, `${field}[${k}]`, UINT128_MAX));
}

/** enc128 of each value, concatenated (the sums of a node). */
export function encodeSums(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * SUM_BYTES);
  values.forEach((v, k) => {
    writeUint128(out, k * SUM_BYTES, v);
  });
  return out;
}

/** Strict SPEC §2 / §1 parse of a proof; throws SolventError naming the field. */
export function parseInclusionProof(json: unknown): ParsedProof {
  const { json: proof, assets, root, rootSums } = parseProofHeader(json);
  const k = assets.length;
  const leafIndex = parseSafeInteger(proof.leafIndex, "leafIndex");
  const balances = parseSums(proof.balances, "balances", k);
  const path = parsePath(proof.path, "path", k, leafIndex, "leafIndex");
  return { assets, root, rootSums, leafIndex, balances, path };
}

/** The part every §2 / §2.1 proof shares: a JSON object with version, assets, root and rootSums. */
export function parseProofHeader(json: unknown): {
  json: Record<string, unknown>;
  assets: string[];
  root: Uint8Array;
  rootSums: bigint[];
} {
  if (!isRecord(json)) fail("INVALID_PROOF", "proof", "must be a JSON object");
  if (json.version !== PROOF_VERSION) fail("INVALID_PROOF", "version", `must be ${PROOF_VERSION}`);
  const assets = parseAssets(json.assets);
  if (typeof json.root !== "string") fail("INVALID_BYTES", "root", "must be 0x-hex");
  const root = hexToBytes(json.root, "root", HASH_BYTES);
  const rootSums = parseSums(json.rootSums, "rootSums", assets.length);
  return { json, assets, root, rootSums };
}

/** A §2 sibling path of `assets` sums per node, checking leafIndex < 2^path.length. */
export function parsePath(
  value: unknown,
  field: string,
  assets: number,
  leafIndex: number,
  indexField: string,
): { hash: Uint8Array; sums: Uint8Array }[] {
  if (!Array.isArray(value)) fail("INVALID_PROOF", field, "must be an array");
  const path = value.map((node: unknown, l) => {
    if (!isRecord(node)) fail("INVALID_PROOF", `${field}[${l}]`, "must be an object with hash and sums");
    if (typeof node.hash !== "string") fail("INVALID_BYTES", `${field}[${l}].hash`, "must be 0x-hex");
    return {
      hash: hexToBytes(node.hash, `${field}[${l}].hash`, HASH_BYTES),
      sums: encodeSums(parseSums(node.sums, `${field}[${l}].sums`, assets)),
    };
  });
  // leafIndex < 2^path.length; a safe integer is always below 2^53.
  if (path.length < 53 && leafIndex >= 2 ** path.length) {
    fail(
      "INVALID_PROOF",
      indexField,
      `${leafIndex} does not fit a path of ${path.length} levels (must be < 2^${path.length})`,
    );
  }
  return path;
}

export function subjectCommitment(who: ProofSubject): Uint8Array {
  if (!isRecord(who)) fail("INVALID_ARGUMENT", "who", "must give userId and salt, or commitment");
  if ("commitment" in who) return toBytes(who.commitment, "commitment", HASH_BYTES);
  const salt = typeof who.salt === "string" ? hexToBytes(who.salt, "salt") : who.salt;
  return userCommitment(salt, who.userId);
}

/**
 * Checks a SPEC §2 inclusion proof for `who`. Never throws: malformed input is
 * an `{ ok: false }` naming the field. Tying `root` to a signed attestation is
 * the caller's job (core/inclusionCheck.ts).
 */
export function verifyInclusionProof(proofJson: unknown, who: ProofSubject): InclusionProofResult {
  try {
    const proof = parseInclusionProof(proofJson);
    const commitment = subjectCommitment(who);
    const k = proof.assets.length;
    const leafSums = encodeSums(proof.balances);
    const top = foldPath(leafHash(commitment, leafSums), leafSums, proof.leafIndex, proof.path, k);
    if (!top.ok) {
      const name = proof.assets[top.asset]!;
      return failure(
        "SUM_OVERFLOW",
        `path[${top.step}].sums[${top.asset}]`,
        `the partial sum of ${name} at level ${top.step + 1} reaches 2^128`,
      );
    }
    if (!bytesEqual(top.hash, proof.root)) {
      return failure("INVALID_PROOF", "root", `the path hashes to ${bytesToHex(top.hash)}, not to the proof's root`);
    }
    for (let a = 0; a < k; a++) {
      const got = readUint128(top.sums, a * SUM_BYTES);
      if (got !== proof.rootSums[a]) {
        return failure(
          "INVALID_PROOF",
          `rootSums[${a}]`,
          `the path sums ${proof.assets[a]} to ${got}, not ${proof.rootSums[a]}`,
        );
      }
    }
    return {
      ok: true,
      assets: proof.assets,
      root: bytesToHex(proof.root),
      rootSums: proof.rootSums,
      leafIndex: proof.leafIndex,
      balances: proof.balances,
    };
  } catch (e) {
    if (e instanceof SolventError) return failure(e.code, e.record, e.message);
    throw e;
  }
}

function failure(code: SolventErrorCode, record: string, reason: string): InclusionProofResult {
  return { ok: false, code, record, reason: reason.startsWith(`${record}: `) ? reason : `${record}: ${reason}` };
}
