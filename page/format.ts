/**
 * Display formatting. Money stays a bigint until it becomes text: usd18
 * through the core's formatUsd18, token amounts by their decimals.
 */
import { formatUsd18, RATIO_BPS_MAX } from "../core/numbers.js";

/** "1234567" → "1,234,567" (digits only). */
function groupDigits(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * usd18 → "$1,234.56", truncated (never rounded up). The one formatter for
 * dollar amounts in text and tables, on every view; charts use usdCompact.
 */
export function usd(value: bigint, fractionDigits = 2): string {
  if (value < 0n) return `−${usd(-value, fractionDigits)}`;
  const [whole = "0", frac] = formatUsd18(value, fractionDigits).split(".");
  return `$${groupDigits(whole)}${frac === undefined ? "" : `.${frac}`}`;
}

/** A signed difference: "+$28,997.99" or "−$371.35". */
export function usdDelta(value: bigint): string {
  return value < 0n ? usd(value) : `+${usd(value)}`;
}

const UNITS: [bigint, string][] = [
  [10n ** 12n, "T"],
  [10n ** 9n, "B"],
  [10n ** 6n, "M"],
  [10n ** 3n, "k"],
];

/**
 * usd18 in three significant digits, for the little room of a chart:
 * "$1.03M", "$850k", "$12.3k"; below $1,000 the exact cents. Truncated, so a
 * surplus is never rounded into existence.
 */
export function usdCompact(value: bigint): string {
  if (value < 0n) return `−${usdCompact(-value)}`;
  const whole = value / 10n ** 18n;
  for (const [size, suffix] of UNITS) {
    if (whole < size) continue;
    const thousandths = (value * 1000n) / (size * 10n ** 18n); // the amount in units, × 1000
    const decimals = thousandths >= 100_000n ? 0 : thousandths >= 10_000n ? 1 : 2;
    const kept = thousandths / 10n ** BigInt(3 - decimals);
    const text =
      decimals === 0
        ? `${kept}`
        : `${kept / 10n ** BigInt(decimals)}.${(kept % 10n ** BigInt(decimals)).toString().padStart(decimals, "0")}`;
    return `$${groupDigits(text.split(".")[0]!)}${text.includes(".") ? `.${text.split(".")[1]}` : ""}${suffix}`;
  }
  return usd(value);
}

/** usd18 as a short axis label: "$1.2M", "$850k", "$12". */
export function usdShort(value: bigint): string {
  const whole = value / 10n ** 18n;
  const units: [bigint, string][] = [
    [10n ** 12n, "T"],
    [10n ** 9n, "B"],
    [10n ** 6n, "M"],
    [10n ** 3n, "k"],
  ];
  for (const [size, suffix] of units) {
    if (whole >= size) {
      const tenths = (whole * 10n) / size;
      const text = tenths % 10n === 0n ? `${tenths / 10n}` : `${tenths / 10n}.${tenths % 10n}`;
      return `$${text}${suffix}`;
    }
  }
  return `$${whole}`;
}

/** ratio in basis points → "102.89 %"; the cap means there is nothing owed. */
export function ratio(bps: bigint | number | string): string {
  const value = BigInt(bps);
  if (value >= RATIO_BPS_MAX) return "∞ (no liabilities)";
  return `${groupDigits((value / 100n).toString())}.${(value % 100n).toString().padStart(2, "0")} %`;
}

/** A token amount in base units with its decimals: "1,234.5 ETH". Unknown decimals show base units. */
export function amount(value: bigint | string, decimals: number | string | null, symbol?: string): string {
  const v = BigInt(value);
  const suffix = symbol ? ` ${symbol}` : "";
  if (decimals === null) return `${groupDigits(v.toString())} base units${suffix}`;
  const d = BigInt(decimals);
  const scale = 10n ** d;
  const whole = groupDigits((v / scale).toString());
  const frac = d === 0n ? "" : (v % scale).toString().padStart(Number(d), "0").replace(/0+$/, "");
  return `${whole}${frac ? `.${frac}` : ""}${suffix}`;
}

/**
 * A token amount trimmed to the digits that matter: 2 decimals from 100
 * up, 4 from 1, else 4 significant digits; truncated. For display beside the
 * exact value (`amount`), which goes in the title.
 */
export function tokenAmount(value: bigint | string, decimals: number | string | null, symbol?: string): string {
  const v = BigInt(value);
  if (v < 0n) return `−${tokenAmount(-v, decimals, symbol)}`;
  if (decimals === null) return amount(v, null, symbol);
  const d = Number(decimals);
  const scale = 10n ** BigInt(d);
  const whole = v / scale;
  let keep: number;
  if (whole >= 100n) keep = 2;
  else if (whole >= 1n) keep = 4;
  else {
    const digits = (v % scale).toString().length; // significant digits of the fraction
    keep = d - digits + 4;
  }
  keep = Math.max(0, Math.min(d, keep));
  const trimmed = v - (v % 10n ** BigInt(d - keep));
  const text = amount(trimmed, d);
  return `${v !== 0n && trimmed === 0n ? "< " : ""}${text}${symbol ? ` ${symbol}` : ""}`;
}

/** A coverage in basis points (reserves over owed × 10000) as "116.87 %". */
export function coveragePercent(bps: bigint): string {
  return `${groupDigits((bps / 100n).toString())}.${(bps % 100n).toString().padStart(2, "0")} %`;
}

/** Seconds as a span: "5 min", "2 h 10 min", "3 d". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
  return `${Math.floor(s / 86400)} d`;
}

/** Unix seconds → "2026-05-01 12:34:56 UTC". */
export function utcTime(seconds: bigint | number | string): string {
  const ms = Number(seconds) * 1000;
  if (!Number.isFinite(ms) || ms > 8.64e15) return `${seconds} (unix seconds)`;
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** How long ago (or, for the future, how long until) a unix time is, relative to `now` seconds. */
export function age(seconds: bigint | number | string, now: number = Date.now() / 1000): string {
  const delta = Math.round(now - Number(seconds));
  const span = Math.abs(delta);
  let text: string;
  if (span < 5) return "just now";
  if (span < 60) text = `${span} s`;
  else if (span < 3600) text = `${Math.floor(span / 60)} min`;
  else if (span < 86400) text = `${Math.floor(span / 3600)} h`;
  else text = `${Math.floor(span / 86400)} d`;
  return delta >= 0 ? `${text} ago` : `in ${text}`;
}

/** "0x1234…abcd" for long hex, full value kept for the title. */
export function shortHex(hex: string, keep = 6): string {
  return hex.length <= keep * 2 + 3 ? hex : `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}`;
}

/** Percent of a part in a whole, both usd18: "42.1 %" (display only). */
export function share(part: bigint, whole: bigint): string {
  if (whole === 0n) return "0 %";
  const tenths = (part * 1000n) / whole;
  return `${tenths / 10n}.${tenths % 10n} %`;
}
