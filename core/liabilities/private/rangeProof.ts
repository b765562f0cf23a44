/**
 * SPEC §11 range proofs: aggregated Bulletproofs (Bünz et al. 2018) that
 * committed values lie in [0, 2^64), from dalek's `bulletproofs` crate built to
 * WebAssembly by Aptos (@aptos-labs/confidential-asset-wasm-bindings). Its
 * aggregation takes 1, 2, 4, 8 or 16 values, so a list of commitments is cut
 * into chunks of those sizes, largest first (`rangeProofChunks`).
 *
 * The WebAssembly module is handed in by the caller (an import in workerd, a
 * file read in Node, a fetch in the browser): core stays free of platform APIs.
 */
import {
  batch_range_proof,
  batch_verify_proof,
  initSync,
} from "@aptos-labs/confidential-asset-wasm-bindings/range-proofs";

import { fail } from "../../errors.js";
import { G, H, type Point, scalarToBytes } from "./group.js";
import { VALUE_BITS, VALUE_LIMIT } from "./quantise.js";

export const MAX_AGGREGATION = 16;
/** The Merlin transcript label the WebAssembly build binds every proof to. */
export const TRANSCRIPT_LABEL = "AptosConfidentialAsset/BulletproofRangeProof";

export interface RangeProofEngine {
  /** One aggregated proof that each `values[i]` (committed as values[i]·G + blindings[i]·H) is < 2^64; values.length in 1,2,4,8,16. */
  prove(values: readonly bigint[], blindings: readonly bigint[]): Uint8Array;
  /** Whether `proof` shows every commitment (canonical encodings, in order) opens to a value < 2^64. */
  verify(proof: Uint8Array, commitments: readonly Uint8Array[]): boolean;
}

/** Chunk sizes for n commitments: powers of two up to 16, largest first (20 -> [16, 4]). */
export function rangeProofChunks(n: number): number[] {
  const out: number[] = [];
  let left = n;
  while (left >= MAX_AGGREGATION) {
    out.push(MAX_AGGREGATION);
    left -= MAX_AGGREGATION;
  }
  for (let size = MAX_AGGREGATION / 2; size >= 1; size /= 2) {
    if (left >= size) {
      out.push(size);
      left -= size;
    }
  }
  return out;
}

const G_BYTES = G.toBytes();
const H_BYTES = H.toBytes();

/** The dalek Bulletproofs engine over the WebAssembly module `wasm` (compiled module or its bytes). */
export function dalekRangeProofs(wasm: WebAssembly.Module | BufferSource): RangeProofEngine {
  initSync({ module: wasm });
  return {
    prove(values, blindings) {
      if (values.length !== blindings.length || !rangeProofChunks(values.length).every((s) => s === values.length)) {
        fail(
          "INVALID_ARGUMENT",
          "values",
          `an aggregated range proof takes 1, 2, 4, 8 or 16 values, got ${values.length}`,
        );
      }
      values.forEach((v, i) => {
        if (v < 0n || v >= VALUE_LIMIT)
          fail("OUT_OF_RANGE", `values[${i}]`, "is outside [0, 2^64): no range proof exists for it");
      });
      const result = batch_range_proof(
        BigUint64Array.from(values),
        blindings.map(scalarToBytes),
        G_BYTES,
        H_BYTES,
        VALUE_BITS,
      );
      try {
        return result.proof();
      } finally {
        result.free();
      }
    },
    verify(proof, commitments) {
      try {
        return batch_verify_proof(proof, [...commitments], G_BYTES, H_BYTES, VALUE_BITS);
      } catch {
        return false;
      }
    },
  };
}

/** Proves every (value, blinding) in chunks; returns one proof per chunk. */
export function proveRanges(
  engine: RangeProofEngine,
  values: readonly bigint[],
  blindings: readonly bigint[],
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const size of rangeProofChunks(values.length)) {
    out.push(engine.prove(values.slice(at, at + size), blindings.slice(at, at + size)));
    at += size;
  }
  return out;
}

/** Index of the first chunk whose proof fails, or -1 when all verify. */
export function firstFailingRange(
  engine: RangeProofEngine,
  proofs: readonly Uint8Array[],
  commitments: readonly Point[],
): number {
  const sizes = rangeProofChunks(commitments.length);
  if (proofs.length !== sizes.length) return Math.min(proofs.length, sizes.length);
  let at = 0;
  for (let i = 0; i < sizes.length; i++) {
    const chunk = commitments.slice(at, at + sizes[i]!).map((c) => c.toBytes());
    if (!engine.verify(proofs[i]!, chunk)) return i;
    at += sizes[i]!;
  }
  return -1;
}
