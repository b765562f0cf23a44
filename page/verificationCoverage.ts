/**
 * Verification coverage in words (issue #17): how many users of a ledger
 * fetched their proof, and what that says about omissions. The figures come
 * from the shared core (core/verificationCoverage.ts), recomputed here from
 * the publisher's two counts, so the page states the documented model
 * whatever the server sent. Pure (no DOM), so it is tested in Node.
 */
import { type UnnoticedOmission, unnoticedOmissions } from "../core/verificationCoverage.js";
import { amount } from "./format.js";

/** One ledger of `GET /v1/issuers/{issuer}/coverage` as it arrives. */
export interface CoverageEntryJson {
  id: string;
  asOf: string;
  leafCount: string;
  checked: string;
  attested: { from: string; to: string };
}

export interface CoverageView {
  leafCount: number;
  checked: number;
  /** The headline: how many looked. */
  sentence: string;
  /** What it implies, for the 1 % share. */
  implication: string;
  rows: { share: string; omitted: string; chance: string; bound: string }[];
}

/** "68.7 %", "over 99.9 %", "1 in 45,000", "less than 1 in a billion": a chance in words a reader compares at a glance. */
export function chanceText(p: number): string {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${p} is not a probability`);
  if (p === 1) return "100 %";
  if (p >= 0.999) return "over 99.9 %";
  if (p >= 0.001) return `${Number((p * 100).toPrecision(3))} %`;
  if (p >= 1e-9) return `1 in ${amount(BigInt(Number((1 / p).toPrecision(2))), 0)}`;
  return "less than 1 in a billion";
}

const shareText = (bps: number) => `${bps / 100} %`;
const users = (n: number) => `${amount(BigInt(n), 0)} user${n === 1 ? "" : "s"}`;

function parseCount(text: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) throw new Error(`the publisher's ${what} "${text}" is not a count`);
  return Number(text);
}

/** The coverage of one ledger in sentences and a table; throws (naming the field) on counts that cannot be. */
export function coverageView(entry: CoverageEntryJson): CoverageView {
  const leafCount = parseCount(entry.leafCount, "leafCount");
  const checked = parseCount(entry.checked, "checked");
  if (checked > leafCount)
    throw new Error(
      `the publisher says ${checked} users checked a ledger of ${leafCount}: a count above the ledger's size cannot be right`,
    );
  const omissions = unnoticedOmissions(leafCount, checked);
  const onePercent = omissions.find((o) => o.shareBps === 100) as UnnoticedOmission;
  const sentence =
    checked === 0
      ? `Nobody has fetched the proof of their balance from this ledger of ${users(leafCount)} yet.`
      : `${amount(BigInt(checked), 0)} of the ${users(leafCount)} in this ledger fetched the proof of their balance.`;
  const implication =
    checked === 0
      ? "So if the issuer had left users out of it, no check would have shown it yet."
      : `If the issuer had left 1 % of its users out (${users(onePercent.omitted)}), the chance that none of these ${amount(BigInt(checked), 0)} was among them, so that nobody noticed, would be ${chanceText(onePercent.chance)}.`;
  return {
    leafCount,
    checked,
    sentence,
    implication,
    rows: omissions.map((o) => ({
      share: shareText(o.shareBps),
      omitted: amount(BigInt(o.omitted), 0),
      chance: chanceText(o.chance),
      bound: chanceText(o.bound),
    })),
  };
}
