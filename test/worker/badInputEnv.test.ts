/**
 * Secrets are bad input too: the environment is checked once per isolate,
 * GET /health names every misconfigured secret (never its value), the publish
 * path refuses with the same sentence, and admin tokens never show up in
 * logs or error bodies.
 */
import { env as workersEnv } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import { createApp } from "../../worker/api/app.js";
import { checkEnv, checkEnvOnce } from "../../worker/config/checkEnv.js";
import type { Env } from "../../worker/env.js";
import { publishTick } from "../../worker/publisher/publishTick.js";

const env = workersEnv as unknown as Env;
const GOOD_KEY = `0x${"42".repeat(32)}`;
const GOOD_TOKEN = "a-good-admin-token-0123456789";

const config = parseConfig({
  version: 1,
  chains: [{ chainId: 1, rpcUrls: ["https://rpc.example/${RPC_KEY}"] }],
  issuers: [
    {
      id: "acme",
      name: "Acme",
      assets: [
        { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
      ],
      liabilities: { ledger: { assets: ["USD"] } },
      reserves: {},
      relayer: { chainId: 1, oracle: `0x${"11".repeat(20)}`, keySecret: "ACME_RELAYER_KEY" },
      alerts: { destinations: [{ kind: "webhook", url: "https://ops.example/hook", secret: "ACME_HOOK_SECRET" }] },
    },
  ],
});

const goodSecrets = {
  SIGNING_KEY: GOOD_KEY,
  ADMIN_TOKEN: GOOD_TOKEN,
  ADMIN_TOKENS: JSON.stringify({ acme: "acme-only-token-0123456789abc" }),
  RPC_KEY: "rpc-key",
  ACME_RELAYER_KEY: `0x${"43".repeat(32)}`,
  ACME_HOOK_SECRET: "hook-secret",
};
const withSecrets = (overrides: Record<string, unknown>) => ({ ...goodSecrets, ...overrides }) as unknown as Env;

afterEach(() => vi.restoreAllMocks());

describe("checkEnv", () => {
  it("accepts a well-formed environment", () => {
    expect(checkEnv(withSecrets({}), config)).toEqual({ ok: true, problems: [], message: "" });
  });

  it.each([
    ["SIGNING_KEY missing", { SIGNING_KEY: undefined }, "SIGNING_KEY", "missing"],
    ["SIGNING_KEY short", { SIGNING_KEY: "0x1234" }, "SIGNING_KEY", "32-byte"],
    ["SIGNING_KEY without 0x", { SIGNING_KEY: "42".repeat(32) }, "SIGNING_KEY", "0x-prefixed"],
    ["SIGNING_KEY zero", { SIGNING_KEY: `0x${"00".repeat(32)}` }, "SIGNING_KEY", "curve order"],
    ["SIGNING_KEY above the curve order", { SIGNING_KEY: `0x${"ff".repeat(32)}` }, "SIGNING_KEY", "curve order"],
    ["ADMIN_TOKEN of 23 characters", { ADMIN_TOKEN: "x".repeat(23) }, "ADMIN_TOKEN", "at least 24"],
    ["ADMIN_TOKEN with a space", { ADMIN_TOKEN: "two words but long enough ok" }, "ADMIN_TOKEN", "white space"],
    ["ADMIN_TOKENS not JSON", { ADMIN_TOKENS: "acme=secret-token-value-long" }, "ADMIN_TOKENS", "JSON object"],
    ["ADMIN_TOKENS an array", { ADMIN_TOKENS: '["secret-token-value-0123456"]' }, "ADMIN_TOKENS", "JSON object"],
    [
      "ADMIN_TOKENS entry short",
      { ADMIN_TOKENS: '{"acme":"short-secret"}' },
      "ADMIN_TOKENS",
      'entry "acme" must be at least 24',
    ],
    [
      "ADMIN_TOKENS entry a number",
      { ADMIN_TOKENS: '{"acme":1234567}' },
      "ADMIN_TOKENS",
      'entry "acme" has the wrong type',
    ],
    [
      "ADMIN_TOKENS unknown issuer",
      { ADMIN_TOKENS: '{"acme":"acme-only-token-0123456789abc","ghost":"ghost-token-0123456789abcdef"}' },
      "ADMIN_TOKENS",
      '"ghost"',
    ],
    ["RPC placeholder secret missing", { RPC_KEY: undefined }, "RPC_KEY", "chains[0].rpcUrls[0]"],
    ["relayer key missing", { ACME_RELAYER_KEY: "" }, "ACME_RELAYER_KEY", "issuers[0].relayer.keySecret"],
    ["relayer key malformed", { ACME_RELAYER_KEY: "0xnot-a-key-at-all" }, "ACME_RELAYER_KEY", "32-byte"],
    ["webhook secret missing", { ACME_HOOK_SECRET: undefined }, "ACME_HOOK_SECRET", "alerts.destinations[0].secret"],
  ])("%s", (_name, overrides, secret, why) => {
    const check = checkEnv(withSecrets(overrides), config);
    expect(check.ok).toBe(false);
    expect(check.problems.map((p) => p.secret)).toEqual([secret]);
    expect(check.message).toContain(why);
    // The message names the secret, never its value.
    for (const value of Object.values(overrides)) {
      if (typeof value === "string" && value.length >= 6) expect(check.message).not.toContain(value.slice(2));
    }
  });

  it("logs once per isolate, by name only", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const bad = withSecrets({ SIGNING_KEY: "0xdeadbeefdeadbeef", ADMIN_TOKEN: "short-token" });
    checkEnvOnce(bad, config);
    checkEnvOnce(bad, config);
    checkEnvOnce(bad, config);
    expect(log).toHaveBeenCalledTimes(1);
    const text = JSON.stringify(log.mock.calls);
    expect(text).toContain("SIGNING_KEY");
    expect(text).toContain("ADMIN_TOKEN");
    expect(text).not.toContain("deadbeef");
    expect(text).not.toContain("short-token");
  });
});

describe("LEDGER_BLINDING_SECRET (private ledgers)", () => {
  const privateConfig = (scheme: "plain" | "private") =>
    parseConfig({
      version: 1,
      chains: [{ chainId: 1, rpcUrls: ["https://rpc.example"] }],
      issuers: [
        {
          id: "hush",
          name: "Hush",
          assets: [
            { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
          ],
          liabilities: { ledger: { assets: ["USD"], scheme } },
          reserves: {},
        },
      ],
    });
  const base = { SIGNING_KEY: GOOD_KEY, ADMIN_TOKEN: GOOD_TOKEN };
  const GOOD_SECRET = `0x${"5a".repeat(32)}`;

  it("is needed only when an issuer is private", () => {
    expect(checkEnv(base as unknown as Env, privateConfig("plain")).ok).toBe(true);
    expect(
      checkEnv({ ...base, LEDGER_BLINDING_SECRET: GOOD_SECRET } as unknown as Env, privateConfig("private")).ok,
    ).toBe(true);
    // Longer secrets are fine too (at least 32 bytes).
    const long = { ...base, LEDGER_BLINDING_SECRET: `0x${"5a".repeat(48)}` };
    expect(checkEnv(long as unknown as Env, privateConfig("private")).ok).toBe(true);
  });

  it.each([
    ["missing", undefined, "is not set"],
    ["only white space", "   ", "is not set"],
    ["too short (31 bytes)", `0x${"5a".repeat(31)}`, "at least 64 hex digits"],
    ["without 0x", "5a".repeat(32), "at least 64 hex digits"],
    ["odd number of hex digits", `0x${"5a".repeat(32)}b`, "at least 64 hex digits"],
    ["not hex", `0x${"zz".repeat(32)}`, "at least 64 hex digits"],
  ])("%s: refused naming the secret and the private issuer, never its value", (_name, value, why) => {
    const check = checkEnv({ ...base, LEDGER_BLINDING_SECRET: value } as unknown as Env, privateConfig("private"));
    expect(check.ok).toBe(false);
    expect(check.problems.map((p) => p.secret)).toEqual(["LEDGER_BLINDING_SECRET"]);
    expect(check.message).toContain(why);
    expect(check.message).toContain('issuer "hush" is private');
    expect(check.message).toContain("wrangler secret put LEDGER_BLINDING_SECRET");
    if (typeof value === "string" && value.trim().length > 8) expect(check.message).not.toContain(value.slice(2, 20));
  });
});

describe("GET /health and the publish path", () => {
  const app = createApp();
  const call = (path: string, overrides: Record<string, unknown>, init?: RequestInit) =>
    app.fetch(new Request(`http://solvent.test${path}`, init), { ...env, ...overrides } as unknown as Env);

  it("answers 200 when every secret is usable", async () => {
    const res = await call("/health", {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, service: "solvent" });
  });

  it("answers 503 naming the misconfigured secrets, never their values", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await call("/health", { SIGNING_KEY: "0xfeedface", ADMIN_TOKEN: "tiny-admin-token" });
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = JSON.parse(text) as { ok: boolean; error: { code: string; secrets: string[]; message: string } };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe("MISCONFIGURED");
    expect(body.error.secrets).toEqual(["SIGNING_KEY", "ADMIN_TOKEN"]);
    expect(text).not.toContain("feedface");
    expect(text).not.toContain("tiny-admin-token");
  });

  it("refuses to publish with the sentence /health gives, before any work", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const overrides = { SIGNING_KEY: `0x${"00".repeat(32)}` };
    const health = (await (await call("/health", overrides)).json()) as {
      error: { problems: { secret: string; problem: string }[] };
    };
    const problem = health.error.problems.find((p) => p.secret === "SIGNING_KEY")!.problem;
    const res = await call("/v1/admin/issuers/demo-stable/publish", overrides, {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN as string}` },
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "MISCONFIGURED", message: problem });
    // The cron path (publishTick) refuses with the very same sentence, and without the key's value.
    const outcome = await publishTick({
      env: { ...env, ...overrides } as unknown as Env,
      config: parseConfig(JSON.parse(env.SOLVENT_CONFIG as string)),
      issuerId: "demo-stable",
      now: 0n,
    });
    expect(outcome).toMatchObject({ published: false, code: "MISCONFIGURED", reason: problem });
    expect(JSON.stringify(outcome)).not.toMatch(
      /got 0|115792089237316195423570985008687907852837564279074904382605163141518161494337/,
    );
  });

  it("reports an invalid configuration by JSON path at /health and to an admin, never publicly", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const bad = JSON.stringify({
      version: 1,
      issuers: [{ id: "Bad Id", name: "x", assets: [], liabilities: {}, reserves: {} }],
    });
    const health = await call("/health", { SOLVENT_CONFIG: bad });
    expect(health.status).toBe(503);
    expect(JSON.stringify(await health.json())).toContain("issuers[0].id");
    // Public routes fail closed without a word about the configuration; an authenticated admin gets the paths.
    const res = await call("/v1/issuers", { SOLVENT_CONFIG: bad });
    expect(res.status).toBe(503);
    const publicText = await res.text();
    expect(JSON.parse(publicText)).toMatchObject({ error: { code: "SERVICE_UNAVAILABLE" } });
    expect(publicText).not.toContain("issuers[0]");
    const adminRes = await call(
      "/v1/admin/issuers/demo/publisher",
      { SOLVENT_CONFIG: bad },
      { headers: { authorization: `Bearer ${env.ADMIN_TOKEN as string}` } },
    );
    expect(adminRes.status).toBe(503);
    const body = (await adminRes.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe("MISCONFIGURED");
    expect(body.error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["issuers[0].id", "issuers[0].assets", "issuers[0].liabilities"]),
    );
    log.mockRestore();
  });
});

describe("admin tokens", () => {
  const app = createApp();
  const token = env.ADMIN_TOKEN as string;

  it("never appear in logs or error bodies, whatever is presented", async () => {
    const logged: unknown[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args));
    }
    const attempts: [string, RequestInit][] = [
      [
        "/v1/admin/issuers/demo/statements",
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}x`, "content-type": "application/json" },
          body: "{}",
        },
      ],
      [
        "/v1/admin/issuers/demo/statements",
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: `{"statement":"x"}`,
        },
      ],
      ["/v1/admin/issuers/nope/publish", { method: "POST", headers: { authorization: `Bearer ${token}` } }],
      [
        "/v1/admin/issuers/demo/ledger",
        {
          method: "PUT",
          headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
          body: "userId,salt,BTC\n",
        },
      ],
      ["/v1/admin/issuers/demo/ledgers/lg_x", { headers: { authorization: `Basic ${btoa(`admin:${token}`)}` } }],
    ];
    const bodies: string[] = [];
    for (const [path, init] of attempts) {
      const res = await app.fetch(new Request(`http://solvent.test${path}`, init), env);
      expect(res.status).toBeGreaterThanOrEqual(400);
      bodies.push(await res.text());
    }
    const everything = JSON.stringify([bodies, logged.map((args) => String(args))]);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.slice(0, 12));
  });

  it.each([
    [
      "a 23-character ADMIN_TOKEN",
      { ADMIN_TOKEN: "x".repeat(23) },
      "x".repeat(23),
      "ADMIN_TOKEN must be at least 24 characters",
    ],
    [
      "an ADMIN_TOKEN with white space",
      { ADMIN_TOKEN: "two words but long enough ok" },
      "two words but long enough ok",
      "ADMIN_TOKEN must not contain white space",
    ],
    [
      "a short ADMIN_TOKENS entry",
      { ADMIN_TOKENS: '{"demo":"short-demo-token"}' },
      "short-demo-token",
      'ADMIN_TOKENS entry "demo" must be at least 24',
    ],
    [
      "ADMIN_TOKENS naming an unknown issuer",
      { ADMIN_TOKENS: '{"ghost":"ghost-token-0123456789abcdef"}' },
      "ghost-token-0123456789abcdef",
      '"ghost"',
    ],
  ])("that /health calls invalid authenticate no one: %s", async (_name, overrides, presented, why) => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const scoped = { ...env, ...overrides } as unknown as Env;
    const health = await app.fetch(new Request("http://solvent.test/health"), scoped);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { error: { message: string } }).error.message).toContain(why);
    // Neither the exact configured token nor the suite's valid one gets in, on any admin route.
    for (const bearer of [presented, token]) {
      for (const [path, method] of [
        ["/v1/admin/issuers/demo/publish", "POST"],
        ["/v1/admin/issuers/demo/publisher", "GET"],
      ] as const) {
        const res = await app.fetch(
          new Request(`http://solvent.test${path}`, { method, headers: { authorization: `Bearer ${bearer}` } }),
          scoped,
        );
        expect(res.status, `${method} ${path}`).toBe(503);
        const text = await res.text();
        const body = JSON.parse(text) as { error: { code: string; message: string; secrets: string[] } };
        expect(body.error.code).toBe("MISCONFIGURED");
        expect(body.error.message).toContain(why);
        expect(body.error.secrets).toEqual([Object.keys(overrides)[0]]);
        expect(text).not.toContain(presented);
      }
    }
  });

  it("of one issuer do not open another issuer's routes", async () => {
    const scoped = {
      ...env,
      ADMIN_TOKENS: JSON.stringify({ demo: "demo-only-admin-token-0123456789" }),
    } as unknown as Env;
    const post = (issuer: string, bearer: string) =>
      app.fetch(
        new Request(`http://solvent.test/v1/admin/issuers/${issuer}/publisher`, {
          headers: { authorization: `Bearer ${bearer}` },
        }),
        scoped,
      );
    expect((await post("demo", "demo-only-admin-token-0123456789")).status).toBe(200);
    expect((await post("demo-stable", "demo-only-admin-token-0123456789")).status).toBe(403);
    expect((await post("demo-stable", token)).status).toBe(200);
  });
});
