/**
 * SPEC §12 disputes: a signed balance receipt, the publisher's own answer
 * for that receipt's commitment (a §2.1 non-inclusion proof, or a §2
 * inclusion proof with other balances) and the signed attestation, with its
 * exact report, of the ledger whose asOf the receipt names. `checkDispute` is
 * the one check the Worker, the CLI and the tests run. Exact bytes:
 * docs/spec.md.
 */
import { type Address, keccak256 } from "viem";
import { z } from "zod";
import {
  type Attestation,
  attestationDigest,
  attestationFromJson,
  issuerKey,
  verifySignedAttestation,
} from "./attestation.js";
import { type AttestedLedger, attestedLedger } from "./attestedLedger.js";
import { type Hex, utf8 } from "./bytes.js";
import { echo } from "./errors.js";
import { describe, isoTime } from "./inclusionCheck.js";
import { type KeysDocument, parseKeysDocument } from "./keysDocument.js";
import { verifyNonInclusionProof } from "./liabilities/nonInclusion.js";
import { verifyInclusionProof } from "./liabilities/sumTree.js";
import { type BalanceReceipt, type SignedReceiptJson, verifyReceipt, zodFailure } from "./receipt.js";

export const DISPUTE_VERSION = 1;

/**
 * Largest dispute bundle accepted (UTF-8 bytes of its JSON). The report is
 * the bulk of it: a report of a few hundred reserve items and a proof of a
 * ledger of 10M users fit well inside.
 */
export const MAX_DISPUTE_BYTES = 256 * 1024;

/** The ledger scheme disputes cover; private ledgers (SPEC §11) are not disputable by this version. */
export const DISPUTABLE_SCHEME = "sum-sha256-v1";

/** A dispute bundle's JSON (SPEC §12; field by field in docs/spec.md). */
export interface DisputeBundleJson {
  version: 1;
  /** The signed receipt, as `solvent receipt sign` writes it. */
  receipt: SignedReceiptJson;
  /** The publisher's answer for the receipt's commitment: a §2.1 non-inclusion proof (`kind: "non-inclusion"`) or a §2 inclusion proof. */
  proof: unknown;
  /** The attestation (SPEC §10 field form) of the ledger with the receipt's asOf, and its signature. */
  attestation: { attestation: Record<string, string>; signature: string };
  /** The exact report bytes of that attestation, as UTF-8 text (keccak256 of its UTF-8 bytes is the reportHash). */
  report: string;
}

export type DisputeKind = "absent" | "balance-differs";

export type DisputeStepId = "bundle" | "receipt" | "attestation" | "report" | "asOf" | "proof" | "answer";

export interface DisputeStep {
  id: DisputeStepId;
  status: "pass" | "fail";
  title: string;
  detail: string;
}

/** What a valid dispute establishes, for the log, the alert and the CLI. */
export interface DisputeSummary {
  /** The receipt's EIP-712 digest: one dispute per receipt (a receipt names one ledger). */
  id: Hex;
  issuer: string;
  commitment: Hex;
  asOf: bigint;
  kind: DisputeKind;
  sequence: bigint;
  attestationDigest: Hex;
  ledgerId: string;
  receiptSigner: Address;
  attestationSigner: Address;
  /** Per receipt asset whose ledger balance differs (empty for "absent"); the ledger shows 0 for an asset it does not list. */
  differences: { asset: string; receipt: bigint; ledger: bigint }[];
}

export type DisputeCheck =
  | { valid: true; steps: DisputeStep[]; dispute: DisputeSummary; verdict: string }
  | { valid: false; steps: DisputeStep[]; failed: { step: DisputeStepId; reason: string }; verdict: string };

export interface DisputeCheckInput {
  bundle: unknown;
  /** The publisher's SPEC §7 keys document (JSON or parsed): its receipts key for the issuer and its attestations keys. */
  keys: unknown;
  /** When given (the Worker's route), the receipt must be for this issuer. */
  issuer?: string;
}

const bundleSchema = z.strictObject(
  {
    version: z.literal(DISPUTE_VERSION, { error: `must be ${DISPUTE_VERSION}` }),
    receipt: z.unknown().refine((v) => v !== undefined, { error: "is missing" }),
    proof: z.unknown().refine((v) => v !== undefined, { error: "is missing" }),
    attestation: z.strictObject(
      {
        attestation: z.unknown().refine((v) => v !== undefined, { error: "is missing" }),
        signature: z.string({ error: "must be 0x-hex" }),
      },
      {
        error: (issue) =>
          issue.code === "unrecognized_keys"
            ? `has fields other than attestation and signature: ${issue.keys.join(", ")}`
            : "must be { attestation, signature }",
      },
    ),
    report: z
      .string({ error: "must be the report's exact bytes as a UTF-8 string" })
      .min(1, { error: "must not be empty" }),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has a field a dispute bundle does not have: ${issue.keys.join(", ")}`
        : "must be a JSON object",
  },
);

/** Strict shape check of a bundle (no signature or proof checked yet); throws SolventError naming the field. */
export function parseDisputeBundle(json: unknown): DisputeBundleJson {
  const parsed = bundleSchema.safeParse(json);
  if (!parsed.success) zodFailure(parsed.error, "bundle", json);
  return parsed.data as DisputeBundleJson;
}

const TITLES: Record<DisputeStepId, string> = {
  bundle: "Read the dispute bundle",
  receipt: "Check the issuer's receipt",
  attestation: "Check the publisher's attestation",
  report: "Read the attested ledger from the report",
  asOf: "Match the receipt's asOf to the attested ledger",
  proof: "Check the publisher's proof against the attested root",
  answer: "Compare the publisher's answer with the receipt",
};

/**
 * Checks a dispute bundle (SPEC §12). Valid only when the receipt is signed
 * by a receipts key of its issuer valid at its asOf; the attestation is
 * signed by an attestations key valid at its observedAt and is that
 * issuer's; the report is the one the attestation signs and names a plain
 * ledger whose asOf is the receipt's; the proof verifies to the attested
 * liabilitiesRoot for the receipt's commitment; and it shows the commitment
 * absent, or balances other than the receipt's. Never throws on bad input:
 * the first failing step names what failed.
 */
export async function checkDispute(input: DisputeCheckInput): Promise<DisputeCheck> {
  const steps: DisputeStep[] = [];
  const pass = (id: DisputeStepId, detail: string) => steps.push({ id, status: "pass", title: TITLES[id], detail });
  const failed = (id: DisputeStepId, reason: string): DisputeCheck => {
    steps.push({ id, status: "fail", title: TITLES[id], detail: reason });
    return {
      valid: false,
      steps,
      failed: { step: id, reason },
      verdict: `NOT A VALID DISPUTE: ${TITLES[id].toLowerCase()} failed: ${reason}`,
    };
  };

  let bundle: DisputeBundleJson;
  let keys: KeysDocument;
  try {
    bundle = parseDisputeBundle(input.bundle);
  } catch (e) {
    return failed("bundle", describe(e));
  }
  try {
    keys = parseKeysDocument(input.keys);
  } catch (e) {
    return failed("bundle", `the keys document cannot be used: ${describe(e)}`);
  }
  pass("bundle", "a version 1 bundle with a receipt, a proof, an attestation and its report");

  const receiptCheck = await verifyReceipt(bundle.receipt, keys, "receipt");
  if (!receiptCheck.ok) return failed("receipt", receiptCheck.reason);
  const receipt: BalanceReceipt = receiptCheck.receipt;
  if (input.issuer !== undefined && receipt.issuer !== input.issuer) {
    return failed(
      "receipt",
      `receipt.receipt.issuer: the receipt is for issuer "${echo(receipt.issuer)}", not "${input.issuer}"`,
    );
  }
  pass(
    "receipt",
    `signed by ${receiptCheck.signer}, a receipts key of "${receipt.issuer}" valid at asOf ${receipt.asOf}; commitment ${receipt.commitment}`,
  );

  let attestation: Attestation;
  let attestationSigner: Address;
  try {
    attestation = attestationFromJson(bundle.attestation.attestation);
    const signature = bundle.attestation.signature.toLowerCase() as Hex;
    const signed = await verifySignedAttestation({ attestation, signature, keys });
    if (!signed.ok || signed.signer === null)
      return failed("attestation", `attestation.signature: ${signed.reasons.join("; ")}`);
    attestationSigner = signed.signer;
  } catch (e) {
    return failed("attestation", describe(e));
  }
  if (attestation.issuer !== issuerKey(receipt.issuer)) {
    return failed(
      "attestation",
      `attestation.attestation.issuer: ${attestation.issuer} is not keccak256 of the receipt's issuer "${echo(receipt.issuer)}"`,
    );
  }
  pass(
    "attestation",
    `sequence ${attestation.sequence} of "${receipt.issuer}", signed by ${attestationSigner}, an attestations key valid at observedAt`,
  );

  let ledger: AttestedLedger;
  try {
    ledger = attestedLedger(utf8(bundle.report), attestation);
  } catch (e) {
    return failed("report", describe(e));
  }
  if (ledger.assets === null)
    return failed(
      "report",
      "report.liabilities.ledger.assets: the report does not list the ledger's assets, so no balance can be compared",
    );
  if (ledger.scheme !== DISPUTABLE_SCHEME) {
    return failed(
      "report",
      `report.liabilities.ledger.scheme: the ledger is "${echo(ledger.scheme, 40)}"; this version settles disputes over "${DISPUTABLE_SCHEME}" ledgers only (private ledgers, SPEC §11, are not covered yet)`,
    );
  }
  pass("report", `ledger ${ledger.id}: ${ledger.leafCount} leaves, assets ${ledger.assets.join(", ")}`);

  if (ledger.asOf !== receipt.asOf) {
    return failed(
      "asOf",
      `the attested ledger's asOf is ${ledger.asOf}, the receipt's ${receipt.asOf}: a receipt can only dispute the ledger of its own asOf`,
    );
  }
  pass("asOf", `both ${receipt.asOf} (${isoTime(receipt.asOf)})`);

  const proof = bundle.proof as { kind?: unknown } | null;
  const who = { commitment: receipt.commitment };
  const absent = typeof proof === "object" && proof !== null && proof.kind === "non-inclusion";
  let ledgerBalances: Map<string, bigint> | null = null;
  if (absent) {
    const checked = verifyNonInclusionProof(proof, who);
    if (!checked.ok) return failed("proof", prefixed("proof", checked.reason));
    const problem =
      rootProblem(checked.root, attestation) ??
      assetsProblem(checked.assets, ledger) ??
      (ledger.order !== "commitment"
        ? 'the report does not say order "commitment": this ledger\'s absences cannot be proven'
        : null) ??
      (checked.leafCount !== ledger.leafCount
        ? `proof.leafCount: ${checked.leafCount}, the report says ${ledger.leafCount}`
        : null);
    if (problem !== null) return failed("proof", problem);
    pass(
      "proof",
      `a non-inclusion proof: the commitment would sit between leaves ${checked.left ?? "(start)"} and ${checked.right ?? "(end)"} of root ${checked.root}`,
    );
  } else {
    const checked = verifyInclusionProof(proof, who);
    if (!checked.ok) return failed("proof", prefixed("proof", checked.reason));
    const problem = rootProblem(checked.root, attestation) ?? assetsProblem(checked.assets, ledger);
    if (problem !== null) return failed("proof", problem);
    ledgerBalances = new Map(checked.assets.map((a, i) => [a, checked.balances[i]!]));
    pass("proof", `an inclusion proof: the commitment is leaf ${checked.leafIndex} of root ${checked.root}`);
  }

  const differences: DisputeSummary["differences"] = [];
  if (ledgerBalances !== null) {
    receipt.assets.forEach((asset, i) => {
      const inLedger = ledgerBalances.get(asset) ?? 0n;
      if (inLedger !== receipt.balances[i])
        differences.push({ asset, receipt: receipt.balances[i]!, ledger: inLedger });
    });
    if (differences.length === 0) {
      return failed(
        "answer",
        "the ledger lists the receipt's commitment with exactly the receipt's balances: the publisher's answer agrees with the receipt, so there is nothing to dispute",
      );
    }
    pass(
      "answer",
      `balances differ: ${differences.map((d) => `${d.asset} receipt ${d.receipt}, ledger ${d.ledger}`).join("; ")}`,
    );
  } else {
    pass("answer", "the receipt's commitment is provably not in the ledger of the receipt's asOf");
  }

  const dispute: DisputeSummary = {
    id: receiptCheck.digest,
    issuer: receipt.issuer,
    commitment: receipt.commitment,
    asOf: receipt.asOf,
    kind: ledgerBalances === null ? "absent" : "balance-differs",
    sequence: attestation.sequence,
    attestationDigest: attestationDigest(attestation),
    ledgerId: ledger.id,
    receiptSigner: receiptCheck.signer,
    attestationSigner,
    differences,
  };
  const what =
    dispute.kind === "absent"
      ? "omits a user it signed a receipt for"
      : "lists a user with other balances than it signed in a receipt";
  return {
    valid: true,
    steps,
    dispute,
    verdict: `VALID DISPUTE: ledger ${ledger.id} of "${receipt.issuer}" (asOf ${receipt.asOf}, attestation #${attestation.sequence}) ${what}`,
  };
}

/** The JSON form of a summary (SPEC §1: integers as decimal strings). */
export function disputeSummaryToJson(d: DisputeSummary) {
  return {
    id: d.id,
    issuer: d.issuer,
    commitment: d.commitment,
    asOf: d.asOf.toString(),
    kind: d.kind,
    sequence: d.sequence.toString(),
    attestationDigest: d.attestationDigest,
    ledgerId: d.ledgerId,
    receiptSigner: d.receiptSigner,
    attestationSigner: d.attestationSigner,
    differences: d.differences.map((x) => ({
      asset: x.asset,
      receipt: x.receipt.toString(),
      ledger: x.ledger.toString(),
    })),
  };
}

/** keccak256 of the bundle's report, as the attestation's reportHash must be. */
export function bundleReportHash(bundle: DisputeBundleJson): Hex {
  return keccak256(utf8(bundle.report));
}

function rootProblem(root: string, attestation: Attestation): string | null {
  return root.toLowerCase() === attestation.liabilitiesRoot.toLowerCase()
    ? null
    : `proof.root: ${root} is not the attested liabilitiesRoot ${attestation.liabilitiesRoot}`;
}

/** The proof's asset list is not hashed into the root, so it must be the attested ledger's, in order. */
function assetsProblem(assets: readonly string[], ledger: AttestedLedger): string | null {
  const attested = ledger.assets ?? [];
  return assets.length === attested.length && assets.every((a, i) => a === attested[i])
    ? null
    : `proof.assets: [${assets.join(", ")}] is not the attested ledger's asset list [${attested.join(", ")}]`;
}

function prefixed(root: string, reason: string): string {
  return reason.startsWith(`${root}.`) || reason.startsWith(`${root}:`) ? reason : `${root}.${reason}`;
}
