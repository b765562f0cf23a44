/**
 * The private ledger's storage layout (worker/ledger/privateLayout.ts): node
 * records round-trip, bad records are refused with the reason, and a core
 * buildPrivateLedger tree stored as shard and top objects in R2 reads back,
 * node by node and commitment by commitment, equal to the tree in memory, for
 * several shard sizes (one shard larger than the ledger, many shards, shards
 * of one leaf) and a one-leaf ledger.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hexToBytes } from "../../core/bytes.js";
import { userCommitment } from "../../core/liabilities/index.js";
import {
  buildPrivateLedger,
  GROUP_ORDER,
  type PrivateAsset,
  type PrivateLedger,
  type PrivateNode,
} from "../../core/liabilities/private/index.js";
import vector from "../../docs/test-vectors/private-5-users-2-assets.json" with { type: "json" };
import { shardKey, topKey } from "../../worker/ledger/ledgerFormat.js";
import {
  decodePrivateNode,
  encodePrivateNode,
  privateCommitmentLocation,
  privateNodeBytes,
  privateNodeLocation,
  readLeafCommitment,
  readPrivateNode,
} from "../../worker/ledger/privateLayout.js";
import { writePrivateLedger } from "../support/privateStore.js";

const bucket = (env as unknown as { BUCKET: R2Bucket }).BUCKET;

function vectorLedger(): PrivateLedger {
  return buildPrivateLedger({
    ledgerId: vector.ledgerId,
    secret: hexToBytes(vector.secret, "secret"),
    assets: vector.assets as PrivateAsset[],
    minDepth: vector.minDepth,
    users: vector.users.map((u) => ({
      commitment: userCommitment(hexToBytes(u.salt, "salt"), u.userId),
      balances: u.balances.map(BigInt),
    })),
  });
}

function generatedLedger(ledgerId: string, users: number, minDepth: number): PrivateLedger {
  return buildPrivateLedger({
    ledgerId,
    secret: new Uint8Array(32).fill(9),
    assets: [{ symbol: "ETH", decimals: 18, unitDecimals: 9 }],
    minDepth,
    users: Array.from({ length: users }, (_, i) => ({
      commitment: userCommitment(new Uint8Array(16).fill(i + 1), `layout-user-${i}`),
      balances: [BigInt(i + 1) * 10n ** 12n],
    })),
  });
}

function expectSameNode(got: PrivateNode, want: PrivateNode, where: string): void {
  expect(got.hash, where).toEqual(want.hash);
  expect(got.encoded, where).toEqual(want.encoded);
  expect(got.values, where).toEqual(want.values);
  expect(got.blindings, where).toEqual(want.blindings);
  got.commitments.forEach((c, k) => {
    expect(c.equals(want.commitments[k]!), where).toBe(true);
  });
}

describe("private node records", () => {
  const ledger = vectorLedger();
  const node = ledger.root;

  it("are hash || per asset C (32) || v (uint64 big-endian) || r (32 little-endian), and round-trip", () => {
    const bytes = encodePrivateNode(node);
    expect(bytes.length).toBe(privateNodeBytes(2));
    expect(bytes.length).toBe(32 + 72 * 2);
    expect(bytes.subarray(0, 32)).toEqual(node.hash);
    expect(bytes.subarray(32, 64)).toEqual(node.encoded[0]);
    expect(new DataView(bytes.buffer).getBigUint64(64, false)).toBe(node.values[0]);
    expect(bytes[72]).toBe(Number(node.blindings[0]! & 0xffn));
    expect(bytes.subarray(104 + 32, 104 + 40)).toEqual(
      Uint8Array.from({ length: 8 }, (_, i) => Number((node.values[1]! >> BigInt(56 - 8 * i)) & 0xffn)),
    );
    expectSameNode(decodePrivateNode(bytes, 2), node, "root");
    // at an offset inside a larger buffer
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 10);
    expectSameNode(decodePrivateNode(padded, 2, "node", 10), node, "root at offset 10");
  });

  it("refuses a short record, a point that is not canonical and an unreduced blinding, naming the node", () => {
    const bytes = encodePrivateNode(node);
    expect(() => decodePrivateNode(bytes.subarray(0, 100), 2, "leaf 3")).toThrow(
      /leaf 3: a record of 2 assets takes 176 bytes, 100 are there/,
    );
    const badPoint = bytes.slice();
    badPoint.fill(0xff, 32, 64);
    expect(() => decodePrivateNode(badPoint, 2, "leaf 3")).toThrow(
      /leaf 3: commitment 0 is not a canonical ristretto255/,
    );
    const badScalar = bytes.slice();
    let l = GROUP_ORDER;
    for (let i = 0; i < 32; i++) {
      badScalar[104 + 40 + i] = Number(l & 0xffn);
      l >>= 8n;
    }
    expect(() => decodePrivateNode(badScalar, 2, "leaf 3")).toThrow(/leaf 3: blinding 1 is not reduced/);
  });

  it("refuses to encode a value outside [0, 2^64)", () => {
    expect(() => encodePrivateNode({ ...node, values: [2n ** 64n, 0n] })).toThrow(/outside \[0, 2\^64\)/);
  });
});

describe("a private ledger stored in R2 reads back node for node", () => {
  const cases: { name: string; ledger: () => PrivateLedger; shardSize: number }[] = [
    { name: "the 5-user vector, shards of 2 leaves (4 shards)", ledger: vectorLedger, shardSize: 2 },
    { name: "the 5-user vector, one shard larger than the ledger", ledger: vectorLedger, shardSize: 64 },
    { name: "the 5-user vector, one shard exactly the ledger", ledger: vectorLedger, shardSize: 8 },
    {
      name: "11 users padded to 2^5, shards of 8 leaves",
      ledger: () => generatedLedger("lg_layout_a", 11, 5),
      shardSize: 8,
    },
    {
      name: "11 users padded to 2^5, shards of 1 leaf",
      ledger: () => generatedLedger("lg_layout_b", 11, 5),
      shardSize: 1,
    },
    { name: "1 user (depth 0)", ledger: () => generatedLedger("lg_layout_c", 1, 0), shardSize: 4 },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const ledger = c.ledger();
      const m = await writePrivateLedger(bucket, ledger, { buildId: `b-${c.shardSize}`, shardSize: c.shardSize });
      const s = Math.min(c.shardSize, m.leafCount);
      const t = Math.log2(s);
      // Objects are exactly the size the layout says: commitments then levels 0..t, and levels t..depth.
      const shard0 = await bucket.head(shardKey(m.ledgerId, m.buildId, 0));
      expect(shard0?.size).toBe(s * 32 + (2 * s - 1) * privateNodeBytes(m.assets.length));
      const top = await bucket.head(topKey(m.ledgerId, m.buildId));
      expect(top?.size).toBe((2 * m.shardCount - 1) * privateNodeBytes(m.assets.length));

      for (let level = 0; level <= m.depth; level++) {
        const nodes = ledger.levels[level]!;
        const read = await Promise.all(nodes.map((_, i) => readPrivateNode(bucket, m, level, i)));
        read.forEach((node, i) => {
          expectSameNode(node, nodes[i]!, `level ${level} node ${i}`);
        });
        // levels below the shard tops come from the shards, the others from top.bin
        expect(privateNodeLocation(m, level, 0).key).toBe(
          level < t ? shardKey(m.ledgerId, m.buildId, 0) : topKey(m.ledgerId, m.buildId),
        );
      }
      const commitments = await Promise.all(ledger.commitments.map((_, i) => readLeafCommitment(bucket, m, i)));
      expect(commitments).toEqual(ledger.commitments);
      expect(privateCommitmentLocation(m, m.leafCount - 1).key).toBe(shardKey(m.ledgerId, m.buildId, m.shardCount - 1));
    });
  }

  it("refuses a level or node the tree does not have", async () => {
    const m = await writePrivateLedger(bucket, vectorLedger(), { buildId: "b-edges", shardSize: 2 });
    expect(() => privateNodeLocation(m, 4, 0)).toThrow(/has no level 4 \(depth 3\)/);
    expect(() => privateNodeLocation(m, 1, 4)).toThrow(/has no node 4 at level 1 \(4 nodes\)/);
    expect(() => privateCommitmentLocation(m, 8)).toThrow(/has no leaf 8 \(8 leaves\)/);
    expect(() => privateNodeLocation({ ...m, leafCount: 6 }, 0, 0)).toThrow(/leafCount 6 is not 2\^depth/);
  });
});
