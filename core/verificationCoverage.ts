/**
 * What a count of users who fetched their inclusion proof says about
 * omissions: if the issuer had left a share of its users out of a ledger,
 * how likely is it that none of the users who checked was one of them?
 *
 * Model (docs/security.md, "Verification coverage"): the issuer's real users
 * are the `leafCount` users in the ledger plus `omitted` users left out,
 * where `omitted` is the smallest whole number that is at least `shareBps`
 * of all of them. `checked` users, drawn uniformly at random from all real
 * users without replacement, look for themselves. The omission goes
 * unnoticed when every one of them is in the ledger, which is the
 * hypergeometric probability of drawing zero omitted users:
 *
 *   P = C(leafCount, checked) / C(leafCount + omitted, checked)
 *
 * and P <= (1 - share)^checked (each draw misses the omitted users with
 * probability at most 1 - share), also returned, as `bound`.
 *
 * These are display figures, never hashed, signed or compared in a check, so
 * they are floating point. The random-sample assumption is the weak point:
 * users who check are self-selected, and an issuer that knows who never
 * checks can leave exactly those out; the figure does not cover that.
 */
import { fail } from "./errors.js";
import { parseSafeInteger } from "./numbers.js";

/** The shares of users the publisher states the chance for: 0.1 %, 1 % and 5 %, in basis points. */
export const COVERAGE_SHARES_BPS: readonly number[] = [10, 100, 500];

export interface UnnoticedOmission {
  /** The share of all real users left out, in basis points (100 = 1 %). */
  shareBps: number;
  /** How many users that is, beside the leafCount in the ledger. */
  omitted: number;
  /** Hypergeometric chance that none of the `checked` users was among the omitted ones (0 to 1). */
  chance: number;
  /** (1 - share)^checked: an upper bound of `chance`, for readers who prefer the simpler formula. */
  bound: number;
}

/** The users left out when `shareBps` of all users are: the smallest m with m / (leafCount + m) >= shareBps / 10000. */
export function omittedUsers(leafCount: number, shareBps: number): number {
  const n = BigInt(leafCount);
  const s = BigInt(shareBps);
  return Number((s * n + (10_000n - s) - 1n) / (10_000n - s));
}

const SMALL = 256;
let smallLogFactorials: Float64Array | null = null;

/** ln(n!): summed exactly below 256, Stirling's series above (its error there is far below a double's rounding). */
function logFactorial(n: number): number {
  if (n < SMALL) {
    if (smallLogFactorials === null) {
      smallLogFactorials = new Float64Array(SMALL);
      for (let i = 2; i < SMALL; i++) smallLogFactorials[i] = smallLogFactorials[i - 1]! + Math.log(i);
    }
    return smallLogFactorials[n]!;
  }
  const n2 = n * n;
  return (
    n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n * n2) + 1 / (1260 * n * n2 * n2)
  );
}

/** ln C(n, k) for 0 <= k <= n. */
function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * The chance that leaving `shareBps` of all users out of a ledger of
 * `leafCount` users goes unnoticed by `checked` distinct users who looked for
 * themselves in it (see the model above). `checked` counts only users found
 * in the ledger, so it cannot exceed `leafCount`.
 *
 * @example
 * unnoticedOmission({ leafCount: 1000, checked: 100, shareBps: 100 }).chance // ≈ 0.32: 1 % left out (11 users), 100 checks
 */
export function unnoticedOmission(params: { leafCount: number; checked: number; shareBps: number }): UnnoticedOmission {
  const leafCount = parseSafeInteger(params.leafCount, "leafCount");
  const checked = parseSafeInteger(params.checked, "checked");
  const shareBps = parseSafeInteger(params.shareBps, "shareBps");
  if (shareBps < 1 || shareBps > 9_999)
    fail("OUT_OF_RANGE", "shareBps", `${shareBps} is not a share between 1 and 9999 basis points`);
  if (checked > leafCount)
    fail("OUT_OF_RANGE", "checked", `${checked} users cannot have found themselves in a ledger of ${leafCount}`);
  const omitted = omittedUsers(leafCount, shareBps);
  const bound = Math.exp(checked * Math.log1p(-shareBps / 10_000));
  // P <= bound holds exactly; the min keeps rounding from ever showing the chance above its own bound.
  const chance =
    checked === 0
      ? 1
      : Math.min(bound, Math.exp(logChoose(leafCount, checked) - logChoose(leafCount + omitted, checked)));
  return { shareBps, omitted, chance, bound };
}

/** `unnoticedOmission` for each of COVERAGE_SHARES_BPS. */
export function unnoticedOmissions(leafCount: number, checked: number): UnnoticedOmission[] {
  return COVERAGE_SHARES_BPS.map((shareBps) => unnoticedOmission({ leafCount, checked, shareBps }));
}
