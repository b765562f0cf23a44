/**
 * Ledger versions (SPEC §4 liabilities.ledger): the asOf of an upload, the
 * current ledger as the complete one with the newest asOf whatever order
 * builds finish in, superseded builds that are never current, the public
 * ledger history, and the superseded / failed alerts of the cron.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import { watchLedgers } from "../../worker/alerts/ledgerAlerts.js";
import { createAdminLedger } from "../../worker/api/adminLedger.js";
import { ledgerHistoryRoutes } from "../../worker/api/ledgerHistoryRoutes.js";
import type { Env } from "../../worker/env.js";
import { newLedgerId } from "../../worker/ledger/ledgerFormat.js";
import { latestCompleteLedger } from "../../worker/ledger/ledgerLifecycle.js";
import {
  claimLedgerBuild,
  getLedger,
  insertLedger,
  markLedgerBuilding,
  markLedgerComplete,
  markLedgerFailed,
} from "../../worker/ledger/ledgerStore.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "../../worker/ledger/queueConsumer.js";
import {
  ISSUER,
  ledgerApp,
  ledgerConfig,
  ledgerCsv,
  ledgerPublisher,
  ledgerTestEnv,
  makeLedgerUsers,
  TOKEN,
} from "./ledgerFixture.js";

const sent: LedgerBuildMessage[] = [];
const testEnv = ledgerTestEnv(sent);
const app = ledgerApp(createAdminLedger({ syncRowLimit: 50, shardSize: 8 }), ledgerHistoryRoutes);
const publish = ledgerPublisher(testEnv.DB);
const now = () => Math.floor(Date.now() / 1000);
const iso = (s: number) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
/** A base time all asOf values of this file count from (well in the past). */
const T = now() - 50_000;

async function upload(body: string, asOf?: number | string): Promise<{ status: number; json: any }> {
  const query = asOf === undefined ? "" : `?asOf=${asOf}`;
  const res = await app.fetch(
    new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledger${query}`, {
      method: "PUT",
      headers: { "Content-Type": "text/csv", Authorization: `Bearer ${TOKEN}` },
      body,
    }),
    testEnv,
  );
  return { status: res.status, json: await res.json() };
}

async function history(query = ""): Promise<{ status: number; json: any; cache: string | null }> {
  const res = await app.fetch(new Request(`https://solvent.test/v1/issuers/${ISSUER}/ledgers${query}`), testEnv);
  return { status: res.status, json: await res.json(), cache: res.headers.get("Cache-Control") };
}

/** Delivers the queued start message and everything the build fans out. */
async function runQueuedBuilds(): Promise<void> {
  let pending = sent.splice(0);
  while (pending.length > 0) {
    const next: LedgerBuildMessage[] = [];
    for (const body of pending) {
      const batch = createMessageBatch<LedgerBuildMessage>("solvent-ledger-builds", [
        { id: `v-${Math.random()}`, timestamp: Date.now(), attempts: 1, body },
      ]);
      await handleLedgerBuild(
        batch,
        { DB: testEnv.DB, BUCKET: testEnv.BUCKET },
        { shardSize: 8, send: async (m) => void next.push(...m) },
      );
      expect((await getQueueResult(batch, createExecutionContext())).retryMessages).toEqual([]);
    }
    pending = next;
  }
}

describe("ledger versions", () => {
  it("takes asOf from the query and refuses bad, future and not-newer ones naming both times", async () => {
    for (const bad of ["1.5", "-3", "1e9", "0x10", "007"]) {
      expect(await upload(ledgerCsv(makeLedgerUsers(2, "bad")), bad)).toMatchObject({
        status: 400,
        json: { error: { code: "INVALID_PARAMETER", field: "asOf" } },
      });
    }
    const future = now() + 3600;
    const refused = await upload(ledgerCsv(makeLedgerUsers(2, "fut")), future);
    expect(refused).toMatchObject({ status: 409, json: { error: { code: "CONFLICT", field: "asOf", asOf: future } } });
    expect(refused.json.error.message).toContain(`asOf ${future} (${iso(future)}) is in the future`);
    expect(refused.json.error.message).toMatch(/the publisher's clock says \d+ \(/);

    const first = await upload(ledgerCsv(makeLedgerUsers(3, "a1")), T);
    expect(first).toMatchObject({ status: 201, json: { status: "complete", asOf: T } });
    expect(await getLedger(testEnv.DB, first.json.ledgerId)).toMatchObject({ asOf: T, leafOrder: "commitment" });

    for (const asOf of [T, T - 1]) {
      const same = await upload(ledgerCsv(makeLedgerUsers(3, "a2")), asOf);
      expect(same).toMatchObject({
        status: 409,
        json: {
          error: {
            code: "CONFLICT",
            field: "asOf",
            newerLedger: { ledgerId: first.json.ledgerId, status: "complete", asOf: T },
          },
        },
      });
      expect(same.json.error.message).toBe(
        `asOf ${asOf} (${iso(asOf)}) is not newer than the issuer's current ledger ${first.json.ledgerId} has asOf ${T} (${iso(T)}): an upload must be newer than every ledger before it`,
      );
    }
    // Nothing was stored for the refused uploads.
    const { results } = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM ledgers WHERE issuer_id = ?1")
      .bind(ISSUER)
      .all<{ n: number }>();
    expect(results[0]!.n).toBe(1);
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toMatchObject({ ledgerId: first.json.ledgerId, asOf: T });
  });

  it("keeps the newer ledger current when an older build finishes last: the older ends superseded, never current", async () => {
    // A large (queued) upload for T+100 is still building when a small one for T+200 completes in the request.
    const large = await upload(ledgerCsv(makeLedgerUsers(90, "old")), T + 100);
    expect(large).toMatchObject({ status: 202, json: { status: "building", asOf: T + 100 } });
    const small = await upload(ledgerCsv(makeLedgerUsers(5, "new")), T + 200);
    expect(small).toMatchObject({ status: 201, json: { status: "complete", asOf: T + 200 } });
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toMatchObject({ ledgerId: small.json.ledgerId });

    // While the newer ledger exists, an upload for an asOf between them is refused even though the older is unfinished.
    expect(await upload(ledgerCsv(makeLedgerUsers(2, "mid")), T + 150)).toMatchObject({ status: 409 });

    await runQueuedBuilds();
    const old = (await getLedger(testEnv.DB, large.json.ledgerId))!;
    expect(old).toMatchObject({ status: "superseded", rows: 90, leafOrder: "commitment" });
    expect(old.root).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toMatchObject({
      ledgerId: small.json.ledgerId,
      asOf: T + 200,
    });
    // superseded is final.
    await expect(
      testEnv.DB.prepare("UPDATE ledgers SET status = 'complete' WHERE ledger_id = ?1").bind(old.ledgerId).run(),
    ).rejects.toThrow(/LEDGER_FINAL/);
    await expect(
      testEnv.DB.prepare("UPDATE ledgers SET as_of = ?2 WHERE ledger_id = ?1")
        .bind(small.json.ledgerId, T + 999)
        .run(),
    ).rejects.toThrow(/LEDGER_IMMUTABLE/);

    const status = await app.fetch(
      new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledgers/${old.ledgerId}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      }),
      testEnv,
    );
    expect(await status.json()).toMatchObject({
      status: "superseded",
      asOf: T + 100,
      order: "commitment",
      reason: expect.stringContaining("never attested"),
    });

    // The history: newest asOf first, the current one marked, attested ranges once published.
    const s1 = await publish(small.json.ledgerId, small.json.root);
    const s2 = await publish(small.json.ledgerId, small.json.root);
    const page = await history();
    expect(page.status).toBe(200);
    expect(page.cache).toBe("public, max-age=15");
    expect(page.json.ledgers.slice(0, 3)).toEqual([
      expect.objectContaining({
        id: small.json.ledgerId,
        asOf: String(T + 200),
        status: "complete",
        current: true,
        root: small.json.root,
        leafCount: "5",
        order: "commitment",
        attested: { from: String(s1), to: String(s2) },
      }),
      expect.objectContaining({
        id: old.ledgerId,
        asOf: String(T + 100),
        status: "superseded",
        current: false,
        root: old.root,
        leafCount: "90",
        attested: null,
      }),
      expect.objectContaining({ asOf: String(T), status: "complete", current: false, attested: null }),
    ]);
    for (const entry of page.json.ledgers)
      expect(Object.keys(entry).sort()).toEqual([
        "asOf",
        "attested",
        "completedAt",
        "createdAt",
        "current",
        "id",
        "leafCount",
        "order",
        "root",
        "status",
      ]);

    // Paging walks the same list.
    const one = await history("?limit=1");
    expect(one.json.ledgers.map((l: { id: string }) => l.id)).toEqual([small.json.ledgerId]);
    const two = await history(`?limit=1&after=${one.json.nextAfter}`);
    expect(two.json.ledgers.map((l: { id: string }) => l.id)).toEqual([old.ledgerId]);
    expect((await history("?after=zzz")).status).toBe(400);
    expect((await app.fetch(new Request("https://solvent.test/v1/issuers/nobody/ledgers"), testEnv)).status).toBe(404);
  });

  it("decides complete or superseded in one statement, whichever build finishes first", async () => {
    const db = testEnv.DB;
    const root = `0x${"cd".repeat(32)}` as const;
    const building = async (asOf: number) => {
      const ledgerId = newLedgerId();
      expect(await insertLedger(db, { ledgerId, issuerId: "race", format: "csv", assets: ["USD"], asOf })).toBeNull();
      expect(await markLedgerBuilding(db, ledgerId, 1)).toBe(true);
      expect(await claimLedgerBuild(db, ledgerId, "b1")).toBe(true);
      return ledgerId;
    };
    const done = (ledgerId: string) =>
      markLedgerComplete(db, ledgerId, "b1", { root, rootSums: [1n], rows: 1, order: "commitment" });
    // Older first: both complete, the newer is current.
    const a = await building(T + 10);
    const b = await building(T + 20);
    expect(await done(a)).toBe("complete");
    expect(await done(b)).toBe("complete");
    expect(await latestCompleteLedger(db, "race")).toMatchObject({ ledgerId: b });
    // Newer first: the older is superseded.
    const c = await building(T + 30);
    const d = await building(T + 40);
    expect(await done(d)).toBe("complete");
    expect(await done(c)).toBe("superseded");
    expect(await done(c)).toBeNull();
    expect(await latestCompleteLedger(db, "race")).toMatchObject({ ledgerId: d });
    // A failed ledger does not count against later uploads.
    const e = newLedgerId();
    expect(
      await insertLedger(db, { ledgerId: e, issuerId: "race", format: "csv", assets: ["USD"], asOf: T + 50 }),
    ).toBeNull();
    expect(await markLedgerFailed(db, e, { reason: "test" })).toBe(true);
    expect(
      await insertLedger(db, {
        ledgerId: newLedgerId(),
        issuerId: "race",
        format: "csv",
        assets: ["USD"],
        asOf: T + 50,
      }),
    ).toBeNull();
  });

  it("alerts once per superseded or failed ledger from the cron", async () => {
    const config = parseConfig({
      version: 1,
      chains: ledgerConfig.chains,
      issuers: [{ ...ledgerConfig.issuers[0]!, alerts: { destinations: [] } }],
    });
    const failed = await upload(ledgerCsv(makeLedgerUsers(60, "fails")), T + 300);
    expect(failed.status).toBe(202);
    sent.length = 0;
    expect(
      await markLedgerFailed(testEnv.DB, failed.json.ledgerId, {
        reason: "shard 3 failed after 4 attempts: R2 unavailable",
      }),
    ).toBe(true);
    const alertEnv = { ...(env as unknown as Env), DB: testEnv.DB, BUCKET: testEnv.BUCKET };
    const alerts = await watchLedgers(alertEnv, now(), config);
    const events = alerts.map((a) => `${a.event}:${String(a.details.ledgerId)}`);
    expect(events).toContain(`ledger_failed:${failed.json.ledgerId}`);
    const superseded = alerts.find((a) => a.event === "ledger_superseded")!;
    expect(superseded.text).toContain("It will never be attested");
    expect(superseded.text).toMatch(/current: lg_[0-9a-f]{32}, as of /);
    const failure = alerts.find((a) => a.event === "ledger_failed")!;
    expect(failure.text).toContain("shard 3 failed after 4 attempts: R2 unavailable");
    // The next tick stores nothing new.
    expect(await watchLedgers(alertEnv, now(), config)).toEqual([]);
  });

  it("defaults asOf to the upload's time", async () => {
    const before = now();
    const res = await upload(ledgerCsv(makeLedgerUsers(4, "now")));
    expect(res.status).toBe(201);
    expect(res.json.asOf).toBeGreaterThanOrEqual(before);
    expect(res.json.asOf).toBeLessThanOrEqual(now());
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toMatchObject({
      ledgerId: res.json.ledgerId,
      asOf: res.json.asOf,
    });
  });
});
