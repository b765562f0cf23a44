import { env as workersEnv } from "cloudflare:workers";
import { Hono } from "hono";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import type { Hex } from "../../core/bytes.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import {
  type CustodianStatement,
  custodianStatementDigest,
  custodianStatementToJson,
  signCustodianStatement,
} from "../../core/custodianStatement.js";
import { createAdminApi } from "../../worker/api/adminApi.js";
import type { AppEnv } from "../../worker/api/context.js";
import { ApiError, handleError } from "../../worker/api/errors.js";
import type { Env } from "../../worker/env.js";
import { lastAcceptedNonce, latestStatements } from "../../worker/storage/statementStore.js";
import { highSTwin } from "../support/highS.js";

// Bindings from wrangler.toml (no generated `wrangler types` here).
const env = workersEnv as unknown as Env;

const acmeCustodian = privateKeyToAccount(`0x${"44".repeat(32)}`);
const betaCustodian = privateKeyToAccount(`0x${"55".repeat(32)}`);
const stranger = privateKeyToAccount(`0x${"66".repeat(32)}`);

const usd = { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] };
const issuer = (id: string, custodian: string, signerAddress: string) => ({
  id,
  name: id,
  assets: [usd],
  liabilities: { ledger: { assets: ["USD"] } },
  reserves: {
    custodians: [{ id: custodian, signers: [signerAddress], accounts: [{ account: "operating", asset: "USD" }] }],
  },
  policy: { statementMaxAgeSeconds: 3600 },
});
const config = parseConfig({
  version: 1,
  issuers: [issuer("acme", "acme-trust", acmeCustodian.address), issuer("beta", "beta-trust", betaCustodian.address)],
});

const app = new Hono<AppEnv>();
app.onError(handleError);
app.notFound((c) => {
  throw new ApiError("NOT_FOUND", `no route for ${c.req.method}`);
});
app.use("*", async (c, next) => {
  c.set("config", config);
  await next();
});
app.route("/", createAdminApi());

const TOKENS = {
  ADMIN_TOKEN: "deployment-wide-token-0123",
  ADMIN_TOKENS: JSON.stringify({ acme: "acme-only-token-012345678", beta: "beta-only-token-012345678" }),
};
const withTokens = (tokens: Partial<Pick<Env, "ADMIN_TOKEN" | "ADMIN_TOKENS">>) =>
  ({ DB: env.DB, BUCKET: env.BUCKET, ...tokens }) as unknown as Env;
const fullEnv = withTokens(TOKENS);

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));
let nextNonce = 100n;

function statementFor(overrides: Partial<CustodianStatement> = {}): CustodianStatement {
  return {
    issuer: "acme",
    custodian: "acme-trust",
    account: "operating",
    asset: "USD",
    amount: 123_456_789n * 10n ** 20n,
    asOf: nowSeconds() - 60n,
    nonce: nextNonce++,
    ...overrides,
  };
}

async function body(statement: CustodianStatement, signer = acmeCustodian) {
  return { statement: custodianStatementToJson(statement), signature: await signCustodianStatement(statement, signer) };
}

function post(
  issuerId: string,
  payload: unknown,
  token: string | null = "acme-only-token-012345678",
  environment: Env = fullEnv,
) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  return app.request(
    `https://solvent.example/v1/admin/issuers/${issuerId}/statements`,
    { method: "POST", headers, body: text },
    environment,
  );
}

async function expectError(res: Response, status: number, code: string, extra?: Record<string, unknown>) {
  expect(res.status).toBe(status);
  const json = (await res.json()) as { error: Record<string, unknown> };
  expect(json.error.code).toBe(code);
  if (extra) expect(json.error).toMatchObject(extra);
  return json.error;
}

describe("admin auth", () => {
  it("answers 401 with WWW-Authenticate when the token is missing or not a bearer token", async () => {
    for (const res of [
      await post("acme", await body(statementFor()), null),
      await app.request(
        "https://solvent.example/v1/admin/issuers/acme/statements",
        { method: "POST", headers: { Authorization: "Basic YWRtaW46YWRtaW4=" }, body: "{}" },
        fullEnv,
      ),
    ]) {
      await expectError(res, 401, "UNAUTHORIZED");
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    }
  });

  it("answers 403 for a wrong token and for another issuer's token", async () => {
    await expectError(await post("acme", await body(statementFor()), "nope"), 403, "FORBIDDEN");
    await expectError(
      await post("acme", await body(statementFor()), "acme-only-token-012345678-plus"),
      403,
      "FORBIDDEN",
    );
    await expectError(await post("acme", await body(statementFor()), "beta-only-token-012345678"), 403, "FORBIDDEN");
    await expectError(
      await post(
        "beta",
        await body(statementFor({ issuer: "beta", custodian: "beta-trust" }), betaCustodian),
        "acme-only-token-012345678",
      ),
      403,
      "FORBIDDEN",
    );
    expect(await lastAcceptedNonce(env.DB, "acme", "acme-trust", "operating", "USD")).toBeNull();
  });

  it("accepts the issuer's own token and the deployment-wide token", async () => {
    expect((await post("acme", await body(statementFor()), "acme-only-token-012345678")).status).toBe(201);
    expect((await post("acme", await body(statementFor()), "deployment-wide-token-0123")).status).toBe(201);
    const beta = await post(
      "beta",
      await body(statementFor({ issuer: "beta", custodian: "beta-trust" }), betaCustodian),
      "beta-only-token-012345678",
    );
    expect(beta.status).toBe(201);
    // Only per-issuer tokens configured: still enforced per issuer.
    const perIssuerOnly = withTokens({ ADMIN_TOKENS: TOKENS.ADMIN_TOKENS });
    expect((await post("acme", await body(statementFor()), "acme-only-token-012345678", perIssuerOnly)).status).toBe(
      201,
    );
    await expectError(
      await post("acme", await body(statementFor()), "deployment-wide-token-0123", perIssuerOnly),
      403,
      "FORBIDDEN",
    );
  });

  it("answers 503 MISCONFIGURED when no admin token is configured, never echoing secrets", async () => {
    await expectError(await post("acme", await body(statementFor()), "anything", withTokens({})), 503, "MISCONFIGURED");
    await expectError(
      await post("acme", await body(statementFor()), "x", withTokens({ ADMIN_TOKEN: "", ADMIN_TOKENS: "{}" })),
      503,
      "MISCONFIGURED",
    );
    const res = await post(
      "acme",
      await body(statementFor()),
      "x",
      withTokens({ ADMIN_TOKENS: "{secret-ish not json" }),
    );
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain("secret-ish");
  });
});

describe("POST /v1/admin/issuers/:issuer/statements", () => {
  it("stores a valid statement and answers 201 with it, its digest and signer", async () => {
    const statement = statementFor({ account: "operating", nonce: 10_000n });
    const res = await post("acme", await body(statement));
    expect(res.status).toBe(201);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json.statement).toEqual(custodianStatementToJson(statement));
    expect(json.digest).toBe(custodianStatementDigest(statement));
    expect(json.signer).toBe(acmeCustodian.address.toLowerCase());
    expect(await lastAcceptedNonce(env.DB, "acme", "acme-trust", "operating", "USD")).toBe(10_000n);
    const latest = await latestStatements(env.DB, "acme");
    expect(latest.map((s) => s.statement)).toContainEqual(statement);
  });

  it("refuses a replayed or older nonce with 409 REPLAYED_NONCE", async () => {
    const statement = statementFor({ nonce: 20_000n });
    expect((await post("acme", await body(statement))).status).toBe(201);
    await expectError(await post("acme", await body(statement)), 409, "STATEMENT_REJECTED", {
      reason: "REPLAYED_NONCE",
    });
    await expectError(await post("acme", await body(statementFor({ nonce: 19_999n }))), 409, "STATEMENT_REJECTED", {
      reason: "REPLAYED_NONCE",
    });
  });

  it("lets exactly one of two concurrent submissions of a nonce in", async () => {
    const payload = await body(statementFor({ nonce: 30_000n }));
    const statuses = (await Promise.all([post("acme", payload), post("acme", payload), post("acme", payload)])).map(
      (r) => r.status,
    );
    expect(statuses.sort()).toEqual([201, 409, 409]);
  });

  it("rejects each failed SPEC §9 check with 422 and its reason", async () => {
    const now = nowSeconds();
    const cases: Array<[string, unknown, string]> = [
      ["UNKNOWN_SIGNER", await body(statementFor(), stranger), "UNKNOWN_SIGNER"],
      // beta's custodian key is registered, but not for acme's custodian.
      ["other custodian's signer", await body(statementFor(), betaCustodian), "UNKNOWN_SIGNER"],
      ["STALE", await body(statementFor({ asOf: now - 3601n - 60n })), "STALE"],
      ["FUTURE", await body(statementFor({ asOf: now + 3600n })), "FUTURE"],
      ["WRONG_ISSUER", await body(statementFor({ issuer: "beta" })), "WRONG_ISSUER"],
      [
        "BAD_SIGNATURE",
        { statement: custodianStatementToJson(statementFor()), signature: `0x${"00".repeat(64)}1b` },
        "BAD_SIGNATURE",
      ],
      ["UNKNOWN_CUSTODIAN", await body(statementFor({ custodian: "beta-trust" }), betaCustodian), "UNKNOWN_CUSTODIAN"],
      ["UNKNOWN_ACCOUNT (account)", await body(statementFor({ account: "savings" })), "UNKNOWN_ACCOUNT"],
      ["UNKNOWN_ACCOUNT (asset)", await body(statementFor({ asset: "EUR" })), "UNKNOWN_ACCOUNT"],
    ];
    for (const [label, payload, reason] of cases) {
      const res = await post("acme", payload);
      expect(res.status, label).toBe(422);
      const error = (await res.json()) as { error: { code: string; reason: string; message: string } };
      expect(error.error, label).toMatchObject({ code: "STATEMENT_REJECTED", reason });
      expect(error.error.message.length, label).toBeGreaterThan(0);
    }
  });

  it("refuses the high-s twin of the custodian's signature (SPEC §9 low-s) and stores nothing", async () => {
    // a nonce above every other test's, so only the signature can refuse it
    const good = await body(statementFor({ nonce: 5_000_000n }));
    const before = await lastAcceptedNonce(env.DB, "acme", "acme-trust", "operating", "USD");
    const res = await post("acme", { ...good, signature: highSTwin(good.signature as Hex) });
    const error = await expectError(res, 422, "STATEMENT_REJECTED", { reason: "BAD_SIGNATURE" });
    expect(String(error.message)).toContain("high s (s > n/2)");
    expect(await lastAcceptedNonce(env.DB, "acme", "acme-trust", "operating", "USD")).toBe(before);
    // the low-s original of the very same statement is accepted
    expect((await post("acme", good)).status).toBe(201);
  });

  it("a signature over other content does not verify as the custodian", async () => {
    const signed = statementFor();
    const payload = await body(signed);
    const tampered = { ...payload, statement: { ...payload.statement, amount: (signed.amount * 2n).toString() } };
    await expectError(await post("acme", tampered), 422, "STATEMENT_REJECTED", { reason: "UNKNOWN_SIGNER" });
  });

  it("answers 400 INVALID_BODY naming the field", async () => {
    const good = await body(statementFor());
    await expectError(await post("acme", "not json"), 400, "INVALID_BODY");
    await expectError(
      await post("acme", { ...good, statement: { ...good.statement, amount: "01" } }),
      400,
      "INVALID_BODY",
      {
        field: "statement.amount",
      },
    );
    await expectError(
      await post("acme", { ...good, statement: { ...good.statement, nonce: 5 } }),
      400,
      "INVALID_BODY",
      {
        field: "statement.nonce",
      },
    );
    await expectError(
      await post("acme", { ...good, statement: { ...good.statement, extra: "x" } }),
      400,
      "INVALID_BODY",
      {
        field: "statement.extra",
      },
    );
    await expectError(await post("acme", { ...good, signature: "0x1234" }), 400, "INVALID_BODY", {
      field: "signature",
    });
    await expectError(await post("acme", { ...good, more: 1 }), 400, "INVALID_BODY", { field: "more" });
  });

  it("answers 413 for a body over the limit, 404 for an unknown issuer", async () => {
    const big = JSON.stringify({ statement: { pad: "x".repeat(20_000) }, signature: "0x" });
    await expectError(await post("acme", big), 413, "PAYLOAD_TOO_LARGE");
    await expectError(
      await post("nobody", await body(statementFor()), "deployment-wide-token-0123"),
      404,
      "UNKNOWN_ISSUER",
    );
  });
});
