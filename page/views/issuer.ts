/**
 * `#/issuer/{id}` (latest) and `#/issuer/{id}/{sequence}`: one attestation,
 * its signature and report checked in the browser, and everything in the
 * report laid out.
 */
import { type Attestation, attestationFromJson, verifySignedAttestation } from "../../core/attestation.js";
import { parseKeysDocument } from "../../core/keysDocument.js";
import { checkReport } from "../../core/reportCheck.js";
import {
  type AttestationAnswer,
  attestationAt,
  attestationHistory,
  keysDocument,
  latestAttestation,
  listIssuers,
  parseReport,
  relayerStatus,
  reportBytes,
} from "../api.js";
import { h } from "../dom.js";
import { ratio, shortHex, usd, usdDelta, utcTime } from "../format.js";
import { issuerStatus, nowSeconds } from "../issuerStatus.js";
import { readOnChain } from "../onChain.js";
import { flagRuns, historySections } from "./history.js";
import { coverageSection, onChainSection } from "./issuerPanels.js";
import { liveAge, statusBadge } from "./overview.js";
import {
  flagsSection,
  ledgerFacts,
  liabilitiesSection,
  lineItemsSection,
  pricesSection,
  reservesSection,
} from "./reportSections.js";
import { verificationCoverageSection } from "./verificationCoverage.js";

interface Checked {
  ok: boolean;
  text: string;
}

async function checkSignature(attestation: Attestation, answer: AttestationAnswer): Promise<Checked> {
  try {
    const keys = parseKeysDocument(await keysDocument());
    const result = await verifySignedAttestation({ attestation, signature: answer.signature as `0x${string}`, keys });
    return result.ok
      ? { ok: true, text: `valid, by ${shortHex(result.signer ?? "", 4)}, a key valid at observedAt` }
      : { ok: false, text: result.reasons.join("; ") };
  } catch (e) {
    return { ok: false, text: (e as Error).message };
  }
}

function checkedLine(label: string, c: Checked, testId: string): HTMLElement[] {
  return [
    h("dt", {}, label),
    h(
      "dd",
      { class: c.ok ? "ok" : "bad", "data-testid": testId, "data-ok": String(c.ok) },
      h("span", { "aria-hidden": "true" }, c.ok ? "✓ " : "✗ "),
      c.text,
    ),
  ];
}

export async function renderIssuer(main: HTMLElement, issuerId: string, sequence: string | null): Promise<void> {
  const [issuers, answer, history, relayer] = await Promise.all([
    listIssuers(),
    sequence === null ? latestAttestation(issuerId) : attestationAt(issuerId, sequence),
    attestationHistory(issuerId),
    relayerStatus(issuerId),
  ]);
  const issuer = issuers.find((i) => i.id === issuerId);
  const name = issuer?.name ?? issuerId;
  document.title = `${name} · Solvent`;
  const heading = h("h1", { tabindex: -1 }, name, " ", h("code", { class: "muted small" }, issuerId));
  if (answer === null) {
    main.replaceChildren(
      heading,
      statusBadge("stale", "no attestation has been published yet"),
      h("p", {}, "This issuer has not published an attestation yet."),
    );
    return;
  }
  const attestation = attestationFromJson(answer.attestation);
  const latestSequence = history.attestations[0]?.attestation.sequence;
  const isLatest = sequence === null || sequence === latestSequence;
  const [signature, bytes] = await Promise.all([
    checkSignature(attestation, answer),
    reportBytes(issuerId, attestation.sequence),
  ]);
  const problems = checkReport(bytes, attestation);
  const reportCheck: Checked =
    problems.length === 0
      ? { ok: true, text: "consistent (hash, roots, totals, ratio, flags)" }
      : { ok: false, text: problems.join("; ") };
  const report = parseReport(bytes);
  const { status, why } = issuerStatus(attestation, nowSeconds());
  const hasLedger = report.liabilities.ledger !== null;
  const verifyLink = hasLedger ? `#/verify-balance/${encodeURIComponent(issuerId)}/${attestation.sequence}` : null;

  const past = historySections(issuerId, history.attestations, history.truncated);
  const runs = flagRuns(
    history.attestations.filter((a) => BigInt(a.attestation.sequence) <= attestation.sequence),
    !history.truncated,
  );
  const now = nowSeconds();
  const times = new Map(
    history.attestations.map((a) => [
      a.attestation.sequence,
      { observedAt: BigInt(a.attestation.observedAt), validUntil: BigInt(a.attestation.validUntil) },
    ]),
  );
  const onChain = relayer === null ? null : readOnChain(relayer, (s) => times.get(s) ?? null, now);
  const ledger = ledgerFacts(report);
  const checked = ledger?.id ? await verificationCoverageSection(issuerId, ledger.id, verifyLink) : null;
  const surplus = attestation.reservesUsd - attestation.liabilitiesUsd;
  const summary = h(
    "div",
    { class: "summary" },
    h(
      "div",
      { class: "big-ratio" },
      h("span", { class: "muted" }, "Reserve ratio"),
      h("strong", { "data-testid": "ratio" }, ratio(attestation.ratioBps)),
      h(
        "span",
        {},
        statusBadge(isLatest ? status : "stale", isLatest ? why : "an older attestation, not the current state"),
      ),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Counted reserves"),
      h("dd", {}, usd(attestation.reservesUsd)),
      h("dt", {}, "Liabilities"),
      h("dd", {}, usd(attestation.liabilitiesUsd)),
      h("dt", {}, surplus < 0n ? "Shortfall" : "Surplus"),
      h("dd", { class: surplus < 0n ? "bad" : "ok", "data-testid": "surplus" }, usdDelta(surplus)),
      h("dt", {}, "Attestation"),
      h(
        "dd",
        {},
        `#${attestation.sequence}${isLatest ? " (latest)" : ""}, `,
        liveAge(attestation.observedAt),
        h("span", { class: "muted small" }, `, valid until ${utcTime(attestation.validUntil)}`),
      ),
      ...(ledger?.asOf
        ? [
            h("dt", {}, "User ledger as of"),
            h("dd", { "data-testid": "summary-as-of" }, utcTime(ledger.asOf), " (", liveAge(ledger.asOf), ")"),
          ]
        : []),
      ...checkedLine("Signature", signature, "signature-check"),
      ...checkedLine("Report", reportCheck, "report-check"),
    ),
    h("p", { class: "muted small checked-note" }, "Signature and report are checked here, in your browser."),
  );

  const toc = h(
    "nav",
    { class: "toc", "aria-label": "On this page" },
    h(
      "ul",
      {},
      ...[
        ["#coverage", "Coverage"],
        ["#flags", `Warnings (${report.flags.length})`],
        ["#onchain", "On-chain"],
        ["#reserves", "Reserves"],
        ["#liabilities", "Liabilities"],
        ...(checked ? [["#checked", "Checked by users"]] : []),
        ["#history", "History"],
        ["#items", "Line items"],
        ["#prices", "Prices"],
        ["#chain", "Hash chain"],
      ].map(([href, text]) => h("li", {}, h("a", { href: href!, "data-scroll": "true" }, text!))),
      verifyLink ? h("li", {}, h("a", { href: verifyLink, class: "button-link" }, "Verify my balance")) : null,
    ),
  );

  main.replaceChildren(
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: "#/" }, "All issuers"),
      " · ",
      h("a", { href: "#/dependencies" }, "Dependency map"),
    ),
    heading,
    summary,
    toc,
    coverageSection(report),
    flagsSection(report, (name) => {
      const bit = report.flags.find((f) => f.name === name)?.bit;
      return bit === undefined ? null : runs(bit);
    }),
    onChainSection(onChain, now),
    reservesSection(report),
    liabilitiesSection(report, verifyLink),
    ...(checked ? [checked] : []),
    past.history,
    lineItemsSection(report),
    pricesSection(report),
    past.chain,
    h(
      "p",
      { class: "muted" },
      "Raw documents: ",
      h("a", { href: answer.reportUrl }, "report JSON"),
      " · ",
      h(
        "a",
        { href: `/v1/issuers/${encodeURIComponent(issuerId)}/attestations/${attestation.sequence}` },
        "signed attestation",
      ),
      " · digest ",
      h("code", { title: answer.digest }, shortHex(answer.digest)),
    ),
  );
}
