/**
 * The Bulletproofs verifier a private proof (SPEC §11) needs: dalek's
 * bulletproofs as WebAssembly, served next to the page (the build copies it)
 * and fetched only when the first private proof is checked, then kept for the
 * visit. Plain proofs never load it.
 */
import { dalekRangeProofs, type RangeProofEngine } from "../core/liabilities/private/rangeProof.js";

/** Where scripts/page/build.ts puts the module. */
export const RANGE_PROOFS_URL = "/range-proofs.wasm";

export interface LoadedRangeProofs {
  engine: RangeProofEngine;
  millis: number;
  /** False when an earlier check of this visit compiled it already. */
  fresh: boolean;
}

let loading: Promise<Omit<LoadedRangeProofs, "fresh">> | undefined;

async function compile(url: string): Promise<WebAssembly.Module> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`the range-proof verifier (${url}) could not be fetched: ${e instanceof Error ? e.message : e}`);
  }
  if (!res.ok) throw new Error(`the range-proof verifier (${url}) could not be fetched: HTTP ${res.status}`);
  // Streaming compiles while the bytes arrive; it needs the application/wasm type, which a proxy may have changed.
  if (
    typeof WebAssembly.compileStreaming === "function" &&
    res.headers.get("content-type")?.split(";")[0]?.trim() === "application/wasm"
  ) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

/** The engine, compiled once per visit; a failed load is retried on the next check. */
export async function rangeProofs(url = RANGE_PROOFS_URL): Promise<LoadedRangeProofs> {
  const fresh = loading === undefined;
  loading ??= (async () => {
    const started = performance.now();
    const engine = dalekRangeProofs(await compile(url));
    return { engine, millis: performance.now() - started };
  })();
  try {
    return { ...(await loading), fresh };
  } catch (e) {
    loading = undefined;
    throw e;
  }
}
