/**
 * What `solvent ledger upload` checks before it sends a byte: the file read
 * with the publisher's ledger assets and decimals (the same parser as the
 * publisher's, so the same row errors), its per-asset totals in whole units,
 * and the change against the ledger of the issuer's latest attestation. A
 * change beyond LARGE_CHANGE times up or down in any asset is refused unless
 * allowed: the classic unit slip (base units read as whole units, or the
 * reverse) moves every total by 10^decimals.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { type AmountUnits, formatUnits } from "../../core/numbers.js";
import { type LedgerFormat, type LedgerRowError, parseLedger } from "../../worker/ledger/parseLedger.js";
import { UsageError } from "./io.js";

/** A total that moves more than this many times up or down is refused without --allow-large-change. */
export const LARGE_CHANGE = 100n;

export interface LedgerAsset {
  id: string;
  decimals: number;
}

/** The publisher's ledger assets in column order with their decimals (GET /v1/admin/issuers/{issuer}/ledger). */
export async function fetchLedgerAssets(
  base: URL,
  issuer: string,
  auth: Record<string, string>,
): Promise<LedgerAsset[]> {
  const url = new URL(`/v1/admin/issuers/${encodeURIComponent(issuer)}/ledger`, base);
  let res: Response;
  try {
    res = await fetch(url, { headers: auth });
  } catch (e) {
    throw new UsageError(`could not reach ${url.origin}: ${(e as Error).cause ?? (e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { assets?: unknown; error?: { message?: string } };
  if (!res.ok) {
    const why = body.error?.message ?? res.statusText;
    throw new UsageError(
      res.status === 404 && body.error === undefined
        ? `${url.href} answered 404: this publisher does not say its ledger assets' decimals; update it before uploading with this CLI`
        : `the publisher refused to describe the ledger of "${issuer}" (${res.status}): ${why}`,
    );
  }
  const assets = body.assets;
  if (!Array.isArray(assets) || !assets.every((a) => typeof a?.id === "string" && Number.isInteger(a?.decimals))) {
    throw new UsageError(`${url.href} did not answer { assets: [{ id, decimals }] }`);
  }
  return assets as LedgerAsset[];
}

export interface LocalCheck {
  rows: number;
  totals: bigint[];
  errors: LedgerRowError[];
  errorCount: number;
}

/** Reads the whole file as the publisher will (format, assets, units, decimals); nothing is sent. */
export async function checkLedgerFile(
  file: string,
  format: LedgerFormat,
  assets: readonly LedgerAsset[],
  units: AmountUnits,
): Promise<LocalCheck> {
  const body = Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
  const parsed = await parseLedger(body, {
    format,
    assets: assets.map((a) => a.id),
    units,
    decimals: assets.map((a) => a.decimals),
  });
  return { rows: parsed.rows, totals: parsed.totals, errors: parsed.errors, errorCount: parsed.errorCount };
}

/** One ledger asset's total in the issuer's latest attestation. */
export interface CurrentTotal {
  amount: bigint;
  decimals: number;
}

export interface CurrentLedger {
  sequence: string;
  ledgerId: string | null;
  /** By asset id: the ledger's totals as the report states them. */
  totals: Map<string, CurrentTotal>;
}

/**
 * The ledger totals of the issuer's latest attestation, from its public
 * report (`liabilities.assets` of source "ledger"); null when nothing was
 * published yet.
 */
export async function fetchCurrentLedger(base: URL, issuer: string): Promise<CurrentLedger | null> {
  const latestUrl = new URL(`/v1/issuers/${encodeURIComponent(issuer)}/attestations/latest`, base);
  const latest = await fetch(latestUrl);
  if (latest.status === 404) return null;
  if (!latest.ok) throw new Error(`${latestUrl.href} answered ${latest.status}`);
  const signed = (await latest.json()) as { attestation?: { sequence?: string }; reportUrl?: string };
  if (typeof signed.reportUrl !== "string") throw new Error(`${latestUrl.href} named no reportUrl`);
  const reportRes = await fetch(new URL(signed.reportUrl, base));
  if (!reportRes.ok) throw new Error(`${signed.reportUrl} answered ${reportRes.status}`);
  const report = (await reportRes.json()) as {
    liabilities?: {
      assets?: { asset: string; source: string; amount: string; decimals: string }[];
      ledger?: { id?: string; ledgerId?: string } | null;
    };
  };
  const totals = new Map<string, CurrentTotal>();
  for (const a of report.liabilities?.assets ?? []) {
    if (a.source === "ledger") totals.set(a.asset, { amount: BigInt(a.amount), decimals: Number(a.decimals) });
  }
  return {
    sequence: String(signed.attestation?.sequence ?? "?"),
    ledgerId: report.liabilities?.ledger?.id ?? report.liabilities?.ledger?.ledgerId ?? null,
    totals,
  };
}

export interface AssetChange {
  asset: string;
  decimals: number;
  total: bigint;
  /** Null when there is no current ledger to compare with. */
  current: CurrentTotal | null;
  /** Beyond LARGE_CHANGE times up or down (a drop to zero included). */
  large: boolean;
  /** "+12.5%", "x1000000", "new", "unchanged", "" without a current ledger. */
  change: string;
}

/** Per asset: the new total against the current one, compared in whole units (the decimals may differ). */
export function compareTotals(
  assets: readonly LedgerAsset[],
  totals: readonly bigint[],
  current: CurrentLedger | null,
): AssetChange[] {
  return assets.map((a, i) => {
    const total = totals[i]!;
    if (current === null) return { asset: a.id, decimals: a.decimals, total, current: null, large: false, change: "" };
    const was = current.totals.get(a.id) ?? { amount: 0n, decimals: a.decimals };
    // Both sides scaled to the same number of decimals.
    const next = total * 10n ** BigInt(was.decimals);
    const prev = was.amount * 10n ** BigInt(a.decimals);
    let change: string;
    let large = false;
    if (prev === 0n) change = next === 0n ? "unchanged" : "new (was 0)";
    else if (next === prev) change = "unchanged";
    else {
      large = next > prev * LARGE_CHANGE || next * LARGE_CHANGE < prev;
      if (large) change = next === 0n ? "to zero" : next > prev ? `x${ratio(next, prev)}` : `/${ratio(prev, next)}`;
      else change = percent(next, prev);
    }
    return { asset: a.id, decimals: a.decimals, total, current: was, large, change };
  });
}

/** a / b with one decimal, rounded down (display only). */
function ratio(a: bigint, b: bigint): string {
  const tenths = (a * 10n) / b;
  return `${groupDigits((tenths / 10n).toString())}.${tenths % 10n}`;
}

/** (a - b) / b in percent with two decimals, rounded toward zero (display only). */
function percent(a: bigint, b: bigint): string {
  const bp = ((a - b) * 10000n) / b;
  const abs = bp < 0n ? -bp : bp;
  return `${bp < 0n ? "-" : "+"}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}%`;
}

function groupDigits(whole: string): string {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The table printed before an upload: asset, new total, current total, change. */
export function totalsTable(changes: readonly AssetChange[], current: CurrentLedger | null): string[] {
  const head = [
    "asset",
    "new total",
    current === null ? "current" : `current (attestation #${current.sequence})`,
    "change",
  ];
  const rows = changes.map((c) => [
    `${c.asset} (${c.decimals} decimals)`,
    formatUnits(c.total, c.decimals),
    c.current === null ? "-" : formatUnits(c.current.amount, c.current.decimals),
    c.current === null ? "-" : `${c.change}${c.large ? "  <- more than 100x" : ""}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")}`.trimEnd();
  return [line(head), ...rows.map(line)];
}

/**
 * Asks `question` on `output` and reads one line from `input`: true only for
 * y or yes (any case). End of input counts as no.
 */
export async function askToConfirm(
  question: string,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: false });
  try {
    output.write(question);
    const answer = await new Promise<string | null>((resolve) => {
      rl.once("line", (line) => resolve(line));
      rl.once("close", () => resolve(null));
    });
    if (answer === null) output.write("\n");
    return answer !== null && /^\s*(y|yes)\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
