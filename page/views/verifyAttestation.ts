/**
 * `#/verify-attestation`: paste a signed attestation (or the API's whole
 * answer) and get a verdict: the EIP-712 signature by a key valid at
 * observedAt, the publisher's own record of that sequence, and optionally
 * the report re-computed against it.
 */
import {
  type Attestation,
  attestationDigest,
  attestationFromJson,
  issuerKey,
  verifySignedAttestation,
} from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";
import { type KeysDocument, parseKeysDocument } from "../../core/keysDocument.js";
import { checkReport } from "../../core/reportCheck.js";
import {
  ApiError,
  attestationAt,
  type IssuerSummary,
  keysDocument,
  latestAttestation,
  listIssuers,
  reportBytes,
} from "../api.js";
import { checking, checkList, type Step } from "../checkList.js";
import { h } from "../dom.js";
import { utcTime } from "../format.js";

export interface AttestationInput {
  /** The API answer `{ attestation, signature, … }` or the attestation object alone. */
  json: string;
  /** Needed when `json` is the attestation alone. */
  signature: string;
  /** Empty to fetch this publisher's keys document. */
  keysJson: string;
  checkReport: boolean;
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every step in order; never throws. */
export async function verifyAttestation(
  input: AttestationInput,
  issuers: IssuerSummary[],
): Promise<{ valid: boolean; steps: Step[]; verdict: string }> {
  const steps: Step[] = [];
  const finish = (verdict: string) => ({ valid: steps.every((s) => s.status !== "fail"), steps, verdict });

  let attestation: Attestation;
  let signature: string;
  try {
    const parsed: unknown = JSON.parse(input.json);
    const whole = isObject(parsed) && "attestation" in parsed;
    attestation = attestationFromJson(whole ? parsed.attestation : parsed);
    const given = input.signature.trim();
    signature = given !== "" ? given : whole && typeof parsed.signature === "string" ? parsed.signature : "";
    if (signature === "") throw new Error("no signature: paste the whole API answer or fill in the signature");
  } catch (e) {
    steps.push({ id: "read", status: "fail", title: "Read the attestation", detail: describe(e) });
    return finish("INVALID: the attestation cannot be read");
  }
  steps.push({
    id: "read",
    status: "pass",
    title: "Read the attestation",
    detail: `sequence ${attestation.sequence}, observed at ${utcTime(attestation.observedAt)}, all fields in range`,
  });

  let keys: KeysDocument;
  try {
    keys = parseKeysDocument(input.keysJson.trim() === "" ? await keysDocument() : JSON.parse(input.keysJson));
  } catch (e) {
    steps.push({ id: "keys", status: "fail", title: "Read the keys document", detail: describe(e) });
    return finish("INVALID: the keys document cannot be read");
  }
  steps.push({
    id: "keys",
    status: "pass",
    title: "Read the keys document",
    detail: `${keys.keys.length} key${keys.keys.length === 1 ? "" : "s"}, ${input.keysJson.trim() === "" ? "from this publisher's /.well-known/solvent/keys.json" : "as pasted"}`,
  });

  const signed = await verifySignedAttestation({ attestation, signature: signature as Hex, keys });
  steps.push({
    id: "signature",
    status: signed.ok ? "pass" : "fail",
    title: "Check the EIP-712 signature",
    detail: signed.ok ? `signed by ${signed.signer}, a key valid at observedAt` : signed.reasons.join("; "),
  });

  const issuer = issuers.find((i) => issuerKey(i.id) === attestation.issuer.toLowerCase());
  steps.push({
    id: "issuer",
    status: "note",
    title: "Identify the issuer",
    detail: issuer
      ? `keccak256("${issuer.id}"): ${issuer.name}`
      : `${attestation.issuer} is not an issuer of this publisher`,
  });

  if (issuer) {
    try {
      const record = await attestationAt(issuer.id, attestation.sequence);
      const same = record.digest.toLowerCase() === attestationDigest(attestation);
      steps.push({
        id: "record",
        status: same ? "pass" : "fail",
        title: "Compare with the publisher's record",
        detail: same
          ? `the publisher serves the same attestation #${attestation.sequence} (digest ${record.digest})`
          : signed.ok
            ? `a different attestation #${attestation.sequence} is published (digest ${record.digest}): two signed attestations with one sequence are a publisher fault`
            : `the publisher's attestation #${attestation.sequence} has digest ${record.digest}; this one differs`,
      });
    } catch (e) {
      const missing = e instanceof ApiError && e.status === 404;
      steps.push({
        id: "record",
        status: missing ? "fail" : "note",
        title: "Compare with the publisher's record",
        detail: missing ? `the publisher has no attestation #${attestation.sequence}` : describe(e),
      });
    }
    if (input.checkReport) {
      try {
        const problems = checkReport(await reportBytes(issuer.id, attestation.sequence), attestation);
        steps.push({
          id: "report",
          status: problems.length === 0 ? "pass" : "fail",
          title: "Re-compute the report",
          detail:
            problems.length === 0
              ? "report hash, reserves root, totals, ratio, liabilities root and flags all match"
              : problems.join("; "),
        });
      } catch (e) {
        steps.push({
          id: "report",
          status: "fail",
          title: "Re-compute the report",
          detail: `the report could not be fetched: ${describe(e)}`,
        });
      }
    }
  }

  const now = BigInt(Math.floor(Date.now() / 1000));
  steps.push({
    id: "freshness",
    status: "note",
    title: "Freshness",
    detail:
      now > attestation.validUntil
        ? `expired at ${utcTime(attestation.validUntil)}: a true statement about the past, not the current state`
        : `valid until ${utcTime(attestation.validUntil)}`,
  });

  const valid = steps.every((s) => s.status !== "fail");
  return finish(
    valid
      ? `VALID: attestation #${attestation.sequence}${issuer ? ` of "${issuer.id}"` : ""}, signed by ${signed.signer}`
      : "INVALID: see the failed checks below",
  );
}

export async function renderVerifyAttestation(main: HTMLElement): Promise<void> {
  const issuers = await listIssuers();
  const jsonInput = h("textarea", {
    id: "va-json",
    name: "attestation",
    rows: 12,
    spellcheck: "false",
    "aria-describedby": "va-json-hint",
  });
  const signatureInput = h("input", {
    id: "va-signature",
    name: "signature",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "0x… (65 bytes)",
    "aria-describedby": "va-signature-hint",
  });
  const keysInput = h("textarea", {
    id: "va-keys",
    name: "keys",
    rows: 4,
    spellcheck: "false",
    "aria-describedby": "va-keys-hint",
  });
  const reportBox = h("input", { id: "va-report", name: "report", type: "checkbox", checked: true });
  const loadSelect = h(
    "select",
    { id: "va-load-issuer", "aria-label": "Issuer to load" },
    ...issuers.map((i) => h("option", { value: i.id }, i.name)),
  );
  const result = h("section", {
    id: "attestation-result",
    class: "result-box",
    "aria-live": "polite",
    "aria-label": "Verification result",
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Verify attestation");
  const loadStatus = h("span", { class: "muted", role: "status" });

  const load = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        loadStatus.textContent = "Loading…";
        latestAttestation(loadSelect.value)
          .then((answer) => {
            jsonInput.value = answer ? JSON.stringify(answer, null, 2) : "";
            loadStatus.textContent = answer
              ? `Loaded attestation #${answer.attestation.sequence}.`
              : "That issuer has no attestation yet.";
          })
          .catch((e) => (loadStatus.textContent = `Could not load: ${describe(e)}`));
      },
    },
    "Load the latest",
  );

  const form = h(
    "form",
    { class: "card", novalidate: true },
    h(
      "div",
      { class: "inline-field" },
      h("span", {}, "Start from the latest attestation of"),
      loadSelect,
      load,
      loadStatus,
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "va-json" }, "Signed attestation (JSON)"),
      jsonInput,
      h(
        "p",
        { id: "va-json-hint", class: "hint" },
        "The whole answer of /v1/issuers/{issuer}/attestations/… or the attestation object alone; edit it to see a check fail.",
      ),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "va-signature" }, "Signature"),
      signatureInput,
      h("p", { id: "va-signature-hint", class: "hint" }, "Only needed when the JSON above is the attestation alone."),
    ),
    h(
      "details",
      {},
      h("summary", {}, "Use a keys document of your own"),
      h(
        "div",
        { class: "field" },
        h("label", { for: "va-keys" }, "Keys document (JSON)"),
        keysInput,
        h(
          "p",
          { id: "va-keys-hint", class: "hint" },
          "Leave empty to use this publisher's /.well-known/solvent/keys.json.",
        ),
      ),
    ),
    h(
      "div",
      { class: "check-field" },
      reportBox,
      h("label", { for: "va-report" }, "Also fetch the report and re-compute it against the attestation"),
    ),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    result.replaceChildren(checking("the attestation"));
    void verifyAttestation(
      {
        json: jsonInput.value,
        signature: signatureInput.value,
        keysJson: keysInput.value,
        checkReport: reportBox.checked,
      },
      issuers,
    )
      .then((r) =>
        result.replaceChildren(h("h2", {}, "Result"), checkList(r.steps, { valid: r.valid, text: r.verdict })),
      )
      .catch((e) => result.replaceChildren(h("p", { class: "bad" }, `The check could not run: ${describe(e)}`)))
      .finally(() => (submit.disabled = false));
  });

  main.replaceChildren(
    h("h1", { tabindex: -1 }, "Verify an attestation"),
    h(
      "p",
      { class: "lede" },
      "Paste a signed attestation to check, here in your browser, that this publisher's key signed exactly these numbers, and that its report adds up to them.",
    ),
    form,
    result,
  );
}
