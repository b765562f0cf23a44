/**
 * Loads the Bulletproofs WebAssembly module the way each test runtime can:
 * workerd imports it as a compiled module (it refuses to compile bytes at run
 * time), Node reads the file. Core gets the module either way.
 */
import { dalekRangeProofs, type RangeProofEngine } from "../../core/liabilities/private/index.js";

const WASM_PATH = "../../node_modules/@aptos-labs/confidential-asset-wasm-bindings/range-proofs/aptos_rp_wasm_bg.wasm";
let engine: Promise<RangeProofEngine> | undefined;

async function load(): Promise<RangeProofEngine> {
  if (globalThis.navigator?.userAgent === "Cloudflare-Workers") {
    const mod = (await import(
      "../../node_modules/@aptos-labs/confidential-asset-wasm-bindings/range-proofs/aptos_rp_wasm_bg.wasm"
    )) as unknown as {
      default: WebAssembly.Module;
    };
    return dalekRangeProofs(mod.default);
  }
  const { readFile } = await import("node:fs/promises");
  return dalekRangeProofs(await readFile(new URL(WASM_PATH, import.meta.url)));
}

export function rangeProofEngine(): Promise<RangeProofEngine> {
  engine ??= load();
  return engine;
}
