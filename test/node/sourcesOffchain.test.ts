import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { custodianSchema } from "../../core/config/schema.js";
import { type CustodianStatement, signCustodianStatement } from "../../core/custodianStatement.js";
import {
  decimalToUsd18,
  fetchHttpPrice,
  fixedPrice,
  parseJsonKeepingNumbers,
} from "../../worker/sources/fetchHttpPrice.js";
import { recheckStatements, type StoredStatement } from "../../worker/sources/recheckStatements.js";

const NOW = 1_800_000_000n;
const E18 = 10n ** 18n;

// ---- a real HTTP server on 127.0.0.1 ----

const routes: Record<string, { status?: number; body: string; hang?: boolean }> = {
  "/string": { body: JSON.stringify({ data: { ETH: { usd: "3000.123456789012345678912" } }, ts: Number(NOW) - 10 }) },
  // Written as JSON numbers: JSON.parse would round these through a float.
  "/number": { body: `{"price": 12345678901234567890.5, "small": 0.1234567890123456789, "ts": "${NOW - 5n}"}` },
  "/array": { body: `{"quotes": [{"p": "1"}, {"p": "2.5"}]}` },
  "/500": { status: 500, body: "oops" },
  "/badjson": { body: "{ price: 1 }" },
  "/exponent": { body: `{"n": 3e3, "s": "1.5E-3"}` },
  "/negative": { body: `{"n": -5, "s": "-0.01"}` },
  "/stale": { body: JSON.stringify({ price: "1.00", ts: Number(NOW) - 7200 }) },
  "/future": { body: JSON.stringify({ price: "1.00", ts: Number(NOW) + 3600 }) },
  "/odd": {
    body: JSON.stringify({
      nan: "NaN",
      empty: "",
      word: "abc",
      zero: "0.000",
      obj: { a: 1 },
      bool: true,
      lead: "01.5",
    }),
  },
  "/slow": { body: "{}", hang: true },
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes[req.url ?? ""];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    if (route.hang) return; // never answers; the client's timeout must fire
    res.writeHead(route.status ?? 200, { "content-type": "application/json" }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function http(path: string, pricePath: string, extra: { timestampPath?: string; maxAgeSeconds?: number } = {}) {
  return fetchHttpPrice(
    fetch,
    { kind: "http", url: `${base}${path}`, path: pricePath, ...extra },
    { asset: "ETH", now: NOW, maxSourceAgeSeconds: 3600, timeoutMs: 300 },
  );
}

async function reason(
  path: string,
  pricePath: string,
  extra: { timestampPath?: string; maxAgeSeconds?: number } = {},
): Promise<string> {
  const obs = await http(path, pricePath, extra);
  expect(obs.result.ok).toBe(false);
  return obs.result.ok ? "" : obs.result.reason;
}

describe("sources: fetchHttpPrice", () => {
  it("reads a decimal string at a dot path exactly, flooring past 18 fractional digits", async () => {
    const obs = await http("/string", "data.ETH.usd", { timestampPath: "ts" });
    expect(obs).toEqual({
      asset: "ETH",
      source: `http:${base}/string`,
      result: { ok: true, value: { priceUsd: 3000_123456789012345678n, updatedAt: NOW - 10n } },
    });
  });

  it("reads JSON numbers from their text, not through a float", async () => {
    const big = await http("/number", "price", { timestampPath: "ts" });
    expect(big.result).toEqual({
      ok: true,
      value: { priceUsd: 12345678901234567890_500000000000000000n, updatedAt: NOW - 5n },
    });
    const small = await http("/number", "small");
    expect(small.result).toEqual({ ok: true, value: { priceUsd: 123456789012345678n } });
    expect((await http("/array", "quotes.1.p")).result).toEqual({
      ok: true,
      value: { priceUsd: 2_500000000000000000n },
    });
  });

  it("fails with the HTTP status, bad JSON, or a missing path", async () => {
    expect(await reason("/500", "price")).toMatch(/^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/500$/);
    expect(await reason("/badjson", "price")).toMatch(/not valid JSON/);
    expect(await reason("/string", "data.BTC.usd")).toBe("no value at data.BTC.usd");
    expect(await reason("/string", "data.ETH.usd", { timestampPath: "when" })).toBe("no value at when");
  });

  it("refuses exponent form, negatives, NaN, empty, zero, leading zeros and non-numbers", async () => {
    expect(await reason("/exponent", "n")).toBe("n: 3e3 is in exponent form");
    expect(await reason("/exponent", "s")).toBe("s: 1.5E-3 is in exponent form");
    expect(await reason("/negative", "n")).toBe("n: -5 is negative");
    expect(await reason("/negative", "s")).toBe("s: -0.01 is negative");
    expect(await reason("/odd", "nan")).toMatch(/^nan: "NaN" is not a plain decimal number$/);
    expect(await reason("/odd", "empty")).toBe("empty: is empty");
    expect(await reason("/odd", "word")).toMatch(/not a plain decimal number/);
    expect(await reason("/odd", "zero")).toBe("zero: 0.000 is not a positive price");
    expect(await reason("/odd", "lead")).toMatch(/not a plain decimal number/);
    expect(await reason("/odd", "obj")).toBe("obj is an object, not a number or numeric string");
    expect(await reason("/odd", "bool")).toBe("bool is a boolean, not a number or numeric string");
  });

  it("fails a stale or future timestamp against the source's or the policy's max age", async () => {
    expect(await reason("/stale", "price", { timestampPath: "ts" })).toBe(
      `stale: ts ${NOW - 7200n} is 7200s old, over the 3600s limit`,
    );
    const ok = await http("/stale", "price", { timestampPath: "ts", maxAgeSeconds: 7200 });
    expect(ok.result).toEqual({ ok: true, value: { priceUsd: E18, updatedAt: NOW - 7200n } });
    expect(await reason("/future", "price", { timestampPath: "ts" })).toMatch(/is in the future/);
  });

  it("gives up after its timeout", async () => {
    const started = Date.now();
    expect(await reason("/slow", "price")).toMatch(/no answer from .* within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("fails an unreachable server without throwing", async () => {
    const obs = await fetchHttpPrice(
      fetch,
      { kind: "http", url: "http://127.0.0.1:1/x", path: "p" },
      { asset: "ETH", now: NOW, maxSourceAgeSeconds: 60 },
    );
    expect(obs.result.ok).toBe(false);
    expect(obs.result.ok ? "" : obs.result.reason).toMatch(/^request to http:\/\/127\.0\.0\.1:1\/x failed/);
  });

  it("labels fixed sources `fixed` with the configured price", () => {
    expect(fixedPrice("USD", { kind: "fixed", priceUsd: "1000000000000000000" })).toEqual({
      asset: "USD",
      source: "fixed",
      result: { ok: true, value: { priceUsd: E18 } },
    });
  });
});

describe("sources: decimal and JSON parsing", () => {
  it("converts decimal text to usd18 exactly", () => {
    expect(decimalToUsd18("1")).toEqual({ ok: true, value: E18 });
    expect(decimalToUsd18("0.000000000000000001")).toEqual({ ok: true, value: 1n });
    expect(decimalToUsd18("0.0000000000000000019")).toEqual({ ok: true, value: 1n });
    expect(decimalToUsd18("0.0000000000000000009").ok).toBe(false); // floors to zero
    expect(decimalToUsd18("1.").ok).toBe(false);
    expect(decimalToUsd18(".5").ok).toBe(false);
    expect(decimalToUsd18("+1").ok).toBe(false);
    expect(decimalToUsd18(" 1").ok).toBe(false);
    expect(decimalToUsd18("Infinity").ok).toBe(false);
  });

  it("parses strict JSON only", () => {
    expect(() => parseJsonKeepingNumbers("[1,]")).toThrow();
    expect(() => parseJsonKeepingNumbers('{"a":1} x')).toThrow(/trailing/);
    expect(() => parseJsonKeepingNumbers("01")).toThrow();
    expect(() => parseJsonKeepingNumbers('"\\x"')).toThrow();
    expect(() => parseJsonKeepingNumbers("[".repeat(100) + "]".repeat(100))).toThrow(/too deep/);
    const parsed = parseJsonKeepingNumbers(' {"a\\u0041": [true, null, "x\\n"], "n": -0.5e-7} ') as Map<
      string,
      unknown
    >;
    expect([...parsed.keys()]).toEqual(["aA", "n"]);
    expect(parsed.get("aA")).toEqual([true, null, "x\n"]);
    expect((parsed.get("n") as { text: string }).text).toBe("-0.5e-7");
  });
});

describe("sources: recheckStatements", () => {
  const trustKey = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
  const stranger = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
  const custodians = [
    custodianSchema.parse({
      id: "acme-trust",
      signers: [trustKey.address],
      accounts: [
        { account: "operating", asset: "USD" },
        { account: "cold", asset: "BTC" },
        { account: "reserve", asset: "USD" },
        { account: "missing", asset: "USD" },
      ],
    }),
  ];
  const statement = (account: string, asset: string, asOf: bigint, nonce: bigint): CustodianStatement => ({
    issuer: "acme-usd",
    custodian: "acme-trust",
    account,
    asset,
    amount: 5_000n * E18,
    asOf,
    nonce,
  });
  const stored = async (s: CustodianStatement, signer = trustKey): Promise<StoredStatement> => ({
    statement: s,
    signature: await signCustodianStatement(s, signer),
  });

  it("emits one reading per configured pair with a statement (valid, stale, unknown signer) and none for a missing one", async () => {
    const valid = await stored(statement("operating", "USD", NOW - 100n, 3n));
    const older = await stored(statement("operating", "USD", NOW - 50n, 2n)); // lower nonce: not the latest
    const stale = await stored(statement("cold", "BTC", NOW - 90_000n, 1n));
    const foreign = await stored(statement("reserve", "USD", NOW - 10n, 1n), stranger);
    const unconfigured = await stored(statement("elsewhere", "USD", NOW, 1n));
    const readings = await recheckStatements({
      issuerId: "acme-usd",
      custodians,
      statements: [older, valid, stale, foreign, unconfigured],
      now: NOW,
      maxAgeSeconds: 86_400,
    });
    expect(readings.map((r) => [r.account, r.asset])).toEqual([
      ["operating", "USD"],
      ["cold", "BTC"],
      ["reserve", "USD"],
    ]);
    expect(readings[0]).toEqual({
      custodian: "acme-trust",
      account: "operating",
      asset: "USD",
      result: {
        ok: true,
        value: {
          amount: 5_000n * E18,
          asOf: NOW - 100n,
          nonce: 3n,
          signer: trustKey.address,
          signature: valid.signature,
        },
      },
    });
    expect(readings[1]!.result).toEqual({
      ok: false,
      reason: `STALE: asOf ${NOW - 90_000n} is 90000s old, over the 86400s limit`,
    });
    expect(readings[2]!.result).toEqual({
      ok: false,
      reason: `UNKNOWN_SIGNER: ${stranger.address} is not registered for custodian acme-trust`,
    });
    expect(readings).toHaveLength(3);
  });

  it("turns a statement stale as time passes after ingest", async () => {
    const s = await stored(statement("operating", "USD", NOW, 1n));
    const at = async (now: bigint) =>
      (await recheckStatements({ issuerId: "acme-usd", custodians, statements: [s], now, maxAgeSeconds: 3600 }))[0]!
        .result.ok;
    expect(await at(NOW + 3600n)).toBe(true);
    expect(await at(NOW + 3601n)).toBe(false);
  });
});
