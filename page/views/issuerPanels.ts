/**
 * The parts of an issuer page an analyst reads first: coverage per asset,
 * the on-chain publication, and the history to take away.
 */
import type { ReportJson } from "../../core/report.js";
import { assetCoverage, type CoverageRow } from "../coverage.js";
import { type Child, codes, h, scrollTable } from "../dom.js";
import { age, coveragePercent, duration, shortHex, tokenAmount, usd, utcTime } from "../format.js";
import type { OnChainStatus } from "../onChain.js";
import { tokenCell } from "./reportSections.js";

function coverageCell(bps: bigint | null): Child {
  if (bps === null) return h("span", { class: "muted" }, "nothing owed");
  return h("span", { class: bps < 10000n ? "bad" : "ok", "data-coverage": bps.toString() }, coveragePercent(bps));
}

function surplusCell(row: { surplusUsd: bigint }, units: string | null): Child {
  const short = row.surplusUsd < 0n;
  const abs = short ? -row.surplusUsd : row.surplusUsd;
  return h(
    "span",
    { class: short ? "bad" : "ok" },
    h("strong", {}, short ? "Short " : "Surplus "),
    units ?? usd(abs),
    units ? h("span", { class: "muted small sub" }, h("br"), usd(abs)) : null,
  );
}

function heldList(row: CoverageRow): Child {
  return h(
    "span",
    { class: "muted small sub" },
    row.backedBy.map((b) => `${tokenAmount(b.counted, b.decimals, b.asset)} (${usd(b.countedUsd)})`).join(" + "),
  );
}

function rowCells(row: CoverageRow): Child[] {
  if (row.kind === "not-owed") {
    const none = () => h("span", { class: "none-cell" }, "—");
    return [
      h(
        "span",
        {},
        h("strong", {}, row.asset),
        h("span", { class: "muted small" }, " · held, nobody is owed these in kind"),
      ),
      none(),
      h("span", {}, usd(row.countedUsd), h("br"), heldList(row)),
      none(),
      surplusCell(row, null),
    ];
  }
  const owed = h(
    "span",
    {},
    tokenCell(row.owed!, row.decimals, row.asset),
    h("span", { class: "muted small sub" }, h("br"), usd(row.owedUsd)),
  );
  if (row.kind === "by-value") {
    return [
      h(
        "span",
        {},
        h("strong", {}, row.asset),
        h("br"),
        h("span", { class: "muted small" }, "the issuer's own token, backed by value"),
      ),
      owed,
      h("span", {}, usd(row.countedUsd), h("br"), heldList(row)),
      coverageCell(row.coverageBps),
      surplusCell(row, null),
    ];
  }
  const uncounted =
    row.notCounted > 0n
      ? h(
          "span",
          { class: "muted small" },
          h("br"),
          `+ ${tokenAmount(row.notCounted, row.decimals, row.asset)} held, not counted`,
        )
      : null;
  return [
    h("strong", {}, row.asset),
    owed,
    h(
      "span",
      {},
      tokenCell(row.counted!, row.decimals, row.asset),
      h("span", { class: "muted small sub" }, h("br"), usd(row.countedUsd)),
      uncounted,
    ),
    coverageCell(row.coverageBps),
    surplusCell(row, tokenAmount(row.surplus! < 0n ? -row.surplus! : row.surplus!, row.decimals, row.asset)),
  ];
}

export function coverageSection(report: ReportJson): HTMLElement {
  const { rows, total } = assetCoverage(report);
  const shortRows = rows.filter((r) => r.surplusUsd < 0n && r.kind !== "not-owed");
  const table = scrollTable(
    "Coverage per asset",
    ["Asset", "Owed", "Counted reserves", "Coverage", "Surplus / short"],
    [
      ...rows.map(rowCells),
      [
        h("strong", {}, "All assets, in USD"),
        usd(total.owedUsd),
        usd(total.countedUsd),
        coverageCell(total.coverageBps),
        surplusCell(total, null),
      ],
    ],
    { numeric: [1, 2, 3, 4], stack: true },
  );
  table.classList.add("coverage-table");
  return h(
    "section",
    { id: "coverage", "aria-labelledby": "coverage-h" },
    h("h2", { id: "coverage-h" }, "Coverage per asset"),
    h(
      "p",
      { class: "coverage-verdict", "data-testid": "coverage-verdict" },
      shortRows.length === 0
        ? "Every asset owed is covered by counted reserves of the same asset, or by value for the issuer's own token."
        : `Short in kind: ${shortRows.map((r) => `${r.asset} by ${r.kind === "in-kind" ? tokenAmount(-r.surplus!, r.decimals, r.asset) : usd(-r.surplusUsd)}`).join("; ")}.${total.surplusUsd >= 0n ? " The total in USD is still covered." : ""}`,
    ),
    table,
    codes(
      "How reserves are matched to what is owed",
      h(
        "p",
        {},
        "A reserve line item covers a liability when it is the same asset (the asset id of the line item equals that of the liability): coverage is counted reserves over what is owed, in the asset's own units, so a price move does not change it. ",
        "The issuer's own token (a supply liability) is never held as its own reserve; it is backed by value, by the counted reserves in every asset nobody is owed in kind. ",
        "Reserves read but not counted (ownership not proven, or excluded) are listed beside but never cover anything. USD figures use the report's prices; the last row is the attestation's own ratio.",
      ),
    ),
  );
}

function addressLine(label: string, title: string, address: string | null): Child[] {
  if (!address) return [];
  return [h("dt", { title }, label), h("dd", {}, h("code", {}, address))];
}

export function onChainSection(status: OnChainStatus | null, now: bigint): HTMLElement {
  const heading = h("h2", { id: "onchain-h" }, "On-chain publication");
  if (status === null)
    return h(
      "section",
      { id: "onchain", "aria-labelledby": "onchain-h" },
      heading,
      h("p", { class: "muted" }, "This publisher does not say whether it relays attestations on-chain."),
    );
  if (!status.configured) {
    return h(
      "section",
      { id: "onchain", "aria-labelledby": "onchain-h" },
      heading,
      h(
        "p",
        { "data-testid": "onchain-state" },
        "Not published on-chain: this issuer's attestations are served over HTTP only.",
      ),
    );
  }
  const chain = status.chainName ? `${status.chainName} (chain ${status.chainId})` : `chain ${status.chainId}`;
  const copy = status.copy;
  let state: Child = h("span", { class: "bad" }, "No attestation has reached the chain yet.");
  if (copy) {
    const expired = copy.validUntil !== null && now > copy.validUntil;
    state = h(
      "span",
      { class: expired ? "bad" : "ok" },
      h("span", { "aria-hidden": "true" }, expired ? "✗ " : "✓ "),
      `Attestation #${copy.sequence}`,
      copy.observedAt !== null ? `, observed ${age(copy.observedAt, Number(now))}` : "",
      copy.validUntil === null
        ? ""
        : expired
          ? `; expired ${age(copy.validUntil, Number(now))} (contracts reading it refuse it)`
          : `; valid for ${duration(Number(copy.validUntil - now))} more, until ${utcTime(copy.validUntil)}`,
      copy.source === "derived"
        ? h("span", { class: "muted small" }, " (the attestation last relayed)")
        : copy.source === "relayLog"
          ? h(
              "span",
              { class: "muted small" },
              " (the chain could not be read: the attestation last relayed, at least this new)",
            )
          : null,
    );
  }
  const attempts = scrollTable(
    "Latest relays",
    ["Attestation", "When", "Outcome", "Transaction"],
    status.attempts
      .slice(0, 5)
      .map((a) => [
        `#${a.sequence}${a.attempt > 1 ? ` (try ${a.attempt})` : ""}`,
        h("span", { title: utcTime(a.at) }, age(a.at, Number(now))),
        h(
          "span",
          { class: a.status === "failed" ? "bad" : a.status === "submitted" ? "ok" : "" },
          a.status === "submitted" ? "put on-chain" : a.status === "skipped" ? "not needed" : "failed",
          h("span", { class: "muted small" }, `: ${a.reason}`),
        ),
        a.txHash ? h("code", { title: a.txHash }, shortHex(a.txHash)) : "—",
      ]),
    { stack: true },
  );
  return h(
    "section",
    { id: "onchain", "aria-labelledby": "onchain-h" },
    heading,
    h(
      "p",
      { class: "onchain-state", "data-testid": "onchain-state" },
      h("span", { class: "muted" }, "On-chain copy: "),
      state,
    ),
    h(
      "dl",
      { class: "facts onchain-facts" },
      h("dt", {}, "Chain"),
      h("dd", {}, chain),
      ...addressLine("Oracle", "SolvencyOracle: holds the attestation for contracts", status.oracle),
      ...addressLine("Feed", "ReserveFeed: a Chainlink AggregatorV3 over the oracle", status.feed),
      h("dt", {}, "Heartbeat"),
      h(
        "dd",
        {},
        status.heartbeatSeconds === null
          ? "not stated"
          : `at least every ${duration(status.heartbeatSeconds)}, and on any change of ratio or warnings`,
      ),
    ),
    status.attempts.length === 0
      ? h("p", { class: "muted" }, "No relay attempts yet.")
      : h(
          "details",
          { class: "relays" },
          h("summary", {}, `Latest relays (${Math.min(5, status.attempts.length)})`),
          attempts,
        ),
  );
}

/** History to take away: a sequence range as CSV or JSON, straight from the API. */
export function takeAwaySection(issuerId: string, latest: bigint): HTMLElement {
  const max = 1000n;
  const first = latest > max ? latest - max + 1n : 1n;
  const from = h("input", {
    id: "range-from",
    type: "number",
    min: 1,
    max: latest.toString(),
    value: first.toString(),
    inputmode: "numeric",
  });
  const to = h("input", {
    id: "range-to",
    type: "number",
    min: 1,
    max: latest.toString(),
    value: latest.toString(),
    inputmode: "numeric",
  });
  const csv = h("a", { class: "button-link", "data-testid": "download-csv" }, "CSV");
  const json = h("a", { class: "button-link secondary-link", "data-testid": "download-json" }, "JSON");
  const note = h("p", { class: "hint", "aria-live": "polite" });
  const update = () => {
    const f = /^\d+$/.test(from.value) ? BigInt(from.value) : 1n;
    const t = /^\d+$/.test(to.value) ? BigInt(to.value) : latest;
    const base = `/v1/issuers/${encodeURIComponent(issuerId)}/attestations?from=${f}&to=${t}`;
    const ok = f >= 1n && t >= f && t - f < max;
    csv.setAttribute("href", `${base}&format=csv`);
    json.setAttribute("href", base);
    json.setAttribute("download", `${issuerId}-attestations-${f}-${t}.json`);
    for (const link of [csv, json]) link.toggleAttribute("aria-disabled", !ok);
    note.textContent = ok
      ? `Attestations #${f} to #${t}: every signed field, so each row can be re-verified.`
      : `Choose from ≤ to, at most ${max} at a time.`;
  };
  from.addEventListener("input", update);
  to.addEventListener("input", update);
  update();
  return h(
    "details",
    {
      class: "take-away",
      id: "take-away",
      open: typeof matchMedia === "function" && matchMedia("(min-width: 48rem)").matches,
    },
    h("summary", {}, "Download the history (CSV, JSON)"),
    h(
      "div",
      { class: "range-fields" },
      h("label", { for: "range-from" }, "From #"),
      from,
      h("label", { for: "range-to" }, "to #"),
      to,
      csv,
      json,
    ),
    note,
  );
}
