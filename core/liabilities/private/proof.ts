/**
 * SPEC §11 inclusion proofs: the user's own opening per asset, each sibling's
 * commitments and hash, and aggregated range proofs over every sibling
 * commitment. No other balance or partial sum appears in a proof.
 */
import { bytesEqual, bytesToHex, type Hex, hexToBytes } from "../../bytes.js";
import { fail, SolventError, type SolventErrorCode } from "../../errors.js";
import { parseAmount, parseSafeInteger } from "../../numbers.js";
import { isRecord, type ProofSubject, parseAssets, subjectCommitment } from "../sumTree.js";
import { type Point, parsePoint, parseScalar, pedersen, SCHEME, scalarToHex } from "./group.js";
import { VALUE_LIMIT } from "./quantise.js";
import { firstFailingRange, proveRanges, type RangeProofEngine, rangeProofChunks } from "./rangeProof.js";
import {
  HASH_BYTES,
  type PrivateLedger,
  type PublicPrivateNode,
  privateLeafHash,
  privateSiblings,
  publicParent,
} from "./tree.js";

export const PRIVATE_PROOF_VERSION = 1;

export interface PrivateInclusionProof {
  version: 1;
  scheme: typeof SCHEME;
  assets: string[];
  unitDecimals: number[];
  root: Hex;
  rootCommitments: Hex[];
  totals: string[];
  totalBlindings: Hex[];
  leafIndex: number;
  values: string[];
  blindings: Hex[];
  path: { hash: Hex; commitments: Hex[] }[];
  rangeProofs: Hex[];
}

/** The leaf index of user commitment `c`, or -1. */
export function privateLeafIndex(ledger: PrivateLedger, c: Uint8Array): number {
  return ledger.commitments.findIndex((x) => bytesEqual(x, c));
}

/** A proof without its range proofs: everything that is a function of the ledger alone (test vectors hold these). */
export type PrivateProofBody = Omit<PrivateInclusionProof, "rangeProofs">;

/** The deterministic part of leaf `leafIndex`'s proof: openings of the leaf, siblings' commitments and hashes, root figures. */
export function privateProofBody(ledger: PrivateLedger, leafIndex: number): PrivateProofBody {
  const siblings = privateSiblings(ledger.levels, leafIndex);
  const leaf = ledger.levels[0]![leafIndex]!;
  return {
    version: PRIVATE_PROOF_VERSION,
    scheme: SCHEME,
    assets: ledger.assets.map((a) => a.symbol),
    unitDecimals: ledger.assets.map((a) => a.unitDecimals),
    root: bytesToHex(ledger.root.hash),
    rootCommitments: ledger.root.encoded.map(bytesToHex),
    totals: ledger.totals.map(String),
    totalBlindings: ledger.totalBlindings.map(scalarToHex),
    leafIndex,
    values: leaf.values.map(String),
    blindings: leaf.blindings.map(scalarToHex),
    path: siblings.map((s) => ({ hash: bytesToHex(s.hash), commitments: s.encoded.map(bytesToHex) })),
  };
}

/**
 * The inclusion proof of leaf `leafIndex`, its range proofs generated now (the
 * costly part: Bulletproofs are randomised, so two calls give two different,
 * equally valid proofs). Sibling commitments are listed level by level, asset
 * by asset within a level, and proven in chunks of `rangeProofChunks`.
 */
export function privateInclusionProof(
  ledger: PrivateLedger,
  leafIndex: number,
  engine: RangeProofEngine,
): PrivateInclusionProof {
  const siblings = privateSiblings(ledger.levels, leafIndex);
  const values = siblings.flatMap((s) => s.values);
  const blindings = siblings.flatMap((s) => s.blindings);
  return {
    ...privateProofBody(ledger, leafIndex),
    rangeProofs: proveRanges(engine, values, blindings).map(bytesToHex),
  };
}

export type PrivateInclusionResult =
  | {
      ok: true;
      assets: string[];
      unitDecimals: number[];
      root: Hex;
      totals: bigint[];
      leafIndex: number;
      values: bigint[];
      checked: string[];
    }
  | { ok: false; code: SolventErrorCode; record: string; reason: string };

/** What the verifier compares the proof's root and totals with (the signed report), when known. */
export interface PrivateExpectation {
  root?: Hex;
  totals?: readonly bigint[];
  totalBlindings?: readonly bigint[];
}

function hexList(value: unknown, field: string, count: number): string[] {
  if (!Array.isArray(value) || value.length !== count)
    fail("INVALID_PROOF", field, `must be an array of ${count} 0x-hex strings, one per asset`);
  return value.map((v, k) => {
    if (typeof v !== "string") fail("INVALID_BYTES", `${field}[${k}]`, "must be 0x-hex");
    return v;
  });
}

function parseValue(value: unknown, field: string): bigint {
  return parseAmount(value, field, VALUE_LIMIT - 1n);
}

function nodeFrom(hash: Uint8Array, commitments: Point[]): PublicPrivateNode {
  return { hash, commitments, encoded: commitments.map((c) => c.toBytes()) };
}

/**
 * Checks a SPEC §11 inclusion proof for `who` (salt and userId, or the
 * commitment). Never throws on bad input: it answers `{ ok: false }` naming the
 * field and the reason. Tying `root` to a validly signed attestation is the
 * caller's job, as for §2 proofs; `expected` adds the report's figures.
 */
export function checkPrivateInclusion(
  proofJson: unknown,
  who: ProofSubject,
  engine: RangeProofEngine,
  expected: PrivateExpectation = {},
): PrivateInclusionResult {
  try {
    const json = proofJson;
    if (!isRecord(json)) fail("INVALID_PROOF", "proof", "must be a JSON object");
    if (json.version !== PRIVATE_PROOF_VERSION) fail("INVALID_PROOF", "version", `must be ${PRIVATE_PROOF_VERSION}`);
    if (json.scheme !== SCHEME) fail("INVALID_PROOF", "scheme", `must be "${SCHEME}"`);
    const assets = parseAssets(json.assets);
    const k = assets.length;
    if (!Array.isArray(json.unitDecimals) || json.unitDecimals.length !== k)
      fail("INVALID_PROOF", "unitDecimals", `must hold ${k} integers`);
    const unitDecimals = json.unitDecimals.map((d, a) => parseSafeInteger(d, `unitDecimals[${a}]`, 77));
    if (typeof json.root !== "string") fail("INVALID_BYTES", "root", "must be 0x-hex");
    const root = hexToBytes(json.root, "root", HASH_BYTES);
    const rootCommitments = hexList(json.rootCommitments, "rootCommitments", k).map((h, a) =>
      parsePoint(h, `rootCommitments[${a}]`),
    );
    if (!Array.isArray(json.totals) || json.totals.length !== k)
      fail("INVALID_PROOF", "totals", `must hold ${k} decimal strings`);
    const totals = json.totals.map((t, a) => parseValue(t, `totals[${a}]`));
    const totalBlindings = hexList(json.totalBlindings, "totalBlindings", k).map((h, a) =>
      parseScalar(h, `totalBlindings[${a}]`),
    );
    const leafIndex = parseSafeInteger(json.leafIndex, "leafIndex");
    if (!Array.isArray(json.values) || json.values.length !== k)
      fail("INVALID_PROOF", "values", `must hold ${k} decimal strings`);
    const values = json.values.map((v, a) => parseValue(v, `values[${a}]`));
    const blindings = hexList(json.blindings, "blindings", k).map((h, a) => parseScalar(h, `blindings[${a}]`));
    if (!Array.isArray(json.path)) fail("INVALID_PROOF", "path", "must be an array");
    if (json.path.length > 52 || leafIndex >= 2 ** json.path.length) {
      fail("INVALID_PROOF", "leafIndex", `${leafIndex} does not fit a path of ${json.path.length} levels`);
    }
    const path = json.path.map((node: unknown, l) => {
      if (!isRecord(node)) fail("INVALID_PROOF", `path[${l}]`, "must be an object with hash and commitments");
      if (typeof node.hash !== "string") fail("INVALID_BYTES", `path[${l}].hash`, "must be 0x-hex");
      const hash = hexToBytes(node.hash, `path[${l}].hash`, HASH_BYTES);
      return nodeFrom(
        hash,
        hexList(node.commitments, `path[${l}].commitments`, k).map((h, a) =>
          parsePoint(h, `path[${l}].commitments[${a}]`),
        ),
      );
    });
    const chunks = rangeProofChunks(path.length * k);
    if (!Array.isArray(json.rangeProofs) || json.rangeProofs.length !== chunks.length) {
      fail(
        "INVALID_PROOF",
        "rangeProofs",
        `must hold ${chunks.length} proofs for ${path.length * k} sibling commitments (chunks of ${chunks.join(", ") || "none"})`,
      );
    }
    const rangeProofs = json.rangeProofs.map((p: unknown, i) => {
      if (typeof p !== "string") fail("INVALID_BYTES", `rangeProofs[${i}]`, "must be 0x-hex");
      return hexToBytes(p, `rangeProofs[${i}]`);
    });

    // 1. the leaf from the user's own commitment and openings
    const leafCommitments = values.map((v, a) => pedersen(v, blindings[a]!));
    const leafEncoded = leafCommitments.map((c) => c.toBytes());
    let node: PublicPrivateNode = {
      hash: privateLeafHash(subjectCommitment(who), leafEncoded),
      commitments: leafCommitments,
      encoded: leafEncoded,
    };
    // 2. the path up to the root
    path.forEach((sibling, l) => {
      node = ((leafIndex >> l) & 1) === 0 ? publicParent(node, sibling) : publicParent(sibling, node);
    });
    if (!bytesEqual(node.hash, root)) {
      fail(
        "INVALID_PROOF",
        "root",
        `the leaf and path hash to ${bytesToHex(node.hash)}, not to the proof's root: a value, blinding, sibling hash or sibling commitment was changed, or the salt or userId is not this leaf's`,
      );
    }
    node.encoded.forEach((c, a) => {
      if (!bytesEqual(c, rootCommitments[a]!.toBytes()))
        fail("INVALID_PROOF", `rootCommitments[${a}]`, `is not the sum of the ${assets[a]} commitments on the path`);
    });
    // 3. the root's opening: root.C_k = total_k·G + blinding_k·H
    rootCommitments.forEach((c, a) => {
      if (!c.equals(pedersen(totals[a]!, totalBlindings[a]!))) {
        fail(
          "INVALID_PROOF",
          `totals[${a}]`,
          `the ${assets[a]} root commitment does not open to total ${totals[a]} with the stated total blinding`,
        );
      }
    });
    // 4. the published figures, when the caller has them
    if (expected.root !== undefined && expected.root.toLowerCase() !== bytesToHex(root))
      fail("INVALID_PROOF", "root", `is not the published root ${expected.root}`);
    expected.totals?.forEach((t, a) => {
      if (t !== totals[a])
        fail("INVALID_PROOF", `totals[${a}]`, `${totals[a]} is not the published ${assets[a]} total ${t}`);
    });
    expected.totalBlindings?.forEach((r, a) => {
      if (r !== totalBlindings[a])
        fail("INVALID_PROOF", `totalBlindings[${a}]`, `is not the published ${assets[a]} total blinding`);
    });
    // 5. every sibling commitment opens to a value in [0, 2^64)
    const bad = firstFailingRange(
      engine,
      rangeProofs,
      path.flatMap((s) => s.commitments),
    );
    if (bad >= 0) {
      const first = chunks.slice(0, bad).reduce((s, n) => s + n, 0);
      fail(
        "INVALID_PROOF",
        `rangeProofs[${bad}]`,
        `does not prove that sibling commitments ${first}..${first + chunks[bad]! - 1} (level-major, asset-minor) hold values in [0, 2^64); it was made for other commitments or altered`,
      );
    }
    return {
      ok: true,
      assets,
      unitDecimals,
      root: bytesToHex(root),
      totals,
      leafIndex,
      values,
      checked: [
        "your leaf re-computes from your salt, user id, values and blindings",
        `the ${path.length} sibling hashes and commitments re-compute to the root hash and root commitments`,
        "each root commitment opens to the stated total with the stated total blinding",
        `${path.length * k} range proofs show every sibling holds a value in [0, 2^64), so no sibling hides a negative balance`,
      ],
    };
  } catch (e) {
    if (e instanceof SolventError) return { ok: false, code: e.code, record: e.record, reason: e.message };
    throw e;
  }
}
