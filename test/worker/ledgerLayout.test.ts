/**
 * Shard layouts in R2 (worker/ledger/shardLayout.ts): ledgers written by the
 * in-request build (buildLedger.ts, layout 2) for random row counts and shard
 * sizes serve, for every leaf, the proof of core's in-memory tree in three R2
 * reads; a ledger stored in layout 1 before layout 2 existed still serves
 * verifying proofs through the public route.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesToHex, writeUint128 } from "../../core/bytes.js";
import {
  HASH_BYTES,
  LiabilityTree,
  SUM_BYTES,
  userCommitment,
  verifyInclusionProof,
} from "../../core/liabilities/index.js";
import { proofRoutes } from "../../worker/api/proofRoutes.js";
import { buildLedger } from "../../worker/ledger/buildLedger.js";
import { newLedgerId, type TreeManifest, treeManifestKey } from "../../worker/ledger/ledgerFormat.js";
import { insertLedger, markLedgerBuilding, readJson } from "../../worker/ledger/ledgerStore.js";
import { recordBytes } from "../../worker/ledger/parseLedger.js";
import { readInclusionProof, readLedgerLeaves } from "../../worker/ledger/proofLookup.js";
import { blockBitsFor } from "../../worker/ledger/shardLayout.js";
import { checkProof } from "../support/independentVerifier.js";
import { writeLayout1Ledger } from "../support/storedLedger.js";
import { ASSETS, ISSUER, ledgerApp, ledgerPublisher, ledgerTestEnv } from "./ledgerFixture.js";

const testEnv = ledgerTestEnv([]);
const k = ASSETS.length;
const sb = SUM_BYTES * k;

/** R2 that counts its gets. */
function countingBucket(): { bucket: R2Bucket; gets: () => number } {
  let gets = 0;
  const bucket = new Proxy(testEnv.BUCKET, {
    get(target, prop) {
      if (prop === "get")
        return (...args: unknown[]) => {
          gets += 1;
          return (target.get as (...a: unknown[]) => unknown).apply(target, args);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bucket, gets: () => gets };
}

interface Row {
  userId: string;
  salt: Uint8Array;
  commitment: Uint8Array;
  balances: bigint[];
}

function makeRows(n: number, tag: string): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const userId = `${tag}-${i}`;
    return {
      userId,
      salt,
      commitment: userCommitment(salt, userId),
      balances: [BigInt(i * 101 + 7), i % 5 === 0 ? 0n : BigInt(i) * 10n ** 12n],
    };
  });
}

/** The rows as parseLedger.ts records (row number, commitment, enc128 balances). */
function records(rows: Row[]): Uint8Array {
  const rb = recordBytes(k);
  const out = new Uint8Array(rows.length * rb);
  const v = new DataView(out.buffer);
  rows.forEach((r, i) => {
    v.setUint32(i * rb, i + 1);
    out.set(r.commitment, i * rb + 4);
    r.balances.forEach((b, a) => {
      writeUint128(out, i * rb + 4 + HASH_BYTES + a * SUM_BYTES, b);
    });
  });
  return out;
}

const publish = ledgerPublisher(testEnv.DB);
/** Each ledger of this file is newer than the one before (uploads must be). */
let asOf = 1_700_000_000;

const app = ledgerApp(proofRoutes);

describe("shard layouts in R2", () => {
  it("layout 2 (in-request build): for random row counts and shard sizes, every leaf's proof is the core tree's, in 3 R2 reads", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 6 }), async (n, sizeBits) => {
        const rows = makeRows(n, `p${n}-${sizeBits}`);
        const ledgerId = newLedgerId();
        expect(
          await insertLedger(testEnv.DB, { ledgerId, issuerId: ISSUER, format: "csv", assets: ASSETS, asOf: asOf++ }),
        ).toBeNull();
        expect(await markLedgerBuilding(testEnv.DB, ledgerId, n)).toBe(true);
        const all = records(rows);
        const result = await buildLedger(
          { db: testEnv.DB, bucket: testEnv.BUCKET },
          ledgerId,
          {
            rows: n,
            ranges: true,
            buckets: async function* () {
              yield all;
            },
          },
          { shardSize: 2 ** sizeBits },
        );
        expect(result.status).toBe("complete");
        const manifest = (await readJson<TreeManifest>(testEnv.BUCKET, treeManifestKey(ledgerId)))!;
        expect(manifest).toMatchObject({
          layout: 2,
          blockBits: blockBitsFor(manifest.topLevel),
          shardSize: 2 ** sizeBits,
          leafCount: n,
          order: "commitment",
        });

        // The core's tree of the stored leaves in their stored order: ascending commitments (SPEC §2).
        const leaves = (await readLedgerLeaves(testEnv.BUCKET, ledgerId))!;
        expect(leaves.map((l) => l.commitment)).toEqual(rows.map((r) => bytesToHex(r.commitment)).sort());
        expect(new Map(leaves.map((l) => [l.commitment, l.balances.join()]))).toEqual(
          new Map(rows.map((r) => [bytesToHex(r.commitment), r.balances.join()])),
        );
        const tree = LiabilityTree.fromRows(ASSETS, leaves);
        expect(tree.root).toBe(manifest.root);
        const { bucket, gets } = countingBucket();
        await readInclusionProof(bucket, ledgerId, leaves[0]!.commitment);
        for (let i = 0; i < n; i++) {
          const before = gets();
          expect(await readInclusionProof(bucket, ledgerId, leaves[i]!.commitment)).toEqual(tree.proof(i));
          expect(gets() - before).toBeLessThanOrEqual(3);
        }
      }),
      { numRuns: 12 },
    );
  });

  it("layout 1 (stored before layout 2): the ledger stays provable through the proof route", async () => {
    const rows = makeRows(45, "v1");
    const sums = new Uint8Array(rows.length * sb);
    rows.forEach((r, i) => {
      r.balances.forEach((b, a) => {
        writeUint128(sums, i * sb + a * SUM_BYTES, b);
      });
    });
    const commitments = new Uint8Array(rows.length * HASH_BYTES);
    rows.forEach((r, i) => {
      commitments.set(r.commitment, i * HASH_BYTES);
    });
    const ledgerId = newLedgerId();
    const manifest = await writeLayout1Ledger(
      testEnv.BUCKET,
      { ledgerId, buildId: "00000000deadbeef", assets: ASSETS },
      commitments,
      sums,
      8,
    );
    expect(manifest.layout).toBeUndefined();
    expect(manifest.shardCount).toBe(6);
    const tree = LiabilityTree.fromRows(ASSETS, rows);
    expect(manifest.root).toBe(tree.root);
    expect((await readLedgerLeaves(testEnv.BUCKET, ledgerId))!.map((l) => l.commitment)).toEqual(
      rows.map((r) => bytesToHex(r.commitment)),
    );

    const sequence = await publish(ledgerId, manifest.root);
    for (const [i, r] of rows.entries()) {
      const res = await app.fetch(
        new Request(`https://solvent.test/v1/issuers/${ISSUER}/proofs/${sequence}/${bytesToHex(r.commitment)}`),
        testEnv,
      );
      expect(res.status).toBe(200);
      const proof = await res.json();
      expect(proof).toEqual(tree.proof(i));
      expect(verifyInclusionProof(proof, { userId: r.userId, salt: r.salt })).toMatchObject({
        ok: true,
        root: manifest.root,
        balances: r.balances,
      });
      expect(checkProof(proof, r.salt, r.userId)).toBeNull();
    }
  });
});
