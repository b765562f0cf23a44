/**
 * SPEC §11 private liabilities, measured in Node:
 * `npx tsx scripts/bench/privateLiabilities.ts [--depth 20] [--runs 3]`
 *
 * - `range-proof`: the chosen engine (dalek bulletproofs, Aptos WebAssembly
 *   build) proving and verifying aggregates of m 64-bit values, and the proof
 *   size; `range-proof-js`: what the same work would cost in plain JS on
 *   @noble/curves (its scalar multiplication and Pippenger multi-exponentiation,
 *   times the operation count of a Bulletproofs prover), the alternative;
 * - `wasm-size`: the module's size, raw and gzip -9 (Workers count compressed);
 * - `proof-2^depth`: one inclusion proof at 2^depth leaves for 1 and 2 assets:
 *   generation CPU (user + system, this process), verification wall time, JSON
 *   size. Only the proven leaf's path exists: every sibling is a synthetic
 *   subtree root (random value below 2^(40+level), random blinding, random
 *   hash), which is all the prover reads of the tree; the verifier re-computes
 *   the path from those, so the proof is a real, valid 2^depth proof;
 * - `build`: the in-memory build (blindings, commitments, their encodings,
 *   hashes, every level) at 2^12 leaves, 1 and 2 assets, as a per-leaf rate;
 *   `point-ops`: the @noble/curves operations it is made of.
 * One JSON object per line; the best of `--runs` for each timing.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { pippenger } from "@noble/curves/abstract/curve.js";
import { G, H } from "../../core/liabilities/private/group.js";
import {
  buildPrivateLedger,
  checkPrivateInclusion,
  dalekRangeProofs,
  type Point,
  type PrivateAsset,
  pedersen,
  privateInclusionProof,
} from "../../core/liabilities/private/index.js";
import { cpuMs, machineRecord, round } from "./measure.js";
import { randomBigint, randomScalar, syntheticPath } from "./privatePath.js";

const { values: args } = parseArgs({
  options: { depth: { type: "string", default: "20" }, runs: { type: "string", default: "3" } },
});
const DEPTH = Number(args.depth);
const RUNS = Number(args.runs);
const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));
const WASM_URL = new URL(
  "../../node_modules/@aptos-labs/confidential-asset-wasm-bindings/range-proofs/aptos_rp_wasm_bg.wasm",
  import.meta.url,
);
const wasmBytes = readFileSync(WASM_URL);
const engine = dalekRangeProofs(wasmBytes);

function best<T>(fn: () => T): { result: T; cpuMs: number; wallMs: number } {
  let out: { result: T; cpuMs: number; wallMs: number } | undefined;
  for (let i = 0; i < RUNS; i++) {
    const [result, cpu, wall] = cpuMs(fn);
    if (!out || cpu < out.cpuMs) out = { result, cpuMs: round(cpu), wallMs: round(wall) };
  }
  return out!;
}

emit(machineRecord());
emit({ bench: "wasm-size", bytes: wasmBytes.length, gzipBytes: gzipSync(wasmBytes, { level: 9 }).length });

for (const m of [1, 2, 4, 8, 16]) {
  const values = Array.from({ length: m }, () => randomBigint(64));
  const blindings = values.map(randomScalar);
  const commitments = values.map((v, i) => pedersen(v, blindings[i]!).toBytes());
  const prove = best(() => engine.prove(values, blindings));
  const verify = best(() => engine.verify(prove.result, commitments));
  if (!verify.result) throw new Error(`the range proof of ${m} values did not verify`);
  emit({
    bench: "range-proof",
    values: m,
    proveCpuMs: prove.cpuMs,
    verifyCpuMs: verify.cpuMs,
    bytes: prove.result.length,
  });
}

{
  // A Bulletproofs prover for n·m = 1024 bits folds 4·1024 generators (one
  // variable-base multiplication each, public scalars) and computes
  // 2·log2(1024) = 20 multi-exponentiations of up to 2·1024 points (A, S, L, R).
  const points = Array.from({ length: 2048 }, (_, i) => (i === 0 ? H : G).multiply(BigInt(i + 2)));
  const scalars = points.map(randomScalar);
  const mul = best(() => {
    for (let i = 0; i < 50; i++) points[i]!.multiplyUnsafe(scalars[i]!);
  });
  const msm = best(() => pippenger(points[0]!.constructor as never, points as Point[], scalars));
  const perMulMs = mul.cpuMs / 50;
  emit({
    bench: "range-proof-js",
    values: 16,
    scalarMulMs: round(perMulMs),
    pippenger2048Ms: msm.cpuMs,
    proveCpuMsLowerBound: Math.round(4 * 1024 * perMulMs + 20 * msm.cpuMs * 0.5),
  });
}

const ASSETS: PrivateAsset[] = [
  { symbol: "USD", decimals: 6, unitDecimals: 6 },
  { symbol: "ETH", decimals: 18, unitDecimals: 9 },
];

for (const k of [1, 2]) {
  const { ledger, salt, userId, index } = syntheticPath(DEPTH, ASSETS.slice(0, k));
  const proveRun = best(() => privateInclusionProof(ledger, index, engine));
  const proof = proveRun.result;
  const check = best(() => checkPrivateInclusion(proof, { salt, userId }, engine, { totals: ledger.totals }));
  if (!check.result.ok) throw new Error(`the synthetic 2^${DEPTH} proof did not verify: ${check.result.reason}`);
  const jsonBytes = new TextEncoder().encode(JSON.stringify(proof)).length;
  const rangeProofBytes = proof.rangeProofs.reduce((s, p) => s + (p.length - 2) / 2, 0);
  emit({
    bench: `proof-2^${DEPTH}`,
    assets: k,
    siblingCommitments: DEPTH * k,
    rangeProofs: proof.rangeProofs.length,
    proveCpuMs: proveRun.cpuMs,
    proveWallMs: proveRun.wallMs,
    verifyCpuMs: check.cpuMs,
    verifyWallMs: check.wallMs,
    rangeProofBytes,
    // the same content as raw bytes: siblings (hash + K points), own value (8) and blinding (32) per asset, range proofs
    binaryBytes: rangeProofBytes + DEPTH * (32 + 32 * k) + 40 * k,
    jsonBytes,
  });
}

for (const k of [1, 2]) {
  const n = 2 ** 12;
  const users = Array.from({ length: n }, (_, i) => ({
    commitment: new Uint8Array(randomBytes(32)),
    balances: ASSETS.slice(0, k).map(() => BigInt(i) * 10n ** 9n),
  }));
  const run = best(() =>
    buildPrivateLedger({ ledgerId: "bench", secret: new Uint8Array(32).fill(1), assets: ASSETS.slice(0, k), users }),
  );
  emit({ bench: "build", leaves: n, assets: k, cpuMs: run.cpuMs, usPerLeaf: Math.round((run.cpuMs * 1000) / n) });
}

{
  // distinct points each time: a point caches its affine form once encoded
  const mul = best(() => Array.from({ length: 20 }, () => H.multiply(randomScalar())));
  const points = Array.from({ length: RUNS }, () => mul.result.map((p) => p.add(G)));
  let run = 0;
  const enc = best(() => {
    for (const p of points[run++]!) p.toBytes();
  });
  emit({ bench: "point-ops", mulMs: round(mul.cpuMs / 20), encodeMs: round(enc.cpuMs / 20) });
}
