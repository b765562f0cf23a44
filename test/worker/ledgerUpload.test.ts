/**
 * Multi-part ledger uploads (worker/api/adminLedgerUpload.ts) and the cron's
 * sweep of unfinished ledgers (worker/ledger/sweepLedgers.ts), through the
 * real routes, D1, R2 and queue consumer; the test plays the queue.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { buildLiabilityTree, userCommitment, verifyInclusionProof } from "../../core/liabilities/index.js";
import { createAdminLedger } from "../../worker/api/adminLedger.js";
import { createAdminLedgerUpload } from "../../worker/api/adminLedgerUpload.js";
import type { AppEnv } from "../../worker/api/context.js";
import { handleError } from "../../worker/api/errors.js";
import { newLedgerId, uploadMarkerKey } from "../../worker/ledger/ledgerFormat.js";
import { latestCompleteLedger } from "../../worker/ledger/ledgerLifecycle.js";
import { getLedger, insertLedger } from "../../worker/ledger/ledgerStore.js";
import { readInclusionProof, readLedgerLeaves } from "../../worker/ledger/proofLookup.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "../../worker/ledger/queueConsumer.js";
import { startShardedBuild } from "../../worker/ledger/shardedBuild.js";
import { sweepLedgers } from "../../worker/ledger/sweepLedgers.js";
import { checkProof } from "../support/independentVerifier.js";
import {
  ASSETS,
  DECIMALS,
  drainQueue,
  ISSUER,
  ledgerApp,
  ledgerConfig,
  ledgerCsv,
  ledgerNdjson,
  ledgerTestEnv,
  makeLedgerUsers,
  TOKEN,
} from "./ledgerFixture.js";

const SHARD_SIZE = 16;
const sent: LedgerBuildMessage[] = [];
const testEnv = ledgerTestEnv(sent);

const app = ledgerApp(createAdminLedger({ syncRowLimit: 20 }), createAdminLedgerUpload());

const base = `https://solvent.test/v1/admin/issuers/${ISSUER}`;
const auth = { Authorization: `Bearer ${TOKEN}` };

async function call(
  method: string,
  path: string,
  body?: string,
  contentType?: string,
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { ...auth };
  if (contentType) headers["Content-Type"] = contentType;
  const res = await app.fetch(
    new Request(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) }),
    testEnv,
  );
  return { status: res.status, json: await res.json() };
}

/** Every upload of this file declares an asOf newer than the one before (uploads must be newer than every ledger still counting). */
let asOf = Math.floor(Date.now() / 1000) - 100_000;

async function createUpload(format: "csv" | "ndjson" = "csv"): Promise<string> {
  const res = await call("POST", `/ledgers?asOf=${asOf++}`, JSON.stringify({ format }), "application/json");
  expect(res.status).toBe(201);
  expect(res.json).toMatchObject({
    status: "validating",
    format,
    assets: ASSETS,
    maxParts: 1000,
    statusUrl: `${base}/ledgers/${res.json.ledgerId}`,
  });
  expect(res.json.partUrl).toBe(`${base}/ledgers/${res.json.ledgerId}/parts/{part}`);
  return res.json.ledgerId;
}

const putPart = (ledgerId: string, part: number | string, body: string, type = "text/csv") =>
  call("PUT", `/ledgers/${ledgerId}/parts/${part}`, body, type);
const complete = (ledgerId: string, parts: number) =>
  call("POST", `/ledgers/${ledgerId}/complete`, JSON.stringify({ parts }), "application/json");

let deliveries = 0;
async function deliver(body: LedgerBuildMessage): Promise<LedgerBuildMessage[]> {
  const out: LedgerBuildMessage[] = [];
  const id = `u-${deliveries++}`;
  const batch = createMessageBatch<LedgerBuildMessage>("solvent-ledger-builds", [
    { id, timestamp: Date.now(), attempts: 1, body },
  ]);
  await handleLedgerBuild(
    batch,
    { DB: testEnv.DB, BUCKET: testEnv.BUCKET },
    { shardSize: SHARD_SIZE, send: async (m) => void out.push(...m) },
  );
  const result = await getQueueResult(batch, createExecutionContext());
  expect(result.explicitAcks).toContain(id);
  return out;
}

/** Delivers `first` and everything it fans out, until the queue is empty; returns every delivered message. */
const drain = (first: LedgerBuildMessage[]) => drainQueue(first, deliver);

async function objectsUnder(prefix: string): Promise<string[]> {
  return (await testEnv.BUCKET.list({ prefix })).objects.map((o) => o.key);
}

describe("multi-part ledger upload", () => {
  it("joins parts sent out of order into one ledger whose root is the single build's, with every user's proof", async () => {
    const users = makeLedgerUsers(150, "mp");
    const parts = [users.slice(0, 40), users.slice(40, 41), users.slice(41, 110), users.slice(110)];
    const ledgerId = await createUpload();
    sent.length = 0;
    for (const p of [2, 0, 3])
      expect(await putPart(ledgerId, p, ledgerCsv(parts[p]!))).toMatchObject({
        status: 201,
        json: { ledgerId, part: p, rows: parts[p]!.length },
      });
    const midway = await call("GET", `/ledgers/${ledgerId}`);
    expect(midway.json).toMatchObject({
      status: "validating",
      users: 0,
      upload: { partsReceived: 3, parts: [0, 2, 3] },
    });
    // Completing before every declared part arrived names the missing one.
    expect(await complete(ledgerId, 4)).toMatchObject({
      status: 409,
      json: { error: { code: "CONFLICT", message: expect.stringContaining("part 1 of 4 has not been received") } },
    });
    expect(sent).toEqual([]);
    // A part sent without a Content-Type is the upload's format; one received twice is refused.
    expect(await putPart(ledgerId, 1, ledgerCsv(parts[1]!), "")).toMatchObject({
      status: 201,
      json: { part: 1, rows: 1 },
    });
    expect(await putPart(ledgerId, 1, ledgerCsv(parts[1]!))).toMatchObject({
      status: 409,
      json: { error: { message: expect.stringContaining("part 1") } },
    });
    // Declaring fewer parts than arrived is refused too.
    expect(await complete(ledgerId, 3)).toMatchObject({
      status: 409,
      json: {
        error: {
          message: expect.stringContaining("part 3 was received but the upload was declared to have 3 part(s)"),
        },
      },
    });

    const done = await complete(ledgerId, 4);
    expect(done).toMatchObject({ status: 202, json: { ledgerId, status: "building", parts: 4, users: 150 } });
    expect(sent).toEqual([{ ledgerId, issuerId: ISSUER }]);
    // A repeated complete (a retry after a lost answer) gets the state; later parts are refused.
    expect(await complete(ledgerId, 4)).toMatchObject({ status: 202, json: { status: "building" } });
    expect(sent).toHaveLength(1);
    expect(await putPart(ledgerId, 4, ledgerCsv(makeLedgerUsers(1, "late")))).toMatchObject({
      status: 409,
      json: { error: { message: expect.stringContaining("no longer accepts parts") } },
    });

    await drain([sent[0]!]);
    const ledger = (await getLedger(testEnv.DB, ledgerId))!;
    expect(ledger).toMatchObject({ status: "complete", rows: 150 });
    expect(ledger.rootSums).toEqual(ASSETS.map((_, a) => users.reduce((s, u) => s + u.balances[a]!, 0n)));
    const leaves = (await readLedgerLeaves(testEnv.BUCKET, ledgerId))!;
    expect(new Set(leaves.map((l) => l.commitment))).toEqual(
      new Set(users.map((u) => bytesToHex(userCommitment(u.salt, u.userId)))),
    );
    expect(buildLiabilityTree({ assets: ASSETS, rows: leaves }).root).toBe(ledger.root);
    for (const u of users) {
      const proof = await readInclusionProof(testEnv.BUCKET, ledgerId, bytesToHex(userCommitment(u.salt, u.userId)));
      expect(verifyInclusionProof(proof, { userId: u.userId, salt: u.salt })).toMatchObject({
        ok: true,
        root: ledger.root,
        balances: u.balances,
      });
      expect(checkProof(proof, u.salt, u.userId)).toBeNull();
    }
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toMatchObject({ ledgerId });
    // The parts and the spool are scratch: gone once complete. The ledger is kept forever.
    expect(await objectsUnder(`ledgers/${ledgerId}/spool/`)).toEqual([]);
    expect(await complete(ledgerId, 4)).toMatchObject({ status: 200, json: { status: "complete", users: 150 } });
    expect(await call("DELETE", `/ledgers/${ledgerId}`)).toMatchObject({
      status: 409,
      json: { error: { message: expect.stringContaining("kept forever") } },
    });
    expect((await getLedger(testEnv.DB, ledgerId))?.status).toBe("complete");
  });

  it("validates each part alone: a bad part is refused naming its rows and stores nothing, and can be sent again", async () => {
    const users = makeLedgerUsers(30, "bad");
    const ledgerId = await createUpload("ndjson");
    expect(await putPart(ledgerId, 0, ledgerNdjson(users.slice(0, 10)), "application/x-ndjson")).toMatchObject({
      status: 201,
    });
    const broken = ledgerNdjson(users.slice(10, 30)).split("\n");
    broken[2] = '{"userId":"x","salt":"0x00","balances":{"USD":"1","BTC":"-5"}}';
    broken[6] = "not json";
    const refused = await putPart(ledgerId, 1, broken.join("\n"), "application/x-ndjson");
    expect(refused).toMatchObject({
      status: 422,
      json: {
        error: {
          code: "LEDGER_INVALID",
          part: 1,
          errorCount: 2,
          message: expect.stringMatching(/^part 1: 2 invalid row\(s\)/),
        },
      },
    });
    expect(refused.json.error.errors.map((e: { row: number }) => e.row)).toEqual([3, 7]);
    expect(await objectsUnder(`ledgers/${ledgerId}/spool/parts/1`)).toEqual([]);
    // A CSV part in an NDJSON upload is refused before it is read; part numbers are checked.
    expect(await putPart(ledgerId, 1, ledgerCsv(users.slice(10, 30)))).toMatchObject({
      status: 415,
      json: { error: { message: "this upload is ndjson; the part says csv" } },
    });
    for (const p of ["1000", "01", "-1", "x"])
      expect((await putPart(ledgerId, p, "{}", "application/x-ndjson")).status).toBe(400);

    expect(await putPart(ledgerId, 1, ledgerNdjson(users.slice(10, 30)), "application/x-ndjson")).toMatchObject({
      status: 201,
      json: { rows: 20 },
    });
    sent.length = 0;
    expect(await complete(ledgerId, 2)).toMatchObject({ status: 202, json: { users: 30 } });
    await drain([...sent]);
    expect(await getLedger(testEnv.DB, ledgerId)).toMatchObject({ status: "complete", rows: 30 });
  });

  it("fails the ledger naming part and row when two parts hold the same commitment", async () => {
    const users = makeLedgerUsers(40, "dup");
    const ledgerId = await createUpload();
    const third = [...users.slice(30, 33), users[5]!, ...users.slice(33)];
    for (const [p, rows] of [users.slice(0, 10), users.slice(10, 30), third].entries())
      expect((await putPart(ledgerId, p, ledgerCsv(rows))).status).toBe(201);
    sent.length = 0;
    expect((await complete(ledgerId, 3)).status).toBe(202);
    await drain([...sent]);
    const failed = (await getLedger(testEnv.DB, ledgerId))!;
    expect(failed.status).toBe("failed");
    expect(failed.error?.reason).toBe(
      `part 0 row 6 and part 2 row 4 have the same commitment ${bytesToHex(userCommitment(users[5]!.salt, users[5]!.userId))}`,
    );
  });

  it("refuses bad requests with a clear error and abandons an unfinished upload on DELETE", async () => {
    expect(await call("POST", "/ledgers", JSON.stringify({ format: "xml" }), "application/json")).toMatchObject({
      status: 400,
      json: { error: { code: "INVALID_BODY", field: "format" } },
    });
    expect(
      await call("POST", "/ledgers", JSON.stringify({ format: "csv", extra: 1 }), "application/json"),
    ).toMatchObject({ status: 400, json: { error: { field: "extra" } } });
    expect(await call("POST", "/ledgers", "format=csv", "text/plain")).toMatchObject({ status: 415 });
    const unauthorized = await app.fetch(
      new Request(`${base}/ledgers`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"format":"csv"}',
      }),
      testEnv,
    );
    expect(unauthorized.status).toBe(401);

    const ledgerId = await createUpload();
    for (const parts of [0, 1001, 1.5])
      expect(await complete(ledgerId, parts)).toMatchObject({ status: 400, json: { error: { field: "parts" } } });
    expect(await putPart(`lg_${"0".repeat(32)}`, 0, ledgerCsv(makeLedgerUsers(2, "nf")))).toMatchObject({
      status: 404,
    });
    expect((await putPart(ledgerId, 0, ledgerCsv(makeLedgerUsers(5, "ab")))).status).toBe(201);
    expect(await objectsUnder(`ledgers/${ledgerId}/`)).not.toEqual([]);
    expect(await call("DELETE", `/ledgers/${ledgerId}`)).toMatchObject({
      status: 200,
      json: { ledgerId, status: "failed", reason: "abandoned by the issuer" },
    });
    expect(await objectsUnder(`ledgers/${ledgerId}/`)).toEqual([]);
    expect(await putPart(ledgerId, 1, ledgerCsv(makeLedgerUsers(5, "ab2")))).toMatchObject({ status: 409 });
    expect(await complete(ledgerId, 1)).toMatchObject({
      status: 409,
      json: { error: { message: expect.stringContaining("abandoned by the issuer") } },
    });

    // Parts are read with the assets the ledger was created with: a configuration reordered since is refused, not mixed in.
    const reordered = await createUpload();
    const swapped = new Hono<AppEnv>();
    swapped.onError(handleError);
    swapped.use("*", async (c, next) => {
      c.set("config", {
        ...ledgerConfig,
        issuers: ledgerConfig.issuers.map((i) => ({
          ...i,
          liabilities: { ...i.liabilities, ledger: { assets: [...ASSETS].reverse() } },
        })),
      });
      await next();
    });
    swapped.route("/", createAdminLedgerUpload());
    const refusedPart = await swapped.fetch(
      new Request(`${base}/ledgers/${reordered}/parts/0`, {
        method: "PUT",
        headers: { ...auth, "Content-Type": "text/csv" },
        body: ledgerCsv(makeLedgerUsers(2, "re")),
      }),
      testEnv,
    );
    expect(refusedPart.status).toBe(409);
    expect(((await refusedPart.json()) as { error: { message: string } }).error.message).toContain(
      `was created for assets ${ASSETS.join(",")}`,
    );
    expect(await objectsUnder(`ledgers/${reordered}/spool/parts/`)).toEqual([]);

    // A ledger uploaded in one request (here: still validating) is not a multi-part upload.
    const single = newLedgerId();
    expect(
      await insertLedger(testEnv.DB, {
        ledgerId: single,
        issuerId: ISSUER,
        format: "csv",
        assets: ASSETS,
        asOf: asOf++,
      }),
    ).toBeNull();
    expect(await putPart(single, 0, ledgerCsv(makeLedgerUsers(2, "x")))).toMatchObject({
      status: 409,
      json: { error: { message: expect.stringContaining("not created as a multi-part upload") } },
    });
    expect(await complete(single, 1)).toMatchObject({
      status: 409,
      json: { error: { message: expect.stringContaining("not created as a multi-part upload") } },
    });
  });
});

describe("units of a multi-part upload", () => {
  /** Builds `ledgerId` from the queue and returns its root sums. */
  async function built(ledgerId: string, parts: number): Promise<bigint[]> {
    sent.length = 0;
    expect((await complete(ledgerId, parts)).status).toBe(202);
    await drain([...sent]);
    const ledger = (await getLedger(testEnv.DB, ledgerId))!;
    expect(ledger.status).toBe("complete");
    return ledger.rootSums!;
  }

  it("are fixed when the upload is created: decimals by default, ?units=base on the create, and every part is read that way", async () => {
    const users = makeLedgerUsers(30, "un");
    const want = ASSETS.map((_, a) => users.reduce((s, u) => s + u.balances[a]!, 0n));

    const created = await call(
      "POST",
      `/ledgers?asOf=${asOf++}`,
      JSON.stringify({ format: "csv" }),
      "application/json",
    );
    expect(created.json).toMatchObject({ units: "decimal", decimals: DECIMALS });
    const decimal = created.json.ledgerId as string;
    expect((await putPart(decimal, 0, ledgerCsv(users.slice(0, 15)))).status).toBe(201);
    expect(
      (await call("PUT", `/ledgers/${decimal}/parts/1?units=decimal`, ledgerCsv(users.slice(15)), "text/csv")).status,
    ).toBe(201);
    expect(await built(decimal, 2)).toEqual(want);

    const baseCreated = await call(
      "POST",
      `/ledgers?units=base&asOf=${asOf++}`,
      JSON.stringify({ format: "csv" }),
      "application/json",
    );
    expect(baseCreated.json).toMatchObject({ status: "validating", units: "base" });
    const baseId = baseCreated.json.ledgerId as string;
    // A part cannot change the upload's units; a decimal amount in a base-units upload is refused with the hint.
    expect(
      await call("PUT", `/ledgers/${baseId}/parts/0?units=decimal`, ledgerCsv(users.slice(0, 15), "base"), "text/csv"),
    ).toMatchObject({
      status: 400,
      json: {
        error: {
          code: "INVALID_PARAMETER",
          field: "units",
          message: expect.stringContaining("created with units=base"),
        },
      },
    });
    expect(await putPart(baseId, 0, ledgerCsv(users.slice(0, 15)))).toMatchObject({ status: 422 });
    expect((await putPart(baseId, 0, ledgerCsv(users.slice(0, 15), "base"))).status).toBe(201);
    expect(await call("GET", `/ledgers/${baseId}`)).toMatchObject({
      status: 200,
      json: { status: "validating", upload: { partsReceived: 1, parts: [0], units: "base" } },
    });
    expect((await putPart(baseId, 1, ledgerCsv(users.slice(15), "base"))).status).toBe(201);
    expect(await built(baseId, 2)).toEqual(want);
    expect(
      await call("POST", `/ledgers?units=cents&asOf=${asOf++}`, JSON.stringify({ format: "csv" }), "application/json"),
    ).toMatchObject({ status: 400, json: { error: { field: "units" } } });
  });

  it("an upload created before units were recorded keeps reading base units", async () => {
    const users = makeLedgerUsers(12, "old");
    const ledgerId = await createUpload();
    // The marker as it was written before: no units, no decimals.
    await testEnv.BUCKET.put(
      uploadMarkerKey(ledgerId),
      JSON.stringify({ version: 1, format: "csv", createdAt: Math.floor(Date.now() / 1000) }),
    );
    expect(await putPart(ledgerId, 0, ledgerCsv(users, "base"))).toMatchObject({ status: 201, json: { rows: 12 } });
    expect(await built(ledgerId, 1)).toEqual(ASSETS.map((_, a) => users.reduce((s, u) => s + u.balances[a]!, 0n)));
  });
});

describe("commitment-range spool buckets", () => {
  it("spreads SPEC §2 commitments over the buckets, and fails a ledger whose commitments bunch in one range, naming it", async () => {
    const store = { db: testEnv.DB, bucket: testEnv.BUCKET };
    // 40 users: SHA-256 commitments land in many of the 64 ranges, none holding 10.
    const even = await createUpload();
    expect((await putPart(even, 0, ledgerCsv(makeLedgerUsers(40, "even")))).status).toBe(201);
    expect((await complete(even, 1)).status).toBe(202);
    expect(await startShardedBuild(store, even, { shardSize: SHARD_SIZE, maxBucketRows: 10 })).toHaveLength(64);

    // 40 commitments given directly, all starting 0x00: one range holds every row.
    const bunched = await createUpload();
    const rows = Array.from(
      { length: 40 },
      (_, i) => `0x00${(i + 1).toString(16).padStart(4, "0")}${"ab".repeat(29)},1,2`,
    );
    const part = await putPart(bunched, 0, `commitment,${ASSETS.join(",")}\n${rows.join("\n")}\n`);
    expect(part.status, JSON.stringify(part.json)).toBe(201);
    expect((await complete(bunched, 1)).status).toBe(202);
    await expect(startShardedBuild(store, bunched, { shardSize: SHARD_SIZE, maxBucketRows: 10 })).rejects.toThrow(
      "spool bucket 0 holds 40 of 40 rows (commitments starting with the 6 bits 000000), more than the 10 one build step can hold",
    );
  });
});

describe("the cron's ledger sweep", () => {
  const sweepEnv = {
    DB: testEnv.DB,
    BUCKET: testEnv.BUCKET,
    LEDGER_QUEUE: testEnv.LEDGER_QUEUE as unknown as Queue<unknown>,
  };
  const later = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

  it("resumes a build whose fan-out was lost, sending only the steps it lacks", async () => {
    const users = makeLedgerUsers(90, "sw");
    const ledgerId = await createUpload();
    expect((await putPart(ledgerId, 0, ledgerCsv(users))).status).toBe(201);
    sent.length = 0;
    expect((await complete(ledgerId, 1)).status).toBe(202);
    const start = sent[0]!;
    // The shuffles run, but the shard and index messages they fan out are lost.
    const shuffles = await deliver(start);
    const lost: LedgerBuildMessage[] = [];
    for (const m of shuffles) lost.push(...(await deliver(m)));
    expect(lost.filter((m) => m.kind === "shard")).toHaveLength(Math.ceil(90 / SHARD_SIZE));
    // Two shards did arrive.
    for (const m of lost.filter((m) => m.kind === "shard").slice(0, 2)) expect(await deliver(m)).toEqual([]);

    sent.length = 0;
    expect(await sweepLedgers(sweepEnv, { now: later(60) })).toEqual({ resumed: [], failed: [] }); // not idle long enough
    const swept = await sweepLedgers(sweepEnv, { now: later(601) });
    expect(swept.resumed).toContain(ledgerId);
    expect(sent).toContainEqual({ ledgerId, issuerId: ISSUER });
    const resumed = await deliver({ ledgerId, issuerId: ISSUER });
    const expected = lost
      .filter((m) => !(m.kind === "shard" && m.shard < 2))
      .map((m) => `${m.kind}:${JSON.stringify(m)}`);
    expect(resumed.map((m) => `${m.kind}:${JSON.stringify(m)}`).sort()).toEqual(expected.sort());
    await drain(resumed);
    expect(await getLedger(testEnv.DB, ledgerId)).toMatchObject({ status: "complete", rows: 90 });
  });

  it("starts a building ledger whose start message was never sent, and fails uploads abandoned for a day", async () => {
    // A ledger marked building whose start never reached the queue.
    const ledgerId = await createUpload();
    expect((await putPart(ledgerId, 0, ledgerCsv(makeLedgerUsers(25, "ns")))).status).toBe(201);
    const lostQueue = { ...testEnv, LEDGER_QUEUE: { send: async () => {} } };
    const res = await app.fetch(
      new Request(`${base}/ledgers/${ledgerId}/complete`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: '{"parts":1}',
      }),
      lostQueue,
    );
    expect(res.status).toBe(202);
    const abandoned = await createUpload();
    expect((await putPart(abandoned, 0, ledgerCsv(makeLedgerUsers(3, "ab")))).status).toBe(201);

    sent.length = 0;
    const swept = await sweepLedgers(sweepEnv, { now: later(700) });
    expect(swept.resumed).toContain(ledgerId);
    expect(swept.failed).not.toContain(abandoned);
    await drain(sent.filter((m) => m.ledgerId === ledgerId));
    expect(await getLedger(testEnv.DB, ledgerId)).toMatchObject({ status: "complete", rows: 25 });

    const dayLater = await sweepLedgers(sweepEnv, { now: later(24 * 3600 + 10) });
    expect(dayLater.failed).toContain(abandoned);
    expect(dayLater.failed).not.toContain(ledgerId);
    expect(await getLedger(testEnv.DB, abandoned)).toMatchObject({
      status: "failed",
      error: { reason: "not complete 24 hours after its creation (the upload was never completed)" },
    });
    expect(await objectsUnder(`ledgers/${abandoned}/`)).toEqual([]);
    expect(await getLedger(testEnv.DB, ledgerId)).toMatchObject({ status: "complete" });
  });
});
