/**
 * CPU per leaf of the SPEC §11 in-memory build, before and after the fast
 * paths of core/liabilities/private/batch.ts, side by side in one process:
 * `npx tsx scripts/bench/privateBuildCost.ts [--runs 3] [--before-up-to 12]`
 *
 * - `after`: core's `buildPrivateLedger` (blindings, commitments, encodings,
 *   hashes, every level) at 2^12 and 2^16 leaves, 1 and 2 assets;
 * - `before`: the per-node path core had before (each commitment a
 *   constant-time `G.multiply(v)` + `H.multiply(r)` in @noble/curves, each node
 *   encoded with its own inverse square root, each hash and each blinding a
 *   one-shot @noble/hashes call), rebuilt here from the same public pieces. Its
 *   cost per leaf does not depend on the leaf count (nothing is shared between
 *   nodes), so by default it runs at 2^12 only (2^16 takes minutes per asset
 *   count); `--before-up-to 16` runs it at both. Its root must equal core's.
 * - `tables`: the one-off cost of the fixed-base tables (paid on the first
 *   commitment of a process, not in the per-leaf figures).
 * Runs alternate (before, after) so the load of a shared machine hits both;
 * the best CPU time (user + system of this process) of `--runs` is kept.
 * One JSON object per line; the load average is printed first and last.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, utf8 } from "../../core/bytes.js";
import { compareCommitments } from "../../core/liabilities/nonInclusion.js";
import { G, GROUP_ORDER, H, type Point } from "../../core/liabilities/private/group.js";
import {
  buildPrivateLedger,
  type PrivateAsset,
  paddingCommitment,
  privateLeaf,
  quantiseAsset,
} from "../../core/liabilities/private/index.js";
import { cpuMs, loadAverage, machineRecord, round } from "./measure.js";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "3" }, "before-up-to": { type: "string", default: "12" } },
});
const RUNS = Number(args.runs);
const BEFORE_UP_TO = Number(args["before-up-to"]);
const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));

const ASSETS: PrivateAsset[] = [
  { symbol: "USD", decimals: 6, unitDecimals: 6 },
  { symbol: "ETH", decimals: 18, unitDecimals: 9 },
];
const SECRET = new Uint8Array(32).fill(1);
const LEDGER = "bench";

// ---- before: the per-node path (same bytes, docs/spec.md §11) ----

function leHash(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}
function blindingBefore(leaf: number, asset: number): bigint {
  const id = utf8(LEDGER);
  const index = new Uint8Array(8);
  new DataView(index.buffer).setBigUint64(0, BigInt(leaf));
  const msg = concatBytes(
    utf8("solvent/pedersen-ristretto255-v2/blinding"),
    new Uint8Array([0, id.length >> 8, id.length & 0xff]),
    id,
    index,
    new Uint8Array([asset]),
  );
  return leHash(hmac(sha512, SECRET, msg)) % GROUP_ORDER;
}
interface NodeBefore {
  hash: Uint8Array;
  commitments: Point[];
  encoded: Uint8Array[];
}
function commitBefore(v: bigint, r: bigint): Point {
  const vg = v === 0n ? null : G.multiply(v);
  const rh = r === 0n ? null : H.multiply(r);
  return vg && rh ? vg.add(rh) : (vg ?? rh)!;
}
function buildBefore(entries: { c: Uint8Array; values: bigint[] }[], k: number): Uint8Array {
  let level: NodeBefore[] = entries.map((e, i) => {
    const commitments = e.values.map((v, a) => commitBefore(v, blindingBefore(i, a)));
    const encoded = commitments.map((p) => p.toBytes());
    return { hash: sha256(concatBytes(new Uint8Array([0x10]), e.c, ...encoded)), commitments, encoded };
  });
  while (level.length > 1) {
    const up: NodeBefore[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i]!;
      const r = level[i + 1]!;
      const commitments = l.commitments.map((c, a) => c.add(r.commitments[a]!));
      const hash = sha256(concatBytes(new Uint8Array([0x11]), ...l.encoded, l.hash, ...r.encoded, r.hash));
      up.push({ hash, commitments, encoded: commitments.map((p) => p.toBytes()) });
    }
    level = up;
  }
  if (level[0]!.encoded.length !== k) throw new Error("before: wrong asset count");
  return level[0]!.hash;
}

/** The leaves in core's order (padding, sort by commitment), as the build makes them. */
function entriesOf(users: { commitment: Uint8Array; balances: bigint[] }[], assets: PrivateAsset[]) {
  const q = assets.map((a, k) =>
    quantiseAsset(
      a,
      users.map((u) => u.balances[k]!),
      (i) => `users[${i}]`,
    ),
  );
  const entries = users.map((u, i) => ({ c: u.commitment, values: q.map((col) => col[i]!) }));
  let size = 1;
  while (size < users.length) size *= 2;
  for (let j = 0; entries.length < size; j++)
    entries.push({ c: paddingCommitment(SECRET, LEDGER, j), values: assets.map(() => 0n) });
  return entries.sort((a, b) => compareCommitments(a.c, b.c));
}

// ---- the run ----

emit(machineRecord());
{
  const [, tablesMs] = cpuMs(() => privateLeaf(new Uint8Array(32), [1n], [1n]));
  emit({ bench: "tables", cpuMs: round(tablesMs), note: "fixed-base tables of G/2 and H/2, once per process" });
}

for (const log2 of [12, 16]) {
  for (const k of [1, 2]) {
    const n = 2 ** log2;
    const assets = ASSETS.slice(0, k);
    // n - 3 users: the build pads three leaves, as a real ledger pads to a power of two
    const users = Array.from({ length: n - 3 }, (_, i) => ({
      commitment: new Uint8Array(randomBytes(32)),
      balances: assets.map((_, a) => BigInt(i + 1) * 10n ** BigInt(9 + a)),
    }));
    const runBefore = log2 <= BEFORE_UP_TO;
    const entries = runBefore ? entriesOf(users, assets) : [];
    let before = Number.POSITIVE_INFINITY;
    let after = Number.POSITIVE_INFINITY;
    let rootBefore: Uint8Array | undefined;
    let rootAfter: Uint8Array | undefined;
    for (let r = 0; r < RUNS; r++) {
      if (runBefore) {
        const [root, ms] = cpuMs(() => buildBefore(entries, k));
        rootBefore = root;
        before = Math.min(before, ms);
      }
      const [ledger, ms] = cpuMs(() => buildPrivateLedger({ ledgerId: LEDGER, secret: SECRET, assets, users }));
      rootAfter = ledger.root.hash;
      after = Math.min(after, ms);
    }
    if (rootBefore && bytesToHex(rootBefore) !== bytesToHex(rootAfter!))
      throw new Error(`2^${log2} leaves, ${k} assets: the per-node path and core disagree on the root`);
    emit({
      bench: "build",
      leaves: n,
      assets: k,
      beforeUsPerLeaf: runBefore ? Math.round((before * 1000) / n) : null,
      afterUsPerLeaf: Math.round((after * 1000) / n),
      speedup: runBefore ? round(before / after) : null,
      afterCpuMs: Math.round(after),
      sameRoot: runBefore ? true : null,
      loadavg: loadAverage(),
    });
  }
}
