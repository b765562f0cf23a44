import { describe, expect, it } from "vitest";
import { isoSeconds } from "../../core/time.js";

describe("isoSeconds", () => {
  it("writes unix seconds as UTC to the second, from a number or a bigint", () => {
    expect(isoSeconds(1_700_000_000)).toBe("2023-11-14T22:13:20Z");
    expect(isoSeconds(1_700_000_000n)).toBe("2023-11-14T22:13:20Z");
    expect(isoSeconds(0)).toBe("1970-01-01T00:00:00Z");
  });

  it("says out of range instead of throwing for what no date can show", () => {
    expect(isoSeconds(8.64e12)).toBe("+275760-09-13T00:00:00Z");
    expect(isoSeconds(8.64e12 + 1)).toBe("out of range");
    expect(isoSeconds(2n ** 64n)).toBe("out of range");
    expect(isoSeconds(1.5)).toBe("out of range");
  });
});
