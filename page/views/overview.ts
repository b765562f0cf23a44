/** `#/`: every issuer with its ratio, status and the age of its latest attestation. */
import { type Attestation, attestationFromJson, verifySignedAttestation } from "../../core/attestation.js";
import { type KeysDocument, parseKeysDocument } from "../../core/keysDocument.js";
import {
  type AttestationAnswer,
  attestationHistory,
  type IssuerSummary,
  keysDocument,
  latestAttestation,
  listIssuers,
  relayerStatus,
} from "../api.js";
import { sparkline } from "../charts.js";
import { codes, h } from "../dom.js";
import { age, ratio, usd, utcTime } from "../format.js";
import {
  flagNames,
  type IssuerStatus,
  issuerStatus,
  nowSeconds,
  STATUS_ORDER_NOTE,
  STATUS_RULES,
} from "../issuerStatus.js";
import { type OnChainStatus, readOnChain } from "../onChain.js";
import { flagWords } from "../plainWords.js";
import { sortableTable } from "../sortTable.js";

interface Row {
  summary: IssuerSummary;
  answer: AttestationAnswer | null;
  attestation: Attestation | null;
  signature: { ok: boolean; text: string };
  /** Ratios of the recent attestations, oldest first. */
  ratios: bigint[];
  onChain: OnChainStatus | null;
  status: IssuerStatus;
  why: string;
}

const SEVERITY: Record<IssuerStatus, number> = { stale: 0, flagged: 1, healthy: 2 };
const SPARK_POINTS = 30;

export function statusBadge(status: IssuerStatus, why: string): HTMLElement {
  return h("span", { class: `badge badge-${status}`, title: `${status}: ${why}`, "data-status": status }, status);
}

/** A relative time that keeps itself current (see main.ts's ticker). */
export function liveAge(seconds: bigint | string): HTMLElement {
  return h(
    "time",
    { datetime: new Date(Number(seconds) * 1000).toISOString(), "data-age": String(seconds), title: utcTime(seconds) },
    age(seconds),
  );
}

async function signatureOf(
  answer: AttestationAnswer,
  keys: KeysDocument | null,
): Promise<{ attestation: Attestation | null; signature: Row["signature"] }> {
  let attestation: Attestation;
  try {
    attestation = attestationFromJson(answer.attestation);
  } catch (e) {
    return { attestation: null, signature: { ok: false, text: `unreadable: ${(e as Error).message}` } };
  }
  if (keys === null) return { attestation, signature: { ok: false, text: "keys document unavailable" } };
  const check = await verifySignedAttestation({ attestation, signature: answer.signature as `0x${string}`, keys });
  return {
    attestation,
    signature: check.ok ? { ok: true, text: "valid" } : { ok: false, text: check.reasons.join("; ") },
  };
}

export async function renderOverview(main: HTMLElement): Promise<void> {
  const [issuers, keysJson] = await Promise.all([listIssuers(), keysDocument().catch(() => null)]);
  let keys: KeysDocument | null = null;
  try {
    keys = keysJson === null ? null : parseKeysDocument(keysJson);
  } catch {
    keys = null;
  }
  const now = nowSeconds();
  const rows: Row[] = await Promise.all(
    issuers.map(async (summary): Promise<Row> => {
      const [answer, history, relayer] = await Promise.all([
        summary.sequence === null ? null : latestAttestation(summary.id),
        summary.sequence === null
          ? { attestations: [] as AttestationAnswer[] }
          : attestationHistory(summary.id, SPARK_POINTS),
        relayerStatus(summary.id),
      ]);
      const recent = history.attestations.slice(0, SPARK_POINTS);
      const times = new Map(
        recent.map((a) => [
          a.attestation.sequence,
          { observedAt: BigInt(a.attestation.observedAt), validUntil: BigInt(a.attestation.validUntil) },
        ]),
      );
      const onChain = relayer === null ? null : readOnChain(relayer, (s) => times.get(s) ?? null, now);
      const ratios = recent
        .map((a) => BigInt(a.attestation.ratioBps))
        .filter((r) => r < 4294967295n)
        .reverse();
      const base = { summary, answer, ratios, onChain };
      if (answer === null)
        return {
          ...base,
          attestation: null,
          signature: { ok: false, text: "no attestation" },
          ...issuerStatus(null, now),
        };
      const checked = await signatureOf(answer, keys);
      return { ...base, ...checked, ...issuerStatus(checked.attestation, now) };
    }),
  );

  const ratioOf = (r: Row) => (r.attestation ? BigInt(r.attestation.ratioBps) : -1n);
  const byRatio = (a: Row, b: Row) => (ratioOf(a) < ratioOf(b) ? -1 : ratioOf(a) > ratioOf(b) ? 1 : 0);
  const copyAge = (r: Row) =>
    r.onChain?.copy?.observedAt ? Number(now - r.onChain.copy.observedAt) : Number.MAX_SAFE_INTEGER;
  const table = sortableTable<Row>({
    label: "Issuers, worst first",
    initial: { column: 1, direction: "ascending" },
    rowAttrs: (r) => ({ "data-issuer": r.summary.id }),
    rows,
    columns: [
      {
        title: "Issuer",
        cell: (r) =>
          h(
            "span",
            {},
            h("a", { href: `#/issuer/${encodeURIComponent(r.summary.id)}` }, r.summary.name),
            h("br"),
            h("code", { class: "muted small" }, r.summary.id),
          ),
        compare: (a, b) => a.summary.name.localeCompare(b.summary.name),
      },
      {
        title: "Status",
        cell: (r) => statusBadge(r.status, r.why),
        // Worst first: stale, then flagged, then healthy; within one status the lower ratio first.
        compare: (a, b) => SEVERITY[a.status] - SEVERITY[b.status] || byRatio(a, b),
      },
      {
        title: "Ratio",
        numeric: true,
        cell: (r) =>
          h(
            "span",
            { class: "ratio-cell" },
            h(
              "strong",
              { class: "ratio", "data-testid": "ratio" },
              r.attestation ? ratio(r.attestation.ratioBps) : "—",
            ),
            r.ratios.length > 0
              ? sparkline(
                  r.ratios,
                  `Ratio over the last ${r.ratios.length} attestations: from ${ratio(r.ratios[0]!)} to ${ratio(r.ratios.at(-1)!)}`,
                  { reference: 10000n },
                )
              : null,
          ),
        compare: byRatio,
      },
      {
        title: "Reserves / liabilities",
        numeric: true,
        cell: (r) =>
          r.attestation
            ? h(
                "span",
                {},
                usd(r.attestation.reservesUsd),
                h("br"),
                h("span", { class: "muted small" }, `owes ${usd(r.attestation.liabilitiesUsd)}`),
              )
            : "—",
        compare: (a, b) =>
          Number((a.attestation?.reservesUsd ?? 0n) - (b.attestation?.reservesUsd ?? 0n) > 0n) -
          Number((a.attestation?.reservesUsd ?? 0n) < (b.attestation?.reservesUsd ?? 0n)),
      },
      {
        title: "Latest attestation",
        cell: (r) =>
          r.attestation
            ? h("span", { "data-testid": "age" }, `#${r.attestation.sequence}, `, liveAge(r.attestation.observedAt))
            : "none yet",
        compare: (a, b) => Number(a.attestation?.observedAt ?? 0n) - Number(b.attestation?.observedAt ?? 0n),
      },
      {
        title: "On-chain copy",
        cell: (r) => onChainCell(r.onChain, now),
        compare: (a, b) => copyAge(b) - copyAge(a),
      },
      {
        title: "Warnings",
        cell: (r) => flagsCell(r.attestation),
        compare: (a, b) => flagCount(b.attestation) - flagCount(a.attestation),
      },
      {
        title: "Signature",
        cell: (r) =>
          r.answer === null
            ? "—"
            : h(
                "span",
                { class: r.signature.ok ? "ok" : "bad", "data-testid": "signature" },
                h("span", { "aria-hidden": "true" }, r.signature.ok ? "✓ " : "✗ "),
                r.signature.ok ? "valid, checked here" : `invalid: ${r.signature.text}`,
              ),
      },
    ],
  });

  main.replaceChildren(
    h("h1", { tabindex: -1 }, "Issuers"),
    h(
      "p",
      { class: "lede" },
      "Each issuer's reserves against what it owes, read at pinned blocks and signed by this publisher; the worst first. ",
      "Signatures are checked here, in your browser. Sort by any column; see also the ",
      h("a", { href: "#/dependencies" }, "dependency map"),
      " of issuers whose reserves hold each other's tokens.",
    ),
    rows.length === 0 ? h("p", {}, "No issuers are configured on this publisher.") : table,
    h(
      "section",
      { class: "legend-box", "aria-labelledby": "status-legend" },
      h("h2", { id: "status-legend" }, "What the status means"),
      h(
        "dl",
        { class: "status-legend" },
        ...(["healthy", "flagged", "stale"] as const).flatMap((s) => [
          h("dt", {}, statusBadge(s, STATUS_RULES[s])),
          h("dd", {}, STATUS_RULES[s]),
        ]),
      ),
      h(
        "p",
        { class: "muted" },
        STATUS_ORDER_NOTE,
        " The ratio is counted reserves over liabilities; below 100 % is the warning \u201cless in reserve than owed\u201d.",
      ),
    ),
  );
}

function flagCount(a: Attestation | null): number {
  return a ? flagNames(a.flags).length : -1;
}

function flagsCell(a: Attestation | null): HTMLElement | string {
  if (!a) return "—";
  if (a.flags === 0n) return h("span", { "data-testid": "flags", "data-codes": "" }, "none");
  const names = flagNames(a.flags);
  return h(
    "span",
    { "data-testid": "flags", "data-codes": names.join(",") },
    h("span", { class: "flag-words" }, names.map(flagWords).join("; ")),
    codes("Codes", names.join(", ")),
  );
}

function onChainCell(status: OnChainStatus | null, now: bigint): HTMLElement | string {
  if (status === null) return h("span", { class: "muted" }, "unknown");
  if (!status.configured) return h("span", { class: "muted", "data-testid": "onchain-age" }, "not published on-chain");
  const copy = status.copy;
  if (!copy) return h("span", { class: "bad", "data-testid": "onchain-age" }, "nothing on-chain yet");
  const expired = copy.validUntil !== null && now > copy.validUntil;
  return h(
    "span",
    { class: expired ? "bad" : "", "data-testid": "onchain-age" },
    `#${copy.sequence}`,
    copy.observedAt === null ? "" : `, ${age(copy.observedAt, Number(now))}`,
    expired ? h("span", {}, h("br"), "expired") : null,
  );
}
