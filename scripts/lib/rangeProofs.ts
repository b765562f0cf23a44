/**
 * The range-proof verifier for Node (the CLI, scripts): the Bulletproofs
 * WebAssembly module read from the installed package, found through Node's
 * own resolution of it (so it works from any working directory and with any
 * node_modules layout), and handed to core's engine.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { dalekRangeProofs, type RangeProofEngine } from "../../core/liabilities/private/index.js";

const PACKAGE = "@aptos-labs/confidential-asset-wasm-bindings/range-proofs";
const WASM_FILE = "aptos_rp_wasm_bg.wasm";

let engine: Promise<RangeProofEngine> | undefined;

async function load(): Promise<RangeProofEngine> {
  let path: string;
  try {
    path = join(dirname(createRequire(import.meta.url).resolve(PACKAGE)), WASM_FILE);
  } catch (e) {
    throw new Error(`the range-proof verifier (${PACKAGE}) is not installed: ${(e as Error).message}; run npm ci`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(
      `cannot read the range-proof WebAssembly at ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; run npm ci`,
    );
  }
  return dalekRangeProofs(bytes);
}

/** The Bulletproofs engine, loaded once per process on first use. */
export function nodeRangeProofs(): Promise<RangeProofEngine> {
  engine ??= load();
  return engine;
}
