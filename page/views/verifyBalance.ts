/**
 * `#/verify-balance[/{issuer}[/{sequence}]]`: a user checks that their
 * balances are in a signed snapshot. The commitment is computed here; only it
 * goes to the publisher, and every check runs in the shared core.
 */
import type { Hex } from "../../core/bytes.js";
import { type CheckStep, checkInclusion, checkNonInclusion } from "../../core/inclusionCheck.js";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import { SCHEME as PRIVATE_SCHEME } from "../../core/liabilities/private/group.js";
import type { RangeProofEngine } from "../../core/liabilities/private/rangeProof.js";
import {
  ApiError,
  type AttestationAnswer,
  attestationAt,
  attestationOfAsOf,
  demoUsers,
  inclusionProof,
  keysDocument,
  latestAttestation,
  listIssuers,
  parseReport,
  reportBytes,
} from "../api.js";
import { checking, checkList, type Step } from "../checkList.js";
import { h, uid } from "../dom.js";
import { save } from "../downloads.js";
import { amount } from "../format.js";
import { rangeProofs } from "../rangeProofs.js";
import type { ReceiptOutcome, SnapshotAnswer } from "../receiptCheck.js";

export interface BalanceInput {
  issuerId: string;
  /** Empty for the latest attestation. */
  sequence: string;
  userId: string;
  salt: string;
  /** When non-empty, used instead of fetching the proof. */
  pastedProof: string;
  /** When non-empty, a signed SPEC §12 receipt to compare with the snapshot. */
  receipt?: string;
}

export interface BalanceResult {
  valid: boolean;
  steps: Step[];
  verdict: string;
  /** When valid: the proven balances, formatted with the report's decimals when it could be read. */
  balances?: string[];
  /** When a receipt was pasted: how it compares with the snapshot. */
  receipt?: ReceiptOutcome;
  /** The proof was of SPEC §11's private scheme. */
  private?: boolean;
}

/** What the balance check fetched and concluded, for the receipt comparison after it. */
interface Seen {
  commitment?: Hex;
  attestation?: AttestationAnswer;
  keys?: unknown;
  report?: Uint8Array;
  answer: SnapshotAnswer;
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function fetchAttestation(issuerId: string, sequence: string): Promise<AttestationAnswer | string> {
  try {
    if (sequence === "")
      return (await latestAttestation(issuerId)) ?? `issuer "${issuerId}" has not published an attestation yet`;
    if (!/^[1-9][0-9]*$/.test(sequence)) return `"${sequence}" is not an attestation sequence number (1, 2, 3 …)`;
    return await attestationAt(issuerId, sequence);
  } catch (e) {
    return describe(e);
  }
}

/** Every step, in order, then the pasted receipt's comparison when there is one; never throws. */
export async function verifyBalance(input: BalanceInput): Promise<BalanceResult> {
  const seen: Seen = { answer: { kind: "unavailable", reason: "the balance check did not get that far" } };
  const result = await checkBalance(input, seen);
  if (!input.receipt?.trim()) return result;
  const receipt = await receiptOutcome(input, seen);
  return { ...result, steps: [...result.steps, receipt.step], receipt };
}

async function receiptOutcome(input: BalanceInput, seen: Seen): Promise<ReceiptOutcome> {
  const cannot = (detail: string): ReceiptOutcome => ({
    kind: "not-compared",
    headline: "Your receipt could not be compared with the snapshot.",
    advice: null,
    step: { id: "receipt", status: "note", title: "Compare your receipt with the snapshot", detail },
  });
  if (seen.commitment === undefined) return cannot("your commitment could not be computed from the user id and salt");
  if (seen.attestation === undefined) return cannot("there is no attestation to compare with");
  try {
    // The receipt check (and the schema library it reads receipts with) loads only when a receipt is pasted.
    const [keys, report, { compareReceipt }] = await Promise.all([
      seen.keys ?? keysDocument(),
      seen.report ?? reportBytes(input.issuerId, seen.attestation.attestation.sequence),
      import("../receiptCheck.js"),
    ]);
    return await compareReceipt({
      pasted: input.receipt!,
      issuerId: input.issuerId,
      commitment: seen.commitment,
      keys,
      attestation: seen.attestation,
      report,
      answer: seen.answer,
      attestationOfAsOf: (asOf) => attestationOfAsOf(input.issuerId, asOf),
    });
  } catch (e) {
    return cannot(`the keys document, the report or the receipt check could not be fetched: ${describe(e)}`);
  }
}

async function checkBalance(input: BalanceInput, seen: Seen): Promise<BalanceResult> {
  const steps: Step[] = [];
  const fail = (verdict: string): BalanceResult => ({ valid: false, steps, verdict });

  let commitment: Hex;
  try {
    commitment = userCommitmentHex(input.salt.trim() as Hex, input.userId);
  } catch (e) {
    steps.push({ id: "commitment", status: "fail", title: "Compute your commitment", detail: describe(e) });
    return fail("INVALID: the salt or user id cannot be used (the salt is 0x followed by 32 to 64 hex digits)");
  }
  seen.commitment = commitment;

  const answer = await fetchAttestation(input.issuerId, input.sequence.trim());
  if (typeof answer === "string") {
    steps.push({
      id: "commitment",
      status: "pass",
      title: "Compute your commitment",
      detail: `${commitment}, computed in this browser`,
    });
    steps.push({ id: "fetch-attestation", status: "fail", title: "Fetch the signed attestation", detail: answer });
    return fail("INVALID: there is no attestation to check against");
  }
  const sequence = answer.attestation.sequence;
  seen.attestation = answer;
  const fetchedAttestation: Step = {
    id: "fetch-attestation",
    status: "pass",
    title: "Fetch the signed attestation",
    detail: `attestation #${sequence} of "${input.issuerId}"${input.sequence.trim() === "" ? " (the latest)" : ""}`,
  };

  let proof: unknown;
  let proofStep: Step;
  if (input.pastedProof.trim() !== "") {
    try {
      proof = JSON.parse(input.pastedProof);
    } catch (e) {
      steps.push(
        {
          id: "commitment",
          status: "pass",
          title: "Compute your commitment",
          detail: `${commitment}, computed in this browser`,
        },
        fetchedAttestation,
      );
      steps.push({
        id: "fetch-proof",
        status: "fail",
        title: "Read the proof you pasted",
        detail: `it is not valid JSON: ${describe(e)}`,
      });
      return fail("INVALID: the pasted proof cannot be read");
    }
    proofStep = {
      id: "fetch-proof",
      status: "note",
      title: "Use the proof you pasted",
      detail: "nothing was fetched for it",
    };
  } else {
    try {
      proof = await inclusionProof(input.issuerId, sequence, commitment);
      proofStep = {
        id: "fetch-proof",
        status: "pass",
        title: "Fetch the inclusion proof of your commitment",
        detail: `the publisher answered for ${commitment}; only this commitment was sent, never your user id or salt`,
      };
    } catch (e) {
      steps.push(
        {
          id: "commitment",
          status: "pass",
          title: "Compute your commitment",
          detail: `${commitment}, computed in this browser`,
        },
        fetchedAttestation,
      );
      const notThere = e instanceof ApiError && e.status === 404;
      const absence = notThere ? (e.body as { nonInclusion?: unknown } | undefined)?.nonInclusion : undefined;
      if (absence !== undefined) {
        // SPEC §2.1: the publisher proves the commitment absent; check that proof against the signed attestation and its report.
        steps.push({
          id: "fetch-proof",
          status: "pass",
          title: "Fetch the proof for your commitment",
          detail: `the publisher answered that ${commitment} is not a leaf, with a non-inclusion proof`,
        });
        try {
          const [keys, report] = await Promise.all([keysDocument(), reportBytes(input.issuerId, sequence)]);
          Object.assign(seen, { keys, report });
          const core = await checkNonInclusion({
            proof: absence,
            userId: input.userId,
            salt: input.salt.trim(),
            attested: { attestation: answer.attestation, signature: answer.signature, keys, report },
          });
          steps.push(...(core.steps as CheckStep[]).slice(1));
          seen.answer = core.valid
            ? { kind: "absent", proof: absence }
            : { kind: "unavailable", reason: "the publisher's proof of your absence does not hold" };
          return { valid: false, steps, verdict: core.verdict };
        } catch (fetchError) {
          steps.push({
            id: "fetch-keys",
            status: "fail",
            title: "Fetch the keys document and the report",
            detail: describe(fetchError),
          });
          return fail("INVALID: the absence proof could not be checked");
        }
      }
      const noLedger = notThere && /has no user ledger/.test(e.message);
      seen.answer = {
        kind: "unavailable",
        reason: notThere
          ? "the publisher answered that your commitment is not in the snapshot, without a proof of it"
          : `the publisher did not answer: ${describe(e)}`,
      };
      steps.push({
        id: "fetch-proof",
        status: "fail",
        title: "Fetch the inclusion proof of your commitment",
        detail: noLedger
          ? `attestation #${sequence} of "${input.issuerId}" has no user ledger: its liabilities are token supply, not user balances`
          : notThere
            ? `your commitment is not in this snapshot (attestation #${sequence}): check the user id and the salt you were given for it` +
              (/private ledger proves absence only/.test(e.message)
                ? "; the ledger is private, so its publisher proves an absence only to you: ask the issuer for your non-inclusion proof"
                : "")
            : `the publisher did not answer: ${describe(e)}`,
      });
      return fail(
        noLedger
          ? "INVALID: this issuer publishes no user balances"
          : notThere
            ? "INVALID: your commitment is not in this snapshot"
            : "INVALID: the proof could not be fetched",
      );
    }
  }

  let keys: unknown;
  try {
    keys = await keysDocument();
    seen.keys = keys;
  } catch (e) {
    steps.push({ id: "fetch-keys", status: "fail", title: "Fetch the publisher's keys document", detail: describe(e) });
    return fail("INVALID: the keys document could not be fetched");
  }

  // A private proof (SPEC §11) is also matched to the signed report's totals, and needs the range-proof verifier.
  const isPrivate = isPrivateProof(proof);
  let report: Uint8Array | undefined;
  let engine: RangeProofEngine | undefined;
  const loaded: Step[] = [];
  if (isPrivate) {
    const [fetched, verifier] = await Promise.allSettled([reportBytes(input.issuerId, sequence), rangeProofs()]);
    if (fetched.status === "fulfilled") {
      report = fetched.value;
      seen.report = report;
    } else {
      loaded.push({
        id: "fetch-report",
        status: "note",
        title: "Fetch the signed report",
        detail: `${describe(fetched.reason)}; the proof's totals are still tied to the signed root, but not matched to the report's`,
      });
    }
    if (verifier.status === "fulfilled") {
      const { millis, fresh } = verifier.value;
      engine = verifier.value.engine;
      loaded.push({
        id: "load-verifier",
        status: "note",
        title: "Load the range-proof verifier",
        detail: fresh
          ? `dalek's Bulletproofs as WebAssembly, fetched from this site and compiled in this browser in ${Math.round(millis)} ms (only private proofs need it)`
          : "dalek's Bulletproofs as WebAssembly, compiled in this browser by an earlier check",
      });
    } else {
      // Core then fails the range step: a private proof is never accepted unchecked.
      loaded.push({
        id: "load-verifier",
        status: "fail",
        title: "Load the range-proof verifier",
        detail: describe(verifier.reason),
      });
    }
  }

  const core = await checkInclusion({
    proof,
    userId: input.userId,
    salt: input.salt.trim(),
    attested: { attestation: answer.attestation, signature: answer.signature, keys, ...(report ? { report } : {}) },
    ...(engine ? { rangeProofs: engine } : {}),
  });
  const [first, ...rest] = core.steps as CheckStep[];
  steps.push(...(first ? [first] : []), fetchedAttestation, proofStep, ...loaded, ...rest);
  if (!core.valid || loaded.some((s) => s.status === "fail")) {
    seen.answer = { kind: "unavailable", reason: "the inclusion proof does not hold" };
    return { valid: false, steps, verdict: core.verdict, private: isPrivate };
  }
  seen.answer = { kind: "included", proof };
  return {
    valid: true,
    steps,
    verdict: core.verdict,
    private: isPrivate,
    balances: isPrivate
      ? privateBalances(proof as { assets: string[]; values: string[]; unitDecimals: number[] })
      : await provenBalances(proof as { assets: string[]; balances: string[] }, input.issuerId, sequence),
  };
}

/** Whether the proof says it is of SPEC §11's private scheme (core then checks it as one, and only as one). */
function isPrivateProof(proof: unknown): boolean {
  return typeof proof === "object" && proof !== null && (proof as { scheme?: unknown }).scheme === PRIVATE_SCHEME;
}

/** "1,128.389307 USD": the decimals come from the snapshot's report; without it, base units. */
async function provenBalances(
  proof: { assets: string[]; balances: string[] },
  issuerId: string,
  sequence: string,
): Promise<string[]> {
  let decimals = new Map<string, string>();
  try {
    decimals = new Map(parseReport(await reportBytes(issuerId, sequence)).assets.map((a) => [a.id, a.decimals]));
  } catch {
    // the balances are proven either way; only their formatting needs the report
  }
  return proof.assets.map((asset, i) => amount(proof.balances[i] ?? "0", decimals.get(asset) ?? null, asset));
}

/** A private proof's own values are in its units (SPEC §11), whose decimals it states; core has checked them by now. */
function privateBalances(proof: { assets: string[]; values: string[]; unitDecimals: number[] }): string[] {
  return proof.assets.map((asset, i) => amount(proof.values[i] ?? "0", String(proof.unitDecimals[i] ?? 0), asset));
}

function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLElement {
  const hintId = hint ? uid("hint") : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("p", { id: hintId!, class: "hint" }, hint) : null,
  );
}

/** The facts a private proof's check established, in core's words (its step titles), in the order checked. */
const PRIVATE_FACTS = ["path", "opening", "range", "signature", "root", "report"];

/** A private proof's outcome under the verdict: the facts checked and what was revealed, or the check that refused it. */
function privateSummary(r: BalanceResult): HTMLElement {
  const failed = r.steps.find((s) => s.status === "fail");
  const checked = PRIVATE_FACTS.map((id) => r.steps.find((s) => s.id === id && s.status === "pass")).filter(
    (s): s is Step => s !== undefined,
  );
  const revealed = r.steps.find((s) => s.id === "privacy");
  return h(
    "div",
    {
      class: `private-summary ${r.valid ? "ok-box" : "bad-box"}`,
      "data-testid": "private-summary",
      ...(failed ? { "data-failed": failed.id } : {}),
    },
    h(
      "p",
      { class: "receipt-headline" },
      r.valid
        ? "Private proof (SPEC §11), checked in this browser"
        : `Private proof refused by the check “${failed?.title ?? "see below"}”`,
    ),
    r.valid
      ? h(
          "p",
          {},
          h("strong", {}, "Checked: "),
          `${checked.map((s) => s.title.charAt(0).toLowerCase() + s.title.slice(1)).join("; ")}.`,
        )
      : h("p", {}, failed?.detail ?? r.verdict),
    r.valid && revealed ? h("p", {}, h("strong", {}, "Revealed: "), `${revealed.detail}.`) : null,
  );
}

/** The check list, with a private proof's summary right under its verdict (which then says what the proof revealed, so the list does not repeat it). */
function withPrivateSummary(r: BalanceResult): HTMLElement {
  if (!r.private) return checkList(r.steps, { valid: r.valid, text: r.verdict });
  const list = checkList(
    r.steps.filter((s) => !(r.valid && s.id === "privacy")),
    { valid: r.valid, text: r.verdict },
  );
  list.querySelector(".verdict")?.after(privateSummary(r));
  return list;
}

/** The receipt's comparison in plain words, with what to do next (a dispute bundle to download, or the attestation of the receipt's asOf). */
function receiptVerdict(outcome: ReceiptOutcome, issuerId: string): HTMLElement {
  const good = outcome.kind === "matches";
  const bundle = outcome.bundle;
  return h(
    "div",
    {
      class: `receipt-verdict ${good ? "ok-box" : outcome.kind === "not-compared" ? "note-box" : "bad-box"}`,
      "data-testid": "receipt-verdict",
      "data-kind": outcome.kind,
    },
    h(
      "p",
      { class: "receipt-headline" },
      h("span", { "aria-hidden": "true" }, good ? "✓ " : outcome.kind === "not-compared" ? "ℹ " : "✗ "),
      outcome.headline,
    ),
    outcome.advice ? h("p", { class: "receipt-advice" }, outcome.advice) : null,
    outcome.otherSequence
      ? h(
          "p",
          {},
          h(
            "a",
            { href: `#/verify-balance/${encodeURIComponent(issuerId)}/${outcome.otherSequence}` },
            `Check attestation #${outcome.otherSequence} instead`,
          ),
        )
      : null,
    bundle
      ? h(
          "p",
          {},
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              "data-download": "dispute",
              onclick: () =>
                save(
                  new Blob([`${JSON.stringify(bundle, null, 2)}\n`], { type: "application/json" }),
                  `dispute-${issuerId}-${bundle.receipt.receipt.asOf}.json`,
                ),
            },
            "Download the dispute bundle",
          ),
          " ",
          h(
            "span",
            { class: "muted small" },
            "the receipt, the publisher's answer, the signed attestation and its report: everything a dispute needs, checked here already.",
          ),
        )
      : null,
  );
}

export async function renderVerifyBalance(
  main: HTMLElement,
  issuerId: string | null,
  sequence: string | null,
): Promise<void> {
  const [issuers, users] = await Promise.all([listIssuers(), demoUsers()]);
  // Only an issuer with a user ledger has balances to verify: open on the first such one, and say which have none.
  const ledgerless = new Set(
    (
      await Promise.all(
        issuers.map(async (i) => {
          const latest = i.sequence === null ? null : await latestAttestation(i.id).catch(() => null);
          return latest && /^0x0{64}$/i.test(latest.attestation.liabilitiesRoot) ? i.id : null;
        }),
      )
    ).filter((id): id is string => id !== null),
  );
  const initial = issuerId ?? issuers.find((i) => i.sequence !== null && !ledgerless.has(i.id))?.id ?? null;
  const issuerSelect = h(
    "select",
    { id: "vb-issuer", name: "issuer" },
    ...issuers.map((i) =>
      h(
        "option",
        { value: i.id, selected: i.id === initial },
        `${i.name} (${i.id})${ledgerless.has(i.id) ? " — no user ledger" : ""}`,
      ),
    ),
  );
  const sequenceInput = h("input", {
    id: "vb-sequence",
    name: "sequence",
    inputmode: "numeric",
    autocomplete: "off",
    placeholder: "latest",
    value: sequence ?? "",
  });
  const userInput = h("input", {
    id: "vb-user",
    name: "userId",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    required: true,
  });
  const saltInput = h("input", {
    id: "vb-salt",
    name: "salt",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    required: true,
    placeholder: "0x…",
  });
  const proofInput = h("textarea", { id: "vb-proof", name: "proof", rows: 6, spellcheck: "false" });
  const receiptInput = h("textarea", {
    id: "vb-receipt",
    name: "receipt",
    rows: 6,
    spellcheck: "false",
    placeholder: '{ "receipt": { … }, "signature": "0x…" }',
  });
  const result = h("section", {
    id: "balance-result",
    class: "result-box",
    "aria-live": "polite",
    "aria-label": "Verification result",
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Verify my balance");

  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("Issuer", issuerSelect),
    field("Attestation sequence", sequenceInput, "Leave empty to check the latest attestation."),
    field("Your user id", userInput, "Exactly as the issuer wrote it, e.g. your e-mail address."),
    field("Your salt", saltInput, "The 0x… value the issuer gave you privately for this snapshot."),
    h(
      "details",
      {},
      h("summary", {}, "Or paste an inclusion proof you already have"),
      field("Inclusion proof (JSON)", proofInput, "When given, this proof is checked and no proof is fetched."),
    ),
    h(
      "details",
      {},
      h("summary", {}, "Compare with a balance receipt from the issuer"),
      field(
        "Balance receipt (JSON)",
        receiptInput,
        "The signed receipt the issuer gave you for this snapshot. Its signature is checked against the issuer's receipts key here, and your balances in the snapshot are compared with it; it is never sent.",
      ),
    ),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    result.replaceChildren(checking("your balance"));
    const issuer = issuerSelect.value;
    void verifyBalance({
      issuerId: issuer,
      sequence: sequenceInput.value,
      userId: userInput.value,
      salt: saltInput.value,
      pastedProof: proofInput.value,
      receipt: receiptInput.value,
    })
      .then((r) =>
        result.replaceChildren(
          h("h2", {}, "Result"),
          ...(r.balances
            ? [
                h(
                  "p",
                  { class: "your-balances", "data-testid": "balances" },
                  "Your proven balances: ",
                  h("strong", {}, r.balances.join(" · ")),
                ),
              ]
            : []),
          ...(r.receipt ? [receiptVerdict(r.receipt, issuer)] : []),
          withPrivateSummary(r),
        ),
      )
      .catch((e) => result.replaceChildren(h("p", { class: "bad" }, `The check could not run: ${describe(e)}`)))
      .finally(() => (submit.disabled = false));
  });

  const demo =
    users.length === 0
      ? null
      : h(
          "aside",
          { class: "card demo-users", "aria-labelledby": "demo-users-h" },
          h("h2", { id: "demo-users-h" }, "Demo users"),
          h("p", { class: "muted" }, "This is the local demo; these users' salts are public so you can try it."),
          h(
            "ul",
            { class: "plain" },
            ...users.map((u) =>
              h(
                "li",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "secondary",
                    onclick: () => {
                      userInput.value = u.userId;
                      saltInput.value = u.salt;
                      const ledger = u.issuer ?? "demo";
                      if (issuers.some((i) => i.id === ledger) && (!issuerId || u.issuer)) issuerSelect.value = ledger;
                      submit.focus();
                    },
                  },
                  `Fill in ${u.userId}${u.issuer && u.issuer !== "demo" ? ` (${u.issuer})` : ""}`,
                ),
              ),
            ),
          ),
        );

  main.replaceChildren(
    h("h1", { tabindex: -1 }, "Verify my balance"),
    h(
      "p",
      { class: "lede privacy" },
      h("strong", {}, "Your user id and salt never leave this browser. "),
      "The page computes your commitment, SHA-256(0x02 ‖ salt ‖ user id), here; only that commitment is sent, in the proof's URL. ",
      "The proof, the publisher's signature and the attested root are then checked here with the same code the publisher and the command-line verifier use.",
    ),
    h("div", { class: "two-col" }, form, demo),
    result,
  );
}
