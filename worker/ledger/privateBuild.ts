/**
 * The queue build of a private ledger (SPEC §11, `pedersen-ristretto255-v2`):
 * the plain sharded build's spool, shuffle and index steps (shardedBuild.ts)
 * with three private parts, so that no step holds the ledger:
 *
 *   start    adds the padding leaves (SPEC §11 padding commitments j = 0…,
 *            zero balances, row numbers after the users') to the spool as
 *            ordinary rows, in their commitment buckets, so the plan has
 *            2^depth rows; picks each asset's unit from the upload's totals
 *            (or the configured unitDecimals); records the secret's id;
 *   shard    quantises its leaves (a row that is not a whole number of the
 *            unit fails the ledger naming the row), derives their blindings
 *            from the global leaf index, and stores its subtree;
 *   combine  builds the levels above the shard tops, writes the manifest and
 *            marks the ledger complete (or superseded) exactly as the plain
 *            combine does, with the root facts in D1.
 *
 * Stored bytes: privateLayout.ts. The blinding secret is read by every step
 * that derives from it and must be the one the plan recorded (by its id): a
 * secret rotated during a build fails that build instead of mixing two.
 */
import { bytesToHex, concatBytes, type Hex, readUint128 } from "../../core/bytes.js";
import { SolventError } from "../../core/errors.js";
import { HASH_BYTES, SUM_BYTES } from "../../core/liabilities/index.js";
import {
  blindingDeriver,
  buildPrivateLevels,
  chooseUnitDecimals,
  type PrivateLeafInput,
  paddingCommitment,
  privateLeaves,
  quantiseAsset,
  SCHEME,
  scalarToHex,
  VALUE_LIMIT,
} from "../../core/liabilities/private/index.js";
import type { BlindingSecret } from "../config/secrets.js";
import { LedgerBuildError } from "./buildLedger.js";
import {
  buildPrefix,
  describeRow,
  randomHex,
  type SpoolManifest,
  shardKey,
  spoolObjects,
  topKey,
  treeManifestKey,
} from "./ledgerFormat.js";
import { RowSpool } from "./ledgerSpool.js";
import {
  type LedgerRecord,
  markLedgerComplete,
  type PrivateLedgerFacts,
  privateLeafCount,
  readRange,
} from "./ledgerStore.js";
import {
  decodePrivateNode,
  PRIVATE_HASH_BYTES,
  PRIVATE_LAYOUT,
  type PrivateTreeManifest,
  privateNodeBytes,
  privateShardObject,
  privateTopObject,
} from "./privateLayout.js";
import { type BuildPlan, bucketSlices, makePlan } from "./shardPlan.js";

/** What a private plan adds to the plain one. */
export interface PrivatePlan {
  /** Id of the blinding secret the build derives from (secrets.ts blindingSecretId). */
  secretId: Hex;
  /** Real user rows; the plan's `rows` is 2^depth. */
  users: number;
  depth: number;
  /** Row number of padding leaf 0; padding leaf j is row paddingFrom + j. */
  paddingFrom: number;
  decimals: number[];
  unitDecimals: number[];
}

export type PrivateBuildPlan = BuildPlan & { private: PrivatePlan; spoolKey: string };

/** Padding leaves one start step writes (HMAC and record per leaf): past this, lower minDepth. */
export const MAX_START_PADDING = 1 << 20;
const PADDING_BATCH = 4096;

/** R2 keys of the build's own spool: the padding rows and the manifest listing them beside the upload's. */
export const paddingKey = (ledgerId: string, buildId: string, b: number, k: number) =>
  `${buildPrefix(ledgerId, buildId)}padding/${b}-${k}.bin`;
export const paddedSpoolKey = (ledgerId: string, buildId: string) => `${buildPrefix(ledgerId, buildId)}spool.json`;

/** Leaves per shard of a private ledger: about 4 MiB objects and a few seconds of curve work per step. */
export function privateShardSize(assets: number): number {
  const perLeaf = PRIVATE_HASH_BYTES + 2 * privateNodeBytes(assets);
  let s = 1 << 12;
  while (s > 64 && s * perLeaf > 4 * 1024 * 1024) s >>= 1;
  return s;
}

/** How errors name a row of a private build: the upload's row, or "padding leaf j". */
export function privateRowName(plan: Pick<BuildPlan, "partRows"> & { private?: PrivatePlan }, row: number): string {
  if (plan.private && row >= plan.private.paddingFrom) return `padding leaf ${row - plan.private.paddingFrom}`;
  return describeRow(row, plan.partRows);
}

function checkSecret(plan: PrivateBuildPlan, secret: BlindingSecret): void {
  if (secret.id !== plan.private.secretId)
    throw new LedgerBuildError(
      `LEDGER_BLINDING_SECRET changed while the ledger was building (started with secret ${plan.private.secretId}, now ${secret.id}): upload the ledger again`,
    );
}

/**
 * Plans a private build: its unit per asset, its padding rows in the spool,
 * and the plan with 2^depth rows. Nothing is claimed here: the caller writes
 * the plan and claims it (shardedBuild.ts startShardedBuild).
 */
export async function planPrivateBuild(
  bucket: R2Bucket,
  ledger: LedgerRecord,
  spool: SpoolManifest,
  secret: BlindingSecret,
  options: { buildId: string; shardSize?: number },
): Promise<{ plan: PrivateBuildPlan; padded: SpoolManifest }> {
  const { ledgerId } = ledger;
  const params = ledger.private?.params;
  if (!params) throw new LedgerBuildError("the ledger was admitted without private parameters");
  if (!spool.totals || spool.totals.length !== ledger.assets.length)
    throw new LedgerBuildError("the upload recorded no per-asset totals, which a private build needs: upload it again");
  const users = spool.rows;
  const leafCount = privateLeafCount(users, params.minDepth);
  const depth = Math.log2(leafCount);
  const padding = leafCount - users;
  if (padding > MAX_START_PADDING)
    throw new LedgerBuildError(
      `${users} users padded to 2^${depth} leaves needs ${padding} padding leaves, more than the ${MAX_START_PADDING} the start step makes: lower liabilities.ledger.minDepth if it set the size; otherwise this user count is beyond what a private ledger builds in this version`,
    );
  const unitDecimals = ledger.assets.map((id, k) => {
    const total = BigInt(spool.totals![k]!);
    const kept = params.unitDecimals[k] ?? chooseUnitDecimals(id, params.decimals[k]!, [total]);
    const units = total / 10n ** BigInt(params.decimals[k]! - kept);
    if (units >= VALUE_LIMIT)
      throw new LedgerBuildError(
        `the ${id} total ${total} base units is ${units} units with ${kept} decimals kept, which reaches 2^64: keep fewer decimals (liabilities.ledger.unitDecimals.${id})`,
      );
    return kept;
  });
  const lastRow = spool.partRows ? spool.partRows.reduce((a, b) => a + b, 0) : (spool.lastRow ?? users);
  const paddingFrom = lastRow + 1;
  if (paddingFrom + padding - 1 > 0xffff_ffff)
    throw new LedgerBuildError(`row numbers of ${padding} padding leaves after row ${lastRow} do not fit 32 bits`);

  // Padding rows go to the bucket of their commitment, like every upload row.
  const rb = spool.recordBytes;
  const pad = new RowSpool(bucket, ledgerId, rb, 0, undefined, (b, k) => paddingKey(ledgerId, options.buildId, b, k));
  for (let j0 = 0; j0 < padding; j0 += PADDING_BATCH) {
    const count = Math.min(PADDING_BATCH, padding - j0);
    const records = new Uint8Array(count * rb);
    const view = new DataView(records.buffer);
    for (let i = 0; i < count; i++) {
      view.setUint32(i * rb, paddingFrom + j0 + i);
      records.set(paddingCommitment(secret.bytes, ledgerId, j0 + i), i * rb + 4);
    }
    await pad.add({ records, count });
  }
  const padBuckets = await pad.flushAll();
  const padded: SpoolManifest = {
    ...spool,
    rows: leafCount,
    buckets: spool.buckets.map((b, i) => {
      const extra = padBuckets[i] ?? { rows: 0, parts: 0 };
      const pieces = spoolObjects(spool, ledgerId, i);
      // Padding records carry their final row numbers: part 0 adds no offset.
      for (let k = 0; k < extra.parts; k++) pieces.push({ key: paddingKey(ledgerId, options.buildId, i, k), part: 0 });
      return { rows: b.rows + extra.rows, parts: pieces.length, pieces };
    }),
  };
  const shardSize = Math.min(options.shardSize ?? privateShardSize(ledger.assets.length), leafCount);
  const base = makePlan(
    { ledgerId, buildId: options.buildId, assets: ledger.assets },
    padded,
    Math.max(2, shardSize),
    `0x${randomHex(32)}`,
  );
  const plan: PrivateBuildPlan = {
    ...base,
    // A one-leaf ledger is one shard of one leaf (makePlan needs shardSize >= 2; the private steps use this).
    shardSize,
    shardCount: leafCount / shardSize,
    spoolKey: paddedSpoolKey(ledgerId, options.buildId),
    private: { secretId: secret.id, users, depth, paddingFrom, decimals: params.decimals, unitDecimals },
  };
  return { plan, padded };
}

/** Whether a plan is a private build's. */
export function isPrivatePlan(plan: BuildPlan): plan is PrivateBuildPlan {
  return (plan as Partial<PrivateBuildPlan>).private !== undefined;
}

/**
 * The stored shard s of a private plan from its leaves' records (parseLedger.ts
 * layout, in leaf order): quantised, blinded from the global leaf index, every
 * level up to the shard top. Pure but for the secret's use.
 */
export function privateShardFromRecords(
  plan: PrivateBuildPlan,
  s: number,
  records: Uint8Array,
  secret: BlindingSecret,
): Uint8Array {
  const k = plan.assets.length;
  const rb = plan.recordBytes;
  const count = records.length / rb;
  if (count !== plan.shardSize) throw new Error(`private shard ${s}: ${count} leaves, expected ${plan.shardSize}`);
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const rows = Array.from({ length: count }, (_, i) => view.getUint32(i * rb));
  const quantised = plan.assets.map((symbol, a) =>
    quantiseAsset(
      { symbol, decimals: plan.private.decimals[a]!, unitDecimals: plan.private.unitDecimals[a]! },
      rows.map((_, i) => readUint128(records, i * rb + 4 + HASH_BYTES + a * SUM_BYTES)),
      (i) => privateRowName(plan, rows[i]!),
    ),
  );
  const first = s * plan.shardSize;
  const blinding = blindingDeriver(secret.bytes, plan.ledgerId);
  const commitments = new Uint8Array(count * HASH_BYTES);
  const rowsIn: PrivateLeafInput[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const c = records.subarray(i * rb + 4, i * rb + 4 + HASH_BYTES);
    commitments.set(c, i * HASH_BYTES);
    rowsIn[i] = {
      commitment: c.slice(),
      values: quantised.map((q) => q[i]!),
      blindings: Array.from({ length: k }, (_, a) => blinding(first + i, a)),
    };
  }
  // Core's batch path: the leaves' encodings share one field inversion (core/liabilities/private/batch.ts).
  return privateShardObject(commitments, buildPrivateLevels(privateLeaves(rowsIn)));
}

/** Reads shard s's leaves in leaf order and stores its subtree. */
export async function buildPrivateShard(
  bucket: R2Bucket,
  plan: PrivateBuildPlan,
  s: number,
  secret: BlindingSecret,
  orderKeyOf: (b: number) => string,
): Promise<void> {
  checkSecret(plan, secret);
  const rb = plan.recordBytes;
  const lo = s * plan.shardSize;
  const pieces: Uint8Array[] = [];
  for (const slice of bucketSlices(plan, lo, lo + plan.shardSize)) {
    pieces.push(await readRange(bucket, orderKeyOf(slice.bucket), slice.from * rb, (slice.to - slice.from) * rb));
  }
  const records = concatBytes(...pieces);
  try {
    await bucket.put(shardKey(plan.ledgerId, plan.buildId, s), privateShardFromRecords(plan, s, records, secret));
  } catch (e) {
    // A row that does not quantise can never build: say which shard met it.
    if (e instanceof SolventError) throw new LedgerBuildError(e.message);
    throw e;
  }
}

/**
 * The levels above the shard tops, the manifest and the ledger's completion
 * (or supersession). Null when another attempt or a failure got there first.
 */
export async function combinePrivate(
  db: D1Database,
  bucket: R2Bucket,
  plan: PrivateBuildPlan,
  mapShards: <R>(fn: (s: number) => Promise<R>) => Promise<R[]>,
): Promise<{ manifest: PrivateTreeManifest; reached: "complete" | "superseded" | null }> {
  const { ledgerId, buildId } = plan;
  const k = plan.assets.length;
  const nb = privateNodeBytes(k);
  const S = plan.shardSize;
  // A shard object: S commitments, then 2S − 1 nodes, its top last.
  const topAt = S * PRIVATE_HASH_BYTES + (2 * S - 2) * nb;
  const tops = await mapShards(async (s) =>
    decodePrivateNode(await readRange(bucket, shardKey(ledgerId, buildId, s), topAt, nb), k, `shard ${s} top`),
  );
  const levels = buildPrivateLevels(tops);
  const root = levels[levels.length - 1]![0]!;
  root.values.forEach((v, a) => {
    if (v >= VALUE_LIMIT) throw new LedgerBuildError(`the ${plan.assets[a]} total reaches 2^64 units`);
  });
  const manifest: PrivateTreeManifest = {
    scheme: SCHEME,
    layout: PRIVATE_LAYOUT,
    ledgerId,
    buildId,
    leafCount: plan.rows,
    users: plan.private.users,
    depth: plan.private.depth,
    shardSize: S,
    shardCount: plan.shardCount,
    assets: plan.assets,
    decimals: plan.private.decimals,
    unitDecimals: plan.private.unitDecimals,
    root: bytesToHex(root.hash),
    rootCommitments: root.encoded.map((c) => bytesToHex(c)),
    totals: root.values.map((v) => v.toString(10)),
    totalBlindings: root.blindings.map(scalarToHex),
    secretId: plan.private.secretId,
    indexBits: plan.indexBits,
  };
  await bucket.put(topKey(ledgerId, buildId), privateTopObject(levels));
  await bucket.put(`${buildPrefix(ledgerId, buildId)}manifest.json`, JSON.stringify(manifest));
  // The pointer goes first so a complete ledger always has one.
  await bucket.put(treeManifestKey(ledgerId), JSON.stringify(manifest));
  const facts: PrivateLedgerFacts = {
    depth: manifest.depth,
    leafCount: manifest.leafCount,
    unitDecimals: manifest.unitDecimals,
    rootCommitments: manifest.rootCommitments,
    totals: manifest.totals,
    totalBlindings: manifest.totalBlindings,
    secretId: manifest.secretId,
  };
  // D1 keeps the totals in base units, so valuation reads a private ledger as any other.
  const rootSums = root.values.map(
    (v, a) => v * 10n ** BigInt(plan.private.decimals[a]! - plan.private.unitDecimals[a]!),
  );
  const reached = await markLedgerComplete(db, ledgerId, buildId, {
    root: manifest.root,
    rootSums,
    rows: plan.private.users,
    order: "commitment",
    private: facts,
  });
  return { manifest, reached };
}
