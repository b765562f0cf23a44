import { describe, expect, it } from "vitest";
import { ZERO_HASH } from "../../core/attestation.js";
import { reservesRoot, ZERO_ADDRESS } from "../../core/reservesTree.js";
import type { OnchainDetails } from "../../core/valuation/lineItems.js";
import type { TickReadings } from "../../core/valuation/readings.js";
import { type Snapshot, valueSnapshot } from "../../core/valuation/snapshot.js";
import {
  baseReadings,
  E6,
  E18,
  failedPrice,
  H1,
  H2,
  makeIssuer,
  NATIVE,
  OBSERVED_AT,
  price,
  readingsWith,
  SIGNER,
  USDC_1,
  USDC_BASE,
  VAULT,
} from "./valuationFixture.js";

const issuer = makeIssuer();

function snapshotOf(readings: TickReadings, iss = issuer): Snapshot {
  const result = valueSnapshot({ issuer: iss, readings });
  if (!result.ok) throw new Error(`expected a snapshot, got: ${result.reason}`);
  return result.snapshot;
}

const itemByLabel = (s: Snapshot, label: string) => {
  const found = s.items.find((v) => v.item.label === label);
  if (!found) throw new Error(`no item ${label}`);
  return found;
};

const L_NATIVE = `evm:1:${H1}:${NATIVE}`;
const L_USDC = `evm:1:${H1}:${USDC_1}`;
const L_VAULT = `evm:1:${H1}:${VAULT}`;
const L_BASE = `evm:8453:${H2}:${USDC_BASE}`;
const L_CUST = "custodian:acme-trust:ops:USD";

describe("reserve line items", () => {
  const s = snapshotOf(baseReadings());

  it("come in configuration order: holders and their holdings, then custodians and their accounts", () => {
    expect(s.items.map((v) => v.item.label)).toEqual([L_NATIVE, L_USDC, L_VAULT, L_BASE, L_CUST]);
  });

  it("value proven on-chain holdings as status 0 at floor(amount × price / 10^decimals)", () => {
    expect(itemByLabel(s, L_NATIVE).item).toEqual({
      label: L_NATIVE,
      chainId: 1n,
      holder: H1,
      token: NATIVE,
      amount: 10n * E18,
      priceUsd: 3000n * E18, // median of 2990, 3000, 3010
      valueUsd: 30_000n * E18,
      status: 0,
    });
    expect(itemByLabel(s, L_USDC).item).toMatchObject({
      token: USDC_1,
      amount: 500_000n * E6,
      priceUsd: E18,
      valueUsd: 500_000n * E18,
      status: 0,
    });
    expect(itemByLabel(s, L_BASE).item).toMatchObject({
      chainId: 8453n,
      token: USDC_BASE,
      valueUsd: 20_000n * E18,
      status: 0,
    });
    expect(itemByLabel(s, L_NATIVE).details).toMatchObject({
      kind: "native",
      asset: "ETH",
      decimals: 18,
      blockNumber: 20_000_000n,
      ownership: { method: "eoa", proven: true },
    });
  });

  it("value an ERC-4626 holding in underlying units of the underlying token, labelled by the vault", () => {
    const v = itemByLabel(s, L_VAULT);
    expect(v.item).toMatchObject({
      holder: H1,
      token: USDC_1,
      amount: 100_000n * E6,
      valueUsd: 100_000n * E18,
      status: 0,
    });
    expect(v.details).toMatchObject({ kind: "erc4626", source: VAULT, shares: 95_000n * E6 });
  });

  it("value a valid custodian statement as status 2 with the asset's configured decimals", () => {
    const v = itemByLabel(s, L_CUST);
    // 5,000,000 cents at 1 USD, USD has 2 decimals → 50,000 USD
    expect(v.item).toEqual({
      label: L_CUST,
      chainId: 0n,
      holder: ZERO_ADDRESS,
      token: ZERO_ADDRESS,
      amount: 5_000_000n,
      priceUsd: E18,
      valueUsd: 50_000n * E18,
      status: 2,
    });
    expect(v.details).toMatchObject({
      kind: "custodian",
      custodian: "acme-trust",
      account: "ops",
      decimals: 2,
      statement: { nonce: 7n, asOf: OBSERVED_AT - 600n, signer: SIGNER },
    });
  });

  it("make an unproven holder status 1: value computed, not counted", () => {
    const s1 = snapshotOf(
      readingsWith(
        (r) =>
          (r.ownership[1] = {
            chainId: 8453,
            holder: H2,
            method: "erc1271",
            proven: false,
            detail: "isValidSignature returned 0xffffffff",
          }),
      ),
    );
    const v = itemByLabel(s1, L_BASE);
    expect(v.item).toMatchObject({ amount: 20_000n * E6, valueUsd: 20_000n * E18, status: 1 });
    expect(v.details.reason).toMatch(/0xffffffff/);
    expect(s1.totals.onchainReservesUsd).toBe(630_000n * E18); // 650,000 − 20,000
  });

  it("make a holder with ownership kind none status 1 even if a reader claims otherwise", () => {
    const iss = makeIssuer();
    const h2 = iss.reserves.holders[1]!;
    h2.ownership = { kind: "none" };
    expect(itemByLabel(snapshotOf(baseReadings(), iss), L_BASE).item.status).toBe(1);
  });

  it("exclude a failed read as status 3 with zero amount and value and the reason", () => {
    const s3 = snapshotOf(readingsWith((r) => (r.holdings[1]!.result = { ok: false, reason: "eth_call reverted" })));
    const v = itemByLabel(s3, L_USDC);
    expect(v.item).toMatchObject({ token: USDC_1, amount: 0n, priceUsd: 0n, valueUsd: 0n, status: 3 });
    expect(v.details).toMatchObject({ exclusion: "read-failed" });
    expect(v.details.reason).toMatch(/eth_call reverted/);
    expect(s3.totals.onchainReservesUsd).toBe(150_000n * E18); // 650,000 − 500,000
  });

  it("exclude every holding of a chain whose block could not be pinned", () => {
    // supply only on chain 1 here: a failed block on a supply chain refuses the whole tick (see valueSnapshot)
    const iss = makeIssuer();
    iss.liabilities.supply!.tokens.pop();
    const s3 = snapshotOf(
      readingsWith((r) => (r.blocks[0] = { chainId: 8453, result: { ok: false, reason: "all RPCs timed out" } })),
      iss,
    );
    expect(itemByLabel(s3, L_BASE).item).toMatchObject({ status: 3, valueUsd: 0n });
    expect(itemByLabel(s3, L_BASE).details).toMatchObject({ exclusion: "block-failed", blockNumber: null });
    expect(itemByLabel(s3, L_USDC).item.status).toBe(0);
  });

  it("exclude a holding that was never read", () => {
    const s3 = snapshotOf(readingsWith((r) => r.holdings.splice(0, 1)));
    expect(itemByLabel(s3, L_NATIVE).details).toMatchObject({ exclusion: "not-read" });
    expect(itemByLabel(s3, L_NATIVE).item.status).toBe(3);
  });

  it("exclude the items of an unpriced asset, keeping the amount read in the details", () => {
    const s3 = snapshotOf(
      readingsWith((r) => (r.prices[3] = failedPrice("USDC", `chainlink:1:feed`, "answer older than maxAge"))),
    );
    for (const label of [L_USDC, L_VAULT, L_BASE]) {
      const v = itemByLabel(s3, label);
      expect(v.item).toMatchObject({ amount: 0n, priceUsd: 0n, valueUsd: 0n, status: 3 });
      expect(v.details.exclusion).toBe("unpriced");
    }
    expect((itemByLabel(s3, L_USDC).details as OnchainDetails).amountRead).toBe(500_000n * E6);
    expect(s3.totals.reservesUsd).toBe(80_000n * E18); // 30,000 ETH + 50,000 custodian
  });

  it("exclude missing, invalid, wrongly signed and stale statements; count one exactly at the age limit", () => {
    const statementOf = (edit: (r: TickReadings) => void) => itemByLabel(snapshotOf(readingsWith(edit)), L_CUST);
    expect(statementOf((r) => (r.statements = [])).details).toMatchObject({ exclusion: "statement-missing" });
    const invalid = statementOf(
      (r) => (r.statements[0]!.result = { ok: false, reason: "nonce 7 is not newer than 9" }),
    );
    expect(invalid.details).toMatchObject({ exclusion: "statement-invalid", reason: expect.stringMatching(/nonce 7/) });
    const stranger = statementOf((r) => {
      const st = r.statements[0]!.result;
      if (st.ok) st.value.signer = "0x9999999999999999999999999999999999999999";
    });
    expect(stranger.details).toMatchObject({
      exclusion: "statement-invalid",
      reason: expect.stringMatching(/not registered/),
    });

    const maxAge = BigInt(issuer.policy.statementMaxAgeSeconds); // default 86400
    const aged = (age: bigint) =>
      statementOf((r) => {
        const st = r.statements[0]!.result;
        if (st.ok) st.value.asOf = OBSERVED_AT - age;
      });
    expect(aged(maxAge).item.status).toBe(2);
    const stale = aged(maxAge + 1n);
    expect(stale.item).toMatchObject({ status: 3, amount: 0n, valueUsd: 0n });
    expect(stale.details).toMatchObject({ exclusion: "statement-stale" });
  });

  it("round every value down (floor), never to nearest", () => {
    // 3 wei × (3000e18 − 1) = 8999999999999999999997; / 10^18 = 8999.99… → 8999 usd18 units (nearest would give 9000)
    const s2 = snapshotOf(
      readingsWith((r) => {
        r.prices = r.prices.filter((p) => p.asset !== "ETH");
        r.prices.push(price("ETH", "only", 3000n * E18 - 1n));
        const h = r.holdings[0]!.result;
        if (h.ok) h.value.amount = 3n;
      }),
    );
    expect(itemByLabel(s2, L_NATIVE).item.valueUsd).toBe(8999n);
  });
});

describe("valueSnapshot", () => {
  it("sums status 0 and 2 into reserves, values liabilities and the ratio", () => {
    const s = snapshotOf(baseReadings());
    expect(s.totals).toEqual({
      reservesUsd: 700_000n * E18,
      onchainReservesUsd: 650_000n * E18,
      offchainReservesUsd: 50_000n * E18,
      liabilitiesUsd: 650_000n * E18,
      ratioBps: 10769, // floor(700000 × 10000 / 650000)
    });
    expect(s.flags).toEqual([]);
    expect(s.flagBits).toBe(0n);
    expect(s.liabilitiesRoot).toBe(ZERO_HASH);
    expect(s.reservesRoot).toBe(reservesRoot(s.items.map((v) => v.item)));
  });

  it("prices the peg currency from its fixed configuration when no reader echoed it", () => {
    const s = snapshotOf(readingsWith((r) => (r.prices = r.prices.filter((p) => p.asset !== "USD"))));
    expect(s.prices.find((q) => q.asset === "USD")).toMatchObject({ priceUsd: E18, method: "single", used: ["fixed"] });
    expect(itemByLabel(s, L_CUST).item.status).toBe(2);
  });

  it("refuses an issuer without any reserve line item", () => {
    const iss = makeIssuer({ reserves: { holders: [], custodians: [] } });
    const result = valueSnapshot({ issuer: iss, readings: baseReadings() });
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/no reserve holders or custodians/) });
  });

  it("refuses two items with the same label", () => {
    const iss = makeIssuer();
    iss.reserves.holders[0]!.holdings.push({ type: "erc20", asset: "USDC", token: USDC_1 });
    const result = valueSnapshot({ issuer: iss, readings: baseReadings() });
    expect(result).toEqual({ ok: false, reason: expect.stringContaining(L_USDC) });
  });

  it("refuses to publish when a supply reading failed", () => {
    const result = valueSnapshot({
      issuer,
      readings: readingsWith((r) => (r.supply[1]!.result = { ok: false, reason: "totalSupply reverted" })),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/totalSupply reverted/);
  });

  it("refuses to publish when the block of a supply chain could not be pinned", () => {
    const result = valueSnapshot({
      issuer,
      readings: readingsWith(
        (r) => (r.blocks[0] = { chainId: 8453, result: { ok: false, reason: "all RPCs timed out" } }),
      ),
    });
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/chain 8453.*all RPCs timed out/) });
  });

  it("is deterministic whatever order the readers delivered in", () => {
    const a = snapshotOf(baseReadings());
    const b = snapshotOf(
      readingsWith((r) => {
        r.prices.reverse();
        r.holdings.reverse();
        r.blocks.reverse();
        r.ownership.reverse();
      }),
    );
    expect(b.reservesRoot).toBe(a.reservesRoot);
    expect(b.prices).toEqual(a.prices);
    expect(b.items).toEqual(a.items);
  });
});
