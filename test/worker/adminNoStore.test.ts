/**
 * `Cache-Control: no-store` on every admin answer, through the real Worker:
 * successes (publish, status, statement, ledger upload and status) and every
 * kind of refusal (401, 403, 404, 409, 413, 415, 503), so no browser, proxy or
 * edge cache ever keeps an admin answer.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { demoCustodianStatement } from "../../scripts/demo/world.js";
import { createApp } from "../../worker/api/app.js";
import type { Env } from "../../worker/env.js";

const testEnv = env as unknown as Env & { ADMIN_TOKEN: string };
const ORIGIN = "http://solvent.test";
const auth = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` };

async function expectNoStore(res: Response, status: number): Promise<void> {
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(status);
  expect(res.headers.get("Cache-Control"), text.slice(0, 300)).toBe("no-store");
}

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`${ORIGIN}${path}`, init);

describe("admin answers are never stored", () => {
  it("on success", async () => {
    await expectNoStore(await call("/v1/admin/issuers/demo-stable/publish", { method: "POST", headers: auth }), 201);
    await expectNoStore(await call("/v1/admin/issuers/demo-stable/publisher", { headers: auth }), 200);
    const statement = await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)) - 30n);
    await expectNoStore(
      await call("/v1/admin/issuers/demo/statements", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(statement),
      }),
      201,
    );
    const upload = await call(`/v1/admin/issuers/demo/ledger?asOf=${Math.floor(Date.now() / 1000) - 60}`, {
      method: "PUT",
      headers: { ...auth, "content-type": "text/csv" },
      body: demoLedgerCsv(demoUsers(5)),
    });
    expect(upload.headers.get("Cache-Control")).toBe("no-store");
    const { statusUrl } = (await upload.json()) as { statusUrl: string };
    expect(upload.status).toBe(201);
    await expectNoStore(await call(new URL(statusUrl).pathname, { headers: auth }), 200);
    await expectNoStore(
      await call("/v1/admin/issuers/demo/ledgers", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: '{"format":"csv"}',
      }),
      201,
    );
  });

  it("on every kind of refusal", async () => {
    await expectNoStore(await call("/v1/admin/issuers/demo/publisher"), 401);
    await expectNoStore(
      await call("/v1/admin/issuers/demo/publisher", { headers: { authorization: "Bearer wrong" } }),
      403,
    );
    await expectNoStore(await call("/v1/admin/issuers/nobody/publisher", { headers: auth }), 404);
    await expectNoStore(await call("/v1/admin/no-such-route", { headers: auth }), 404);
    await expectNoStore(
      await call("/v1/admin/issuers/demo-stable/ledger", {
        method: "PUT",
        headers: { ...auth, "content-type": "text/csv" },
        body: "x",
      }),
      409,
    );
    await expectNoStore(
      await call("/v1/admin/issuers/demo/statements", {
        method: "POST",
        headers: { ...auth, "content-type": "text/plain" },
        body: "x",
      }),
      415,
    );
    await expectNoStore(
      await call("/v1/admin/issuers/demo/statements", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: "x".repeat(20_000),
      }),
      413,
    );
    // no admin token configured at all
    const bare = createApp();
    const noTokens = { ...testEnv, ADMIN_TOKEN: undefined, ADMIN_TOKENS: undefined } as Env;
    await expectNoStore(
      await bare.request(`${ORIGIN}/v1/admin/issuers/demo/publisher`, { headers: auth }, noTokens),
      503,
    );
  });
});
