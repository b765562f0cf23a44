/**
 * An issuer's stored history: reserves against liabilities and the ratio over
 * time, and the hash chain, each link re-computed here with the core.
 */
import { type Attestation, attestationDigest, attestationFromJson, checkChainLink } from "../../core/attestation.js";
import type { AttestationAnswer } from "../api.js";
import { lineChart } from "../charts.js";
import { h, scrollTable } from "../dom.js";
import { chartDownloads } from "../downloads.js";
import { ratio, shortHex, usd, usdCompact, utcTime } from "../format.js";
import { takeAwaySection } from "./issuerPanels.js";
import { foldable } from "./reportSections.js";

interface Entry {
  answer: AttestationAnswer;
  attestation: Attestation | null;
  problem: string | null;
}

function readEntries(answers: AttestationAnswer[]): Entry[] {
  return answers.map((answer) => {
    try {
      return { answer, attestation: attestationFromJson(answer.attestation), problem: null };
    } catch (e) {
      return { answer, attestation: null, problem: (e as Error).message };
    }
  });
}

/** Per entry (newest first): whether its digest and its link to the entry below hold. */
function chainChecks(entries: Entry[], complete: boolean): string[] {
  return entries.map((entry, i) => {
    const a = entry.attestation;
    if (!a) return `✗ unreadable: ${entry.problem}`;
    const problems: string[] = [];
    if (attestationDigest(a) !== entry.answer.digest.toLowerCase())
      problems.push("served digest is not the digest of these fields");
    const older = entries[i + 1]?.attestation;
    if (older && older.sequence === a.sequence - 1n) problems.push(...checkChainLink(older, a));
    else if (a.sequence === 1n) problems.push(...checkChainLink(null, a));
    else if (older || complete) problems.push(`sequence ${a.sequence - 1n} is missing from the history`);
    else return "✓ digest (older links not fetched)";
    return problems.length === 0 ? "✓ digest and link" : `✗ ${problems.join("; ")}`;
  });
}

export function historySections(
  issuerId: string,
  answers: AttestationAnswer[],
  truncated: boolean,
): { history: HTMLElement; chain: HTMLElement } {
  const entries = readEntries(answers);
  const readable = entries.flatMap((e) => (e.attestation ? [e.attestation] : []));
  const oldestFirst = [...readable].reverse();
  const points = (pick: (a: Attestation) => bigint) =>
    oldestFirst.map((a) => ({ t: Number(a.observedAt), v: pick(a) }));
  const capped = oldestFirst.filter((a) => a.ratioBps < 4294967295);
  const scope = `${readable.length} attestation${readable.length === 1 ? "" : "s"}${truncated ? " (the most recent; older ones not loaded)" : ""}`;

  const usdChart = lineChart({
    label: `Counted reserves and liabilities in USD over ${scope}`,
    series: [
      { name: "Counted reserves", cls: "c-onchain", points: points((a) => a.reservesUsd) },
      { name: "Liabilities", cls: "c-liabilities", points: points((a) => a.liabilitiesUsd) },
    ],
    formatY: usdCompact,
  });
  const ratioChart = lineChart({
    label: `Reserve ratio over ${scope}, with the 100 % line`,
    series: [
      {
        name: "Ratio",
        cls: "c-ratio",
        points: capped.map((a) => ({ t: Number(a.observedAt), v: BigInt(a.ratioBps) })),
      },
    ],
    formatY: (v) => `${v / 100n} %`,
    reference: { v: 10000n, label: "100 %" },
  });
  const numbers = scrollTable(
    "History in numbers",
    ["Sequence", "Observed", "Counted reserves", "Liabilities", "Ratio"],
    readable.map((a) => [
      `#${a.sequence}`,
      utcTime(a.observedAt),
      usd(a.reservesUsd),
      usd(a.liabilitiesUsd),
      ratio(a.ratioBps),
    ]),
    { numeric: [2, 3, 4], stack: true },
  );

  const checks = chainChecks(entries, !truncated);
  const chain = scrollTable(
    "Hash chain",
    ["Sequence", "Observed", "Previous", "Digest", "Signer", "Checked here"],
    entries
      .slice(0, 50)
      .map((e, i) => [
        h(
          "a",
          { href: `#/issuer/${encodeURIComponent(issuerId)}/${e.answer.attestation.sequence}` },
          `#${e.answer.attestation.sequence}`,
        ),
        utcTime(e.answer.attestation.observedAt),
        h("code", { title: e.answer.attestation.previous }, shortHex(e.answer.attestation.previous)),
        h("code", { title: e.answer.digest }, shortHex(e.answer.digest)),
        h("code", { title: e.answer.signer }, shortHex(e.answer.signer, 4)),
        h("span", { class: checks[i]?.startsWith("✓") ? "ok" : "bad" }, checks[i] ?? ""),
      ]),
    { stack: true },
  );
  chain.classList.add("chain-table");

  return {
    history: h(
      "section",
      { id: "history", "aria-labelledby": "history-h" },
      h("h2", { id: "history-h" }, "History"),
      h("p", { class: "muted" }, `Over ${scope}.`),
      chartFigure("Reserve ratio", ratioChart, `${issuerId}-ratio`),
      foldable(
        "Counted reserves and liabilities (USD)",
        chartFigure("Counted reserves and liabilities (USD)", usdChart, `${issuerId}-reserves-liabilities`),
      ),
      h("details", {}, h("summary", {}, "The same history as a table"), numbers),
      readable[0] ? takeAwaySection(issuerId, readable[0].sequence) : null,
    ),
    chain: h(
      "section",
      { id: "chain", "aria-labelledby": "chain-h" },
      h("h2", { id: "chain-h" }, "Hash chain"),
      h("p", { class: "muted", "data-testid": "chain-summary" }, chainSummary(checks, Math.min(entries.length, 50))),
      h(
        "details",
        { class: "chain-details" },
        h("summary", {}, `Show the ${Math.min(entries.length, 50)} links checked`),
        h(
          "p",
          { class: "muted" },
          "Each attestation commits to the EIP-712 digest of the one before it. This page re-computes every digest and link it shows",
          entries.length > 50 ? " (the latest 50 of them)." : ".",
        ),
        chain,
      ),
    ),
  };
}

function chainSummary(checks: string[], shown: number): string {
  const broken = checks.slice(0, shown).filter((c) => !c.startsWith("✓")).length;
  return broken === 0
    ? `✓ All ${shown} links shown re-computed here and unbroken.`
    : `✗ ${broken} of ${shown} links do not check out: open the list below.`;
}

function chartFigure(caption: string, chart: HTMLElement, filename: string): HTMLElement {
  const figure = h("figure", { class: "chart" });
  figure.append(
    h(
      "figcaption",
      {},
      h("span", {}, caption),
      chartDownloads(() => figure.querySelector<SVGSVGElement>("svg.line-chart"), filename, caption),
    ),
    chart,
  );
  return figure;
}

/** Since which attestation each flag has been raised without a break, from the loaded history (newest first). */
export function flagRuns(
  answers: AttestationAnswer[],
  complete: boolean,
): (bit: number) => { sequence: bigint; observedAt: bigint; complete: boolean } | null {
  const entries = readEntries(answers).flatMap((e) => (e.attestation ? [e.attestation] : []));
  return (bit) => {
    let oldest: Attestation | null = null;
    for (const a of entries) {
      if (((a.flags >> BigInt(bit)) & 1n) === 0n)
        return oldest && { sequence: oldest.sequence, observedAt: oldest.observedAt, complete: true };
      oldest = a;
    }
    return (
      oldest && {
        sequence: oldest.sequence,
        observedAt: oldest.observedAt,
        complete: complete || oldest.sequence === 1n,
      }
    );
  };
}
