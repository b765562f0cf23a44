import { describe, expect, it } from "vitest";
import { issuerKey, nextAttestation } from "../../core/attestation.js";
import { ConfigError, parseConfig } from "../../core/config/parseConfig.js";
import type { IssuerConfig } from "../../core/config/schema.js";
import { buildReport } from "../../core/report.js";
import { checkReport } from "../../core/reportCheck.js";
import { circularPath, haircutPrice, lookThroughGraph } from "../../core/valuation/lookThrough.js";
import type { AttestedTokenReading, TickReadings } from "../../core/valuation/readings.js";
import { type Snapshot, valueSnapshot } from "../../core/valuation/snapshot.js";
import { AUSD_1, E6, E18, H1, issuerInput, OBSERVED_AT, price, readingsWith } from "./valuationFixture.js";

/**
 * The fixture issuer (acme-usd: 700,000 USD counted, 650,000 owed, 10769 bps)
 * with one more holding in H1: 100,000 YUSD (6 decimals, priced 1.00), a
 * token attested by the Solvent publisher at https://y.example.
 */
const YUSD = "0x9999999999999999999999999999999999999999";
const FEED_Y = "0x8888888888888888888888888888888888888888";
const Y_SIGNER = "0x7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a";
const L_Y = `evm:1:${H1}:${YUSD}`;
const L_OWN = `evm:1:${H1}:${AUSD_1}`;

const CHAINS = [
  { chainId: 1, rpcUrls: ["https://rpc.example/1"] },
  { chainId: 8453, rpcUrls: ["https://rpc.example/8453"] },
];

type Json = Record<string, any>;

/** The fixture issuer with extra assets and extra H1 holdings. */
function withHoldings(assets: Json[], holdings: Json[], id = "acme-usd"): Json {
  const base = issuerInput() as Json;
  const holders = structuredClone(base.reserves.holders) as Json[];
  holders[0]!.holdings.push(...holdings);
  return { ...base, id, assets: [...base.assets, ...assets], reserves: { ...base.reserves, holders } };
}

const yAsset = {
  id: "YUSD",
  decimals: 6,
  prices: [{ kind: "chainlink", chainId: 1, feed: FEED_Y, maxAgeSeconds: 3600 }],
};
const external = { issuer: "y-usd", url: "https://y.example", signer: Y_SIGNER };

function issuerOf(input: Json): IssuerConfig {
  return parseConfig({ version: 1, chains: CHAINS, issuers: [input] }).issuers[0]!;
}

const lookIssuer = issuerOf(
  withHoldings([yAsset], [{ type: "erc20", asset: "YUSD", token: YUSD, lookThrough: external }]),
);

function attestedY(
  ratioBps: number,
  overrides: Partial<{ validUntil: bigint; observedAt: bigint }> = {},
): AttestedTokenReading {
  return {
    issuer: "y-usd",
    url: "https://y.example",
    circular: null,
    result: {
      ok: true,
      value: {
        sequence: 42n,
        observedAt: overrides.observedAt ?? OBSERVED_AT - 300n,
        validUntil: overrides.validUntil ?? OBSERVED_AT + 3300n,
        ratioBps,
        flags: 0n,
        digest: `0x${"cd".repeat(32)}`,
        signer: Y_SIGNER,
      },
    },
  };
}

/** Base readings plus 100,000 YUSD in H1 priced 1.00, and Y's attestation reading (or none). */
function lookReadings(attested: AttestedTokenReading | null, yPrice = E18): TickReadings {
  return readingsWith((r) => {
    r.holdings.push({
      chainId: 1,
      holder: H1,
      asset: "YUSD",
      kind: "erc20",
      source: YUSD,
      result: { ok: true, value: { amount: 100_000n * E6, token: YUSD, decimals: 6 } },
    });
    r.prices.push(price("YUSD", `chainlink:1:${FEED_Y}`, yPrice));
    r.attested = attested ? [attested] : [];
  });
}

function snapshotOf(readings: TickReadings, issuer: IssuerConfig = lookIssuer): Snapshot {
  const result = valueSnapshot({ issuer, readings });
  if (!result.ok) throw new Error(`expected a snapshot, got: ${result.reason}`);
  return result.snapshot;
}

const item = (s: Snapshot, label: string) => s.items.find((v) => v.item.label === label)!;
const names = (s: Snapshot) => s.flags.map((f) => f.name);
const reasonOf = (s: Snapshot, name: string) => s.flags.find((f) => f.name === name)?.reason ?? "";

describe("look-through holdings", () => {
  it("count at price × ratio when the issuer's ratio is below 1: ratio 0.5 → half the value", () => {
    const s = snapshotOf(lookReadings(attestedY(5000)));
    const y = item(s, L_Y);
    // 100,000 YUSD × floor(1.00 × 5000 / 10000) = 50,000 USD
    expect(y.item).toMatchObject({ amount: 100_000n * E6, priceUsd: E18 / 2n, valueUsd: 50_000n * E18, status: 0 });
    expect(y.details).toMatchObject({
      lookThrough: {
        issuer: "y-usd",
        url: "https://y.example",
        marketPriceUsd: E18,
        haircutBps: 5000,
        attestation: { sequence: 42n, ratioBps: 5000 },
        circular: null,
      },
      exclusion: null,
    });
    expect(s.totals.reservesUsd).toBe(750_000n * E18);
    expect(s.flags).toEqual([]);
  });

  it("count at the full price when the ratio is 1 or more (min(1, ratio))", () => {
    for (const ratio of [10000, 12000, 4294967295]) {
      const y = item(snapshotOf(lookReadings(attestedY(ratio))), L_Y);
      expect(y.item).toMatchObject({ priceUsd: E18, valueUsd: 100_000n * E18, status: 0 });
      expect(y.details).toMatchObject({ lookThrough: { haircutBps: 10000 } });
    }
  });

  it("floor the haircut price: 1.00 at 9999 bps is 0.9999, at 0 bps nothing", () => {
    expect(haircutPrice(E18, 9999)).toBe(999_900_000_000_000_000n);
    expect(haircutPrice(3n, 5000)).toBe(1n);
    const y = item(snapshotOf(lookReadings(attestedY(9999))), L_Y);
    expect(y.item).toMatchObject({ priceUsd: 999_900_000_000_000_000n, valueUsd: 99_990n * E18 });
    expect(item(snapshotOf(lookReadings(attestedY(0))), L_Y).item).toMatchObject({
      priceUsd: 0n,
      valueUsd: 0n,
      status: 0,
    });
  });

  it("count while now ≤ validUntil, and not one second later (status 3, STALE_SOURCE)", () => {
    const atLimit = snapshotOf(lookReadings(attestedY(5000, { validUntil: OBSERVED_AT })));
    expect(item(atLimit, L_Y).item.status).toBe(0);

    const stale = snapshotOf(lookReadings(attestedY(5000, { validUntil: OBSERVED_AT - 1n })));
    const y = item(stale, L_Y);
    expect(y.item).toMatchObject({ amount: 0n, priceUsd: 0n, valueUsd: 0n, status: 3 });
    expect(y.details).toMatchObject({
      exclusion: "attestation-stale",
      amountRead: 100_000n * E6,
      reason: expect.stringMatching(/expired at validUntil 1699999999/),
    });
    expect(names(stale)).toEqual(["STALE_SOURCE"]);
    expect(reasonOf(stale, "STALE_SOURCE")).toContain(L_Y);
    expect(stale.totals.reservesUsd).toBe(700_000n * E18);
  });

  it("do not count an attestation that failed verification, or none at all (status 3, STALE_SOURCE)", () => {
    const invalid = snapshotOf(
      lookReadings({
        ...attestedY(20000),
        result: { ok: false, reason: "signed by 0xabc, not by the trusted signer" },
      }),
    );
    expect(item(invalid, L_Y).details).toMatchObject({
      exclusion: "attestation-invalid",
      reason: expect.stringMatching(/y-usd@https:\/\/y\.example cannot be relied on: signed by 0xabc/),
    });
    expect(names(invalid)).toEqual(["STALE_SOURCE"]);

    const missing = snapshotOf(lookReadings(null));
    expect(item(missing, L_Y).details).toMatchObject({ exclusion: "attestation-missing" });
    expect(names(missing)).toEqual(["STALE_SOURCE"]);

    const future = snapshotOf(
      lookReadings(attestedY(20000, { observedAt: OBSERVED_AT + 3600n, validUntil: OBSERVED_AT + 7200n })),
    );
    expect(item(future, L_Y).details).toMatchObject({ exclusion: "attestation-invalid" });
  });

  it("count zero when the backing leads back to the issuer: status 3 'circular', CIRCULAR_RESERVES, no STALE_SOURCE", () => {
    const path = ["acme-usd", "y-usd@https://y.example", "acme-usd"];
    const s = snapshotOf(lookReadings({ ...attestedY(20000), circular: path }));
    const y = item(s, L_Y);
    expect(y.item).toMatchObject({ amount: 0n, valueUsd: 0n, status: 3 });
    expect(y.details).toMatchObject({
      exclusion: "circular",
      amountRead: 100_000n * E6,
      lookThrough: { circular: path },
    });
    expect(y.details.reason).toMatch(/^circular: /);
    expect(y.details.reason).toContain("acme-usd → y-usd@https://y.example → acme-usd");
    expect(names(s)).toEqual(["CIRCULAR_RESERVES"]);
    expect(s.flagBits).toBe(1n << 5n);
    expect(s.totals.reservesUsd).toBe(700_000n * E18);
  });

  it("count the issuer's own liability token zero and raise CIRCULAR_RESERVES", () => {
    const own = issuerOf(
      withHoldings(
        [{ id: "AUSDX", decimals: 18, prices: [{ kind: "chainlink", chainId: 1, feed: FEED_Y, maxAgeSeconds: 3600 }] }],
        [{ type: "erc20", asset: "AUSDX", token: AUSD_1 }],
      ),
    );
    const s = snapshotOf(
      readingsWith((r) => {
        r.holdings.push({
          chainId: 1,
          holder: H1,
          asset: "AUSDX",
          kind: "erc20",
          source: AUSD_1,
          result: { ok: true, value: { amount: 50_000n * E18, token: AUSD_1, decimals: 18 } },
        });
        r.prices.push(price("AUSDX", `chainlink:1:${FEED_Y}`, E18));
      }),
      own,
    );
    expect(item(s, L_OWN).item).toMatchObject({ valueUsd: 0n, status: 3 });
    expect(item(s, L_OWN).details).toMatchObject({
      exclusion: "own-token",
      amountRead: 50_000n * E18,
      reason: expect.stringMatching(/^circular: .* is acme-usd's own liability token \(AUSD\)/),
    });
    expect(names(s)).toEqual(["CIRCULAR_RESERVES"]);
    expect(s.totals.reservesUsd).toBe(700_000n * E18);
  });
});

describe("the look-through graph of a deployment", () => {
  const X_TOKEN = "0x1010101010101010101010101010101010101010";
  const Y_TOKEN = "0x2020202020202020202020202020202020202020";
  const Z_TOKEN = "0x3030303030303030303030303030303030303030";
  const tokenIssuer = (id: string, token: string, holds: { asset: string; token: string; issuer: string }[]) => ({
    id,
    name: id,
    assets: [
      { id: "USDC", decimals: 6, prices: [{ kind: "chainlink", chainId: 1, feed: FEED_Y, maxAgeSeconds: 3600 }] },
      ...holds.map((h) => ({
        id: h.asset,
        decimals: 6,
        prices: [{ kind: "http", url: `https://p.example/${h.asset}`, path: "usd" }],
      })),
    ],
    liabilities: { supply: { asset: `${id.toUpperCase()}T`, pegUsd: E18.toString(), tokens: [{ chainId: 1, token }] } },
    reserves: {
      holders: [
        {
          chainId: 1,
          address: H1,
          ownership: { kind: "contract" },
          holdings: [
            { type: "erc20", asset: "USDC", token: "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48" },
            ...holds.map((h) => ({ type: "erc20", asset: h.asset, token: h.token, lookThrough: { issuer: h.issuer } })),
          ],
        },
      ],
    },
  });
  const deployment = (issuers: Json[]) => parseConfig({ version: 1, chains: CHAINS, issuers });

  it("finds X ↔ Y on both sides, and names the shortest path", () => {
    const config = deployment([
      tokenIssuer("x", X_TOKEN, [{ asset: "YT", token: Y_TOKEN, issuer: "y" }]),
      tokenIssuer("y", Y_TOKEN, [{ asset: "XT", token: X_TOKEN, issuer: "x" }]),
    ]);
    const graph = lookThroughGraph(config.issuers);
    expect(circularPath(graph, "x", "y")).toEqual(["x", "y", "x"]);
    expect(circularPath(graph, "y", "x")).toEqual(["y", "x", "y"]);
    expect(circularPath(graph, "x", "x")).toEqual(["x", "x"]);
  });

  it("finds longer cycles, and does not blame an issuer outside a cycle it merely holds into", () => {
    const config = deployment([
      tokenIssuer("w", "0x4040404040404040404040404040404040404040", [{ asset: "YT", token: Y_TOKEN, issuer: "y" }]),
      tokenIssuer("x", X_TOKEN, [{ asset: "YT", token: Y_TOKEN, issuer: "y" }]),
      tokenIssuer("y", Y_TOKEN, [{ asset: "ZT", token: Z_TOKEN, issuer: "z" }]),
      tokenIssuer("z", Z_TOKEN, [{ asset: "XT", token: X_TOKEN, issuer: "x" }]),
    ]);
    const graph = lookThroughGraph(config.issuers);
    expect(circularPath(graph, "x", "y")).toEqual(["x", "y", "z", "x"]);
    expect(circularPath(graph, "z", "x")).toEqual(["z", "x", "y", "z"]);
    expect(circularPath(graph, "w", "y")).toBeNull(); // w → y → z → x → y never returns to w
  });

  it("values both sides of X ↔ Y at zero with CIRCULAR_RESERVES (the circular scenario)", () => {
    const config = deployment([
      tokenIssuer("x", X_TOKEN, [{ asset: "YT", token: Y_TOKEN, issuer: "y" }]),
      tokenIssuer("y", Y_TOKEN, [{ asset: "XT", token: X_TOKEN, issuer: "x" }]),
    ]);
    const graph = lookThroughGraph(config.issuers);
    for (const [self, other, heldAsset, heldToken] of [
      ["x", "y", "YT", Y_TOKEN],
      ["y", "x", "XT", X_TOKEN],
    ] as const) {
      const issuer = config.issuers.find((i) => i.id === self)!;
      const readings: TickReadings = {
        observedAt: OBSERVED_AT,
        blocks: [
          {
            chainId: 1,
            result: { ok: true, value: { number: 1n, hash: `0x${"01".repeat(32)}`, timestamp: OBSERVED_AT } },
          },
        ],
        holdings: [
          {
            chainId: 1,
            holder: H1,
            asset: "USDC",
            kind: "erc20",
            source: "0xA0b86991c6218b36c1D19D4a2e9Eb0cE3606eB48",
            result: {
              ok: true,
              value: { amount: 100_000n * E6, token: "0xA0b86991c6218b36c1D19D4a2e9Eb0cE3606eB48", decimals: 6 },
            },
          },
          // 90% of the reserves in the other issuer's token
          {
            chainId: 1,
            holder: H1,
            asset: heldAsset,
            kind: "erc20",
            source: heldToken,
            result: { ok: true, value: { amount: 900_000n * E6, token: heldToken, decimals: 6 } },
          },
        ],
        ownership: [{ chainId: 1, holder: H1, method: "contract", proven: true, detail: "code at the address" }],
        supply: [
          {
            chainId: 1,
            token: self === "x" ? X_TOKEN : Y_TOKEN,
            result: { ok: true, value: { totalSupply: 1_000_000n * E6, decimals: 6, escrows: [] } },
          },
        ],
        prices: [
          price("USDC", `chainlink:1:${FEED_Y}`, E18),
          price(heldAsset, `http:https://p.example/${heldAsset}`, E18),
        ],
        statements: [],
        ledger: null,
        attested: [{ ...attestedY(11000), issuer: other, url: null, circular: circularPath(graph, self, other) }],
        marketPrices: [],
      };
      const s = snapshotOf(readings, issuer);
      expect(names(s)).toEqual(["UNDERCOLLATERALIZED", "CIRCULAR_RESERVES"]);
      expect(s.totals.reservesUsd).toBe(100_000n * E18); // the circular 900,000 count zero
      expect(s.totals.ratioBps).toBe(1000);
      expect(reasonOf(s, "CIRCULAR_RESERVES")).toContain(`${self} → ${other} → ${self}`);
    }
  });
});

describe("look-through in the report", () => {
  const readings = lookReadings(attestedY(5000));
  const snapshot = snapshotOf(readings);
  const built = buildReport(snapshot, {
    issuerId: "acme-usd",
    sequence: 1n,
    observedAt: OBSERVED_AT,
    validUntil: OBSERVED_AT + 3600n,
    policy: lookIssuer.policy,
    blocks: readings.blocks,
  });
  const attestation = nextAttestation(null, {
    issuer: issuerKey("acme-usd"),
    observedAt: OBSERVED_AT,
    validUntil: OBSERVED_AT + 3600n,
    ...snapshot.totals,
    reservesRoot: snapshot.reservesRoot,
    liabilitiesRoot: snapshot.liabilitiesRoot,
    flags: snapshot.flagBits,
    reportHash: built.reportHash,
  });
  const doc = () => JSON.parse(new TextDecoder().decode(built.bytes)) as Json;
  const bytesOf = (d: Json) => new TextEncoder().encode(`${JSON.stringify(d, null, 2)}\n`);

  it("shows the attestation relied on and the haircut, and checks clean", () => {
    const y = doc().reserves.items.find((i: Json) => i.label === L_Y);
    expect(y.priceUsd).toBe((E18 / 2n).toString());
    expect(y.details.lookThrough).toEqual({
      issuer: "y-usd",
      url: "https://y.example",
      attestation: {
        sequence: "42",
        observedAt: String(OBSERVED_AT - 300n),
        validUntil: String(OBSERVED_AT + 3300n),
        ratioBps: "5000",
        digest: `0x${"cd".repeat(32)}`,
        signer: Y_SIGNER,
      },
      marketPriceUsd: E18.toString(),
      haircutBps: "5000",
      circular: null,
    });
    expect(checkReport(built.bytes, attestation)).toEqual([]);
  });

  it("names a haircut that does not follow from the stated ratio", () => {
    const d = doc();
    d.reserves.items.find((i: Json) => i.label === L_Y).details.lookThrough.attestation.ratioBps = "6000";
    const problems = checkReport(bytesOf(d), attestation);
    expect(problems).toContainEqual(expect.stringMatching(/haircutBps 5000 is not min\(ratioBps 6000, 10000\)/));
    expect(problems).toContainEqual(
      expect.stringMatching(
        /priceUsd 500000000000000000 is not floor\(1000000000000000000 × 6000 \/ 10000\) = 600000000000000000/,
      ),
    );
  });

  it("names a circular item whose report does not raise CIRCULAR_RESERVES", () => {
    const circular = lookReadings({
      ...attestedY(5000),
      circular: ["acme-usd", "y-usd@https://y.example", "acme-usd"],
    });
    const s = snapshotOf(circular);
    const b = buildReport(s, {
      issuerId: "acme-usd",
      sequence: 1n,
      observedAt: OBSERVED_AT,
      validUntil: OBSERVED_AT + 3600n,
      policy: lookIssuer.policy,
      blocks: circular.blocks,
    });
    const a = { ...attestation, ...s.totals, reservesRoot: s.reservesRoot, flags: 0n, reportHash: b.reportHash };
    const d = JSON.parse(new TextDecoder().decode(b.bytes)) as Json;
    d.flags = [];
    const problems = checkReport(bytesOf(d), { ...a, reportHash: `0x${"00".repeat(32)}` });
    expect(problems).toContainEqual(
      expect.stringMatching(new RegExp(`${L_Y} is excluded as circular but CIRCULAR_RESERVES \\(bit 5\\) is not set`)),
    );
  });
});

describe("look-through configuration", () => {
  const issues = (issuers: Json[]) => {
    try {
      parseConfig({ version: 1, chains: CHAINS, issuers });
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  const other = {
    ...(issuerInput() as Json),
    id: "y-usd",
    liabilities: { supply: { asset: "YUSD", pegUsd: E18.toString(), tokens: [{ chainId: 1, token: YUSD }] } },
  };

  it("accepts a local reference to another issuer's liability token", () => {
    expect(
      issues([
        withHoldings([yAsset], [{ type: "erc20", asset: "YUSD", token: YUSD, lookThrough: { issuer: "y-usd" } }]),
        other,
      ]),
    ).toEqual([]);
  });

  it("names each bad reference by its JSON path", () => {
    const at = "issuers[0].reserves.holders[0].holdings[3]";
    expect(
      issues([
        withHoldings([yAsset], [{ type: "erc20", asset: "YUSD", token: YUSD, lookThrough: { issuer: "nobody" } }]),
      ]),
    ).toEqual([`${at}.lookThrough.issuer: issuer "nobody" is not configured in this deployment`]);
    expect(
      issues([
        withHoldings([yAsset], [{ type: "erc20", asset: "YUSD", token: FEED_Y, lookThrough: { issuer: "y-usd" } }]),
        other,
      ]),
    ).toEqual([`${at}.token: is not a liability token of issuer "y-usd" on chain 1`]);
    expect(issues([withHoldings([yAsset], [{ type: "erc20", asset: "YUSD", token: YUSD }]), other])).toEqual([
      `${at}.token: is the liability token of issuer "y-usd"; declare lookThrough: { issuer: "y-usd" } so it counts at most at that issuer's ratio`,
    ]);
    expect(
      issues([
        withHoldings(
          [yAsset],
          [{ type: "erc20", asset: "YUSD", token: YUSD, lookThrough: { issuer: "y-usd", url: "https://y.example" } }],
        ),
      ]),
    ).toEqual([`${at}.lookThrough: an external publisher needs both url and signer; a local issuer neither`]);
  });

  it("requires two market venues or none, and keeps the new policy bounds", () => {
    const base = issuerInput() as Json;
    const oneVenue = {
      ...base,
      liabilities: {
        supply: { ...base.liabilities.supply, marketPrices: [{ kind: "http", url: "https://m.example/a", path: "p" }] },
      },
    };
    expect(issues([oneVenue])).toEqual([
      "issuers[0].liabilities.supply.marketPrices: needs at least two venues (or none): one venue alone never decides a peg deviation",
    ]);
    const badPool = {
      ...base,
      liabilities: {
        supply: {
          ...base.liabilities.supply,
          marketPrices: [
            { kind: "http", url: "https://m.example/a", path: "p" },
            { kind: "uniswapV3", chainId: 10, pool: FEED_Y, token: AUSD_1, quoteAsset: "DAI" },
          ],
        },
      },
    };
    expect(issues([badPool])).toEqual([
      "issuers[0].liabilities.supply.marketPrices[1].chainId: chain 10 is not in chains",
      'issuers[0].liabilities.supply.marketPrices[1].quoteAsset: asset "DAI" is not in this issuer\'s assets',
    ]);
    expect(issues([{ ...base, policy: { concentrationMaxBps: 10001 } }])[0]).toMatch(
      /^issuers\[0\]\.policy\.concentrationMaxBps: /,
    );
    expect(issues([{ ...base, policy: { reserveDropMaxBps: 20000 } }])[0]).toMatch(
      /^issuers\[0\]\.policy\.reserveDropMaxBps: /,
    );
  });
});
