/**
 * The Worker's Bulletproofs engine (SPEC §11 range proofs): dalek's
 * bulletproofs built to WebAssembly, imported as a compiled module. wrangler
 * bundles a `.wasm` import as a CompiledWasm module (its default rule), so the
 * module is compiled when the Worker is deployed, never at run time (workerd
 * refuses to compile WebAssembly bytes in a request). One instance per isolate.
 */
// The package's exports map does not list the .wasm file, so it is imported by path.

import { dalekRangeProofs, type RangeProofEngine } from "../../core/liabilities/private/index.js";
import * as rangeProofWasm from "../../node_modules/@aptos-labs/confidential-asset-wasm-bindings/range-proofs/aptos_rp_wasm_bg.wasm";

let engine: RangeProofEngine | undefined;

/** The engine over the bundled module (instantiated on first use). */
export function workerRangeProofs(): RangeProofEngine {
  // A compiled-module import's default export is the WebAssembly.Module; the
  // package's typings describe the instance's exports instead.
  engine ??= dalekRangeProofs((rangeProofWasm as unknown as { default: WebAssembly.Module }).default);
  return engine;
}
