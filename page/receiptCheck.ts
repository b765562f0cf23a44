/**
 * "Verify my balance" with a pasted SPEC §12 receipt: is the receipt signed
 * by a receipts key of the issuer (core verifyReceipt), is it for this
 * snapshot's asOf and this user's commitment, and does the publisher's
 * answer agree with it? The comparison is the core's dispute check
 * (core/dispute.ts checkDispute) run on the bundle this page can build, so the
 * page, `solvent dispute make` and the publisher's dispute route never
 * disagree on what a receipt proves. No DOM here.
 */

import { attestationFromJson } from "../core/attestation.js";
import { attestedLedger } from "../core/attestedLedger.js";
import type { Hex } from "../core/bytes.js";
import { checkDispute, type DisputeBundleJson } from "../core/dispute.js";
import { isoTime } from "../core/inclusionCheck.js";
import { type BalanceReceipt, verifyReceipt } from "../core/receipt.js";
import type { AttestationAnswer } from "./api.js";
import { amount } from "./format.js";
import type { Step } from "./step.js";

/** The publisher's answer for the user's commitment, once checked by the shared core. */
export type SnapshotAnswer =
  /** An inclusion proof that verified against the signed attestation. */
  | { kind: "included"; proof: unknown }
  /** A SPEC §2.1 non-inclusion proof that verified against the signed attestation and its report. */
  | { kind: "absent"; proof: unknown }
  /** No answer that can be compared, and why. */
  | { kind: "unavailable"; reason: string };

export interface ReceiptInput {
  /** The pasted text: `{ receipt, signature }` as `solvent receipt sign` writes it. */
  pasted: string;
  issuerId: string;
  /** The commitment computed here from the user id and salt. */
  commitment: Hex;
  keys: unknown;
  attestation: AttestationAnswer;
  /** The attestation's exact report bytes (null when they could not be fetched). */
  report: Uint8Array | null;
  answer: SnapshotAnswer;
  /** Ledger history, to point at the attestation of the receipt's asOf when it is another one. */
  attestationOfAsOf?: (asOf: bigint) => Promise<string | null>;
}

export type ReceiptVerdictKind =
  | "matches"
  | "differs"
  | "absent"
  | "other-asof"
  | "other-commitment"
  | "invalid"
  | "not-compared";

export interface ReceiptOutcome {
  kind: ReceiptVerdictKind;
  /** One plain sentence for the reader. */
  headline: string;
  /** What to do next, when there is something to do. */
  advice: string | null;
  step: Step;
  /** The sequence of an attestation naming the ledger of the receipt's asOf (kind "other-asof", when the history has one). */
  otherSequence?: string;
  /** A dispute bundle the core's check accepts (kinds "differs" and "absent"): what `solvent dispute make` would build. */
  bundle?: DisputeBundleJson;
}

const TITLE = "Compare your receipt with the snapshot";
const DISPUTE_ADVICE =
  "Keep your receipt and this answer: run `solvent dispute make` with them (or download the dispute bundle below) to file a dispute that anyone can check.";

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

function decimalsOf(report: Uint8Array | null): Map<string, string> {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(report ?? new Uint8Array())) as {
      assets?: { id?: unknown; decimals?: unknown }[];
    };
    return new Map(
      (parsed.assets ?? []).filter((a) => typeof a.id === "string").map((a) => [a.id as string, String(a.decimals)]),
    );
  } catch {
    return new Map(); // base units, then
  }
}

/** "1,500 USD and 0.2 ETH": the receipt's holdings in the report's decimals. */
function holdings(receipt: BalanceReceipt, decimals: Map<string, string>): string {
  const held = receipt.assets.map((asset, i) => amount(receipt.balances[i]!, decimals.get(asset) ?? null, asset));
  return held.length <= 1 ? (held[0] ?? "nothing") : `${held.slice(0, -1).join(", ")} and ${held[held.length - 1]}`;
}

/** Compares a pasted receipt with the snapshot; never throws. */
export async function compareReceipt(input: ReceiptInput): Promise<ReceiptOutcome> {
  const outcome = (
    kind: ReceiptVerdictKind,
    headline: string,
    detail: string,
    advice: string | null = null,
    extra: Partial<ReceiptOutcome> = {},
  ): ReceiptOutcome => ({
    kind,
    headline,
    advice,
    step: {
      id: "receipt",
      status: kind === "matches" ? "pass" : kind === "not-compared" ? "note" : "fail",
      title: TITLE,
      detail,
    },
    ...extra,
  });

  let json: unknown;
  try {
    json = JSON.parse(input.pasted);
  } catch (e) {
    return outcome(
      "invalid",
      "The receipt you pasted cannot be read.",
      `it is not valid JSON: ${describe(e)}`,
      'Paste the whole file `solvent receipt sign` wrote: { "receipt": …, "signature": … }.',
    );
  }
  const checked = await verifyReceipt(json, input.keys);
  if (!checked.ok) {
    return outcome(
      "invalid",
      "The receipt is not valid, so it proves nothing.",
      checked.reason,
      "Ask the issuer for a receipt signed with its published receipts key.",
    );
  }
  const { receipt, signer } = checked;
  const signedBy = `signed by ${signer}, a receipts key of "${receipt.issuer}"`;
  if (receipt.issuer !== input.issuerId) {
    return outcome(
      "invalid",
      `The receipt is for issuer "${receipt.issuer}", not "${input.issuerId}".`,
      `${signedBy}; choose that issuer to compare it`,
    );
  }
  const decimals = decimalsOf(input.report);

  let ledgerAsOf: bigint;
  try {
    if (input.report === null) throw new Error("the snapshot's report could not be fetched");
    ledgerAsOf = attestedLedger(input.report, attestationFromJson(input.attestation.attestation)).asOf;
  } catch (e) {
    return outcome(
      "not-compared",
      "Your receipt is valid, but this snapshot does not say which asOf its ledger is for, so they cannot be compared.",
      `${signedBy}; ${describe(e)}`,
    );
  }
  if (ledgerAsOf !== receipt.asOf) {
    const other = await input.attestationOfAsOf?.(receipt.asOf).catch(() => null);
    return outcome(
      "other-asof",
      `This receipt is for another asOf: it is for the ledger as of ${isoTime(receipt.asOf)}, this snapshot's ledger is as of ${isoTime(ledgerAsOf)}.`,
      `${signedBy}; receipt asOf ${receipt.asOf}, attested ledger asOf ${ledgerAsOf}: a receipt speaks only for the ledger of its own asOf`,
      other
        ? `Attestation #${other} names the ledger of your receipt's asOf: check that one, with the salt you were given for it.`
        : "No attestation of this publisher names a ledger of that asOf yet; check again with the attestation that does, with the salt you were given for it.",
      other ? { otherSequence: other } : {},
    );
  }
  if (receipt.commitment !== input.commitment) {
    return outcome(
      "other-commitment",
      "This receipt is for another commitment: it was not made for the user id and salt you entered.",
      `${signedBy}; the receipt names ${receipt.commitment}, your user id and salt give ${input.commitment}`,
      "Enter the user id and the salt the issuer gave you with this receipt.",
    );
  }
  if (input.answer.kind === "unavailable") {
    return outcome(
      "not-compared",
      "Your receipt is valid, but the snapshot's answer could not be checked, so they cannot be compared.",
      `${signedBy}; ${input.answer.reason}`,
    );
  }

  const bundle: DisputeBundleJson = {
    version: 1,
    receipt: json as DisputeBundleJson["receipt"],
    proof: input.answer.proof,
    attestation: {
      attestation: input.attestation.attestation as unknown as Record<string, string>,
      signature: input.attestation.signature,
    },
    report: new TextDecoder().decode(input.report!),
  };
  const dispute = await checkDispute({ bundle, keys: input.keys, issuer: input.issuerId });
  if (dispute.valid) {
    const d = dispute.dispute;
    if (d.kind === "absent") {
      return outcome(
        "absent",
        `You are provably not in this snapshot, though your receipt says you hold ${holdings(receipt, decimals)}.`,
        `${signedBy}; ${dispute.verdict}`,
        DISPUTE_ADVICE,
        { bundle },
      );
    }
    const figures = d.differences.map((x) => {
      const places = decimals.get(x.asset) ?? null;
      return `${x.asset}: your receipt says ${amount(x.receipt, places, x.asset)}, the snapshot says ${amount(x.ledger, places, x.asset)}`;
    });
    return outcome(
      "differs",
      `Your balance in this snapshot differs from your receipt. ${figures.join("; ")}.`,
      `${signedBy}; ${dispute.verdict}`,
      DISPUTE_ADVICE,
      { bundle },
    );
  }
  if (dispute.failed.step === "answer") {
    return outcome(
      "matches",
      `Your receipt matches this snapshot: it lists you with exactly the balances the issuer signed (${holdings(receipt, decimals)}).`,
      `${signedBy}; asOf ${receipt.asOf} on both`,
    );
  }
  return outcome(
    "not-compared",
    "Your receipt is valid, but it could not be compared with this snapshot.",
    `${signedBy}; ${dispute.failed.reason}`,
  );
}
