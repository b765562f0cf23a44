/**
 * SPEC §11 non-inclusion (the §2.1 shape): the neighbours of where a commitment
 * would sit, each showing only its user commitment, its leaf's Pedersen
 * commitments and the path (hashes and commitments) to the root. Every leaf
 * count is a power of two and padding leaves sort among the users', so the
 * edges are leaf 0 and leaf 2^depth − 1.
 */
import { bytesEqual, bytesToHex, type Hex, hexToBytes } from "../../bytes.js";
import { fail, SolventError, type SolventErrorCode } from "../../errors.js";
import { parseSafeInteger } from "../../numbers.js";
import { compareCommitments } from "../nonInclusion.js";
import { isRecord, parseAssets } from "../sumTree.js";
import { type Point, parsePoint, SCHEME } from "./group.js";
import {
  HASH_BYTES,
  type PrivateLedger,
  type PublicPrivateNode,
  privateLeafHash,
  privateSiblings,
  publicParent,
} from "./tree.js";

export interface PrivateNeighbour {
  leafIndex: number;
  commitment: Hex;
  leafCommitments: Hex[];
  path: { hash: Hex; commitments: Hex[] }[];
}

export interface PrivateNonInclusionProof {
  version: 1;
  scheme: typeof SCHEME;
  assets: string[];
  root: Hex;
  rootCommitments: Hex[];
  left?: PrivateNeighbour;
  right?: PrivateNeighbour;
}

function neighbour(ledger: PrivateLedger, i: number): PrivateNeighbour {
  return {
    leafIndex: i,
    commitment: bytesToHex(ledger.commitments[i]!),
    leafCommitments: ledger.levels[0]![i]!.encoded.map(bytesToHex),
    path: privateSiblings(ledger.levels, i).map((s) => ({
      hash: bytesToHex(s.hash),
      commitments: s.encoded.map(bytesToHex),
    })),
  };
}

/** The proof that `c` is no leaf of `ledger`; fails when it is one. */
export function privateNonInclusionProof(ledger: PrivateLedger, c: Uint8Array): PrivateNonInclusionProof {
  const at = ledger.commitments.findIndex((x) => compareCommitments(x, c) >= 0);
  if (at >= 0 && bytesEqual(ledger.commitments[at]!, c))
    fail("INVALID_ARGUMENT", "commitment", "is a leaf of this ledger: ask for its inclusion proof");
  const right = at < 0 ? undefined : at;
  const left = at < 0 ? ledger.commitments.length - 1 : at - 1;
  return {
    version: 1,
    scheme: SCHEME,
    assets: ledger.assets.map((a) => a.symbol),
    root: bytesToHex(ledger.root.hash),
    rootCommitments: ledger.root.encoded.map(bytesToHex),
    ...(left >= 0 ? { left: neighbour(ledger, left) } : {}),
    ...(right !== undefined ? { right: neighbour(ledger, right) } : {}),
  };
}

function points(value: unknown, field: string, k: number): Point[] {
  if (!Array.isArray(value) || value.length !== k) fail("INVALID_PROOF", field, `must hold ${k} points, one per asset`);
  return value.map((h, a) =>
    typeof h === "string" ? parsePoint(h, `${field}[${a}]`) : fail("INVALID_BYTES", `${field}[${a}]`, "must be 0x-hex"),
  );
}

/** Folds one neighbour to the root; returns its commitment, index and depth. */
function foldNeighbour(
  json: unknown,
  field: string,
  k: number,
  root: Uint8Array,
  rootCommitments: Point[],
): { c: Uint8Array; index: number; depth: number } {
  if (!isRecord(json)) fail("INVALID_PROOF", field, "must be an object");
  const index = parseSafeInteger(json.leafIndex, `${field}.leafIndex`);
  if (typeof json.commitment !== "string") fail("INVALID_BYTES", `${field}.commitment`, "must be 0x-hex");
  const c = hexToBytes(json.commitment, `${field}.commitment`, HASH_BYTES);
  const leafC = points(json.leafCommitments, `${field}.leafCommitments`, k);
  if (!Array.isArray(json.path) || json.path.length > 52 || index >= 2 ** json.path.length)
    fail("INVALID_PROOF", `${field}.path`, "must be an array that fits leafIndex");
  const encoded = leafC.map((p) => p.toBytes());
  let node: PublicPrivateNode = { hash: privateLeafHash(c, encoded), commitments: leafC, encoded };
  json.path.forEach((s: unknown, l) => {
    if (!isRecord(s) || typeof s.hash !== "string")
      fail("INVALID_PROOF", `${field}.path[${l}]`, "must be an object with hash and commitments");
    const cs = points(s.commitments, `${field}.path[${l}].commitments`, k);
    const sib: PublicPrivateNode = {
      hash: hexToBytes(s.hash, `${field}.path[${l}].hash`, HASH_BYTES),
      commitments: cs,
      encoded: cs.map((p) => p.toBytes()),
    };
    node = ((index >> l) & 1) === 0 ? publicParent(node, sib) : publicParent(sib, node);
  });
  if (!bytesEqual(node.hash, root)) fail("INVALID_PROOF", field, "its leaf and path do not hash to the root");
  node.commitments.forEach((p, a) => {
    if (!p.equals(rootCommitments[a]!))
      fail("INVALID_PROOF", field, `its path does not add up to root commitment ${a}`);
  });
  return { c, index, depth: json.path.length };
}

export type PrivateNonInclusionResult =
  | { ok: true; root: Hex }
  | { ok: false; code: SolventErrorCode; record: string; reason: string };

/** Checks that `c` is absent. Tying `root` to a signed attestation is the caller's job. */
export function checkPrivateNonInclusion(proofJson: unknown, c: Uint8Array): PrivateNonInclusionResult {
  try {
    const json = proofJson;
    if (!isRecord(json)) fail("INVALID_PROOF", "proof", "must be a JSON object");
    if (json.version !== 1 || json.scheme !== SCHEME)
      fail("INVALID_PROOF", "scheme", `must be version 1 of "${SCHEME}"`);
    const k = parseAssets(json.assets).length;
    if (typeof json.root !== "string") fail("INVALID_BYTES", "root", "must be 0x-hex");
    const root = hexToBytes(json.root, "root", HASH_BYTES);
    const rootCommitments = points(json.rootCommitments, "rootCommitments", k);
    const left = json.left === undefined ? undefined : foldNeighbour(json.left, "left", k, root, rootCommitments);
    const right = json.right === undefined ? undefined : foldNeighbour(json.right, "right", k, root, rootCommitments);
    if (!left && !right) fail("INVALID_PROOF", "proof", "must hold a left or a right neighbour");
    if (left && compareCommitments(left.c, c) >= 0)
      fail("INVALID_PROOF", "left.commitment", "does not sort below the commitment");
    if (right && compareCommitments(c, right.c) >= 0)
      fail("INVALID_PROOF", "right.commitment", "does not sort above the commitment");
    if (left && right) {
      if (left.depth !== right.depth || right.index !== left.index + 1)
        fail("INVALID_PROOF", "right.leafIndex", "the neighbours are not adjacent leaves");
    } else if (right) {
      if (right.index !== 0)
        fail("INVALID_PROOF", "right.leafIndex", "without a left neighbour, the right one must be leaf 0");
    } else if (left!.index !== 2 ** left!.depth - 1) {
      fail("INVALID_PROOF", "left.leafIndex", "without a right neighbour, the left one must be the last leaf");
    }
    return { ok: true, root: bytesToHex(root) };
  } catch (e) {
    if (e instanceof SolventError) return { ok: false, code: e.code, record: e.record, reason: e.message };
    throw e;
  }
}
