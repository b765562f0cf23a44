/**
 * The parts of an issuer page drawn from one report (SPEC §4): where the
 * reserves are, what is owed, which flags are raised and why, every line
 * item and every price with its sources.
 */

import type { ReportItemJson, ReportJson, ReportPriceJson } from "../../core/report.js";
import { ReserveStatus } from "../../core/reservesTree.js";
import { donut, type Slice } from "../charts.js";
import { type Child, codes, h, scrollTable } from "../dom.js";
import { amount, ratio, share, shortHex, tokenAmount, usd, usdCompact, utcTime } from "../format.js";
import { flagMeaning, flagWords } from "../plainWords.js";

export const STATUS_NAMES: Record<number, string> = {
  [ReserveStatus.ON_CHAIN_PROVEN]: "On-chain, ownership proven: counted",
  [ReserveStatus.ON_CHAIN_UNPROVEN]: "On-chain, ownership not proven: not counted",
  [ReserveStatus.OFF_CHAIN_STATEMENT]: "Off-chain, signed custodian statement: counted",
  [ReserveStatus.EXCLUDED]: "Excluded (stale, failed, circular or over policy): not counted",
};

const sumValues = (items: ReportItemJson[], statuses: number[]) =>
  items.filter((i) => statuses.includes(i.status)).reduce((a, i) => a + BigInt(i.valueUsd), 0n);

/** "chainlink:31337:0x5fc8…7707" → shortened addresses inside a source name. */
function sourceName(source: string): string {
  return source.replace(/0x[0-9a-fA-F]{40}/g, (addr) => shortHex(addr, 4));
}

export function reservesSection(report: ReportJson): HTMLElement {
  const items = report.reserves.items;
  const slices: (Slice & { codes: string })[] = [
    {
      label: "On-chain, counted",
      value: sumValues(items, [ReserveStatus.ON_CHAIN_PROVEN]),
      cls: "c-onchain",
      codes: "status 0: on-chain, ownership proven",
    },
    {
      label: "Off-chain, counted",
      value: sumValues(items, [ReserveStatus.OFF_CHAIN_STATEMENT]),
      cls: "c-offchain",
      codes: "status 2: signed custodian statement",
    },
    {
      label: "Not counted",
      value: sumValues(items, [ReserveStatus.ON_CHAIN_UNPROVEN, ReserveStatus.EXCLUDED]),
      cls: "c-excluded",
      codes: "status 1: ownership not proven; status 3: excluded (stale, failed, circular or over policy)",
    },
  ];
  const all = slices.reduce((a, s) => a + s.value, 0n);
  const counted = (slices[0]?.value ?? 0n) + (slices[1]?.value ?? 0n);
  const owed = BigInt(report.totals.liabilitiesUsd);
  const chart = donut({
    label: `Reserves by status: ${slices.map((s) => `${s.label} ${usd(s.value)} (${share(s.value, all)})`).join("; ")}; liabilities ${usd(owed)}`,
    slices,
    centre: usdCompact(counted),
    centreSub: "counted",
    centreNote: `owes ${usdCompact(owed)}`,
  });
  const table = scrollTable(
    "Reserves by status",
    ["", "Reserves", "Value", "Share"],
    [
      ...slices.map((s) => [
        h("span", { class: `swatch ${s.cls}`, "aria-hidden": "true" }),
        s.label,
        usd(s.value),
        share(s.value, all),
      ]),
      [null, h("strong", {}, "Counted reserves"), h("strong", {}, usd(counted)), share(counted, all)],
    ],
    { numeric: [2, 3] },
  );
  return h(
    "section",
    { id: "reserves", "aria-labelledby": "reserves-h" },
    h("h2", { id: "reserves-h" }, "Reserves"),
    h(
      "div",
      { class: "split" },
      h(
        "figure",
        { class: "donut-figure" },
        chart,
        h("figcaption", { class: "sr-only" }, "Reserves by status; the table beside lists the values."),
      ),
      h(
        "div",
        {},
        foldable(`Counted ${usd(counted)} of ${usd(all)} read`, table),
        codes(
          "Status codes",
          h("ul", { class: "plain small" }, ...slices.map((s) => h("li", {}, `${s.label}: ${s.codes}`))),
        ),
      ),
    ),
  );
}

/** A trimmed token amount whose exact value is its title. */
export function tokenCell(value: bigint | string, decimals: string | null, symbol?: string): HTMLElement {
  return h("span", { title: amount(value, decimals, symbol) }, tokenAmount(value, decimals, symbol));
}

/** The ledger fields of a report, read defensively: SPEC §4's newer form adds `id`, `asOf`, `leafCount`. */
export function ledgerFacts(
  report: ReportJson,
): { id: string | null; asOf: string | null; users: string | null } | null {
  const l = report.liabilities.ledger as unknown as Record<string, unknown> | null;
  if (!l) return null;
  const text = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : null);
  return { id: text(l.id) ?? text(l.ledgerId), asOf: text(l.asOf), users: text(l.leafCount) ?? text(l.users) };
}

export function liabilitiesSection(report: ReportJson, verifyLink: string | null): HTMLElement {
  const { liabilities } = report;
  const rows: Child[][] = liabilities.assets.map((a) => [
    a.asset,
    a.source === "ledger" ? "user ledger" : a.source === "supply" ? "token supply" : a.source,
    tokenCell(a.amount, a.decimals, a.asset),
    h(
      "span",
      {},
      usd(BigInt(a.priceUsd)),
      " ",
      h(
        "span",
        { class: "muted small" },
        a.priceMethod === "peg" ? "(its peg)" : a.priceMethod === "quorum" ? "(market)" : `(${a.priceMethod})`,
      ),
    ),
    usd(BigInt(a.valueUsd)),
  ]);
  const total = liabilities.assets.reduce((a, x) => a + BigInt(x.valueUsd), 0n);
  rows.push([h("strong", {}, "Total"), null, null, null, h("strong", {}, usd(total))]);
  const supply = liabilities.supply.map((s) =>
    h(
      "li",
      {},
      `Token ${shortHex(s.token, 4)} on chain ${s.chainId} at block ${s.blockNumber}: total supply ${tokenAmount(s.totalSupply, s.decimals)}`,
      ...s.escrows.map((e) => ` minus ${tokenAmount(e.amount, s.decimals)} held by escrow ${shortHex(e.address, 4)}`),
      ` = ${tokenAmount(s.netSupply, s.decimals)}, valued at its peg ${usd(BigInt(s.pegUsd))}.`,
    ),
  );
  const ledger = ledgerFacts(report);
  return h(
    "section",
    { id: "liabilities", "aria-labelledby": "liabilities-h" },
    h("h2", { id: "liabilities-h" }, "Liabilities"),
    foldable(
      `What is owed, in ${liabilities.assets.length} asset${liabilities.assets.length === 1 ? "" : "s"}: ${usd(total)}`,
      scrollTable("Liabilities", ["Asset", "Source", "Amount", "Price", "Value"], rows, {
        numeric: [2, 3, 4],
        stack: true,
      }),
      supply.length > 0 ? h("ul", { class: "plain" }, ...supply) : null,
    ),
    ledger
      ? h(
          "p",
          {},
          `${ledger.users === null ? "User" : `${amount(ledger.users, 0)} user`} balances in a Merkle sum tree, root `,
          h("code", { title: liabilities.root ?? "" }, shortHex(liabilities.root ?? "", 6)),
          ledger.asOf
            ? h("span", { "data-testid": "ledger-as-of" }, `, true as of ${utcTime(ledger.asOf)}`)
            : h("span", { class: "muted" }, " (as-of time not reported)"),
          ". ",
          verifyLink ? h("a", { href: verifyLink }, "Check that your balance is in it") : null,
        )
      : null,
    ledger
      ? h(
          "p",
          { class: "muted small", "data-testid": "verification-coverage" },
          "How many users have checked their inclusion: not published by this publisher yet.",
        )
      : null,
  );
}

/** Since when each flag has been raised without a break: the oldest attestation of its current run. */
export type FlagSince = (name: string) => { sequence: bigint; observedAt: bigint; complete: boolean } | null;

export function flagsSection(report: ReportJson, since: FlagSince = () => null): HTMLElement {
  return h(
    "section",
    { id: "flags", "aria-labelledby": "flags-h" },
    h("h2", { id: "flags-h" }, "Warnings"),
    report.flags.length === 0
      ? h("p", { class: "ok" }, h("span", { "aria-hidden": "true" }, "✓ "), "No warnings in this snapshot.")
      : h(
          "ul",
          { class: "flags" },
          ...report.flags.map((f) => {
            const from = since(f.name);
            return h(
              "li",
              { "data-flag": f.name },
              h("strong", {}, flagWords(f.name)),
              from
                ? h(
                    "span",
                    { class: "since" },
                    ` · since #${from.sequence}${from.complete ? "" : " or earlier"}, ${utcTime(from.observedAt)}`,
                  )
                : null,
              codes(
                "Why, and the code",
                h("p", {}, f.reason),
                h(
                  "p",
                  {},
                  h("code", {}, f.name),
                  ` (flag bit ${f.bit}): ${flagMeaning(f.name) ?? "a flag this page does not know"}`,
                ),
              ),
            );
          }),
        ),
  );
}

function itemWhere(item: ReportItemJson): string {
  const d = item.details;
  if (d.kind === "custodian") {
    return d.statement
      ? `statement by ${d.custodian}, account ${d.account}, as of ${utcTime(d.statement.asOf)}`
      : `${d.custodian}, account ${d.account}: no valid statement`;
  }
  const block = d.blockNumber === null ? "no block" : `block ${d.blockNumber}`;
  const where = `${d.kind} on chain ${item.chainId}, ${block}; ownership: ${d.ownership.method}${d.ownership.proven ? " (proven)" : " (not proven)"}`;
  // Look-through holdings (a token backed by another issuer's attestation); read defensively, newer reports carry it.
  const look = (
    d as {
      lookThrough?: {
        issuer?: unknown;
        attestation?: { sequence?: unknown; ratioBps?: unknown } | null;
        haircutBps?: unknown;
      } | null;
    }
  ).lookThrough;
  if (!look || typeof look.issuer !== "string") return where;
  const seq = look.attestation && typeof look.attestation.sequence === "string" ? ` #${look.attestation.sequence}` : "";
  const backing =
    look.attestation && typeof look.attestation.ratioBps === "string" ? ` at ${ratio(look.attestation.ratioBps)}` : "";
  const haircut = typeof look.haircutBps === "string" ? `, valued at ${ratio(look.haircutBps)} of market` : "";
  return `${where}; backed by ${look.issuer}'s attestation${seq}${backing}${haircut}`;
}

function priceSources(price: ReportPriceJson | undefined): Child {
  if (!price) return "—";
  return h(
    "ul",
    { class: "plain sources" },
    ...price.observations.map((o) =>
      h(
        "li",
        { title: o.reason ?? o.source },
        h("span", { "aria-hidden": "true" }, o.accepted ? "✓ " : "✗ "),
        sourceName(o.source),
        o.accepted ? "" : " (rejected)",
      ),
    ),
  );
}

export function lineItemsSection(report: ReportJson): HTMLElement {
  const prices = new Map(report.prices.map((p) => [p.asset, p]));
  const rows = report.reserves.items.map((item) => {
    const d = item.details;
    const who = d.kind === "custodian" ? `${d.custodian} (${d.account})` : (d.holderName ?? shortHex(item.holder, 4));
    const why = d.reason ?? d.exclusion;
    return [
      h(
        "span",
        {},
        h("strong", {}, who),
        h("br"),
        h("code", { class: "muted small", title: item.label }, sourceName(item.label)),
        h("br"),
        h("span", { class: "muted small" }, itemWhere(item)),
      ),
      h(
        "span",
        { class: `item-status s${item.status}`, "data-status": String(item.status) },
        STATUS_NAMES[item.status] ?? `status ${item.status}`,
        why ? h("span", { class: "muted small reason", title: why }, h("br"), sourceName(why)) : null,
      ),
      tokenCell(item.amount, d.decimals, d.asset),
      usd(BigInt(item.priceUsd)),
      priceSources(prices.get(d.asset)),
      usd(BigInt(item.valueUsd)),
    ];
  });
  const table = scrollTable(
    "Reserve line items",
    ["Holder / custodian", "Status", "Amount", "Price", "Price sources", "Value"],
    rows,
    { numeric: [2, 3, 5], stack: true },
  );
  table.classList.add("line-items");
  return h(
    "section",
    { id: "items", "aria-labelledby": "items-h" },
    h("h2", { id: "items-h" }, "Reserve line items"),
    foldable(
      `All ${report.reserves.items.length} line items`,
      h(
        "p",
        { class: "muted" },
        `The leaves of the reserves tree with root `,
        h("code", { title: report.reserves.root }, shortHex(report.reserves.root, 8)),
        ". Amounts are trimmed; hover or focus one for its exact value.",
      ),
      table,
    ),
  );
}

export function pricesSection(report: ReportJson): HTMLElement {
  const rows = report.prices.map((p) => [
    p.asset,
    p.priceUsd === null ? "none" : usd(BigInt(p.priceUsd)),
    `${p.method}${p.divergent ? ", divergent" : ""} (spread ${BigInt(p.divergenceBps) / 100n}.${(BigInt(p.divergenceBps) % 100n).toString().padStart(2, "0")} %)`,
    h(
      "ul",
      { class: "plain sources" },
      ...p.observations.map((o) =>
        h(
          "li",
          {},
          h("span", { "aria-hidden": "true" }, o.accepted ? "✓ " : "✗ "),
          h("code", { title: o.source }, sourceName(o.source)),
          `: ${o.priceUsd === null ? "no price" : usd(BigInt(o.priceUsd))}`,
          o.updatedAt ? ` at ${utcTime(o.updatedAt)}` : "",
          o.accepted ? "" : ` (rejected${o.reason ? `: ${o.reason}` : ""})`,
        ),
      ),
    ),
  ]);
  return h(
    "section",
    { id: "prices", "aria-labelledby": "prices-h" },
    h("h2", { id: "prices-h" }, "Prices"),
    foldable(
      `How ${report.prices.length} assets were priced`,
      scrollTable("Prices and their sources", ["Asset", "Chosen price", "Method", "Sources"], rows, {
        numeric: [1],
        stack: true,
      }),
    ),
  );
}

/** Long detail that a wide screen shows open and a phone folds away. */
export function foldable(summary: string, ...children: Child[]): HTMLElement {
  const wide = typeof matchMedia === "function" && matchMedia("(min-width: 48rem)").matches;
  return h("details", { class: "foldable", open: wide }, h("summary", {}, summary), ...children);
}
