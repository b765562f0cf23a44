import { type Attestation, attestationFromJson, verifySignedAttestation } from "./attestation.js";
import { attestedLedger } from "./attestedLedger.js";
import { bytesToHex, type Hex, hexToBytes } from "./bytes.js";
import { SolventError } from "./errors.js";
import { type KeysDocument, parseKeysDocument } from "./keysDocument.js";
import { userCommitment } from "./liabilities/commitment.js";
import { verifyNonInclusionProof } from "./liabilities/nonInclusion.js";
import { parseInclusionProof, parseProofHeader, verifyInclusionProof } from "./liabilities/sumTree.js";
import { formatUnits } from "./numbers.js";

/**
 * The checks a user runs to convince themselves that their balance is in an
 * attested snapshot, in the order they are made. The CLI prints them and the
 * page shows them; neither re-implements any of it.
 */
export interface CheckStep {
  id: "commitment" | "proof" | "attestation" | "signature" | "root" | "report" | "freshness";
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
  /** When given, the proof root is tied to a signed attestation. */
  attested?: { attestation: unknown; signature: unknown; keys: unknown };
  /** Unix seconds, for the freshness note; defaults to the clock. */
  now?: bigint;
  /** Decimals per asset id (from the snapshot's report), to show balances in units; without them, base units. */
  assetDecimals?: ReadonlyMap<string, number>;
}

export interface InclusionCheckResult {
  valid: boolean;
  /** Not valid because the input cannot be read at all (a malformed salt, proof, attestation or keys document), rather than because it does not verify. */
  unusable: boolean;
  steps: CheckStep[];
  verdict: string;
}

/**
 * Runs every check of SPEC §2 (and §5/§7 when an attestation is given).
 * Never throws on bad input: unusable input becomes a failed step naming the
 * field. `valid` is true only when every deciding step passed.
 */
export async function checkInclusion(input: InclusionCheckInput): Promise<InclusionCheckResult> {
  const steps: CheckStep[] = [];
  let unusable = false;
  const finish = (verdict: string): InclusionCheckResult => ({
    valid: steps.every((s) => s.status !== "fail"),
    unusable,
    steps,
    verdict,
  });
  const units = (asset: string, value: bigint): string => {
    const decimals = input.assetDecimals?.get(asset);
    return decimals === undefined ? `${asset} ${value}` : `${formatUnits(value, decimals)} ${asset}`;
  };

  const salt = commitmentStep(steps, input);
  if (salt === null) {
    unusable = true;
    return finish("INVALID: the salt or user id cannot be used");
  }

  const proof = verifyInclusionProof(input.proof, { userId: input.userId, salt });
  if (!proof.ok) {
    steps.push({ id: "proof", status: "fail", title: "Check the inclusion proof", detail: proof.reason });
    // A proof that parses but does not hash up is not valid; one that does not parse cannot be used.
    unusable = !parses(input.proof);
    return finish("INVALID: the proof does not place your balances under its root");
  }
  steps.push({
    id: "proof",
    status: "pass",
    title: "Check the inclusion proof",
    detail:
      `your balances (${proof.assets.map((a, i) => units(a, proof.balances[i]!)).join(", ")}) at leaf ${proof.leafIndex} ` +
      `hash up to root ${proof.root}, whose totals are ${proof.assets.map((a, i) => units(a, proof.rootSums[i]!)).join(", ")}`,
  });

  if (!input.attested) {
    return finish("VALID PROOF (not tied to a signed attestation: pass one to check the root is attested)");
  }

  const attested = await checkAttested(steps, input.attested, proof.root);
  if (attested === null) {
    unusable = true;
    return finish("INVALID: the attestation or keys document cannot be read");
  }
  const { attestation, signer } = attested;

  freshnessNote(steps, attestation, input.now, "your inclusion in that snapshot still holds");

  const valid = steps.every((s) => s.status !== "fail");
  return finish(
    valid
      ? `VALID: your balances are included in attestation #${attestation.sequence}, signed by ${signer}`
      : "INVALID: see the failed checks above",
  );
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
 * Runs every check of SPEC §2.1: the proof shows the user's own commitment
 * absent, its root is an attested liabilitiesRoot, and the attested report
 * says the ledger is in commitment order with the leaf count the proof uses.
 * Never throws on bad input.
 */
export async function checkNonInclusion(input: NonInclusionCheckInput): Promise<InclusionCheckResult> {
  const steps: CheckStep[] = [];
  let unusable = false;
  const finish = (verdict: string): InclusionCheckResult => ({
    valid: steps.every((s) => s.status !== "fail"),
    unusable,
    steps,
    verdict,
  });
  const salt = commitmentStep(steps, input);
  if (salt === null) {
    unusable = true;
    return finish("INVALID: the salt or user id cannot be used");
  }

  const proof = verifyNonInclusionProof(input.proof, { userId: input.userId, salt });
  if (!proof.ok) {
    steps.push({ id: "proof", status: "fail", title: "Check the non-inclusion proof", detail: proof.reason });
    // Not even a §2.1 proof (no header, or another kind) cannot be used; a well-formed one that does not hold is not valid.
    unusable = !parsesAsNonInclusion(input.proof);
    return finish("INVALID: the non-inclusion proof does not hold (it proves nothing either way)");
  }
  const where =
    proof.left === null
      ? `before the first leaf (leaf 0 is above it)`
      : proof.right === null
        ? `after the last leaf (${proof.left} of ${proof.leafCount} leaves)`
        : `between adjacent leaves ${proof.left} and ${proof.right}`;
  steps.push({
    id: "proof",
    status: "pass",
    title: "Check the non-inclusion proof",
    detail: `your commitment would sit ${where}; both neighbours hash up to root ${proof.root}`,
  });
  if (!input.attested)
    return finish("VALID PROOF (not tied to a signed attestation and its report: pass them to conclude)");

  const attested = await checkAttested(steps, input.attested, proof.root);
  if (attested === null) {
    unusable = true;
    return finish("INVALID: the attestation or keys document cannot be read");
  }
  const { attestation, signer } = attested;
  try {
    const ledger = attestedLedger(input.attested.report, attestation);
    const problems: string[] = [];
    if (ledger.order !== "commitment")
      problems.push(
        'the report does not say order "commitment": this ledger is in random order and absence cannot be proven',
      );
    if (ledger.leafCount !== proof.leafCount)
      problems.push(`the report says ${ledger.leafCount} leaves, the proof ${proof.leafCount}`);
    steps.push({
      id: "report",
      status: problems.length === 0 ? "pass" : "fail",
      title: "Match the proof to the attested report",
      detail:
        problems.length === 0
          ? `ledger ${ledger.id} as of ${isoTime(ledger.asOf)}: ${ledger.leafCount} leaves in commitment order`
          : problems.join("; "),
    });
  } catch (e) {
    steps.push({ id: "report", status: "fail", title: "Match the proof to the attested report", detail: describe(e) });
  }
  freshnessNote(steps, attestation, input.now, "your absence from that snapshot still holds");
  const valid = steps.every((s) => s.status !== "fail");
  return finish(
    valid
      ? `NOT INCLUDED, PROVEN: ${NOT_IN_SNAPSHOT} (attestation #${attestation.sequence}, signed by ${signer}); keep this proof with your receipt to dispute it`
      : "INVALID: the publisher's proof of your absence does not hold; see the failed checks above",
  );
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
