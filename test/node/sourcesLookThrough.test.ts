import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { keccak256 } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Attestation,
  attestationToJson,
  issuerKey,
  nextAttestation,
  signAttestation,
  ZERO_HASH,
} from "../../core/attestation.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { IssuerConfig } from "../../core/config/schema.js";
import type { TickReadings } from "../../core/valuation/readings.js";
import { valueSnapshot } from "../../core/valuation/snapshot.js";
import { type LocalAttestation, readAttestedTokens } from "../../worker/sources/readAttestedTokens.js";
import { AUSD_1, E6, E18, H1, issuerInput, OBSERVED_AT, price, readingsWith } from "../core/valuationFixture.js";

const NOW = OBSERVED_AT;
const Y_KEY = privateKeyToAccount("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");
const OTHER_KEY = privateKeyToAccount("0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e");
const YUSD = "0x9999999999999999999999999999999999999999";
const FEED_Y = "0x8888888888888888888888888888888888888888";
const enc = (text: string) => new TextEncoder().encode(text);

/** Y's attestation with the given ratio and validity, committing to `report`. */
function yAttestation(ratioBps: number, validUntil: bigint, report: Uint8Array): Attestation {
  return nextAttestation(null, {
    issuer: issuerKey("y-usd"),
    observedAt: NOW - 300n,
    validUntil,
    reservesUsd: 5n * E18,
    onchainReservesUsd: 5n * E18,
    offchainReservesUsd: 0n,
    liabilitiesUsd: 10n * E18,
    ratioBps,
    reservesRoot: ZERO_HASH,
    liabilitiesRoot: ZERO_HASH,
    flags: 0n,
    reportHash: keccak256(report),
  });
}

const cleanReport = enc(
  `${JSON.stringify({ version: 1, issuer: "y-usd", reserves: { items: [{ chainId: "1", token: "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48" }] } }, null, 2)}\n`,
);
const cyclicReport = enc(
  `${JSON.stringify({ version: 1, issuer: "y-usd", reserves: { items: [{ chainId: "1", token: AUSD_1.toUpperCase().replace("0X", "0x") }] } }, null, 2)}\n`,
);

const routes = new Map<string, { status?: number; body: Uint8Array }>();
async function publish(prefix: string, a: Attestation, signature: `0x${string}`, report: Uint8Array): Promise<void> {
  routes.set(`${prefix}/v1/issuers/y-usd/attestations/latest`, {
    body: enc(
      JSON.stringify({
        attestation: attestationToJson(a),
        signature,
        digest: "0x",
        signer: "0x",
        reportUrl: "ignored",
      }),
    ),
  });
  routes.set(`${prefix}/v1/issuers/y-usd/reports/${a.sequence}`, { body: report });
}

let server: Server;
let base: string;

beforeAll(async () => {
  const good = yAttestation(5000, NOW + 600n, cleanReport);
  await publish("/good", good, await signAttestation(good, Y_KEY), cleanReport);
  await publish("/wrong-signer", good, await signAttestation(good, OTHER_KEY), cleanReport);
  await publish("/tampered", { ...good, ratioBps: 20000 }, await signAttestation(good, Y_KEY), cleanReport);
  const stale = yAttestation(20000, NOW - 1n, cleanReport);
  await publish("/stale", stale, await signAttestation(stale, Y_KEY), cleanReport);
  const cyclic = yAttestation(20000, NOW + 600n, cyclicReport);
  await publish("/cyclic", cyclic, await signAttestation(cyclic, Y_KEY), cyclicReport);
  await publish("/bad-report", good, await signAttestation(good, Y_KEY), enc("{}\n"));
  routes.set("/down/v1/issuers/y-usd/attestations/latest", { status: 503, body: enc("down") });

  server = createServer((req, res) => {
    const route = routes.get(req.url ?? "");
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(route.status ?? 200, { "content-type": "application/json" }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const CHAINS = [
  { chainId: 1, rpcUrls: ["https://rpc.example/1"] },
  { chainId: 8453, rpcUrls: ["https://rpc.example/8453"] },
];

/** The fixture issuer (AUSD on chains 1 and 8453) holding 100,000 YUSD attested at `path` of the test server. */
function holderOf(path: string, signer = Y_KEY.address): IssuerConfig {
  const input = issuerInput() as Record<string, any>;
  const holders = structuredClone(input.reserves.holders);
  holders[0].holdings.push({
    type: "erc20",
    asset: "YUSD",
    token: YUSD,
    lookThrough: { issuer: "y-usd", url: `${base}${path}`, signer },
  });
  const assets = [
    ...input.assets,
    { id: "YUSD", decimals: 6, prices: [{ kind: "chainlink", chainId: 1, feed: FEED_Y, maxAgeSeconds: 3600 }] },
  ];
  return parseConfig({
    version: 1,
    chains: CHAINS,
    issuers: [{ ...input, assets, reserves: { ...input.reserves, holders } }],
  }).issuers[0]!;
}

async function readExternal(path: string, signer?: `0x${string}`) {
  const issuer = holderOf(path, signer);
  const [reading] = await readAttestedTokens({ issuer, issuers: [issuer], fetchFn: fetch, timeoutMs: 2000 });
  return { issuer, reading: reading! };
}

/** Values the fixture tick plus the YUSD holding with the attestation reading the reader produced. */
async function valued(path: string) {
  const { issuer, reading } = await readExternal(path);
  const readings: TickReadings = readingsWith((r) => {
    r.holdings.push({
      chainId: 1,
      holder: H1,
      asset: "YUSD",
      kind: "erc20",
      source: YUSD,
      result: { ok: true, value: { amount: 100_000n * E6, token: YUSD, decimals: 6 } },
    });
    r.prices.push(price("YUSD", `chainlink:1:${FEED_Y}`, E18));
    r.attested = [reading];
  });
  const result = valueSnapshot({ issuer, readings });
  if (!result.ok) throw new Error(result.reason);
  const y = result.snapshot.items.find((v) => v.item.token === YUSD)!;
  return { snapshot: result.snapshot, y, flags: result.snapshot.flags.map((f) => f.name) };
}

describe("external look-through (a Solvent publisher over HTTP)", () => {
  it("reads, verifies and values a fresh attestation signed by the trusted signer: ratio 0.5 → half value", async () => {
    const { reading } = await readExternal("/good");
    expect(reading).toMatchObject({
      issuer: "y-usd",
      url: `${base}/good`,
      circular: null,
      result: { ok: true, value: { sequence: 1n, ratioBps: 5000, validUntil: NOW + 600n } },
    });
    expect(reading.result.ok && reading.result.value.signer).toBe(Y_KEY.address);
    const { y, flags } = await valued("/good");
    expect(y.item).toMatchObject({ priceUsd: E18 / 2n, valueUsd: 50_000n * E18, status: 0 });
    expect(flags).toEqual([]);
  });

  it("a signature by another key, or an attestation edited after signing: status 3 + STALE_SOURCE", async () => {
    for (const path of ["/wrong-signer", "/tampered"]) {
      const { reading } = await readExternal(path);
      expect(reading.result.ok).toBe(false);
      expect(reading.result.ok ? "" : reading.result.reason).toMatch(
        new RegExp(`signed by 0x[0-9a-fA-F]{40}, not by the trusted signer ${Y_KEY.address}`),
      );
      const { y, flags, snapshot } = await valued(path);
      expect(y.item).toMatchObject({ valueUsd: 0n, status: 3 });
      expect(y.details).toMatchObject({ exclusion: "attestation-invalid" });
      expect(flags).toEqual(["STALE_SOURCE"]);
      expect(snapshot.totals.reservesUsd).toBe(700_000n * E18);
    }
  });

  it("a validly signed attestation past its validUntil: status 3 + STALE_SOURCE", async () => {
    const { reading } = await readExternal("/stale");
    expect(reading.result.ok).toBe(true);
    const { y, flags } = await valued("/stale");
    expect(y.details).toMatchObject({ exclusion: "attestation-stale" });
    expect(flags).toEqual(["STALE_SOURCE"]);
  });

  it("a publisher that does not answer, or whose report does not match its reportHash: status 3 + STALE_SOURCE", async () => {
    const down = await readExternal("/down");
    expect(down.reading.result.ok ? "" : down.reading.result.reason).toMatch(/^HTTP 503 from /);
    const bad = await readExternal("/bad-report");
    expect(bad.reading.result.ok ? "" : bad.reading.result.reason).toMatch(/does not hash to the signed reportHash/);
    expect((await valued("/bad-report")).flags).toEqual(["STALE_SOURCE"]);
  });

  it("a publisher whose report holds our liability token is circular (one level deep)", async () => {
    const { reading } = await readExternal("/cyclic");
    expect(reading.circular).toEqual(["acme-usd", `y-usd@${base}/cyclic`, "acme-usd"]);
    const { y, flags } = await valued("/cyclic");
    expect(y.details).toMatchObject({ exclusion: "circular" });
    expect(flags).toEqual(["CIRCULAR_RESERVES"]);
  });
});

describe("local look-through (issuers of this deployment)", () => {
  const X_TOKEN = "0x1010101010101010101010101010101010101010";
  const Y_TOKEN = "0x2020202020202020202020202020202020202020";
  const Z_TOKEN = "0x3030303030303030303030303030303030303030";
  const tokenIssuer = (id: string, token: string, holds: { token: string; issuer: string }[]) => ({
    id,
    name: id,
    assets: holds.map((h) => ({
      id: `${h.issuer.toUpperCase()}T`,
      decimals: 6,
      prices: [{ kind: "http", url: `https://p.example/${h.issuer}`, path: "usd" }],
    })),
    liabilities: { supply: { asset: `${id.toUpperCase()}T`, pegUsd: E18.toString(), tokens: [{ chainId: 1, token }] } },
    reserves: {
      holders: [
        {
          chainId: 1,
          address: H1,
          ownership: { kind: "contract" },
          holdings: holds.map((h) => ({
            type: "erc20",
            asset: `${h.issuer.toUpperCase()}T`,
            token: h.token,
            lookThrough: { issuer: h.issuer },
          })),
        },
      ],
    },
  });
  const config = parseConfig({
    version: 1,
    chains: CHAINS,
    issuers: [
      tokenIssuer("x", X_TOKEN, [{ token: Y_TOKEN, issuer: "y" }]),
      tokenIssuer("y", Y_TOKEN, [{ token: X_TOKEN, issuer: "x" }]),
      tokenIssuer("z", Z_TOKEN, [{ token: Y_TOKEN, issuer: "y" }]),
    ],
  });
  const signedBy = async (id: string, ratioBps: number, key = Y_KEY): Promise<LocalAttestation> => {
    const a = { ...yAttestation(ratioBps, NOW + 600n, cleanReport), issuer: issuerKey(id) };
    return {
      attestation: a,
      signature: await signAttestation(a, key),
      signer: Y_KEY.address.toLowerCase() as `0x${string}`,
    };
  };
  const issuerById = (id: string) => config.issuers.find((i) => i.id === id)!;

  it("marks X ↔ Y circular on both sides from the configuration, and Z (holding Y, not held back) not", async () => {
    const store = new Map([
      ["x", await signedBy("x", 12000)],
      ["y", await signedBy("y", 12000)],
    ]);
    const localAttestation = async (id: string) => store.get(id) ?? null;
    const read = (id: string) =>
      readAttestedTokens({ issuer: issuerById(id), issuers: config.issuers, localAttestation, fetchFn: fetch });
    expect(await read("x")).toEqual([
      expect.objectContaining({
        issuer: "y",
        url: null,
        circular: ["x", "y", "x"],
        result: expect.objectContaining({ ok: true }),
      }),
    ]);
    expect(await read("y")).toEqual([expect.objectContaining({ issuer: "x", url: null, circular: ["y", "x", "y"] })]);
    expect(await read("z")).toEqual([
      expect.objectContaining({ issuer: "y", circular: null, result: expect.objectContaining({ ok: true }) }),
    ]);
  });

  it("fails a local issuer with no attestation yet, or one whose signature is not by its stored signer", async () => {
    const forged = await signedBy("y", 12000, OTHER_KEY);
    const none = await readAttestedTokens({
      issuer: issuerById("z"),
      issuers: config.issuers,
      localAttestation: async () => null,
      fetchFn: fetch,
    });
    expect(none[0]!.result).toEqual({ ok: false, reason: "issuer y has no attestation yet" });
    const bad = await readAttestedTokens({
      issuer: issuerById("z"),
      issuers: config.issuers,
      localAttestation: async () => forged,
      fetchFn: fetch,
    });
    expect(bad[0]!.result.ok ? "" : bad[0]!.result.reason).toMatch(/not by the trusted signer/);
    const wrongIssuer = await readAttestedTokens({
      issuer: issuerById("z"),
      issuers: config.issuers,
      localAttestation: async () => signedBy("x", 1),
      fetchFn: fetch,
    });
    expect(wrongIssuer[0]!.result).toEqual({ ok: false, reason: "the attestation is not about issuer y" });
  });
});
