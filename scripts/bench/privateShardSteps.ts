/**
 * The sharded SPEC §11 build's compute, step by step, in Node:
 * `npx tsx scripts/bench/privateShardSteps.ts [--users 1000000] [--assets 1] [--shard-size 16384] [--sample 0] [--check]`
 *
 * A private ledger of `users` users pads to 2^depth leaves (10^5 -> 2^17,
 * 10^6 -> 2^20) sorted by commitment; shards are aligned blocks of
 * `shard-size` leaves, all full. The steps are the work a queue consumer does
 * for them, without R2, D1 or the queue:
 * - `shard`: derive the shard's blindings (from the ledger secret, the ledger
 *   id and each leaf's global index), its leaves (`privateLeaves`), its levels
 *   (`buildPrivateLevels`) and the stored shard object (`privateShardObject`
 *   of worker/ledger/privateLayout.ts);
 * - `combine`: decode every shard top from its object, build the levels above
 *   them and the top object.
 * The sort by commitment and the index objects are the plain scheme's steps
 * (scripts/bench/shardSteps.ts measures them), so they are not repeated.
 * `--sample n` runs n shards spread over the ledger instead of all of them and
 * scales their sum (every shard is the same work: full, same size); the
 * combine step then gets real tops from the sampled shards and stand-ins
 * (nodes of the same shape) for the others. `--check` builds the whole ledger
 * in memory with `buildPrivateLedger` and compares roots (doubles the run).
 * `--steps worker` (default) runs the Worker's own shard step,
 * `privateShardFromRecords` of worker/ledger/privateBuild.ts, on the shard's
 * records (row number, commitment, uint128 balances: the ordered spool's
 * layout); `--steps core` runs the same work through core's batch entry points
 * (`blindingDeriver`, `privateLeaves`), to show what the step would cost
 * through them.
 * CPU per step is user + system of this process; one JSON object per line,
 * with the load average.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { bytesToHex, writeUint128 } from "../../core/bytes.js";
import { HASH_BYTES, SUM_BYTES } from "../../core/liabilities/index.js";
import { compareCommitments } from "../../core/liabilities/nonInclusion.js";
import {
  blindingDeriver,
  buildPrivateLedger,
  buildPrivateLevels,
  GROUP_ORDER,
  type PrivateAsset,
  type PrivateNode,
  paddingCommitment,
  privateLeaves,
} from "../../core/liabilities/private/index.js";
import { recordBytes } from "../../worker/ledger/parseLedger.js";
import { type PrivateBuildPlan, privateShardFromRecords } from "../../worker/ledger/privateBuild.js";
import {
  decodePrivateNode,
  privateNodeBytes,
  privateShardObject,
  privateTopObject,
} from "../../worker/ledger/privateLayout.js";
import { cpuMs, loadAverage, machineRecord, round } from "./measure.js";

const { values: args } = parseArgs({
  options: {
    users: { type: "string", default: "1000000" },
    assets: { type: "string", default: "1" },
    "shard-size": { type: "string", default: "16384" },
    sample: { type: "string", default: "0" },
    check: { type: "boolean", default: false },
    steps: { type: "string", default: "worker" },
  },
});
const USERS = Number(args.users);
const K = Number(args.assets);
const SHARD = Number(args["shard-size"]);
const SAMPLE = Number(args.sample);
const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));
if ((SHARD & (SHARD - 1)) !== 0) throw new Error(`--shard-size must be a power of two, got ${SHARD}`);

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    steps: ms.length,
    medianMs: round(sorted[Math.floor(sorted.length / 2)]!),
    maxMs: round(sorted[sorted.length - 1]!),
    sumMs: Math.round(ms.reduce((a, b) => a + b, 0)),
  };
}

const SECRET = new Uint8Array(randomBytes(32));
const LEDGER = "lg_bench";
const ASSETS: PrivateAsset[] = Array.from({ length: K }, (_, k) => ({
  symbol: `A${k}`,
  decimals: 9,
  unitDecimals: 9,
}));

const users = Array.from({ length: USERS }, () => ({
  commitment: new Uint8Array(randomBytes(32)),
  balances: Array.from({ length: K }, () => BigInt(`0x${randomBytes(5).toString("hex")}`)),
}));
// The ledger's leaves in order: users' commitments and padding, sorted (what the shuffle step hands the shards).
const [leaves, setupMs] = cpuMs(() => {
  let size = 1;
  while (size < USERS) size *= 2;
  const all: { c: Uint8Array; values: bigint[] }[] = users.map((u) => ({ c: u.commitment, values: u.balances }));
  for (let j = 0; all.length < size; j++)
    all.push({ c: paddingCommitment(SECRET, LEDGER, j), values: ASSETS.map(() => 0n) });
  return all.sort((a, b) => compareCommitments(a.c, b.c));
});
const leafCount = leaves.length;
const shardSize = Math.min(SHARD, leafCount);
const shardCount = leafCount / shardSize;
emit(machineRecord());
emit({
  bench: "private-shard-setup",
  users: USERS,
  leaves: leafCount,
  assets: K,
  shardSize,
  shards: shardCount,
  setupCpuMs: Math.round(setupMs),
});

const derive = blindingDeriver(SECRET, LEDGER);
if (args.steps !== "worker" && args.steps !== "core")
  throw new Error(`--steps must be worker or core, got ${args.steps}`);
const rb = recordBytes(K);
// The fields of a private plan the shard step reads (the rest of a plan is the queue's business).
const plan = {
  ledgerId: LEDGER,
  assets: ASSETS.map((a) => a.symbol),
  recordBytes: rb,
  shardSize: Math.min(SHARD, leaves.length),
  partRows: [leaves.length],
  private: {
    paddingFrom: USERS,
    decimals: ASSETS.map((a) => a.decimals),
    unitDecimals: ASSETS.map((a) => a.unitDecimals),
  },
} as unknown as PrivateBuildPlan;
const secret = { bytes: SECRET, id: "0x0000000000000000" as const };

/** Shard s's records as the ordered spool holds them: uint32 row, commitment, one uint128 balance per asset. */
function shardRecords(slice: { c: Uint8Array; values: bigint[] }[], first: number): Uint8Array {
  const out = new Uint8Array(slice.length * rb);
  const view = new DataView(out.buffer);
  slice.forEach((e, i) => {
    view.setUint32(i * rb, first + i);
    out.set(e.c, i * rb + 4);
    e.values.forEach((v, k) => {
      writeUint128(out, i * rb + 4 + HASH_BYTES + k * SUM_BYTES, v);
    });
  });
  return out;
}
const nb = privateNodeBytes(K);
const chosen =
  SAMPLE > 0 && SAMPLE < shardCount
    ? Array.from({ length: SAMPLE }, (_, i) => Math.floor((i * shardCount) / SAMPLE))
    : Array.from({ length: shardCount }, (_, i) => i);
const shardMs: number[] = [];
const shardWall: number[] = [];
const tops: (Uint8Array | undefined)[] = new Array(shardCount);
let objectBytes = 0;
for (const s of chosen) {
  const slice = leaves.slice(s * shardSize, (s + 1) * shardSize);
  const records = args.steps === "worker" ? shardRecords(slice, s * shardSize) : undefined;
  const [obj, ms, wall] = cpuMs(() => {
    if (records) return privateShardFromRecords(plan, s, records, secret);
    const nodes = privateLeaves(
      slice.map((e, i) => ({
        commitment: e.c,
        values: e.values,
        blindings: ASSETS.map((_, k) => derive(s * shardSize + i, k)),
      })),
    );
    return privateShardObject(
      slice.map((e) => e.c),
      buildPrivateLevels(nodes),
    );
  });
  shardMs.push(ms);
  shardWall.push(wall);
  objectBytes = obj.length;
  tops[s] = obj.subarray(obj.length - nb);
}
const sampled = chosen.length < shardCount;
const shardStats = stats(shardMs);
emit({
  bench: "private-shard-steps",
  step: "shard",
  via: args.steps === "worker" ? "privateShardFromRecords (worker/ledger/privateBuild.ts)" : "core privateLeaves",
  leavesPerStep: shardSize,
  objectBytes,
  ...shardStats,
  measuredShards: chosen.length,
  sumAllShardsMs: sampled ? Math.round((shardStats.sumMs * shardCount) / chosen.length) : shardStats.sumMs,
  usPerLeaf: Math.round((shardStats.sumMs * 1000) / (chosen.length * shardSize)),
  wallSumMs: Math.round(shardWall.reduce((a, b) => a + b, 0)),
  loadavg: loadAverage(),
});

// Stand-in tops for shards not run (same record shape: a node with random openings).
if (sampled) {
  const filler = privateLeaves(
    Array.from({ length: shardCount }, () => ({
      commitment: new Uint8Array(randomBytes(32)),
      values: ASSETS.map(() => BigInt(`0x${randomBytes(5).toString("hex")}`)),
      blindings: ASSETS.map(() => BigInt(`0x${randomBytes(64).toString("hex")}`) % GROUP_ORDER),
    })),
  );
  filler.forEach((node, s) => {
    if (!tops[s]) tops[s] = privateShardObject([new Uint8Array(32)], [[node]]).subarray(32);
  });
}
const [combined, combineMs] = cpuMs(() => {
  const nodes: PrivateNode[] = tops.map((t, s) => decodePrivateNode(t!, K, `shard ${s} top`));
  const levels = buildPrivateLevels(nodes);
  return { root: levels[levels.length - 1]![0]!, top: privateTopObject(levels) };
});
emit({
  bench: "private-shard-steps",
  step: "combine",
  shardTops: shardCount,
  topBytes: combined.top.length,
  ...stats([combineMs]),
  standInTops: sampled ? shardCount - chosen.length : 0,
  loadavg: loadAverage(),
});

if (args.check) {
  if (sampled) throw new Error("--check needs every shard: drop --sample");
  const [ledger, ms] = cpuMs(() => buildPrivateLedger({ ledgerId: LEDGER, secret: SECRET, assets: ASSETS, users }));
  const same = bytesToHex(ledger.root.hash) === bytesToHex(combined.root.hash);
  emit({
    bench: "private-shard-root",
    shardedRoot: bytesToHex(combined.root.hash),
    inMemoryRoot: bytesToHex(ledger.root.hash),
    equal: same,
    inMemoryCpuMs: Math.round(ms),
    loadavg: loadAverage(),
  });
  if (!same) process.exit(1);
}
