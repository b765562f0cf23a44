import { type Attestation, attestationFromJson, verifySignedAttestation } from "./attestation.js";
import { type AttestedLedger, attestedLedger } from "./attestedLedger.js";
import { bytesToHex, type Hex, hexToBytes } from "./bytes.js";
import { SolventError } from "./errors.js";
import { type KeysDocument, parseKeysDocument } from "./keysDocument.js";
import { userCommitment } from "./liabilities/commitment.js";
import { verifyNonInclusionProof } from "./liabilities/nonInclusion.js";
import { SCHEME as PRIVATE_SCHEME, parseScalar } from "./liabilities/private/group.js";
import { checkPrivateNonInclusion } from "./liabilities/private/nonInclusion.js";
import { checkPrivateInclusion } from "./liabilities/private/proof.js";
import { type RangeProofEngine, rangeProofChunks } from "./liabilities/private/rangeProof.js";
import { parseInclusionProof, parseProofHeader, verifyInclusionProof } from "./liabilities/sumTree.js";
import { formatUnits } from "./numbers.js";

export type { RangeProofEngine };

/**
 * The checks a user runs to convince themselves that their balance is in an
 * attested snapshot, in the order they are made. The CLI prints them and the
 * page shows them; neither re-implements any of it.
 */
export interface CheckStep {
  id:
    | "commitment"
    | "proof"
    | "path"
    | "opening"
    | "range"
    | "attestation"
    | "signature"
    | "root"
    | "report"
    | "freshness"
    | "privacy";
  /** "note" is information that does not decide the verdict (e.g. expiry). */
  status: "pass" | "fail" | "note";
  title: string;
  detail: string;
}

export interface InclusionCheckInput {
  proof: unknown;
  userId: string;
  /** The user's private salt, as 0x-hex or bytes. */
  salt: string | Uint8Array;
  /**
   * When given, the proof root is tied to a signed attestation. `report` (the
   * exact bytes the attestation's reportHash signs) also ties a private
   * proof's assets, units, root commitments, totals and total blindings to the
   * signed report.
   */
  attested?: { attestation: unknown; signature: unknown; keys: unknown; report?: Uint8Array };
  /** Unix seconds, for the freshness note; defaults to the clock. */
  now?: bigint;
  /** Decimals per asset id (from the snapshot's report), to show balances in units; without them, base units. */
  assetDecimals?: ReadonlyMap<string, number>;
  /** The range-proof verifier; a private proof (SPEC §11) cannot be checked without it. */
  rangeProofs?: RangeProofEngine;
}

export interface InclusionCheckResult {
  valid: boolean;
  /** Not valid because the input cannot be read at all (a malformed salt, proof, attestation or keys document), rather than because it does not verify. */
  unusable: boolean;
  steps: CheckStep[];
  verdict: string;
  /** When the proof opened: your balances as proven, one per asset ("1,230.5 USDC"; base units when no decimals are known). */
  balances?: string[];
}

/** The steps of one check as they are made, and its result. */
class Run {
  readonly steps: CheckStep[] = [];
  unusable = false;
  balances: string[] | undefined;

  get valid(): boolean {
    return this.steps.every((s) => s.status !== "fail");
  }

  push(step: CheckStep): void {
    this.steps.push(step);
  }

  finish(verdict: string): InclusionCheckResult {
    return {
      valid: this.valid,
      unusable: this.unusable,
      steps: this.steps,
      verdict,
      ...(this.balances ? { balances: this.balances } : {}),
    };
  }

  /** A check that cannot go on because its input cannot be read. */
  cannot(verdict: string): InclusionCheckResult {
    this.unusable = true;
    return this.finish(verdict);
  }
}

/**
 * Runs every check of SPEC §2 (and §5/§7 when an attestation is given), or of
 * SPEC §11 for a private proof (`scheme: "pedersen-ristretto255-v2"`).
 * Never throws on bad input: unusable input becomes a failed step naming the
 * field. `valid` is true only when every deciding step passed.
 */
export async function checkInclusion(input: InclusionCheckInput): Promise<InclusionCheckResult> {
  const run = new Run();
  const units = (asset: string, value: bigint): string => {
    const decimals = input.assetDecimals?.get(asset);
    return decimals === undefined ? `${asset} ${value}` : `${formatUnits(value, decimals)} ${asset}`;
  };

  const salt = commitmentStep(run.steps, input);
  if (salt === null) return run.cannot("INVALID: the salt or user id cannot be used");
  if (isPrivate(input.proof)) return checkPrivateProof(run, input, salt);

  const proof = verifyInclusionProof(input.proof, { userId: input.userId, salt });
  if (!proof.ok) {
    run.push({ id: "proof", status: "fail", title: "Check the inclusion proof", detail: proof.reason });
    // A proof that parses but does not hash up is not valid; one that does not parse cannot be used.
    run.unusable = !parses(input.proof);
    return run.finish("INVALID: the proof does not place your balances under its root");
  }
  run.balances = proof.assets.map((a, i) => units(a, proof.balances[i]!));
  run.push({
    id: "proof",
    status: "pass",
    title: "Check the inclusion proof",
    detail:
      `your balances (${run.balances.join(", ")}) at leaf ${proof.leafIndex} ` +
      `hash up to root ${proof.root}, whose totals are ${proof.assets.map((a, i) => units(a, proof.rootSums[i]!)).join(", ")}`,
  });

  if (!input.attested) {
    return run.finish("VALID PROOF (not tied to a signed attestation: pass one to check the root is attested)");
  }
  const attested = await checkAttested(run.steps, input.attested, proof.root);
  if (attested === null) return run.cannot("INVALID: the attestation or keys document cannot be read");
  freshnessNote(run.steps, attested.attestation, input.now, "your inclusion in that snapshot still holds");
  return run.finish(
    run.valid
      ? `VALID: your balances are included in attestation #${attested.attestation.sequence}, signed by ${attested.signer}`
      : "INVALID: see the failed checks above",
  );
}

/** Whether a proof says it is of the private scheme (SPEC §11): it is then checked as one, and only as one. */
function isPrivate(proof: unknown): boolean {
  return typeof proof === "object" && proof !== null && (proof as { scheme?: unknown }).scheme === PRIVATE_SCHEME;
}

/** The facts of SPEC §11 a private inclusion proof is checked for, in the order core checks them. */
const PRIVATE_FACTS = [
  { id: "path", title: "Open your leaf and re-compute its path to the root" },
  { id: "opening", title: "Open each root commitment to its published total" },
  { id: "range", title: "Check the range proofs of every sibling" },
] as const;

/** Which fact a failed `checkPrivateInclusion` names (docs/spec.md §11); "proof" when the proof cannot be read at all. */
function failedFact(code: string, record: string): "proof" | (typeof PRIVATE_FACTS)[number]["id"] {
  if (code !== "INVALID_PROOF") return "proof";
  if (record === "root" || /^rootCommitments\[\d+\]$/.test(record)) return "path";
  if (/^totals\[\d+\]$/.test(record)) return "opening";
  if (/^rangeProofs\[\d+\]$/.test(record)) return "range";
  return "proof";
}

/** What a private proof that parsed says (core has read every field by then, so the casts hold). */
interface PrivateView {
  assets: string[];
  unitDecimals: number[];
  root: Hex;
  rootCommitments: Hex[];
  totals: bigint[];
  totalBlindings: bigint[];
  leafIndex: number;
  values: bigint[];
  depth: number;
  rangeProofs: number;
  /** Fields beyond SPEC §11's, at the top or in a path entry. */
  extra: string[];
}

const PROOF_FIELDS = new Set([
  "version",
  "scheme",
  "assets",
  "unitDecimals",
  "root",
  "rootCommitments",
  "totals",
  "totalBlindings",
  "leafIndex",
  "values",
  "blindings",
  "path",
  "rangeProofs",
]);

function privateView(proof: unknown): PrivateView {
  const p = proof as Record<string, unknown> & {
    assets: string[];
    unitDecimals: number[];
    root: string;
    rootCommitments: string[];
    totals: string[];
    totalBlindings: string[];
    leafIndex: number;
    values: string[];
    path: Record<string, unknown>[];
    rangeProofs: string[];
  };
  const extra = [
    ...Object.keys(p).filter((k) => !PROOF_FIELDS.has(k)),
    ...p.path.flatMap((node, l) =>
      Object.keys(node)
        .filter((k) => k !== "hash" && k !== "commitments")
        .map((k) => `path[${l}].${k}`),
    ),
  ];
  return {
    assets: p.assets,
    unitDecimals: p.unitDecimals,
    root: p.root.toLowerCase() as Hex,
    rootCommitments: p.rootCommitments.map((c) => c.toLowerCase() as Hex),
    totals: p.totals.map(BigInt),
    totalBlindings: p.totalBlindings.map((r, k) => parseScalar(r, `totalBlindings[${k}]`)),
    leafIndex: p.leafIndex,
    values: p.values.map(BigInt),
    depth: p.path.length,
    rangeProofs: p.rangeProofs.length,
    extra,
  };
}

/** The SPEC §11 checks of a private inclusion proof, then the shared attestation steps and the report's figures. */
async function checkPrivateProof(
  run: Run,
  input: InclusionCheckInput,
  salt: Uint8Array,
): Promise<InclusionCheckResult> {
  const read = "Read the private inclusion proof";
  if (!input.rangeProofs) {
    run.push({
      id: "range",
      status: "fail",
      title: "Check the range proofs of every sibling",
      detail:
        "this is a private proof (SPEC §11, pedersen-ristretto255-v2) and no range-proof verifier was given, so it was not checked: " +
        "without one nothing shows that the siblings hold no negative balance",
    });
    return run.cannot("INVALID: a private proof cannot be checked without the range-proof verifier");
  }
  const result = checkPrivateInclusion(input.proof, { userId: input.userId, salt }, input.rangeProofs);
  const failed = result.ok ? null : failedFact(result.code, result.record);
  if (!result.ok && failed === "proof") {
    run.push({ id: "proof", status: "fail", title: read, detail: result.reason });
    return run.cannot("INVALID: the private proof cannot be read");
  }
  const view = privateView(input.proof);
  const k = view.assets.length;
  const amount = (a: number, value: bigint) => `${formatUnits(value, view.unitDecimals[a]!)} ${view.assets[a]}`;
  const siblings = view.depth * k;
  run.balances = view.values.map((v, a) => amount(a, v));
  run.push({
    id: "proof",
    status: "pass",
    title: read,
    detail:
      `leaf ${view.leafIndex} of ${2 ** view.depth} (scheme ${PRIVATE_SCHEME}): your own values and blindings, ` +
      `and for each of the ${view.depth} levels above your leaf one sibling's hash and ${k} Pedersen commitment${k === 1 ? "" : "s"}`,
  });
  const passed: Record<(typeof PRIVATE_FACTS)[number]["id"], string> = {
    path:
      `your balances (${run.balances.join(", ")}) with your blindings open your leaf's commitments; your leaf and the ` +
      `${view.depth} sibling hashes and commitments re-compute to root ${view.root} and, asset by asset, to its root commitments`,
    opening: `each root commitment opens to its total with the proof's total blinding: ${view.totals.map((t, a) => amount(a, t)).join(", ")}`,
    range:
      siblings === 0
        ? "the ledger has a single leaf: there is no sibling to check"
        : `${view.rangeProofs} aggregated Bulletproof${view.rangeProofs === 1 ? "" : "s"} (chunks of ${rangeProofChunks(siblings).join(", ")}) ` +
          `show that each of the ${siblings} sibling commitments holds a value in [0, 2^64): no node beside your path hides a negative balance that would shrink the totals`,
  };
  for (const fact of PRIVATE_FACTS) {
    if (fact.id === failed) {
      run.push({ ...fact, status: "fail", detail: (result as { reason: string }).reason });
      return run.finish(
        fact.id === "range"
          ? "INVALID: a range proof does not hold, so a sibling may hide a negative balance"
          : "INVALID: the proof does not place your balances under its root and totals",
      );
    }
    run.push({ ...fact, status: "pass", detail: passed[fact.id] });
  }

  const privacy: CheckStep = {
    id: "privacy",
    status: "note",
    title: "What this proof revealed",
    detail:
      view.extra.length === 0
        ? "only your own balances and blindings and the published totals: every other node appeared as a hash and Pedersen commitments, which hide their values, so no other user's balance and no partial sum was revealed"
        : `the proof carries fields that SPEC §11 does not have (${view.extra.join(", ")}): they were not used in any check, and may reveal what the scheme hides`,
  };
  if (!input.attested) {
    run.push(privacy);
    return run.finish("VALID PROOF (not tied to a signed attestation: pass one to check the root is attested)");
  }
  const attested = await checkAttested(run.steps, input.attested, view.root);
  if (attested === null) return run.cannot("INVALID: the attestation or keys document cannot be read");
  const { attestation, signer } = attested;
  const report = input.attested.report;
  if (report === undefined) {
    run.push({
      id: "report",
      status: "note",
      title: "Match the root figures to the signed report",
      detail:
        "the report was not given: the totals are bound to the signed root, but the asset names and units shown come from the proof alone",
    });
  } else {
    reportStep(run.steps, report, attestation, (ledger) => privateReportProblems(ledger, view, true));
  }
  freshnessNote(run.steps, attestation, input.now, "your inclusion in that snapshot still holds");
  run.push(privacy);
  return run.finish(
    run.valid
      ? `VALID: your balances (${run.balances.join(", ")}) are included in attestation #${attestation.sequence}, signed by ${signer}; the proof revealed no other user's balance`
      : "INVALID: see the failed checks above",
  );
}

/** How a signed report's ledger differs from a private proof; `opening` adds the units, totals and total blindings. */
function privateReportProblems(
  ledger: AttestedLedger,
  view: Pick<PrivateView, "assets" | "rootCommitments" | "depth"> & Partial<PrivateView>,
  opening: boolean,
): string[] {
  const figures = ledger.private;
  if (figures === null) return [`the report's ledger is of scheme ${ledger.scheme}, the proof of ${PRIVATE_SCHEME}`];
  const problems: string[] = [];
  if (ledger.leafCount !== 2 ** view.depth)
    problems.push(`the report says ${ledger.leafCount} leaves, the proof's path is for ${2 ** view.depth}`);
  const assets = ledger.assets ?? [];
  if (assets.join("\n") !== view.assets.join("\n"))
    return [...problems, `the report's assets are ${assets.join(", ")}, the proof's ${view.assets.join(", ")}`];
  assets.forEach((asset, a) => {
    if (figures.rootCommitments[a] !== view.rootCommitments[a])
      problems.push(`the ${asset} root commitment is not the report's rootCommitments[${a}]`);
    if (!opening) return;
    if (figures.unitDecimals[a] !== view.unitDecimals?.[a])
      problems.push(
        `${asset} units: the report keeps ${figures.unitDecimals[a]} decimals, the proof ${view.unitDecimals?.[a]}`,
      );
    if (figures.totals[a] !== view.totals?.[a])
      problems.push(
        `the ${asset} total is ${view.totals?.[a]} in the proof, ${figures.totals[a]} in the report (totals[${a}])`,
      );
    if (figures.totalBlindings[a] !== view.totalBlindings?.[a])
      problems.push(`the ${asset} total blinding is not the report's totalBlindings[${a}]`);
  });
  return problems;
}

/** The "report" step: the signed report's ledger, read from its exact bytes, judged by `problemsOf`. */
function reportStep(
  steps: CheckStep[],
  report: Uint8Array,
  attestation: Attestation,
  problemsOf: (ledger: AttestedLedger) => string[],
): void {
  const title = "Match the proof to the attested report";
  try {
    const ledger = attestedLedger(report, attestation);
    const problems = problemsOf(ledger);
    steps.push({
      id: "report",
      status: problems.length === 0 ? "pass" : "fail",
      title,
      detail:
        problems.length === 0
          ? `ledger ${ledger.id} as of ${isoTime(ledger.asOf)}: ${ledger.leafCount} leaves${ledger.order === "commitment" ? " in commitment order" : ""}, ` +
            (ledger.private
              ? "the same assets, units, root commitments, totals and total blindings as the proof"
              : "as the proof says")
          : problems.join("; "),
    });
  } catch (e) {
    steps.push({ id: "report", status: "fail", title, detail: describe(e) });
  }
}

export interface NonInclusionCheckInput {
  proof: unknown;
  userId: string;
  salt: string | Uint8Array;
  /** When given, the root is tied to a signed attestation and the leaf count and order to its report (the exact bytes). */
  attested?: { attestation: unknown; signature: unknown; keys: unknown; report: Uint8Array };
  now?: bigint;
}

/** The verdict that closes a valid non-inclusion check (the CLI and the page print it). */
export const NOT_IN_SNAPSHOT = "your commitment is provably not in this snapshot";

/**
 * Runs every check of SPEC §2.1 (or its SPEC §11 form for a private ledger):
 * the proof shows the user's own commitment absent, its root is an attested
 * liabilitiesRoot, and the attested report says the ledger is in commitment
 * order with the leaf count the proof uses. Never throws on bad input.
 */
export async function checkNonInclusion(input: NonInclusionCheckInput): Promise<InclusionCheckResult> {
  const run = new Run();
  const salt = commitmentStep(run.steps, input);
  if (salt === null) return run.cannot("INVALID: the salt or user id cannot be used");

  const proof = isPrivate(input.proof)
    ? privateAbsence(input.proof, userCommitment(salt, input.userId))
    : verifyNonInclusionProof(input.proof, { userId: input.userId, salt });
  if (!proof.ok) {
    run.push({ id: "proof", status: "fail", title: "Check the non-inclusion proof", detail: proof.reason });
    // Not even a §2.1 proof (no header, or another kind) cannot be used; a well-formed one that does not hold is not valid.
    run.unusable = "unusable" in proof ? proof.unusable : !parsesAsNonInclusion(input.proof);
    return run.finish("INVALID: the non-inclusion proof does not hold (it proves nothing either way)");
  }
  const where =
    proof.left === null
      ? `before the first leaf (leaf 0 is above it)`
      : proof.right === null
        ? `after the last leaf (${proof.left} of ${proof.leafCount} leaves)`
        : `between adjacent leaves ${proof.left} and ${proof.right}`;
  run.push({
    id: "proof",
    status: "pass",
    title: "Check the non-inclusion proof",
    detail:
      `your commitment would sit ${where}; both neighbours hash up to root ${proof.root}` +
      ("rootCommitments" in proof ? " and add up to its root commitments" : ""),
  });
  if (!input.attested)
    return run.finish("VALID PROOF (not tied to a signed attestation and its report: pass them to conclude)");

  const attested = await checkAttested(run.steps, input.attested, proof.root);
  if (attested === null) return run.cannot("INVALID: the attestation or keys document cannot be read");
  const { attestation, signer } = attested;
  reportStep(run.steps, input.attested.report, attestation, (ledger) => {
    const problems: string[] = [];
    if (ledger.order !== "commitment")
      problems.push(
        'the report does not say order "commitment": this ledger is in random order and absence cannot be proven',
      );
    if ("rootCommitments" in proof) return [...problems, ...privateReportProblems(ledger, proof, false)];
    if (ledger.private !== null)
      problems.push(`the report's ledger is of scheme ${ledger.scheme}, the proof is a plain (§2.1) one`);
    if (ledger.leafCount !== proof.leafCount)
      problems.push(`the report says ${ledger.leafCount} leaves, the proof ${proof.leafCount}`);
    return problems;
  });
  freshnessNote(run.steps, attestation, input.now, "your absence from that snapshot still holds");
  if ("rootCommitments" in proof) {
    run.push({
      id: "privacy",
      status: "note",
      title: "What this proof revealed",
      detail:
        "the neighbours appeared as user commitments, hashes and Pedersen commitments only: no balance and no partial sum",
    });
  }
  return run.finish(
    run.valid
      ? `NOT INCLUDED, PROVEN: ${NOT_IN_SNAPSHOT} (attestation #${attestation.sequence}, signed by ${signer}); keep this proof with your receipt to dispute it`
      : "INVALID: the publisher's proof of your absence does not hold; see the failed checks above",
  );
}

/** A SPEC §11 non-inclusion proof checked by core, in the shape the steps show. */
function privateAbsence(
  proof: unknown,
  commitment: Uint8Array,
):
  | {
      ok: true;
      root: Hex;
      left: number | null;
      right: number | null;
      leafCount: number;
      depth: number;
      assets: string[];
      rootCommitments: Hex[];
    }
  | { ok: false; reason: string; unusable: boolean } {
  const result = checkPrivateNonInclusion(proof, commitment);
  if (!result.ok) return { ok: false, reason: result.reason, unusable: result.code !== "INVALID_PROOF" };
  const p = proof as {
    assets: string[];
    rootCommitments: string[];
    left?: { leafIndex: number; path: unknown[] };
    right?: { leafIndex: number; path: unknown[] };
  };
  const depth = (p.left ?? p.right)!.path.length;
  return {
    ok: true,
    root: result.root,
    left: p.left?.leafIndex ?? null,
    right: p.right?.leafIndex ?? null,
    leafCount: 2 ** depth,
    depth,
    assets: p.assets,
    rootCommitments: p.rootCommitments.map((c) => c.toLowerCase() as Hex),
  };
}

/** The first step of both checks: the user's commitment, computed locally. Null (after a failed step) when unusable. */
function commitmentStep(steps: CheckStep[], input: { userId: string; salt: string | Uint8Array }): Uint8Array | null {
  try {
    const salt = typeof input.salt === "string" ? hexToBytes(input.salt, "salt") : input.salt;
    const commitment = bytesToHex(userCommitment(salt, input.userId));
    steps.push({
      id: "commitment",
      status: "pass",
      title: "Compute your commitment",
      detail: `SHA-256(0x02 || salt || userId) = ${commitment}, computed locally`,
    });
    return salt;
  } catch (e) {
    steps.push({ id: "commitment", status: "fail", title: "Compute your commitment", detail: describe(e) });
    return null;
  }
}

/**
 * The steps tying a proof root to a signed attestation (SPEC §5/§7): read,
 * signature, root. Null when the attestation, signature or keys cannot be read.
 */
async function checkAttested(
  steps: CheckStep[],
  input: { attestation: unknown; signature: unknown; keys: unknown },
  root: Hex,
): Promise<{ attestation: Attestation; signer: string | undefined } | null> {
  let attestation: Attestation;
  let keys: KeysDocument;
  let signature: Hex;
  try {
    attestation = attestationFromJson(input.attestation);
    keys = parseKeysDocument(input.keys);
    signature = parseSignature(input.signature);
  } catch (e) {
    steps.push({
      id: "attestation",
      status: "fail",
      title: "Read the attestation, signature and keys",
      detail: describe(e),
    });
    return null;
  }
  steps.push({
    id: "attestation",
    status: "pass",
    title: "Read the attestation, signature and keys",
    detail: `sequence ${attestation.sequence}, observed at ${isoTime(attestation.observedAt)}`,
  });

  const signed = await verifySignedAttestation({
    attestation,
    signature,
    keys,
  });
  steps.push({
    id: "signature",
    status: signed.ok ? "pass" : "fail",
    title: "Check the publisher's signature",
    detail: signed.ok ? `signed by ${signed.signer}, a key valid at observedAt` : signed.reasons.join("; "),
  });

  const rootMatches = attestation.liabilitiesRoot.toLowerCase() === root.toLowerCase();
  steps.push({
    id: "root",
    status: rootMatches ? "pass" : "fail",
    title: "Match the proof root to the attested liabilitiesRoot",
    detail: rootMatches
      ? `liabilitiesRoot ${attestation.liabilitiesRoot} equals the proof root`
      : `the attestation commits to ${attestation.liabilitiesRoot}, the proof to ${root}`,
  });

  return { attestation, signer: signed.ok ? (signed.signer ?? undefined) : undefined };
}

function freshnessNote(steps: CheckStep[], attestation: Attestation, at: bigint | undefined, stillHolds: string): void {
  const now = at ?? BigInt(Math.floor(Date.now() / 1000));
  const expired = now > attestation.validUntil;
  steps.push({
    id: "freshness",
    status: "note",
    title: "Freshness",
    detail: expired
      ? `this attestation expired at ${isoTime(attestation.validUntil)}: ${stillHolds}, but it is not the current state`
      : `valid until ${isoTime(attestation.validUntil)}`,
  });
}

function parses(proof: unknown): boolean {
  try {
    parseInclusionProof(proof);
    return true;
  } catch {
    return false;
  }
}

function parsesAsNonInclusion(proof: unknown): boolean {
  try {
    return parseProofHeader(proof).json.kind === "non-inclusion";
  } catch {
    return false;
  }
}

function parseSignature(value: unknown): Hex {
  if (typeof value !== "string") throw new SolventError("INVALID_SIGNATURE", "signature", "must be 0x-hex");
  return bytesToHex(hexToBytes(value, "signature", 65));
}

/** The message of a thrown error, for a failed step. */
export function describe(e: unknown): string {
  if (e instanceof SolventError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Unix seconds as ISO 8601 when representable, else the number itself. */
export function isoTime(seconds: bigint): string {
  const ms = Number(seconds) * 1000;
  return Number.isFinite(ms) && ms <= 8.64e15 ? new Date(ms).toISOString() : `${seconds} (unix seconds)`;
}
