/**
 * Compares what the Worker published for one issuer (the attestation, its
 * SPEC §4 report and the gate's verdict) with a scenario's expectations.
 * Every function returns the differences as short sentences; none means pass.
 */
import { formatUnits, parseUnits } from "viem";
import type { ReportJson } from "../../core/report.js";
import type { IssuerExpect, UsdMatcher } from "./format.js";
import type { ScenarioWorld } from "./world.js";

export interface GateAnswer {
  allow: boolean;
  reasons: { code: string; message: string; flag?: string }[];
}

const usd = (v: bigint) => formatUnits(v, 18);

export function flagNames(report: ReportJson): string[] {
  return report.flags.map((f) => f.name);
}

export function checkFlags(seen: readonly string[], set: readonly string[], notSet: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of set) if (!seen.includes(f)) out.push(`${f} not set`);
  for (const f of notSet) if (seen.includes(f)) out.push(`${f} set but must not be`);
  return out;
}

export function usdMatches(actual: bigint, m: UsdMatcher): boolean {
  if (typeof m === "string") return actual === parseUnits(m, 18);
  const want = parseUnits(m.approx, 18);
  const diff = actual > want ? actual - want : want - actual;
  return diff * 10000n <= BigInt(m.toleranceBps) * want;
}

const showMatcher = (m: UsdMatcher) => (typeof m === "string" ? m : `${m.approx} ±${m.toleranceBps} bps`);

export function checkReport(report: ReportJson, expect: IssuerExpect, world: ScenarioWorld, chainId: number): string[] {
  const out = checkFlags(flagNames(report), expect.flagsSet, expect.flagsNotSet);
  for (const [flag, text] of Object.entries(expect.flagReasons)) {
    const raised = report.flags.find((f) => f.name === flag);
    if (raised && !raised.reason.includes(text as string))
      out.push(`${flag} reason "${raised.reason}" lacks "${text}"`);
  }
  const t = report.totals;
  const ratio = Number(t.ratioBps);
  if (typeof expect.ratioBps === "number" && ratio !== expect.ratioBps)
    out.push(`ratioBps ${ratio}, expected ${expect.ratioBps}`);
  if (typeof expect.ratioBps === "object" && (ratio < expect.ratioBps.min || ratio > expect.ratioBps.max)) {
    out.push(`ratioBps ${ratio}, expected ${expect.ratioBps.min}…${expect.ratioBps.max}`);
  }
  for (const field of ["reservesUsd", "liabilitiesUsd", "offchainReservesUsd"] as const) {
    const m = expect[field];
    if (m !== undefined && !usdMatches(BigInt(t[field]), m))
      out.push(`${field} ${usd(BigInt(t[field]))}, expected ${showMatcher(m)}`);
  }
  for (const m of expect.items) {
    let item: ReportJson["reserves"]["items"][number] | undefined;
    let what: string;
    if (m.holder !== undefined && m.token !== undefined) {
      const label = `evm:${chainId}:${world.accounts.get(m.holder)!.address.toLowerCase()}:${world.tokens.get(m.token)!.address.toLowerCase()}`;
      item = report.reserves.items.find((i) => i.label === label);
      what = `item ${m.holder}/${m.token}`;
    } else {
      item = report.reserves.items.find(
        (i) => i.details.kind === "custodian" && i.details.custodian === m.custodian && i.details.account === m.account,
      );
      what = `item ${m.custodian}/${m.account}`;
    }
    if (!item) {
      out.push(`${what} is not in the report`);
      continue;
    }
    if (m.status !== undefined && item.status !== m.status)
      out.push(`${what} has status ${item.status}, expected ${m.status}`);
    if (m.valueUsd !== undefined && !usdMatches(BigInt(item.valueUsd), m.valueUsd))
      out.push(`${what} valued ${usd(BigInt(item.valueUsd))}, expected ${showMatcher(m.valueUsd)}`);
    if (m.exclusion !== undefined) {
      const allowed = Array.isArray(m.exclusion) ? m.exclusion : [m.exclusion];
      if (!allowed.includes(item.details.exclusion as string))
        out.push(`${what} exclusion ${item.details.exclusion}, expected ${allowed.join(" or ")}`);
    }
    if (m.amountRead !== undefined) {
      const d = item.details;
      const read =
        d.kind !== "custodian" && d.amountRead !== null && d.decimals !== null
          ? formatUnits(BigInt(d.amountRead), Number(d.decimals))
          : null;
      if (read === null || parseUnits(read, 18) !== parseUnits(m.amountRead, 18))
        out.push(`${what} amountRead ${read}, expected ${m.amountRead}`);
    }
  }
  for (const m of expect.prices) {
    const p = report.prices.find((x) => x.asset === m.asset);
    if (!p) {
      out.push(`no price of ${m.asset} in the report`);
      continue;
    }
    if (m.priceUsd !== undefined && (p.priceUsd === null || !usdMatches(BigInt(p.priceUsd), m.priceUsd))) {
      out.push(
        `${m.asset} priced ${p.priceUsd === null ? "null" : usd(BigInt(p.priceUsd))}, expected ${showMatcher(m.priceUsd)}`,
      );
    }
    if (m.method !== undefined && p.method !== m.method)
      out.push(`${m.asset} price method ${p.method}, expected ${m.method}`);
    if (m.divergent !== undefined && p.divergent !== m.divergent)
      out.push(`${m.asset} divergent ${p.divergent}, expected ${m.divergent}`);
  }
  return out;
}

export function checkGate(answer: GateAnswer, expect: NonNullable<IssuerExpect["gate"]>): string[] {
  const out: string[] = [];
  const codes = answer.reasons.map((r) => (r.code === "FLAG_DENIED" && r.flag ? `FLAG_DENIED:${r.flag}` : r.code));
  if (answer.allow !== expect.allow)
    out.push(`gate allow=${answer.allow}, expected ${expect.allow} (reasons: ${codes.join(", ") || "none"})`);
  for (const code of expect.reasons)
    if (!codes.includes(code)) out.push(`gate reasons lack ${code} (got: ${codes.join(", ") || "none"})`);
  return out;
}

/** One line of what was seen, for PASS and FAIL lines alike. */
export function summary(id: string, report: ReportJson): string {
  const ratio = Number(report.totals.ratioBps);
  return `${id}: ratio ${(ratio / 100).toFixed(2)}%, flags ${flagNames(report).join(",") || "none"}`;
}
