import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SolventError } from "../../core/errors.js";
import {
  COVERAGE_SHARES_BPS,
  omittedUsers,
  unnoticedOmission,
  unnoticedOmissions,
} from "../../core/verificationCoverage.js";

/** C(n, k) exactly. */
function choose(n: number, k: number): bigint {
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

/** C(L, k) / C(L + m, k) in exact integers, then to a double (18 digits are kept before the division). */
function exactChance(leafCount: number, checked: number, omitted: number): number {
  const scale = 10n ** 30n;
  return Number((choose(leafCount, checked) * scale) / choose(leafCount + omitted, checked)) / 1e30;
}

/** The same chance as a product over the draws, prod (L - i) / (L + m - i), summed in logs: another formula than the core's. */
function productChance(leafCount: number, checked: number, omitted: number): number {
  let log = 0;
  for (let i = 0; i < checked; i++) log += Math.log1p(-omitted / (leafCount + omitted - i));
  return Math.exp(log);
}

const close = (actual: number, expected: number, relative = 1e-9) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * expected + 1e-300);

describe("omitted users for a share", () => {
  it("is the smallest count that is at least the share of all users", () => {
    // 1 % of 1000 + m: m = 11 (11 / 1011 = 1.09 %; 10 / 1010 = 0.99 % is short)
    expect(omittedUsers(1000, 100)).toBe(11);
    expect(omittedUsers(99, 100)).toBe(1); // 1 / 100 exactly
    expect(omittedUsers(1, 10)).toBe(1);
    expect(omittedUsers(0, 500)).toBe(0);
    expect(omittedUsers(10_000_000, 500)).toBe(526_316);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 9_999 }), (n, bps) => {
        const m = omittedUsers(n, bps);
        expect(BigInt(m) * 10_000n >= BigInt(bps) * BigInt(n + m)).toBe(true);
        expect(BigInt(m - 1) * 10_000n < BigInt(bps) * BigInt(n + m - 1)).toBe(true);
      }),
    );
  });
});

describe("the chance that an omission goes unnoticed (hypergeometric, sampling without replacement)", () => {
  it("matches hand-computed values", () => {
    // 20 listed, 13 % left out (3 users: 3 / 23 = 13.04 %, 2 / 22 = 9.1 % is short), 5 checks: C(20,5) / C(23,5) = 15504 / 33649.
    expect(omittedUsers(20, 1300)).toBe(3);
    close(unnoticedOmission({ leafCount: 20, checked: 5, shareBps: 1300 }).chance, 15504 / 33649);
    // 1000 listed, 1 % (11 users) left out, 100 checks: 0.3161…
    close(unnoticedOmission({ leafCount: 1000, checked: 100, shareBps: 100 }).chance, 0.31610174164075383, 1e-9);
  });

  it("equals the exact ratio of binomials and the product over draws", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.nat(),
        (leafCount, shareBps, k) => {
          const checked = k % (leafCount + 1);
          const { chance, omitted } = unnoticedOmission({ leafCount, checked, shareBps });
          const exact = exactChance(leafCount, checked, omitted);
          if (exact > 1e-12) close(chance, exact, 1e-9);
          else expect(chance).toBeLessThan(1e-11);
          close(productChance(leafCount, checked, omitted), chance, 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("stays exact enough at ten million users", () => {
    for (const checked of [1, 37, 1000, 25_000]) {
      for (const shareBps of COVERAGE_SHARES_BPS) {
        const { chance, omitted } = unnoticedOmission({ leafCount: 10_000_000, checked, shareBps });
        close(chance, productChance(10_000_000, checked, omitted), 1e-6);
      }
    }
  });

  it("is at most the (1 - share)^checked bound, 1 with no checks, and falls as checks grow", () => {
    expect(unnoticedOmission({ leafCount: 500, checked: 0, shareBps: 100 })).toMatchObject({ chance: 1, bound: 1 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 9_999 }),
        fc.nat(),
        (leafCount, shareBps, k) => {
          const checked = k % leafCount;
          const now = unnoticedOmission({ leafCount, checked, shareBps });
          const more = unnoticedOmission({ leafCount, checked: checked + 1, shareBps });
          expect(now.chance).toBeLessThanOrEqual(now.bound);
          close(now.bound, (1 - shareBps / 10_000) ** checked, 1e-9);
          expect(more.chance).toBeLessThanOrEqual(now.chance);
        },
      ),
    );
    // Everyone listed checked: the omission stays unnoticed only in the sense that no listed user can see it, 1 / C(L + m, m).
    close(unnoticedOmission({ leafCount: 30, checked: 30, shareBps: 1000 }).chance, 1 / Number(choose(34, 4)));
  });

  it("states the three published shares", () => {
    expect(COVERAGE_SHARES_BPS).toEqual([10, 100, 500]);
    expect(unnoticedOmissions(1000, 50).map((o) => [o.shareBps, o.omitted])).toEqual([
      [10, 2],
      [100, 11],
      [500, 53],
    ]);
  });

  it("refuses counts that cannot be, naming the field", () => {
    const refused = (params: { leafCount: number; checked: number; shareBps: number }, record: string) => {
      try {
        unnoticedOmission(params);
      } catch (e) {
        expect(e).toBeInstanceOf(SolventError);
        expect((e as SolventError).record).toBe(record);
        return;
      }
      throw new Error(`accepted ${JSON.stringify(params)}`);
    };
    refused({ leafCount: 10, checked: 11, shareBps: 100 }, "checked");
    refused({ leafCount: 10, checked: -1, shareBps: 100 }, "checked");
    refused({ leafCount: 10.5, checked: 1, shareBps: 100 }, "leafCount");
    refused({ leafCount: 10, checked: 1, shareBps: 0 }, "shareBps");
    refused({ leafCount: 10, checked: 1, shareBps: 10_000 }, "shareBps");
  });
});
