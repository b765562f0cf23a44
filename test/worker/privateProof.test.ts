/**
 * The proof route for private ledgers (SPEC §11) in workerd: ledgers built in
 * memory by core's buildPrivateLedger are stored in the private layout in the
 * test file's R2 and attested in its D1; proofs are fetched through the route.
 * Each proof verifies with core's checkPrivateInclusion (engine over the same
 * WebAssembly), holds no value or blinding but the leaf's own, is made once
 * and then served as the same stored bytes (also to concurrent requests, and
 * whichever isolate stored it first); absent commitments get a bare 404 (a
 * non-inclusion proof would name its neighbours' commitments, and those fetch
 * their balances), while the admin route hands the issuer a non-inclusion
 * proof that verifies; a ledger whose root is not the signed one is never
 * served.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, type Hex, hexToBytes } from "../../core/bytes.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { userCommitment } from "../../core/liabilities/index.js";
import {
  buildPrivateLedger,
  checkPrivateInclusion,
  checkPrivateNonInclusion,
  type PrivateAsset,
  type PrivateLedger,
  privateInclusionProof,
  privateLeafIndex,
  type RangeProofEngine,
  scalarToHex,
} from "../../core/liabilities/private/index.js";
import vector from "../../docs/test-vectors/private-5-users-2-assets.json" with { type: "json" };
import { createAdminLedger } from "../../worker/api/adminLedger.js";
import type { AppEnv } from "../../worker/api/context.js";
import { proofRoutes } from "../../worker/api/proofRoutes.js";
import { countProofs } from "../../worker/coverage/countProofs.js";
import { coverageRoutes } from "../../worker/coverage/coverageRoutes.js";
import { readObject } from "../../worker/ledger/ledgerStore.js";
import { isPrivateManifest, privateProofKey } from "../../worker/ledger/privateLayout.js";
import { readPrivateNonInclusionProof, storeOnce } from "../../worker/ledger/privateProof.js";
import { completeManifest } from "../../worker/ledger/proofLookup.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "../../worker/ledger/queueConsumer.js";
import { writePrivateLedger } from "../support/privateStore.js";
import { rangeProofEngine } from "../support/rangeProofs.js";
import {
  DECIMALS,
  drainQueue,
  ISSUER,
  ledgerApp,
  ledgerAppWith,
  ledgerConfig,
  ledgerCsv,
  ledgerPublisher,
  ledgerTestEnv,
  makeLedgerUsers,
  TOKEN,
} from "./ledgerFixture.js";

const sent: LedgerBuildMessage[] = [];
const testEnv = ledgerTestEnv(sent);
const publish = ledgerPublisher(testEnv.DB);
const app: Hono<AppEnv> = ledgerApp(proofRoutes);
let engine: RangeProofEngine;
beforeAll(async () => {
  engine = await rangeProofEngine();
});

const getProof = (sequence: bigint, commitment: string) =>
  app.fetch(new Request(`https://solvent.test/v1/issuers/${ISSUER}/proofs/${sequence}/${commitment}`), testEnv);

interface User {
  userId: string;
  salt: Uint8Array;
  commitment: Hex;
  balances: bigint[];
}

const vectorUsers: User[] = vector.users.map((u) => {
  const salt = hexToBytes(u.salt, "salt");
  return {
    userId: u.userId,
    salt,
    commitment: bytesToHex(userCommitment(salt, u.userId)),
    balances: u.balances.map(BigInt),
  };
});

function build(ledgerId: string, users: User[], assets: PrivateAsset[], minDepth: number): PrivateLedger {
  return buildPrivateLedger({
    ledgerId,
    secret: hexToBytes(vector.secret, "secret"),
    assets,
    minDepth,
    users: users.map((u) => ({ commitment: hexToBytes(u.commitment, "c"), balances: u.balances })),
  });
}

/** Every key named `name` anywhere in `json`, with the path to it. */
function keysNamed(json: unknown, name: string, at = "$"): string[] {
  if (Array.isArray(json)) return json.flatMap((v, i) => keysNamed(v, name, `${at}[${i}]`));
  if (typeof json !== "object" || json === null) return [];
  return Object.entries(json).flatMap(([k, v]) => [
    ...(k === name ? [`${at}.${k}`] : []),
    ...keysNamed(v, name, `${at}.${k}`),
  ]);
}

/** The blindings of every node of `ledger` but the leaf `except` and the root (published), as served hex. */
function otherBlindings(ledger: PrivateLedger, except: number): string[] {
  return ledger.levels.flatMap((level, l) =>
    level.flatMap((node, i) =>
      l === ledger.depth || (l === 0 && i === except) ? [] : node.blindings.map(scalarToHex),
    ),
  );
}

/** An absent commitment just above `c` (last byte + 1, wrapping). */
const above = (c: string) =>
  `${c.slice(0, -2)}${((parseInt(c.slice(-2), 16) + 1) & 0xff).toString(16).padStart(2, "0")}`;

describe("private ledger proofs through the route", () => {
  const assets = vector.assets as PrivateAsset[];
  const ledger = build("lg_private_route_a", vectorUsers, assets, 0);
  let sequence: bigint;

  beforeAll(async () => {
    await writePrivateLedger(testEnv.BUCKET, ledger, { shardSize: 2, indexBits: 1, users: vectorUsers.length });
    sequence = await publish(ledger.ledgerId, bytesToHex(ledger.root.hash));
  });

  it("serves each user a proof core's checkPrivateInclusion accepts, showing only the user's own opening", async () => {
    const root = bytesToHex(ledger.root.hash);
    for (const u of vectorUsers) {
      const res = await getProof(sequence, u.commitment);
      expect(res.status, u.userId).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
      const text = await res.text();
      const proof = JSON.parse(text) as Record<string, unknown> & { path: Record<string, unknown>[] };
      const result = checkPrivateInclusion(proof, { userId: u.userId, salt: u.salt }, engine, {
        root,
        totals: ledger.totals,
        totalBlindings: ledger.totalBlindings,
      });
      expect(result, u.userId).toMatchObject({ ok: true, root });
      if (!result.ok) continue;
      const leaf = privateLeafIndex(ledger, hexToBytes(u.commitment, "c"));
      expect(result.leafIndex).toBe(leaf);
      expect(result.values).toEqual(ledger.levels[0]![leaf]!.values);
      expect(result.values).toEqual(
        u.balances.map((b, k) => b / 10n ** BigInt(assets[k]!.decimals - assets[k]!.unitDecimals)),
      );
      // The only openings in the answer are the leaf's own; siblings show a hash and commitments.
      expect(keysNamed(proof, "values")).toEqual(["$.values"]);
      expect(keysNamed(proof, "blindings")).toEqual(["$.blindings"]);
      expect(proof.blindings).toEqual(ledger.levels[0]![leaf]!.blindings.map(scalarToHex));
      expect(proof.path).toHaveLength(ledger.depth);
      for (const node of proof.path) expect(Object.keys(node).sort()).toEqual(["commitments", "hash"]);
      for (const b of otherBlindings(ledger, leaf))
        expect(text.includes(b.slice(2)), `blinding ${b} leaked`).toBe(false);
    }
  });

  it("answers the same stored bytes every later time, from R2", async () => {
    const u = vectorUsers[0]!;
    const first = new Uint8Array(await (await getProof(sequence, u.commitment)).arrayBuffer());
    const second = new Uint8Array(await (await getProof(sequence, u.commitment)).arrayBuffer());
    expect(second).toEqual(first);
    const leaf = privateLeafIndex(ledger, hexToBytes(u.commitment, "c"));
    expect(await readObject(testEnv.BUCKET, privateProofKey(ledger.ledgerId, leaf))).toEqual(first);
  });

  it("gives concurrent first requests for one leaf the one proof stored", async () => {
    const u = vectorUsers[3]!;
    const leaf = privateLeafIndex(ledger, hexToBytes(u.commitment, "c"));
    await testEnv.BUCKET.delete(privateProofKey(ledger.ledgerId, leaf));
    const answers = await Promise.all(
      [1, 2, 3].map(async () => (await getProof(sequence, u.commitment)).arrayBuffer()),
    );
    const stored = await readObject(testEnv.BUCKET, privateProofKey(ledger.ledgerId, leaf));
    for (const a of answers) expect(new Uint8Array(a)).toEqual(stored);
  });

  it("serves the proof another isolate stored first, not one of its own, and never overwrites a stored one", async () => {
    const u = vectorUsers[1]!;
    const leaf = privateLeafIndex(ledger, hexToBytes(u.commitment, "c"));
    const key = privateProofKey(ledger.ledgerId, leaf);
    await testEnv.BUCKET.delete(key);
    // Two valid proofs of one leaf differ (Bulletproofs are randomised): the first stored wins.
    const a = new TextEncoder().encode(JSON.stringify(privateInclusionProof(ledger, leaf, engine)));
    const b = new TextEncoder().encode(JSON.stringify(privateInclusionProof(ledger, leaf, engine)));
    expect(a).not.toEqual(b);
    expect(await storeOnce(testEnv.BUCKET, key, a)).toEqual(a);
    expect(await storeOnce(testEnv.BUCKET, key, b)).toEqual(a);
    const served = new Uint8Array(await (await getProof(sequence, u.commitment)).arrayBuffer());
    expect(served).toEqual(a);
    expect(
      checkPrivateInclusion(JSON.parse(new TextDecoder().decode(served)), { commitment: u.commitment }, engine),
    ).toMatchObject({
      ok: true,
    });
  });

  it("answers an absent commitment with a bare 404 that names no leaf, so no stranger learns a commitment to fetch a balance with", async () => {
    const leaves = ledger.commitments.map(bytesToHex);
    const absent = [`0x${"00".repeat(32)}`, `0x${"ff".repeat(32)}`, ...leaves.map(above)].filter(
      (c) => !leaves.includes(c as Hex),
    );
    for (const c of absent) {
      const res = await getProof(sequence, c);
      expect(res.status, c).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string }; nonInclusion?: unknown };
      expect(body.error.code).toBe("NOT_FOUND");
      expect(body.error.message).toMatch(/proves absence only to the user it concerns, through the issuer/);
      expect(body).not.toHaveProperty("nonInclusion");
      const text = JSON.stringify(body).toLowerCase();
      for (const leaf of leaves) expect(text.includes(leaf.slice(2))).toBe(false);
      for (const b of otherBlindings(ledger, -1)) expect(text.includes(b.slice(2))).toBe(false);
    }
  });

  it("never serves a proof of a stored ledger whose root is not the signed liabilitiesRoot", async () => {
    const wrong = await publish(ledger.ledgerId, `0x${"77".repeat(32)}`);
    const res = await getProof(wrong, vectorUsers[2]!.commitment);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /the stored ledger does not match the attestation/,
    );
    const absent = await getProof(wrong, `0x${"00".repeat(32)}`);
    expect(absent.status).toBe(500);
  });
});

describe("a private ledger of many shards, padded, one asset", () => {
  const users: User[] = Array.from({ length: 11 }, (_, i) => {
    const salt = new Uint8Array(16).fill(i + 40);
    const userId = `shard-user-${i}`;
    return { userId, salt, commitment: bytesToHex(userCommitment(salt, userId)), balances: [BigInt(i) * 10n ** 15n] };
  });
  const assets: PrivateAsset[] = [{ symbol: "ETH", decimals: 18, unitDecimals: 9 }];
  const ledger = build("lg_private_route_b", users, assets, 5);
  let sequence: bigint;

  beforeAll(async () => {
    // 32 leaves in 8 shards of 4; index objects on 3 bits, so some are empty (the binary-search fallback).
    await writePrivateLedger(testEnv.BUCKET, ledger, { shardSize: 4, indexBits: 3, users: users.length });
    sequence = await publish(ledger.ledgerId, bytesToHex(ledger.root.hash));
  });

  it("proves a user whose path crosses shard and top levels", async () => {
    for (const u of [users[0]!, users[10]!]) {
      const res = await getProof(sequence, u.commitment);
      expect(res.status).toBe(200);
      const proof = (await res.json()) as { path: unknown[]; rangeProofs: unknown[] };
      expect(proof.path).toHaveLength(5);
      expect(proof.rangeProofs).toHaveLength(2); // 5 sibling commitments: chunks of 4 and 1
      expect(checkPrivateInclusion(proof, { userId: u.userId, salt: u.salt }, engine)).toMatchObject({
        ok: true,
        values: [u.balances[0]! / 10n ** 9n],
      });
    }
  });

  it("makes absence proofs from the stored nodes at both edges (padding leaves included) and between every pair of leaves", async () => {
    // What the admin route hands the issuer (the public route answers a bare 404, as above).
    const manifest = await completeManifest(testEnv.BUCKET, ledger.ledgerId);
    if (manifest === null || !isPrivateManifest(manifest)) throw new Error("the stored ledger has no private manifest");
    const leaves = ledger.commitments.map(bytesToHex);
    const absent = [`0x${"00".repeat(32)}`, `0x${"ff".repeat(32)}`, ...leaves.map(above)].filter(
      (c) => !leaves.includes(c as Hex),
    );
    expect(absent.length).toBeGreaterThan(30);
    for (const c of absent) {
      const proof = await readPrivateNonInclusionProof(testEnv.BUCKET, manifest, c);
      expect(checkPrivateNonInclusion(proof, hexToBytes(c, "c")), c).toMatchObject({ ok: true });
      expect(keysNamed(proof, "values")).toEqual([]);
      expect(keysNamed(proof, "blindings")).toEqual([]);
    }
    expect(await readPrivateNonInclusionProof(testEnv.BUCKET, manifest, leaves[3]!)).toBeNull();
    const first = await readPrivateNonInclusionProof(testEnv.BUCKET, manifest, `0x${"00".repeat(32)}`);
    expect(first).not.toHaveProperty("left");
    expect(first).toHaveProperty("right.leafIndex", 0);
    const last = await readPrivateNonInclusionProof(testEnv.BUCKET, manifest, `0x${"ff".repeat(32)}`);
    expect(last).toHaveProperty("left.leafIndex", 31);
    expect(last).not.toHaveProperty("right");
  });
});

describe("the OpenAPI document", () => {
  it("lists the private proofs beside the plain ones in the proof route's 200 and 404", async () => {
    const doc = (await (await exports.default.fetch("http://solvent.test/openapi.json")).json()) as {
      paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }>;
      components: { schemas: Record<string, { anyOf?: unknown[]; properties?: Record<string, unknown> }> };
    };
    const op = doc.paths["/v1/issuers/{issuer}/proofs/{sequence}/{commitment}"]!.get;
    expect(op.responses["200"]!.content["application/json"]!.schema).toEqual({
      $ref: "#/components/schemas/LedgerInclusionProof",
    });
    expect(doc.components.schemas.LedgerInclusionProof!.anyOf).toEqual([
      { $ref: "#/components/schemas/InclusionProof" },
      { $ref: "#/components/schemas/PrivateInclusionProof" },
    ]);
    expect(JSON.stringify(doc.components.schemas.NotInLedger)).not.toContain("PrivateNonInclusionProof");
    const admin = doc.paths["/v1/admin/issuers/{issuer}/ledgers/{ledgerId}/non-inclusion/{commitment}"]!.get;
    expect(admin.responses["200"]!.content["application/json"]!.schema).toEqual({
      $ref: "#/components/schemas/PrivateNonInclusionProof",
    });
    expect(Object.keys(doc.components.schemas.PrivateInclusionProof!.properties!)).toEqual(
      expect.arrayContaining(["scheme", "values", "blindings", "path", "rangeProofs", "rootCommitments", "totals"]),
    );
  });
});

describe("a private ledger uploaded through the admin routes and built by the queue", () => {
  const SECRET_HEX = `0x${"5c".repeat(32)}`;
  // The ledger tests' issuer, made private.
  const config: SolventConfig = {
    ...ledgerConfig,
    issuers: ledgerConfig.issuers.map((issuer) => ({
      ...issuer,
      liabilities: { ...issuer.liabilities, ledger: { ...issuer.liabilities.ledger!, scheme: "private", minDepth: 4 } },
    })),
  };
  // Proofs are counted by the same middleware as in the Worker (worker/api/app.ts), mounted before the routes.
  const counter = new Hono<AppEnv>();
  counter.use("*", countProofs());
  const privateApp = ledgerAppWith(config, counter, createAdminLedger(), proofRoutes, coverageRoutes);
  const call = (path: string, init?: RequestInit) =>
    privateApp.fetch(new Request(`https://solvent.test${path}`, init), testEnv);

  async function deliver(body: LedgerBuildMessage): Promise<LedgerBuildMessage[]> {
    const out: LedgerBuildMessage[] = [];
    const batch = createMessageBatch<LedgerBuildMessage>("solvent-ledger-builds", [
      { id: `p-${Math.random()}`, timestamp: Date.now(), attempts: 1, body },
    ]);
    const buildEnv = { DB: testEnv.DB, BUCKET: testEnv.BUCKET, LEDGER_BLINDING_SECRET: SECRET_HEX };
    await handleLedgerBuild(batch, buildEnv, { shardSize: 4, send: async (m) => void out.push(...m) });
    expect((await getQueueResult(batch, createExecutionContext())).retryMessages).toEqual([]);
    return out;
  }

  it("serves a proof of the built ledger that verifies end to end, and counts it against the padded leaf count", async () => {
    const users = makeLedgerUsers(6, "e2e");
    sent.length = 0;
    const res = await call(`/v1/admin/issuers/${ISSUER}/ledger?asOf=${Math.floor(Date.now() / 1000) - 50_000}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "text/csv" },
      body: ledgerCsv(users),
    });
    expect(res.status).toBe(202);
    const { ledgerId } = (await res.json()) as { ledgerId: string };
    await drainQueue(sent.splice(0), deliver);
    const manifest = (await (await testEnv.BUCKET.get(`ledgers/${ledgerId}/manifest.json`))!.json()) as {
      root: Hex;
      leafCount: number;
      unitDecimals: number[];
    };
    expect(manifest.leafCount).toBe(16);
    const seq = await publish(ledgerId, manifest.root);

    for (const u of [users[0]!, users[5]!]) {
      const c = bytesToHex(userCommitment(u.salt, u.userId));
      const proof = await (await call(`/v1/issuers/${ISSUER}/proofs/${seq}/${c}`)).json();
      const result = checkPrivateInclusion(proof, { userId: u.userId, salt: u.salt }, engine, { root: manifest.root });
      expect(result).toMatchObject({ ok: true, root: manifest.root });
      expect(result.ok && result.values).toEqual(
        u.balances.map((b, k) => b / 10n ** BigInt(DECIMALS[k]! - manifest.unitDecimals[k]!)),
      );
    }
    const absent = `0x${"00".repeat(32)}`;
    const missing = await call(`/v1/issuers/${ISSUER}/proofs/${seq}/${absent}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).not.toHaveProperty("nonInclusion");
    // The issuer fetches the absence proof for the user who asked, and it verifies against the attested root.
    const nonInclusionPath = `/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}/non-inclusion`;
    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const handed = await call(`${nonInclusionPath}/${absent}`, auth);
    expect(handed.status).toBe(200);
    expect(checkPrivateNonInclusion(await handed.json(), hexToBytes(absent, "c"))).toEqual({
      ok: true,
      root: manifest.root,
    });
    expect((await call(`${nonInclusionPath}/${absent}`)).status).toBe(401);
    const leaf = bytesToHex(userCommitment(users[0]!.salt, users[0]!.userId));
    const isLeaf = await call(`${nonInclusionPath}/${leaf}`, auth);
    expect(isLeaf.status).toBe(409);
    expect(((await isLeaf.json()) as { error: { message: string } }).error.message).toMatch(/is a leaf .* not absent/);

    // Coverage: the two proofs served count; the leaf count is the padded 16, never the 6 users.
    const coverage = (await (await call(`/v1/issuers/${ISSUER}/coverage`)).json()) as {
      ledgers: { id: string; leafCount: string; checked: string }[];
    };
    expect(coverage.ledgers.find((l) => l.id === ledgerId)).toMatchObject({ leafCount: "16", checked: "2" });
  });
});
