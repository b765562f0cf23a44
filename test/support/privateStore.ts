/**
 * Writes a core PrivateLedger (SPEC §11, built in memory by buildPrivateLedger)
 * into R2 in the private layout (worker/ledger/privateLayout.ts), as a complete
 * build leaves it: shard objects, top.bin, the commitment index objects and
 * the manifest with its pointer. For tests of the proof route without a build.
 */
import { bytesToHex, type Hex } from "../../core/bytes.js";
import { type PrivateLedger, SCHEME, scalarToHex } from "../../core/liabilities/private/index.js";
import {
  buildPrefix,
  indexKey,
  indexPrefix,
  shardKey,
  topKey,
  treeManifestKey,
} from "../../worker/ledger/ledgerFormat.js";
import {
  PRIVATE_LAYOUT,
  type PrivateTreeManifest,
  privateShardObject,
  privateTopObject,
} from "../../worker/ledger/privateLayout.js";

export interface PrivateStoreOptions {
  buildId?: string;
  /** Leaves per shard object (a power of two); default 4. */
  shardSize?: number;
  /** Index objects keyed by this many leading bits; default 0 (one object). */
  indexBits?: number;
  /** Real users among the leaves (the manifest's `users`); default leafCount. */
  users?: number;
  /** Each asset's base-unit decimals; default each asset's own. */
  decimals?: number[];
}

/** The objects of `ledger` as the private layout stores them, keyed by R2 key (manifest excluded). */
export function privateObjects(ledger: PrivateLedger, manifest: PrivateTreeManifest): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const s = Math.min(manifest.shardSize, manifest.leafCount);
  const t = Math.log2(s);
  for (let i = 0; i < manifest.shardCount; i++) {
    const levels = ledger.levels.slice(0, t + 1).map((level, l) => level.slice(i * (s >> l), (i + 1) * (s >> l)));
    out.set(
      shardKey(ledger.ledgerId, manifest.buildId, i),
      privateShardObject(ledger.commitments.slice(i * s, (i + 1) * s), levels),
    );
  }
  out.set(topKey(ledger.ledgerId, manifest.buildId), privateTopObject(ledger.levels.slice(t)));
  const groups = new Map<number, number[]>();
  ledger.commitments.forEach((c, leaf) => {
    const p = indexPrefix(c, manifest.indexBits);
    groups.set(p, [...(groups.get(p) ?? []), leaf]);
  });
  for (const [p, leaves] of groups) {
    const entries = new Uint8Array(leaves.length * 36);
    const v = new DataView(entries.buffer);
    leaves.forEach((leaf, e) => {
      entries.set(ledger.commitments[leaf]!, e * 36);
      v.setUint32(e * 36 + 32, leaf);
    });
    out.set(indexKey(ledger.ledgerId, manifest.buildId, p), entries);
  }
  return out;
}

export function privateManifest(ledger: PrivateLedger, options: PrivateStoreOptions = {}): PrivateTreeManifest {
  const leafCount = 2 ** ledger.depth;
  const shardSize = options.shardSize ?? 4;
  return {
    scheme: SCHEME,
    layout: PRIVATE_LAYOUT,
    ledgerId: ledger.ledgerId,
    buildId: options.buildId ?? "b-test",
    leafCount,
    users: options.users ?? leafCount,
    depth: ledger.depth,
    shardSize,
    shardCount: leafCount / Math.min(shardSize, leafCount),
    assets: ledger.assets.map((a) => a.symbol),
    decimals: options.decimals ?? ledger.assets.map((a) => a.decimals),
    unitDecimals: ledger.assets.map((a) => a.unitDecimals),
    root: bytesToHex(ledger.root.hash),
    rootCommitments: ledger.root.encoded.map(bytesToHex),
    totals: ledger.totals.map(String),
    totalBlindings: ledger.totalBlindings.map(scalarToHex),
    secretId: "0x0011223344556677" as Hex,
    indexBits: options.indexBits ?? 0,
  };
}

/** Stores `ledger` as a complete private build; returns its manifest. */
export async function writePrivateLedger(
  bucket: R2Bucket,
  ledger: PrivateLedger,
  options: PrivateStoreOptions = {},
): Promise<PrivateTreeManifest> {
  const manifest = privateManifest(ledger, options);
  for (const [key, bytes] of privateObjects(ledger, manifest)) await bucket.put(key, bytes);
  await bucket.put(`${buildPrefix(ledger.ledgerId, manifest.buildId)}manifest.json`, JSON.stringify(manifest));
  await bucket.put(treeManifestKey(ledger.ledgerId), JSON.stringify(manifest));
  return manifest;
}
