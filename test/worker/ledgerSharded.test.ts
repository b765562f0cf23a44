/**
 * The queue path's sharded build (worker/ledger/shardedBuild.ts): the test
 * plays the queue, delivering every message the consumer sends in shuffled
 * order, with retries and duplicates, and checks the root against the
 * single-machine SPEC §2 build of the same leaves in the same order.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { buildLiabilityTree, userCommitment, verifyInclusionProof } from "../../core/liabilities/index.js";
import { createAdminLedger } from "../../worker/api/adminLedger.js";
import { type TreeManifest, treeManifestKey } from "../../worker/ledger/ledgerFormat.js";
import { latestCompleteLedger } from "../../worker/ledger/ledgerLifecycle.js";
import { getLedger, readJson } from "../../worker/ledger/ledgerStore.js";
import { readInclusionProof, readLedgerLeaves } from "../../worker/ledger/proofLookup.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "../../worker/ledger/queueConsumer.js";
import { checkProof, hex, leafNode, sumTreeRoot, unhex } from "../support/independentVerifier.js";
import {
  ASSETS,
  ISSUER,
  type LedgerUser,
  ledgerApp,
  ledgerCsv,
  ledgerTestEnv,
  makeLedgerUsers,
  TOKEN,
} from "./ledgerFixture.js";

const SHARD_SIZE = 8;

const uploads: LedgerBuildMessage[] = [];
const testEnv = ledgerTestEnv(uploads);

const app = ledgerApp(createAdminLedger({ syncRowLimit: 50 }));

/** Uploads `users` as CSV (more than syncRowLimit rows: 202) and returns the ledger id and the start message. */
/** Each upload of this file declares an asOf newer than the one before (uploads must be newer than every ledger still counting). */
let asOf = Math.floor(Date.now() / 1000) - 100_000;

async function uploadLarge(users: LedgerUser[]): Promise<{ ledgerId: string; start: LedgerBuildMessage }> {
  uploads.length = 0;
  const csv = ledgerCsv(users);
  const res = await app.fetch(
    new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledger?asOf=${asOf++}`, {
      method: "PUT",
      headers: { "Content-Type": "text/csv", Authorization: `Bearer ${TOKEN}` },
      body: csv,
    }),
    testEnv,
  );
  expect(res.status).toBe(202);
  const { ledgerId } = (await res.json()) as { ledgerId: string };
  expect(uploads).toEqual([{ ledgerId, issuerId: ISSUER }]);
  return { ledgerId, start: uploads[0]! };
}

async function status(ledgerId: string): Promise<Record<string, any>> {
  const res = await app.fetch(
    new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    }),
    testEnv,
  );
  expect(res.status).toBe(200);
  return res.json();
}

let deliveries = 0;
/** Delivers one message to the consumer; returns what it sent and whether it was acked or retried. */
async function deliver(body: LedgerBuildMessage, attempts = 1, bucket: R2Bucket = testEnv.BUCKET) {
  const sent: LedgerBuildMessage[] = [];
  const id = `m-${deliveries++}`;
  const batch = createMessageBatch<LedgerBuildMessage>("solvent-ledger-builds", [
    { id, timestamp: Date.now(), attempts, body },
  ]);
  await handleLedgerBuild(
    batch,
    { DB: testEnv.DB, BUCKET: bucket },
    { shardSize: SHARD_SIZE, send: async (m) => void sent.push(...m) },
  );
  const result = await getQueueResult(batch, createExecutionContext());
  return { sent, acked: result.explicitAcks.includes(id), retried: result.retryMessages.length === 1 };
}

/** Deterministic shuffle (xorshift), so a failure replays. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** R2 whose puts of keys matching `pattern` fail. */
function failingPuts(pattern: RegExp): R2Bucket {
  return new Proxy(testEnv.BUCKET, {
    get(target, prop) {
      if (prop === "put") {
        return async (key: string, ...rest: unknown[]) => {
          if (pattern.test(key)) throw new Error(`R2 put of ${key} failed`);
          return (target.put as (...a: unknown[]) => unknown).call(target, key, ...rest);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("sharded ledger build over the queue", () => {
  it("builds a multi-shard ledger from shuffled, retried and duplicated deliveries; the root is the single build's", async () => {
    const users = makeLedgerUsers(301, "sh");
    const { ledgerId, start } = await uploadLarge(users);
    const shardCount = Math.ceil(301 / SHARD_SIZE);

    const first = await deliver(start);
    expect(first.acked).toBe(true);
    const shuffles = first.sent;
    expect(shuffles.map((m) => m.kind)).toEqual(Array(64).fill("shuffle"));
    const buildId = (shuffles[0] as { buildId: string }).buildId;
    expect(await status(ledgerId)).toMatchObject({
      status: "building",
      root: null,
      progress: {
        phase: "shuffle",
        done: 0,
        total: 64,
        rows: 301,
        steps: { buckets: { done: 0, total: 64 }, shards: { done: 0, total: shardCount } },
      },
    });
    // A redelivered start resumes the claimed build: the same messages, no new build.
    expect((await deliver(start)).sent).toEqual(shuffles);

    let pending = shuffled(shuffles, 7);
    const delivered: LedgerBuildMessage[] = [];
    let combines = 0;
    let retriedShard: LedgerBuildMessage | null = null;
    let sawShardProgress = false;
    for (let round = 1; pending.length > 0; round++) {
      const next: LedgerBuildMessage[] = [];
      for (const m of pending) {
        if (m.kind === "shard" && retriedShard === null) {
          // One shard fails its first attempt (R2 put), and is redelivered later in the round.
          retriedShard = m;
          const failed = await deliver(m, 1, failingPuts(/\/shards\//));
          expect(failed).toMatchObject({ acked: false, retried: true, sent: [] });
          next.push(m);
          continue;
        }
        const out = await deliver(m, m === retriedShard ? 2 : 1);
        expect(out).toMatchObject({ acked: true, retried: false });
        delivered.push(m);
        combines += out.sent.filter((s) => s.kind === "combine").length;
        next.push(...out.sent);
        if (m.kind === "shard" && !sawShardProgress) {
          const s = await status(ledgerId);
          expect(s.status).toBe("building");
          expect(s.progress).toMatchObject({
            phase: "shards",
            total: shardCount,
            steps: { buckets: { done: 64, total: 64 } },
          });
          expect(s.progress.done).toBeGreaterThan(0);
          expect(s.progress.done).toBeLessThan(shardCount);
          sawShardProgress = true;
        }
      }
      // Duplicate deliveries: one earlier message of every kind comes again in the next round.
      for (const kind of ["shuffle", "shard", "index"] as const) {
        const dup = delivered.find((d) => d.kind === kind);
        if (dup && round <= 3) next.push(dup);
      }
      pending = shuffled(next, round + 11);
      if (round > 10) throw new Error("the build does not converge");
    }
    expect(retriedShard).not.toBeNull();
    expect(combines).toBeGreaterThanOrEqual(1);
    expect(sawShardProgress).toBe(true);

    const ledger = (await getLedger(testEnv.DB, ledgerId))!;
    expect(ledger).toMatchObject({ status: "complete", rows: 301, buildId });
    expect(ledger.rootSums).toEqual(ASSETS.map((_, a) => users.reduce((s, u) => s + u.balances[a]!, 0n)));
    const manifest = (await readJson<TreeManifest>(testEnv.BUCKET, treeManifestKey(ledgerId)))!;
    expect(manifest).toMatchObject({ buildId, shardCount, shardSize: SHARD_SIZE, leafCount: 301, root: ledger.root });

    // The single-machine build of the same rows in the same leaf order, by the core and by the naive verifier.
    const leaves = (await readLedgerLeaves(testEnv.BUCKET, ledgerId))!;
    const expected = new Map(users.map((u) => [bytesToHex(userCommitment(u.salt, u.userId)), u.balances.join()]));
    expect(new Map(leaves.map((l) => [l.commitment, l.balances.join()]))).toEqual(expected);
    // SPEC §2 commitment order across shards and spool buckets, whatever order the steps ran in.
    expect(leaves.map((l) => l.commitment)).toEqual([...expected.keys()].sort());
    expect(ledger.leafOrder).toBe("commitment");
    expect(buildLiabilityTree({ assets: ASSETS, rows: leaves }).root).toBe(ledger.root);
    expect(hex(sumTreeRoot(leaves.map((l) => leafNode(unhex(l.commitment), l.balances))).hash)).toBe(ledger.root);

    for (const u of users) {
      const proof = await readInclusionProof(testEnv.BUCKET, ledgerId, bytesToHex(userCommitment(u.salt, u.userId)));
      expect(verifyInclusionProof(proof, { userId: u.userId, salt: u.salt })).toMatchObject({
        ok: true,
        root: ledger.root,
        balances: u.balances,
      });
      expect(checkProof(proof, u.salt, u.userId)).toBeNull();
    }
    expect(await status(ledgerId)).toMatchObject({
      status: "complete",
      root: ledger.root,
      progress: { done: 301, total: 301 },
    });
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toMatchObject({ ledgerId, root: ledger.root });

    // The stored tree is readable through the admin routes, for audits.
    const tree = `https://solvent.test/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}/tree`;
    const got = (path: string, token = TOKEN) =>
      app.fetch(new Request(`${tree}/${path}`, { headers: { Authorization: `Bearer ${token}` } }), testEnv);
    expect(await (await got("manifest")).json()).toEqual(manifest);
    const shard5 = await got("shards/5");
    expect(shard5.headers.get("Content-Type")).toBe("application/octet-stream");
    expect(new Uint8Array(await shard5.arrayBuffer())).toEqual(
      new Uint8Array(
        await (await testEnv.BUCKET.get(`ledgers/${ledgerId}/builds/${buildId}/shards/5.bin`))!.arrayBuffer(),
      ),
    );
    expect((await got(`shards/${shardCount}`)).status).toBe(404);
    expect((await got("shards/01")).status).toBe(400);
    expect((await got("manifest", "wrong")).status).toBe(403);

    // Scratch objects are gone; late duplicates of every kind change nothing and send nothing.
    for (const part of ["spool/", `builds/${buildId}/order/`, `builds/${buildId}/idxparts/`]) {
      expect((await testEnv.BUCKET.list({ prefix: `ledgers/${ledgerId}/${part}` })).objects).toEqual([]);
    }
    for (const m of [start, delivered[0]!, retriedShard!, { kind: "combine", ledgerId, buildId } as const]) {
      expect(await deliver(m)).toMatchObject({ acked: true, sent: [] });
    }
    expect((await getLedger(testEnv.DB, ledgerId))?.root).toBe(ledger.root);
  });

  it("fails the ledger when a shard keeps failing, and never uses or publishes it", async () => {
    const before = await latestCompleteLedger(testEnv.DB, ISSUER);
    const { ledgerId, start } = await uploadLarge(makeLedgerUsers(97, "bad"));
    let pending = (await deliver(start)).sent;
    const shardMessages: LedgerBuildMessage[] = [];
    while (pending.length > 0) {
      const next: LedgerBuildMessage[] = [];
      for (const m of pending) {
        if (m.kind === "shard") shardMessages.push(m);
        else next.push(...(await deliver(m)).sent);
      }
      pending = next;
    }
    expect(shardMessages).toHaveLength(Math.ceil(97 / SHARD_SIZE));
    const broken = failingPuts(/\/shards\/3\.bin$/);
    const shard3 = shardMessages.find((m) => m.kind === "shard" && m.shard === 3)!;
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await deliver(shard3, attempt, broken)).toMatchObject({ acked: false, retried: true });
      expect((await getLedger(testEnv.DB, ledgerId))?.status).toBe("building");
    }
    expect(await deliver(shard3, 4, broken)).toMatchObject({ acked: true, retried: false });
    const failed = (await getLedger(testEnv.DB, ledgerId))!;
    expect(failed.status).toBe("failed");
    expect(failed.error?.reason).toMatch(/^shard 3 failed after 4 attempts: R2 put of .*shards\/3\.bin failed$/);

    // The other shards still arrive: acked, nothing sent, no combine, still failed.
    for (const m of shardMessages.filter((m) => m !== shard3))
      expect(await deliver(m)).toMatchObject({ acked: true, sent: [] });
    expect(await deliver({ kind: "combine", ledgerId, buildId: failed.buildId! })).toMatchObject({
      acked: true,
      sent: [],
    });
    expect((await getLedger(testEnv.DB, ledgerId))?.status).toBe("failed");
    expect(await readJson(testEnv.BUCKET, treeManifestKey(ledgerId))).toBeNull();
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toEqual(before);
    expect(await status(ledgerId)).toMatchObject({
      status: "failed",
      root: null,
      progress: null,
      reason: expect.stringMatching(/shard 3/),
    });
    const manifestOfFailed = await app.fetch(
      new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}/tree/manifest`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      }),
      testEnv,
    );
    expect(manifestOfFailed.status).toBe(404);
  });

  it("drops malformed step messages and steps of a build that is not the ledger's", async () => {
    const { ledgerId, start } = await uploadLarge(makeLedgerUsers(60, "stale"));
    const { sent } = await deliver(start);
    const stale = { kind: "shard", ledgerId, buildId: "0000000000000000", shard: 0 } as const;
    expect(await deliver(stale)).toMatchObject({ acked: true, sent: [] });
    expect(
      await deliver({ kind: "shard", ledgerId, buildId: "x", shard: -1 } as unknown as LedgerBuildMessage),
    ).toMatchObject({ acked: true, sent: [] });
    const s = await status(ledgerId);
    expect(s.progress.steps.shards.done).toBe(0);
    expect(sent).toHaveLength(64);
  });
});
