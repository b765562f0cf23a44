import { describe, expect, it } from "vitest";
import { ConfigError, checkConfig, parseConfig } from "../../core/config/parseConfig.js";
import corpus from "../fixtures/bad-input/config.json" with { type: "json" };

/** The bad-input corpus's valid base with edits at JSON paths. */
function edited(edits: Record<string, unknown>): unknown {
  const doc = structuredClone(corpus.base) as Record<string, unknown>;
  for (const [path, value] of Object.entries(edits)) {
    const parts = (path.match(/[^.[\]]+/g) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    let node = doc as Record<string | number, unknown>;
    for (const p of parts.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
    node[parts.at(-1)!] = value;
  }
  return doc;
}

describe("checkConfig: every problem in one pass", () => {
  it("reports shape and reference problems together, in document order, each once", () => {
    const { config, issues } = checkConfig(
      edited({
        "issuers[1].reserves.custodians": [
          {
            id: "c",
            signers: ["0xdddddddddddddddddddddddddddddddddddddddd"],
            accounts: [{ account: "a", asset: "ZZZ" }],
          },
        ],
        "issuers[0].reserves.holders[0].address": "0x12",
        "issuers[0].reserves.holders[0].holdings[0].asset": "NOPE",
        "chains[0].rpcUrls": ["ftp://x"],
        "issuers[0].assets[0].prices": [],
      }),
    );
    expect(config).toBeNull();
    expect(issues).toEqual([
      { path: "chains[0].rpcUrls[0]", message: "must be an http(s) URL" },
      { path: "issuers[0].assets[0].prices", message: "every asset needs at least one price source" },
      { path: "issuers[0].reserves.holders[0].address", message: "must be a 0x address (40 hex digits)" },
      {
        path: "issuers[0].reserves.holders[0].holdings[0].asset",
        message: 'asset "NOPE" is not in this issuer\'s assets',
      },
      {
        path: "issuers[1].reserves.custodians[0].accounts[0].asset",
        message: 'asset "ZZZ" is not in this issuer\'s assets',
      },
    ]);
  });

  it("does not report a reference to a chain or an asset that is declared but has a problem of its own", () => {
    const { issues } = checkConfig(edited({ "chains[0].timeoutMs": 1, "issuers[0].assets[0].decimals": -1 }));
    expect(issues.map((i) => i.path)).toEqual(["chains[0].timeoutMs", "issuers[0].assets[0].decimals"]);
  });

  it("names each path once in the error message", () => {
    let error: unknown;
    try {
      parseConfig(edited({ "issuers[0].reserves.holders[0].holdings[0].asset": "NOPE", "issuers[0].name": "" }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const issue of (error as ConfigError).issues) expect(message.split(issue.path).length - 1, message).toBe(1);
    expect((error as ConfigError).issues).toHaveLength(2);
  });

  it("returns the parsed configuration, defaults filled, when there is nothing to report", () => {
    const { config, issues } = checkConfig(structuredClone(corpus.base));
    expect(issues).toEqual([]);
    expect(config?.issuers[0]?.policy.ttlSeconds).toBeGreaterThan(0);
  });
});
