/**
 * Benchmarks. `npx tsx scripts/bench.ts [--only NAME]`; one JSON object per line.
 * Each bench is a function in BENCHES keyed by its name; see docs/benchmarks.md.
 * Benches that need a running Worker, anvil or many minutes are separate scripts
 * under scripts/bench/ (ledgerE2e.ts, shardSteps.ts, rpcBudget.ts), same output.
 */
import { createHash, randomBytes } from "node:crypto";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { MerkleTree } from "merkletreejs";
import { writeUint128 } from "../core/bytes.js";
import { FixedLengthSha256, PrefixedWordsSha256 } from "../core/liabilities/sha256.js";
import { LiabilityTree, verifyInclusionProof } from "../core/liabilities/sumTree.js";
import { buildSumTree, type SumTreeLevels, sumBytes } from "../core/liabilities/sumTreeCore.js";

type Bench = () => void;

const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));
const round = (ms: number) => Math.round(ms * 10) / 10;

/** Best wall time of `runs` calls (the first call of a size also warms the JIT). */
function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

function randomInputs(n: number, k: number): { commitments: Uint8Array; balances: Uint8Array } {
  const commitments = new Uint8Array(randomBytes(n * 32));
  const balances = new Uint8Array(n * sumBytes(k));
  const words = new Uint32Array(randomBytes(n * k * 4).buffer);
  // Balances below 2^48 so a 2^20-leaf sum cannot overflow.
  for (let i = 0; i < n * k; i++) writeUint128(balances, i * 16, BigInt(words[i]!) << 16n);
  return { commitments, balances };
}

/** Hash calls a build makes, by message length: leaves, inner nodes, padding nodes. */
function hashCounts(tree: SumTreeLevels, n: number): { leaves: number; inner: number; padding: number } {
  let inner = 0;
  let padding = 0;
  for (const lv of tree.levels) {
    if (lv.count > 1) inner += lv.count / 2;
    // A stored level holds its padding node; level widths before padding are the parent counts.
    if (lv.level === 0 ? lv.count !== n : lv.count !== tree.levels[lv.level - 1]!.count / 2) padding += 1;
  }
  return { leaves: n, inner, padding };
}

/**
 * The lower bound: the same hash calls, same hasher classes and message lengths,
 * the message already in place (one word changed per call), digests into an n*32 array.
 */
function rawHashMs(counts: { leaves: number; inner: number; padding: number }, k: number): number {
  const sw = sumBytes(k) / 4;
  const out = new Uint8Array(counts.leaves * 32);
  const o = new DataView(out.buffer);
  const leaf = new PrefixedWordsSha256(8 + sw);
  const inner = new PrefixedWordsSha256(2 * (8 + sw));
  const pad = new FixedLengthSha256(10);
  return best(1, () => {
    for (let i = 0; i < counts.leaves; i++) {
      leaf.words[1] = i;
      leaf.digestInto(o, i * 32);
    }
    for (let i = 0; i < counts.inner; i++) {
      inner.words[1] = i;
      inner.digestInto(o, i * 32);
    }
    for (let i = 0; i < counts.padding; i++) {
      pad.input[1] = i;
      pad.digestInto(out, i * 32);
    }
  });
}

/** merkletreejs over n 32-byte leaves with node:crypto SHA-256 as hashFn (default options). */
function merkletreejsMs(commitments: Uint8Array, n: number): number {
  const leaves = Array.from({ length: n }, (_, i) =>
    Buffer.from(commitments.buffer, commitments.byteOffset + i * 32, 32),
  );
  const hashFn = (data: Buffer) => createHash("sha256").update(data).digest();
  return best(1, () => {
    new MerkleTree(leaves, hashFn);
  });
}

function sumtreeBuild(): void {
  // Warm the JIT on a small tree of each shape first.
  for (const k of [1, 4]) {
    const w = randomInputs(1 << 12, k);
    buildSumTree(w.commitments, w.balances, 1 << 12, k);
  }
  for (const k of [1, 4]) {
    for (const log of [16, 18, 20]) {
      const n = 2 ** log;
      const { commitments, balances } = randomInputs(n, k);
      // Build and lower bound alternate, best of each, so a busy neighbour skews both alike.
      let ms = Infinity;
      let raw = Infinity;
      for (let r = 0; r < 3; r++) {
        let tree: SumTreeLevels | undefined;
        ms = Math.min(
          ms,
          best(1, () => (tree = buildSumTree(commitments, balances, n, k))),
        );
        raw = Math.min(raw, rawHashMs(hashCounts(tree!, n), k));
      }
      emit({
        bench: "sumtree-build",
        n,
        assets: k,
        ms: round(ms),
        rawHashMs: round(raw),
        ratio: Math.round((ms / raw) * 100) / 100,
        merkletreejsMs: k === 1 ? round(merkletreejsMs(commitments, n)) : null,
      });
    }
  }
}

/** Per-call cost at the tree's message lengths: own word-fed and byte-fed hashers vs @noble/hashes. */
function sha256Bench(): void {
  const calls = 1 << 18;
  for (const k of [1, 4]) {
    const sw = sumBytes(k) / 4;
    for (const [kind, streamWords] of [
      ["leaf", 8 + sw],
      ["inner", 2 * (8 + sw)],
    ] as const) {
      const len = 1 + 4 * streamWords;
      const out = new Uint8Array(32);
      const o = new DataView(out.buffer);
      const words = new PrefixedWordsSha256(streamWords);
      const bytes = new FixedLengthSha256(len);
      const msg = new Uint8Array(len);
      const perCall = (fn: (i: number) => void) =>
        Math.round(
          (best(3, () => {
            for (let i = 0; i < calls; i++) fn(i);
          }) *
            1e6) /
            calls,
        );
      emit({
        bench: "sha256",
        assets: k,
        kind,
        bytes: len,
        calls,
        ownWordsNsPerCall: perCall((i) => {
          words.words[1] = i;
          words.digestInto(o, 0);
        }),
        ownBytesNsPerCall: perCall((i) => {
          bytes.input[1] = i;
          bytes.digestInto(out, 0);
        }),
        nobleNsPerCall: perCall((i) => {
          msg[1] = i;
          nobleSha256(msg);
        }),
      });
    }
  }
}

/** Proof generation and verification throughput on a 2^16-leaf, 2-asset tree built from users. */
function sumtreeProof(): void {
  const n = 1 << 16;
  const assets = ["USDC", "BTC"];
  const users = Array.from({ length: n }, (_, i) => ({
    userId: `user-${i}`,
    salt: new Uint8Array(randomBytes(16)),
    balances: [BigInt(i), 1n],
  }));
  const t0 = performance.now();
  const tree = LiabilityTree.fromUsers(assets, users);
  const buildMs = performance.now() - t0;
  const count = 2000;
  const picks = Array.from({ length: count }, (_, i) => (i * 7919) % n);
  const proofs = new Array<ReturnType<LiabilityTree["proof"]>>(count);
  const t1 = performance.now();
  picks.forEach((idx, i) => {
    proofs[i] = tree.proof(idx);
  });
  const proofMs = performance.now() - t1;
  const t2 = performance.now();
  let ok = 0;
  picks.forEach((idx, i) => {
    if (verifyInclusionProof(JSON.parse(JSON.stringify(proofs[i])), users[idx]!).ok) ok++;
  });
  const verifyMs = performance.now() - t2;
  if (ok !== count) throw new Error(`only ${ok} of ${count} proofs verified`);
  emit({
    bench: "sumtree-proof",
    n,
    assets: assets.length,
    fromUsersMs: round(buildMs),
    proofs: count,
    proofsPerSec: Math.round(count / (proofMs / 1000)),
    verifiesPerSec: Math.round(count / (verifyMs / 1000)),
  });
}

const BENCHES: Record<string, Bench> = {
  "sumtree-build": sumtreeBuild,
  "sumtree-proof": sumtreeProof,
  sha256: sha256Bench,
};

function main(argv: string[]): void {
  const at = argv.indexOf("--only");
  const only = at >= 0 ? argv[at + 1] : undefined;
  if (only !== undefined && !(only in BENCHES)) {
    console.error(`unknown bench "${only}"; known: ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
  }
  for (const [name, bench] of Object.entries(BENCHES)) if (only === undefined || only === name) bench();
}

main(process.argv.slice(2));
