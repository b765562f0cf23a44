/** The page's display rules that need no browser: number formatting and the status rule. */
import { describe, expect, it } from "vitest";
import { age, amount, ratio, usd, usdShort } from "../../page/format.js";
import { issuerStatus } from "../../page/issuerStatus.js";

describe("page formatting", () => {
  it("formats ratios in basis points without floats", () => {
    expect(ratio("10289")).toBe("102.89 %");
    expect(ratio(9999)).toBe("99.99 %");
    expect(ratio(5n)).toBe("0.05 %");
    expect(ratio("1234567")).toBe("12,345.67 %");
    expect(ratio("4294967295")).toBe("∞ (no liabilities)");
  });

  it("formats usd18 values and token amounts exactly", () => {
    expect(usd(1_561_141_867_599_573_510_589_500n)).toBe("$1,561,141.86"); // truncated, never rounded up
    expect(usd(0n)).toBe("$0.00");
    expect(usd(10n ** 18n * 1234n, 0)).toBe("$1,234");
    expect(usdShort(2_887_500n * 10n ** 18n)).toBe("$2.8M");
    expect(usdShort(999n * 10n ** 18n)).toBe("$999");
    expect(amount("250000000000000000000", "18", "ETH")).toBe("250 ETH");
    expect(amount("1128389307", "6", "USD")).toBe("1,128.389307 USD");
    expect(amount("1", "18")).toBe("0.000000000000000001");
    expect(amount("123456", null)).toBe("123,456 base units");
  });

  it("says how long ago, and how long until", () => {
    expect(age(1000, 1002)).toBe("just now");
    expect(age(1000, 1042)).toBe("42 s ago");
    expect(age(1000, 1000 + 150)).toBe("2 min ago");
    expect(age(1000, 1000 + 7200)).toBe("2 h ago");
    expect(age(1000 + 600, 1000)).toBe("in 10 min");
  });
});

describe("issuer status", () => {
  const now = 1_000n;
  it("is stale without an attestation or past validUntil, even when flagged", () => {
    expect(issuerStatus(null, now).status).toBe("stale");
    expect(issuerStatus({ validUntil: 999n, flags: 0n }, now).status).toBe("stale");
    expect(issuerStatus({ validUntil: 999n, flags: 8n }, now).status).toBe("stale");
  });

  it("is flagged when any flag bit is set, healthy otherwise", () => {
    const flagged = issuerStatus({ validUntil: 1_000n, flags: 8n }, now);
    expect(flagged).toEqual({ status: "flagged", why: "flags raised: UNPROVEN_OWNERSHIP" });
    expect(issuerStatus({ validUntil: 2_000n, flags: 0n }, now).status).toBe("healthy");
  });
});
