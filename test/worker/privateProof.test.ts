/**
 * The proof route for private ledgers (SPEC §11) in workerd: ledgers built in
 * memory by core's buildPrivateLedger are stored in the private layout in the
 * test file's R2 and attested in its D1; proofs are fetched through the route.
 * Each proof verifies with core's checkPrivateInclusion (engine over the same
 * WebAssembly), holds no value or blinding but the leaf's own, is made once
 * and then served as the same stored bytes (also to concurrent requests, and
 * whichever isolate stored it first); absent commitments get a 404 whose
 * non-inclusion proof verifies; a ledger whose root is not the signed one is
 * never served.
 */
import { exports } from "cloudflare:workers";
import type { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, type Hex, hexToBytes } from "../../core/bytes.js";
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
import type { AppEnv } from "../../worker/api/context.js";
import { proofRoutes } from "../../worker/api/proofRoutes.js";
import { readObject } from "../../worker/ledger/ledgerStore.js";
import { privateProofKey } from "../../worker/ledger/privateLayout.js";
import { storeOnce } from "../../worker/ledger/privateProof.js";
import { writePrivateLedger } from "../support/privateStore.js";
import { rangeProofEngine } from "../support/rangeProofs.js";
import { ISSUER, ledgerApp, ledgerPublisher, ledgerTestEnv } from "./ledgerFixture.js";

const testEnv = ledgerTestEnv([]);
const publish = ledgerPublisher(testEnv.DB);
const app: Hono<AppEnv> = ledgerApp(proofRoutes);
let engine: RangeProofEngine;

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
    engine = await rangeProofEngine();
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

  it("answers an absent commitment with a 404 whose non-inclusion proof verifies and shows no opening", async () => {
    const leaves = ledger.commitments.map(bytesToHex);
    const absent = [`0x${"00".repeat(32)}`, `0x${"ff".repeat(32)}`, ...leaves.map(above)].filter(
      (c) => !leaves.includes(c as Hex),
    );
    for (const c of absent) {
      const res = await getProof(sequence, c);
      expect(res.status, c).toBe(404);
      const body = (await res.json()) as {
        error: { code: string; message: string };
        nonInclusion: Record<string, unknown>;
      };
      expect(body.error.code).toBe("NOT_FOUND");
      expect(body.error.message).toMatch(/is not in the ledger of attestation .*nonInclusion proves it \(SPEC §11\)/);
      expect(checkPrivateNonInclusion(body.nonInclusion, hexToBytes(c, "c")), c).toEqual({
        ok: true,
        root: bytesToHex(ledger.root.hash),
      });
      expect(keysNamed(body, "values")).toEqual([]);
      expect(keysNamed(body, "blindings")).toEqual([]);
      const text = JSON.stringify(body);
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
    engine = await rangeProofEngine();
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

  it("proves absence at both edges (padding leaves included) and between every pair of leaves", async () => {
    const leaves = ledger.commitments.map(bytesToHex);
    const absent = [`0x${"00".repeat(32)}`, `0x${"ff".repeat(32)}`, ...leaves.map(above)].filter(
      (c) => !leaves.includes(c as Hex),
    );
    expect(absent.length).toBeGreaterThan(30);
    for (const c of absent) {
      const res = await getProof(sequence, c);
      expect(res.status, c).toBe(404);
      const { nonInclusion } = (await res.json()) as {
        nonInclusion: { left?: { leafIndex: number }; right?: { leafIndex: number } };
      };
      expect(checkPrivateNonInclusion(nonInclusion, hexToBytes(c, "c")), c).toMatchObject({ ok: true });
    }
    const first = (await (await getProof(sequence, `0x${"00".repeat(32)}`)).json()) as { nonInclusion: object };
    expect(first.nonInclusion).not.toHaveProperty("left");
    expect(first.nonInclusion).toHaveProperty("right.leafIndex", 0);
    const last = (await (await getProof(sequence, `0x${"ff".repeat(32)}`)).json()) as { nonInclusion: object };
    expect(last.nonInclusion).toHaveProperty("left.leafIndex", 31);
    expect(last.nonInclusion).not.toHaveProperty("right");
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
    expect(JSON.stringify(doc.components.schemas.NotInLedger)).toContain(
      "#/components/schemas/PrivateNonInclusionProof",
    );
    expect(Object.keys(doc.components.schemas.PrivateInclusionProof!.properties!)).toEqual(
      expect.arrayContaining(["scheme", "values", "blindings", "path", "rangeProofs", "rootCommitments", "totals"]),
    );
  });
});
