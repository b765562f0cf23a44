/**
 * The parts of an issuer page drawn from one report (SPEC §4): where the
 * reserves are, what is owed, which flags are raised and why, every line
 * item and every price with its sources.
 */
import { FLAGS, ReserveStatus } from "../../core/index.js";
import type { ReportItemJson, ReportJson, ReportPriceJson } from "../../core/report.js";
import { donut, type Slice } from "../charts.js";
import { h, scrollTable, type Child } from "../dom.js";
import { amount, ratio, share, shortHex, usd, usdShort, utcTime } from "../format.js";

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
  const slices: (Slice & { note: string })[] = [
    { label: "On-chain, counted", value: sumValues(items, [ReserveStatus.ON_CHAIN_PROVEN]), cls: "c-onchain", note: "status 0" },
    { label: "Off-chain, counted", value: sumValues(items, [ReserveStatus.OFF_CHAIN_STATEMENT]), cls: "c-offchain", note: "status 2" },
    { label: "Not counted", value: sumValues(items, [ReserveStatus.ON_CHAIN_UNPROVEN, ReserveStatus.EXCLUDED]), cls: "c-excluded", note: "status 1 and 3" },
  ];
  const all = slices.reduce((a, s) => a + s.value, 0n);
  const counted = (slices[0]?.value ?? 0n) + (slices[1]?.value ?? 0n);
  const chart = donut({
    label: `Reserves by status: ${slices.map((s) => `${s.label} ${usd(s.value, 0)} (${share(s.value, all)})`).join("; ")}`,
    slices,
    centre: usdShort(counted),
    centreSub: "counted",
  });
  const table = scrollTable(
    "Reserves by status",
    ["", "Reserves", "Value", "Share"],
    [
      ...slices.map((s) => [h("span", { class: `swatch ${s.cls}`, "aria-hidden": "true" }), h("span", {}, s.label, " ", h("span", { class: "muted" }, `(${s.note})`)), usd(s.value), share(s.value, all)]),
      [null, h("strong", {}, "Counted reserves"), h("strong", {}, usd(counted)), share(counted, all)],
    ],
    { numeric: [2, 3] },
  );
  return h(
    "section",
    { id: "reserves", "aria-labelledby": "reserves-h" },
    h("h2", { id: "reserves-h" }, "Reserves"),
    h("div", { class: "split" }, h("figure", { class: "donut-figure" }, chart, h("figcaption", { class: "sr-only" }, "Reserves by status; the table beside lists the values.")), table),
  );
}

export function liabilitiesSection(report: ReportJson, verifyLink: string | null): HTMLElement {
  const { liabilities } = report;
  const rows: Child[][] = liabilities.assets.map((a) => [
    a.asset,
    a.source === "ledger" ? "user ledger" : a.source === "supply" ? "token supply" : a.source,
    amount(a.amount, a.decimals, a.asset),
    `${usd(BigInt(a.priceUsd))} (${a.priceMethod})`,
    usd(BigInt(a.valueUsd)),
  ]);
  const total = liabilities.assets.reduce((a, x) => a + BigInt(x.valueUsd), 0n);
  rows.push([h("strong", {}, "Total"), null, null, null, h("strong", {}, usd(total))]);
  const supply = liabilities.supply.map((s) =>
    h(
      "li",
      {},
      `Token ${shortHex(s.token, 4)} on chain ${s.chainId} at block ${s.blockNumber}: total supply ${amount(s.totalSupply, s.decimals)}`,
      ...s.escrows.map((e) => ` minus ${amount(e.amount, s.decimals)} held by escrow ${shortHex(e.address, 4)}`),
      ` = ${amount(s.netSupply, s.decimals)}, valued at its peg ${usd(BigInt(s.pegUsd))}.`,
    ),
  );
  return h(
    "section",
    { id: "liabilities", "aria-labelledby": "liabilities-h" },
    h("h2", { id: "liabilities-h" }, "Liabilities"),
    scrollTable("Liabilities", ["Asset", "Source", "Amount", "Price", "Value"], rows, { numeric: [2, 3, 4], stack: true }),
    supply.length > 0 ? h("ul", { class: "plain" }, ...supply) : null,
    liabilities.ledger
      ? h(
          "p",
          {},
          `A ledger of ${amount("leafCount" in liabilities.ledger ? liabilities.ledger.leafCount : liabilities.ledger.users, 0)} user balances` +
            ("asOf" in liabilities.ledger ? ` as of ${utcTime(liabilities.ledger.asOf)}` : "") +
            ", committed in the Merkle sum tree with root ",
          h("code", { title: liabilities.root ?? "" }, shortHex(liabilities.root ?? "", 8)),
          ". ",
          verifyLink ? h("a", { href: verifyLink }, "Check that your balance is in it") : null,
        )
      : null,
  );
}

export function flagsSection(report: ReportJson): HTMLElement {
  const meaning = (bit: number) => FLAGS.find((f) => f.bit === bit)?.meaning ?? "not a SPEC §6 flag";
  return h(
    "section",
    { id: "flags", "aria-labelledby": "flags-h" },
    h("h2", { id: "flags-h" }, "Flags"),
    report.flags.length === 0
      ? h("p", { class: "ok" }, h("span", { "aria-hidden": "true" }, "✓ "), "No flags raised in this snapshot.")
      : h(
          "ul",
          { class: "flags" },
          ...report.flags.map((f) =>
            h("li", { "data-flag": f.name }, h("strong", {}, f.name), h("span", { class: "muted" }, ` (bit ${f.bit}: ${meaning(f.bit)})`), h("p", {}, f.reason)),
          ),
        ),
  );
}

function itemWhere(item: ReportItemJson): string {
  const d = item.details;
  if (d.kind === "custodian") {
    return d.statement ? `statement by ${d.custodian}, account ${d.account}, as of ${utcTime(d.statement.asOf)}` : `${d.custodian}, account ${d.account}: no valid statement`;
  }
  const block = d.blockNumber === null ? "no block" : `block ${d.blockNumber}`;
  const where = `${d.kind} on chain ${item.chainId}, ${block}; ownership: ${d.ownership.method}${d.ownership.proven ? " (proven)" : " (not proven)"}`;
  // Look-through holdings (a token backed by another issuer's attestation); read defensively, newer reports carry it.
  const look = (d as { lookThrough?: { issuer?: unknown; attestation?: { sequence?: unknown; ratioBps?: unknown } | null; haircutBps?: unknown } | null }).lookThrough;
  if (!look || typeof look.issuer !== "string") return where;
  const seq = look.attestation && typeof look.attestation.sequence === "string" ? ` #${look.attestation.sequence}` : "";
  const backing = look.attestation && typeof look.attestation.ratioBps === "string" ? ` at ${ratio(look.attestation.ratioBps)}` : "";
  const haircut = typeof look.haircutBps === "string" ? `, valued at ${ratio(look.haircutBps)} of market` : "";
  return `${where}; backed by ${look.issuer}'s attestation${seq}${backing}${haircut}`;
}

function priceSources(price: ReportPriceJson | undefined): Child {
  if (!price) return "—";
  return h(
    "ul",
    { class: "plain sources" },
    ...price.observations.map((o) =>
      h("li", { title: o.reason ?? o.source }, h("span", { "aria-hidden": "true" }, o.accepted ? "✓ " : "✗ "), sourceName(o.source), o.accepted ? "" : " (rejected)"),
    ),
  );
}

export function lineItemsSection(report: ReportJson): HTMLElement {
  const prices = new Map(report.prices.map((p) => [p.asset, p]));
  const rows = report.reserves.items.map((item) => {
    const d = item.details;
    const who = d.kind === "custodian" ? `${d.custodian} (${d.account})` : d.holderName ?? shortHex(item.holder, 4);
    const why = d.reason ?? d.exclusion;
    return [
      h("span", {}, h("strong", {}, who), h("br"), h("code", { class: "muted small", title: item.label }, sourceName(item.label)), h("br"), h("span", { class: "muted small" }, itemWhere(item))),
      h("span", { class: `item-status s${item.status}`, "data-status": String(item.status) }, STATUS_NAMES[item.status] ?? `status ${item.status}`, why ? h("span", { class: "muted small reason", title: why }, h("br"), sourceName(why)) : null),
      amount(item.amount, d.decimals, d.asset),
      usd(BigInt(item.priceUsd)),
      priceSources(prices.get(d.asset)),
      usd(BigInt(item.valueUsd)),
    ];
  });
  const table = scrollTable("Reserve line items", ["Holder / custodian", "Status", "Amount", "Price", "Price sources", "Value"], rows, { numeric: [2, 3, 5], stack: true });
  table.classList.add("line-items");
  return h(
    "section",
    { id: "items", "aria-labelledby": "items-h" },
    h("h2", { id: "items-h" }, "Reserve line items"),
    h("p", { class: "muted" }, `${report.reserves.items.length} items, leaves of the reserves tree with root `, h("code", { title: report.reserves.root }, shortHex(report.reserves.root, 8)), "."),
    table,
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
    scrollTable("Prices and their sources", ["Asset", "Chosen price", "Method", "Sources"], rows, { numeric: [1], stack: true }),
  );
}
