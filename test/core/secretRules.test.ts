import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import { fillPlaceholders, placeholderNames, secretProblem, secretsNamedBy } from "../../core/config/secretRules.js";
import { issuerInput } from "./valuationFixture.js";

const KEY = `0x${"11".repeat(32)}`;

function config() {
  return parseConfig({
    version: 1,
    chains: [
      { chainId: 1, rpcUrls: ["https://rpc.example/${MAINNET_KEY}", "https://b.example/${MAINNET_KEY}/${SPARE}"] },
      { chainId: 8453, rpcUrls: ["https://base.example/${BASE_KEY}"] },
    ],
    issuers: [
      issuerInput({
        relayer: { chainId: 1, keySecret: "RELAYER_KEY", oracle: "0x1111111111111111111111111111111111111112" },
        alerts: {
          destinations: [
            { kind: "webhook", url: "https://hooks.example/${HOOK_PATH}", secret: "HOOK_SECRET" },
            { kind: "slack", url: "https://hooks.slack.example/${MAINNET_KEY}" },
          ],
          events: ["flag_raised"],
        },
      }),
    ],
  });
}

describe("core/config/secretRules", () => {
  it("lists every secret once, where it is first named, with its rule", () => {
    expect(secretsNamedBy(config())).toEqual([
      { name: "MAINNET_KEY", rule: "present", where: "chains[0].rpcUrls[0]" },
      { name: "SPARE", rule: "present", where: "chains[0].rpcUrls[1]" },
      { name: "BASE_KEY", rule: "present", where: "chains[1].rpcUrls[0]" },
      { name: "RELAYER_KEY", rule: "privateKey", where: "issuers[0].relayer.keySecret" },
      { name: "HOOK_PATH", rule: "present", where: "issuers[0].alerts.destinations[0].url" },
      { name: "HOOK_SECRET", rule: "present", where: "issuers[0].alerts.destinations[0].secret" },
    ]);
    expect(secretsNamedBy(config(), { chainIds: new Set([8453]), rpcOnly: true }).map((s) => s.name)).toEqual([
      "BASE_KEY",
    ]);
  });

  it("applies the rules without quoting a value", () => {
    const env = { A: "x", BLANK: " \t", NUM: 5, KEY, SHORT: "0x1234" };
    expect(secretProblem(env, "A", "present")).toBeNull();
    expect(secretProblem(env, "BLANK", "present")).toBe("BLANK is not set");
    expect(secretProblem(env, "NUM", "present")).toBe("NUM is not set");
    expect(secretProblem(env, "GONE", "present")).toBe("GONE is not set");
    expect(secretProblem({ KEY: ` ${KEY}\n` }, "KEY", "privateKey")).toBeNull();
    expect(secretProblem(env, "GONE", "privateKey")).toBe("GONE is missing");
    expect(secretProblem(env, "SHORT", "privateKey")).toBe("SHORT is not a 0x-prefixed 32-byte hex private key");
  });

  it("fills and lists ${NAME} placeholders, leaving anything else alone", () => {
    expect(placeholderNames("https://x/${A}/${B_2}/${A}/$C/${9X}")).toEqual(["A", "B_2", "A"]);
    expect(fillPlaceholders("https://x/${A}/${B_2}?k=${A}", (n) => n.toLowerCase())).toBe("https://x/a/b_2?k=a");
    expect(() =>
      fillPlaceholders("https://x/${A}", (n) => {
        throw new Error(`${n} missing`);
      }),
    ).toThrow("A missing");
  });
});
