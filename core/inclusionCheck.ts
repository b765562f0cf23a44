import { attestationFromJson, verifySignedAttestation, type Attestation } from "./attestation.js";
import { bytesToHex, hexToBytes, type Hex } from "./bytes.js";
import { SolventError } from "./errors.js";
import { parseKeysDocument, type KeysDocument } from "./keysDocument.js";
import { userCommitment } from "./liabilities/commitment.js";
import { parseInclusionProof, verifyInclusionProof } from "./liabilities/sumTree.js";
import { formatUnits } from "./numbers.js";

/**
 * The checks a user runs to convince themselves that their balance is in an
 * attested snapshot, in the order they are made. The CLI prints them and the
 * page shows them; neither re-implements any of it.
 */
export interface CheckStep {
  id: "commitment" | "proof" | "attestation" | "signature" | "root" | "freshness";
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

  let salt: Uint8Array;
  let commitment: Hex;
  try {
    salt = typeof input.salt === "string" ? hexToBytes(input.salt, "salt") : input.salt;
    commitment = bytesToHex(userCommitment(salt, input.userId));
  } catch (e) {
    steps.push({ id: "commitment", status: "fail", title: "Compute your commitment", detail: describe(e) });
    unusable = true;
    return finish("INVALID: the salt or user id cannot be used");
  }
  steps.push({
    id: "commitment",
    status: "pass",
    title: "Compute your commitment",
    detail: `SHA-256(0x02 || salt || userId) = ${commitment}, computed locally`,
  });

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

  let attestation: Attestation;
  let keys: KeysDocument;
  let signature: Hex;
  try {
    attestation = attestationFromJson(input.attested.attestation);
    keys = parseKeysDocument(input.attested.keys);
    signature = parseSignature(input.attested.signature);
  } catch (e) {
    steps.push({ id: "attestation", status: "fail", title: "Read the attestation, signature and keys", detail: describe(e) });
    unusable = true;
    return finish("INVALID: the attestation or keys document cannot be read");
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
    detail: signed.ok
      ? `signed by ${signed.signer}, a key valid at observedAt`
      : signed.reasons.join("; "),
  });

  const rootMatches = attestation.liabilitiesRoot.toLowerCase() === proof.root.toLowerCase();
  steps.push({
    id: "root",
    status: rootMatches ? "pass" : "fail",
    title: "Match the proof root to the attested liabilitiesRoot",
    detail: rootMatches
      ? `liabilitiesRoot ${attestation.liabilitiesRoot} equals the proof root`
      : `the attestation commits to ${attestation.liabilitiesRoot}, the proof to ${proof.root}`,
  });

  const now = input.now ?? BigInt(Math.floor(Date.now() / 1000));
  const expired = now > attestation.validUntil;
  steps.push({
    id: "freshness",
    status: "note",
    title: "Freshness",
    detail: expired
      ? `this attestation expired at ${isoTime(attestation.validUntil)}: your inclusion in that snapshot still holds, but it is not the current state`
      : `valid until ${isoTime(attestation.validUntil)}`,
  });

  const valid = steps.every((s) => s.status !== "fail");
  return finish(
    valid
      ? `VALID: your balances are included in attestation #${attestation.sequence}, signed by ${signed.signer}`
      : "INVALID: see the failed checks above",
  );
}

function parses(proof: unknown): boolean {
  try {
    parseInclusionProof(proof);
    return true;
  } catch {
    return false;
  }
}

function parseSignature(value: unknown): Hex {
  if (typeof value !== "string") throw new SolventError("INVALID_SIGNATURE", "signature", "must be 0x-hex");
  return bytesToHex(hexToBytes(value, "signature", 65));
}

function describe(e: unknown): string {
  if (e instanceof SolventError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

function isoTime(seconds: bigint): string {
  const ms = Number(seconds) * 1000;
  return Number.isFinite(ms) && ms <= 8.64e15 ? new Date(ms).toISOString() : `${seconds} (unix seconds)`;
}
