/**
 * The request-body deadline (worker/api/bodyTimeout.ts) on every route that
 * reads a body, in workerd with the real bindings: a body that trickles in
 * (one byte at a time, far below the minimum rate) is cut with 408
 * REQUEST_TIMEOUT soon after the bound, whatever route reads it, and leaves
 * nothing stored; a body that keeps up is never cut, however long it takes.
 * The bound is shortened here (0.4 s grace, 1,000 bytes/s) so the file runs in
 * seconds; test/live/bodyTimeout.test.ts sends one byte every 2 s over a raw
 * socket to a real `wrangler dev` with the documented bound.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { demoCustodianStatement } from "../../scripts/demo/world.js";
import { createApp } from "../../worker/api/app.js";
import type { Env } from "../../worker/env.js";

const testEnv = env as unknown as Env & { ADMIN_TOKEN: string };
const ORIGIN = "http://solvent.test";
const GRACE_MS = 400;
const RATE = 1000;
const app = createApp({ bodyTimeout: { graceMs: GRACE_MS, minBytesPerSecond: RATE } });
const auth = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `text` sent `chunk` bytes at a time, one chunk every `everyMs`. */
function trickle(text: string, chunk: number, everyMs: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    async pull(ctl) {
      await sleep(everyMs);
      if (at >= bytes.length) return ctl.close();
      ctl.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** A body that never sends a byte. */
function stalled(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull() {
      await sleep(60_000);
    },
  });
}

async function send(path: string, method: string, headers: Record<string, string>, body: ReadableStream<Uint8Array>) {
  const started = Date.now();
  const res = await app.request(
    `${ORIGIN}${path}`,
    { method, headers: { ...auth, ...headers }, body, duplex: "half" } as RequestInit,
    testEnv,
  );
  return { res, ms: Date.now() - started };
}

async function expectTimeout(res: Response, ms: number): Promise<void> {
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(408);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  const error = (JSON.parse(text) as { error: { code: string; message: string } }).error;
  expect(error.code).toBe("REQUEST_TIMEOUT");
  expect(error.message).toMatch(
    /the request body arrived too slowly: \d+ bytes in [\d.]+ s; a body must arrive within 0.4 s plus 1 s per 1000 bytes/,
  );
  // cut soon after the bound (a few bytes earned a few ms), never held for the whole body
  expect(ms).toBeGreaterThanOrEqual(GRACE_MS - 50);
  expect(ms).toBeLessThan(GRACE_MS + 1500);
}

async function rowCount(sql: string): Promise<number> {
  return ((await testEnv.DB.prepare(sql).first<{ n: number }>()) ?? { n: 0 }).n;
}

async function objectCount(prefix = ""): Promise<number> {
  return (await testEnv.BUCKET.list({ prefix, limit: 1000 })).objects.length;
}

describe("a request body that arrives too slowly ends with 408", () => {
  it("custodian statements", async () => {
    const before = await rowCount("SELECT count(*) AS n FROM custodian_statements");
    const body = JSON.stringify(await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)) - 30n));
    const { res, ms } = await send(
      "/v1/admin/issuers/demo/statements",
      "POST",
      { "content-type": "application/json" },
      trickle(body, 1, 150),
    );
    await expectTimeout(res, ms);
    expect(await rowCount("SELECT count(*) AS n FROM custodian_statements")).toBe(before);
  });

  it("the same, when the client declared a Content-Length", async () => {
    const body = JSON.stringify(await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)) - 30n));
    const headers = {
      "content-type": "application/json",
      "content-length": String(new TextEncoder().encode(body).length),
    };
    const { res, ms } = await send("/v1/admin/issuers/demo/statements", "POST", headers, trickle(body, 1, 150));
    await expectTimeout(res, ms);
  });

  it("a ledger upload: the ledger is failed and its objects are gone", async () => {
    const objects = await objectCount();
    const { res, ms } = await send(
      "/v1/admin/issuers/demo/ledger",
      "PUT",
      { "content-type": "text/csv" },
      trickle(demoLedgerCsv(demoUsers(20)), 1, 150),
    );
    await expectTimeout(res, ms);
    const failed = await testEnv.DB.prepare(
      "SELECT status, error_json AS error FROM ledgers ORDER BY created_at DESC, rowid DESC LIMIT 1",
    ).first<{ status: string; error: string }>();
    expect(failed?.status).toBe("failed");
    expect(failed?.error).toContain("too slowly");
    expect(await objectCount()).toBe(objects);
  });

  it("a part of a multi-part upload and its JSON create and complete bodies", async () => {
    const created = await app.request(
      `${ORIGIN}/v1/admin/issuers/demo/ledgers`,
      { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: '{"format":"csv"}' },
      testEnv,
    );
    expect(created.status).toBe(201);
    const { ledgerId } = (await created.json()) as { ledgerId: string };
    const objects = await objectCount(`ledgers/${ledgerId}/`);
    const part = await send(
      `/v1/admin/issuers/demo/ledgers/${ledgerId}/parts/0`,
      "PUT",
      { "content-type": "text/csv" },
      trickle(demoLedgerCsv(demoUsers(20)), 1, 150),
    );
    await expectTimeout(part.res, part.ms);
    // nothing of the part was kept: it can be sent again
    expect(await objectCount(`ledgers/${ledgerId}/`)).toBe(objects);
    const complete = await send(
      `/v1/admin/issuers/demo/ledgers/${ledgerId}/complete`,
      "POST",
      { "content-type": "application/json" },
      trickle('{"parts":1}', 1, 150),
    );
    await expectTimeout(complete.res, complete.ms);
    const create = await send(
      "/v1/admin/issuers/demo/ledgers",
      "POST",
      { "content-type": "application/json" },
      trickle('{"format":"csv"}', 1, 150),
    );
    await expectTimeout(create.res, create.ms);
  });

  it("a body that never sends a byte", async () => {
    const { res, ms } = await send(
      "/v1/admin/issuers/demo/statements",
      "POST",
      { "content-type": "application/json" },
      stalled(),
    );
    await expectTimeout(res, ms);
  });
});

describe("a body that keeps up is never cut", () => {
  it("arrives over twice the grace at twice the minimum rate, and is accepted", async () => {
    const csv = demoLedgerCsv(demoUsers(30));
    expect(csv.length).toBeGreaterThan(2 * GRACE_MS * (RATE / 1000) * 2);
    // 50 bytes every 25 ms is 2,000 bytes/s: the deadline moves ahead faster than the clock
    const { res, ms } = await send(
      "/v1/admin/issuers/demo/ledger",
      "PUT",
      { "content-type": "text/csv" },
      trickle(csv, 50, 25),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    expect(ms).toBeGreaterThan(2 * GRACE_MS);
  });

  it("a route that reads no body answers without waiting for it", async () => {
    const { res, ms } = await send("/v1/admin/issuers/demo-stable/publisher", "POST", {}, stalled());
    expect(res.status).toBe(404); // no such POST route: answered at once
    expect(ms).toBeLessThan(GRACE_MS);
  });
});
