/**
 * `#/issuer/{id}` (latest) and `#/issuer/{id}/{sequence}`: one attestation,
 * its signature and report checked in the browser, and everything in the
 * report laid out.
 */
import { attestationFromJson, parseKeysDocument, verifySignedAttestation, type Attestation } from "../../core/index.js";
import { checkReport } from "../../core/reportCheck.js";
import { attestationAt, attestationHistory, keysDocument, latestAttestation, listIssuers, parseReport, reportBytes, type AttestationAnswer } from "../api.js";
import { h } from "../dom.js";
import { ratio, shortHex, usd, utcTime } from "../format.js";
import { issuerStatus, nowSeconds } from "../issuerStatus.js";
import { historySections } from "./history.js";
import { liveAge, statusBadge } from "./overview.js";
import { flagsSection, liabilitiesSection, lineItemsSection, pricesSection, reservesSection } from "./reportSections.js";

interface Checked {
  ok: boolean;
  text: string;
}

async function checkSignature(attestation: Attestation, answer: AttestationAnswer): Promise<Checked> {
  try {
    const keys = parseKeysDocument(await keysDocument());
    const result = await verifySignedAttestation({ attestation, signature: answer.signature as `0x${string}`, keys });
    return result.ok ? { ok: true, text: `valid, by ${result.signer}, a key valid at observedAt` } : { ok: false, text: result.reasons.join("; ") };
  } catch (e) {
    return { ok: false, text: (e as Error).message };
  }
}

function checkedLine(label: string, c: Checked, testId: string): HTMLElement[] {
  return [
    h("dt", {}, label),
    h("dd", { class: c.ok ? "ok" : "bad", "data-testid": testId, "data-ok": String(c.ok) }, h("span", { "aria-hidden": "true" }, c.ok ? "✓ " : "✗ "), c.text),
  ];
}

export async function renderIssuer(main: HTMLElement, issuerId: string, sequence: string | null): Promise<void> {
  const [issuers, answer, history] = await Promise.all([
    listIssuers(),
    sequence === null ? latestAttestation(issuerId) : attestationAt(issuerId, sequence),
    attestationHistory(issuerId),
  ]);
  const issuer = issuers.find((i) => i.id === issuerId);
  const name = issuer?.name ?? issuerId;
  document.title = `${name} · Solvent`;
  const heading = h("h1", { tabindex: -1 }, name, " ", h("code", { class: "muted small" }, issuerId));
  if (answer === null) {
    main.replaceChildren(heading, statusBadge("stale", "no attestation has been published yet"), h("p", {}, "This issuer has not published an attestation yet."));
    return;
  }
  const attestation = attestationFromJson(answer.attestation);
  const latestSequence = history.attestations[0]?.attestation.sequence;
  const isLatest = sequence === null || sequence === latestSequence;
  const [signature, bytes] = await Promise.all([checkSignature(attestation, answer), reportBytes(issuerId, attestation.sequence)]);
  const problems = checkReport(bytes, attestation);
  const reportCheck: Checked = problems.length === 0 ? { ok: true, text: "consistent: hash, roots, totals, ratio and flags re-computed from its bytes" } : { ok: false, text: problems.join("; ") };
  const report = parseReport(bytes);
  const { status, why } = issuerStatus(attestation, nowSeconds());
  const hasLedger = report.liabilities.ledger !== null;
  const verifyLink = hasLedger ? `#/verify-balance/${encodeURIComponent(issuerId)}/${attestation.sequence}` : null;

  const past = historySections(issuerId, history.attestations, history.truncated);
  const summary = h(
    "div",
    { class: "summary" },
    h("div", { class: "big-ratio" }, h("span", { class: "muted" }, "Reserve ratio"), h("strong", { "data-testid": "ratio" }, ratio(attestation.ratioBps)), h("span", {}, statusBadge(isLatest ? status : "stale", isLatest ? why : "an older attestation, not the current state"))),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Counted reserves"),
      h("dd", {}, usd(attestation.reservesUsd)),
      h("dt", {}, "Liabilities"),
      h("dd", {}, usd(attestation.liabilitiesUsd)),
      h("dt", {}, "Attestation"),
      h("dd", {}, `#${attestation.sequence}${isLatest ? " (latest)" : ""}, observed `, liveAge(attestation.observedAt)),
      h("dt", {}, "Valid until"),
      h("dd", {}, utcTime(attestation.validUntil)),
      ...checkedLine("Signature, checked here", signature, "signature-check"),
      ...checkedLine("Report, re-computed here", reportCheck, "report-check"),
    ),
  );

  const toc = h(
    "nav",
    { class: "toc", "aria-label": "On this page" },
    h(
      "ul",
      {},
      ...[
        ["#reserves", "Reserves"],
        ["#liabilities", "Liabilities"],
        ["#flags", `Flags (${report.flags.length})`],
        ["#history", "History"],
        ["#items", "Line items"],
        ["#prices", "Prices"],
        ["#chain", "Hash chain"],
      ].map(([href, text]) => h("li", {}, h("a", { href: href!, "data-scroll": "true" }, text!))),
      verifyLink ? h("li", {}, h("a", { href: verifyLink, class: "button-link" }, "Verify my balance")) : null,
    ),
  );

  main.replaceChildren(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "All issuers")),
    heading,
    summary,
    toc,
    reservesSection(report),
    liabilitiesSection(report, verifyLink),
    flagsSection(report),
    past.history,
    lineItemsSection(report),
    pricesSection(report),
    past.chain,
    h("p", { class: "muted" }, "Raw documents: ", h("a", { href: answer.reportUrl }, "report JSON"), " · ", h("a", { href: `/v1/issuers/${encodeURIComponent(issuerId)}/attestations/${attestation.sequence}` }, "signed attestation"), " · digest ", h("code", { title: answer.digest }, shortHex(answer.digest))),
  );
}
