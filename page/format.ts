/**
 * Display formatting. Money stays a bigint until it becomes text: usd18
 * through the core's formatUsd18, token amounts by their decimals.
 */
import { formatUsd18, RATIO_BPS_MAX } from "../core/index.js";

/** "1234567" → "1,234,567" (digits only). */
function groupDigits(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** usd18 → "$1,234.56". */
export function usd(value: bigint, fractionDigits = 2): string {
  const [whole = "0", frac] = formatUsd18(value, fractionDigits).split(".");
  return `$${groupDigits(whole)}${frac === undefined ? "" : `.${frac}`}`;
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
