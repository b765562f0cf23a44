/**
 * Private ledgers (SPEC §11) uploaded through the admin routes and built by
 * the queue's steps (worker/ledger/privateBuild.ts, shardedBuild.ts) with the
 * pool's real D1 and R2; the test plays the queue. Every stored root and node
 * is compared with core's in-memory `buildPrivateLedger` over the same users,
 * secret and ledger id.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../../core/bytes.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import { userCommitment } from "../../core/liabilities/index.js";
import { buildPrivateLedger, chooseUnitDecimals, scalarToHex } from "../../core/liabilities/private/index.js";
import { createAdminLedger } from "../../worker/api/adminLedger.js";
import { blindingSecret } from "../../worker/config/secrets.js";
import { treeManifestKey } from "../../worker/ledger/ledgerFormat.js";
import { latestCompleteLedger } from "../../worker/ledger/ledgerLifecycle.js";
import { getLedger, ledgerHistory, readJson } from "../../worker/ledger/ledgerStore.js";
import { type PrivateTreeManifest, readLeafCommitment, readPrivateNode } from "../../worker/ledger/privateLayout.js";
import {
  handleLedgerBuild,
  type LedgerBuildMessage,
  type LedgerStepMessage,
} from "../../worker/ledger/queueConsumer.js";
import { runBuildStep, startShardedBuild } from "../../worker/ledger/shardedBuild.js";
import {
  ASSETS,
  DECIMALS,
  drainQueue,
  type LedgerUser,
  ledgerAppWith,
  ledgerCsv,
  ledgerTestEnv,
  makeLedgerUsers,
  TOKEN,
} from "./ledgerFixture.js";

const SECRET_HEX = `0x${"7e".repeat(32)}`;
const SECRET = hexToBytes(SECRET_HEX, "secret");
const SHARD_SIZE = 8;
const MIN_DEPTH = 5;

const asset = (id: string, decimals: number) => ({
  id,
  decimals,
  ...(id === "USD"
    ? { pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] }
    : {
        prices: [
          { kind: "chainlink", chainId: 1, feed: "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6", maxAgeSeconds: 90000 },
        ],
      }),
});
const config = parseConfig({
  version: 1,
  chains: [{ chainId: 1, rpcUrls: ["http://127.0.0.1:1"] }],
  issuers: [
    {
      id: "hush",
      name: "Hush",
      assets: ASSETS.map((id, i) => asset(id, DECIMALS[i]!)),
      liabilities: { ledger: { assets: ASSETS, scheme: "private", minDepth: MIN_DEPTH } },
      reserves: {},
    },
    {
      id: "strict",
      name: "Strict",
      assets: ASSETS.map((id, i) => asset(id, DECIMALS[i]!)),
      liabilities: { ledger: { assets: ASSETS, scheme: "private", unitDecimals: { USD: 2 } } },
      reserves: {},
    },
  ],
});

const sent: LedgerBuildMessage[] = [];
const testEnv = ledgerTestEnv(sent);
const app = ledgerAppWith(config, createAdminLedger());
const buildEnv = { DB: testEnv.DB, BUCKET: testEnv.BUCKET, LEDGER_BLINDING_SECRET: SECRET_HEX };

let asOf = Math.floor(Date.now() / 1000) - 100_000;

async function upload(issuer: string, users: LedgerUser[], at = asOf++): Promise<{ status: number; json: any }> {
  const res = await app.fetch(
    new Request(`https://solvent.test/v1/admin/issuers/${issuer}/ledger?asOf=${at}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "text/csv" },
      body: ledgerCsv(users),
    }),
    testEnv,
  );
  return { status: res.status, json: await res.json() };
}

async function status(issuer: string, ledgerId: string): Promise<any> {
  const res = await app.fetch(
    new Request(`https://solvent.test/v1/admin/issuers/${issuer}/ledgers/${ledgerId}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    }),
    testEnv,
  );
  return res.json();
}

/** Delivers one message through the real consumer; returns what it fans out. */
async function deliver(body: LedgerBuildMessage): Promise<LedgerBuildMessage[]> {
  const out: LedgerBuildMessage[] = [];
  const batch = createMessageBatch<LedgerBuildMessage>("solvent-ledger-builds", [
    { id: `p-${Math.random()}`, timestamp: Date.now(), attempts: 1, body },
  ]);
  await handleLedgerBuild(batch, buildEnv, { shardSize: SHARD_SIZE, send: async (m) => void out.push(...m) });
  expect((await getQueueResult(batch, createExecutionContext())).retryMessages).toEqual([]);
  return out;
}

const drain = (first: LedgerBuildMessage[]) => drainQueue(first, deliver);

/** Core's in-memory build of the same users (the unit chosen from their totals as the Worker does). */
function reference(ledgerId: string, users: LedgerUser[], minDepth: number) {
  const assets = ASSETS.map((symbol, k) => ({
    symbol,
    decimals: DECIMALS[k]!,
    unitDecimals: chooseUnitDecimals(
      symbol,
      DECIMALS[k]!,
      users.map((u) => u.balances[k]!),
    ),
  }));
  return buildPrivateLedger({
    ledgerId,
    secret: SECRET,
    assets,
    users: users.map((u) => ({ commitment: userCommitment(u.salt, u.userId), balances: u.balances })),
    minDepth,
  });
}

describe("private ledger build through the queue", () => {
  it("builds an uploaded ledger through the queue steps; root, every node and the root facts equal core's build", async () => {
    const users = makeLedgerUsers(13, "priv");
    sent.length = 0;
    const res = await upload("hush", users);
    // Private ledgers never build in the request, however small.
    expect(res).toMatchObject({ status: 202, json: { status: "building", users: 13 } });
    const ledgerId = res.json.ledgerId as string;
    const steps = await drain(sent.splice(0));
    expect(new Set(steps.map((m) => m.kind ?? "start"))).toEqual(
      new Set(["start", "shuffle", "shard", "index", "combine"]),
    );
    expect(steps.filter((m) => m.kind === "shard")).toHaveLength(2 ** MIN_DEPTH / SHARD_SIZE);

    const ref = reference(ledgerId, users, MIN_DEPTH);
    const ledger = (await getLedger(testEnv.DB, ledgerId))!;
    expect(ledger).toMatchObject({ status: "complete", rows: 13, leafCount: 32, scheme: "pedersen-ristretto255-v2" });
    expect(ledger.root).toBe(bytesToHex(ref.root.hash));
    // Base-unit totals in D1 (valuation reads them): quantised totals × unit.
    const unit = ref.assets.map((a) => 10n ** BigInt(a.decimals - a.unitDecimals));
    expect(ledger.rootSums).toEqual(ref.totals.map((t, k) => t * unit[k]!));
    expect(ledger.rootSums).toEqual(ASSETS.map((_, k) => users.reduce((s, u) => s + u.balances[k]!, 0n)));
    expect(ref.assets[1]!.unitDecimals).toBeLessThan(DECIMALS[1]!); // BTC's total needed a coarser unit

    const manifest = (await readJson<PrivateTreeManifest>(testEnv.BUCKET, treeManifestKey(ledgerId)))!;
    expect(manifest).toMatchObject({
      scheme: "pedersen-ristretto255-v2",
      layout: "private-1",
      ledgerId,
      leafCount: 32,
      users: 13,
      depth: 5,
      shardSize: SHARD_SIZE,
      shardCount: 4,
      assets: ASSETS,
      decimals: DECIMALS,
      unitDecimals: ref.assets.map((a) => a.unitDecimals),
      root: bytesToHex(ref.root.hash),
      rootCommitments: ref.root.encoded.map((c) => bytesToHex(c)),
      totals: ref.totals.map(String),
      totalBlindings: ref.totalBlindings.map(scalarToHex),
      secretId: blindingSecret({ LEDGER_BLINDING_SECRET: SECRET_HEX }).id,
    });
    expect(ledger.private?.result).toMatchObject({
      leafCount: 32,
      rootCommitments: manifest.rootCommitments,
      totals: manifest.totals,
      totalBlindings: manifest.totalBlindings,
      unitDecimals: manifest.unitDecimals,
    });
    // Every stored node (hash, commitments and opening) and leaf commitment is core's.
    for (let level = 0; level <= ref.depth; level++) {
      for (let i = 0; i < ref.levels[level]!.length; i++) {
        const stored = await readPrivateNode(testEnv.BUCKET, manifest, level, i);
        const want = ref.levels[level]![i]!;
        expect(bytesToHex(stored.hash)).toBe(bytesToHex(want.hash));
        expect(stored.values).toEqual(want.values);
        expect(stored.blindings).toEqual(want.blindings);
      }
    }
    for (let i = 0; i < 32; i++)
      expect(bytesToHex(await readLeafCommitment(testEnv.BUCKET, manifest, i))).toBe(bytesToHex(ref.commitments[i]!));

    // The public history says 32 leaves, never 13; the operator's status says both.
    const [entry] = await ledgerHistory(testEnv.DB, "hush", { limit: 1 });
    expect(entry).toMatchObject({ ledgerId, leafCount: 32 });
    expect(await status("hush", ledgerId)).toMatchObject({
      users: 13,
      private: { scheme: "pedersen-ristretto255-v2", leafCount: 32, secretId: manifest.secretId },
    });
    // Scratch objects (spool, padding, order, plan) are gone once complete.
    const left = (await testEnv.BUCKET.list({ prefix: `ledgers/${ledgerId}/` })).objects.map((o) => o.key);
    expect(left.filter((k) => /spool|padding|order\/|idxparts|plan\.json/.test(k))).toEqual([]);
  });

  it("fails the ledger naming the row whose balance is not a whole number of the unit", async () => {
    const users = makeLedgerUsers(6, "strict").map((u) => ({ ...u, balances: [1_000_000n, 0n] }));
    users[3]!.balances[0] = 1_234_567n; // 1.234567 USD, and the unit keeps 2 decimals
    sent.length = 0;
    const res = await upload("strict", users);
    expect(res.status).toBe(202);
    await drain(sent.splice(0));
    const ledger = (await getLedger(testEnv.DB, res.json.ledgerId))!;
    expect(ledger.status).toBe("failed");
    // Rows are numbered as every upload error numbers them: users[3] is row 4.
    expect(ledger.error?.reason).toMatch(/^row 4: USD balance 1234567 is not a whole number of the private unit/);
    expect((await status("strict", res.json.ledgerId)).reason).toContain("row 4");
  });

  it("an older ledger completing after a newer one is superseded, never current", async () => {
    const older = await upload("hush", makeLedgerUsers(5, "old"));
    const olderStart = sent.splice(0);
    const newer = await upload("hush", makeLedgerUsers(9, "new"));
    await drain(sent.splice(0));
    await drain(olderStart);
    expect((await getLedger(testEnv.DB, newer.json.ledgerId))!.status).toBe("complete");
    expect((await getLedger(testEnv.DB, older.json.ledgerId))!.status).toBe("superseded");
    const current = (await latestCompleteLedger(testEnv.DB, "hush"))!;
    expect(current.ledgerId).toBe(newer.json.ledgerId);
    // The attested reading gives the padded leaf count and the root facts.
    expect(current.users).toBe(32);
    expect(current.private?.rootCommitments).toHaveLength(2);
  });

  it("steps run twice and out of order converge on the same tree", async () => {
    const users = makeLedgerUsers(11, "again");
    sent.length = 0;
    const res = await upload("hush", users);
    const ledgerId = res.json.ledgerId as string;
    const store = {
      db: testEnv.DB,
      bucket: testEnv.BUCKET,
      secret: () => blindingSecret(buildEnv),
    };
    const shuffles = await startShardedBuild(store, ledgerId, { shardSize: SHARD_SIZE });
    // A repeated start resumes the claimed build: the same shuffles, no second plan.
    expect(await startShardedBuild(store, ledgerId, { shardSize: SHARD_SIZE })).toEqual(shuffles);
    const step = async (m: LedgerBuildMessage) =>
      m.kind === undefined || m.kind === "start" ? [] : runBuildStep(store, m as LedgerStepMessage);
    const fanOut: LedgerBuildMessage[] = [];
    for (const m of [...shuffles].reverse()) fanOut.push(...(await step(m)), ...(await step(m)));
    const work = fanOut.filter((m) => m.kind === "shard" || m.kind === "index");
    const combines: LedgerBuildMessage[] = [];
    for (const m of [...new Map(work.map((m) => [JSON.stringify(m), m])).values()].reverse()) {
      combines.push(...(await step(m)), ...(await step(m)));
    }
    expect(combines.length).toBeGreaterThan(0);
    for (const m of combines) await step(m);
    const ledger = (await getLedger(testEnv.DB, ledgerId))!;
    expect(ledger.status).toBe("complete");
    expect(ledger.root).toBe(bytesToHex(reference(ledgerId, users, MIN_DEPTH).root.hash));
  });
});
