/**
 * SPEC §11 verification in Debian chromium (headless, playwright-core):
 * `npx tsx scripts/bench/privateBrowser.ts [--depth 20]`
 *
 * Makes one real 2^depth proof per asset count (1, 2) in Node (see
 * privatePath.ts), bundles core's checkPrivateInclusion with esbuild for the
 * browser, hands the page the proof and the Bulletproofs WebAssembly bytes,
 * and times in the page: compiling the module, then checking the proof three
 * times (first and best). Prints the bundle sizes too. One JSON object per line.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { dalekRangeProofs, type PrivateAsset, privateInclusionProof } from "../../core/liabilities/private/index.js";
import { syntheticPath } from "./privatePath.js";

const { values: args } = parseArgs({ options: { depth: { type: "string", default: "20" } } });
const DEPTH = Number(args.depth);
const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));
const wasm = readFileSync(
  new URL(
    "../../node_modules/@aptos-labs/confidential-asset-wasm-bindings/range-proofs/aptos_rp_wasm_bg.wasm",
    import.meta.url,
  ),
);
const engine = dalekRangeProofs(wasm);
const ASSETS: PrivateAsset[] = [
  { symbol: "USD", decimals: 6, unitDecimals: 6 },
  { symbol: "ETH", decimals: 18, unitDecimals: 9 },
];

const entry = `
import { checkPrivateInclusion, dalekRangeProofs } from "./core/liabilities/private/index.ts";
globalThis.benchVerify = async (wasmBase64, cases) => {
  const bytes = Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0));
  let t = performance.now();
  const engine = dalekRangeProofs(await WebAssembly.compile(bytes));
  const compileMs = performance.now() - t;
  return { compileMs, results: cases.map(({ proof, salt, userId }) => {
    const runs = [];
    let ok;
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      ok = checkPrivateInclusion(proof, { salt, userId }, engine).ok;
      runs.push(performance.now() - t);
    }
    return { ok, firstMs: runs[0], bestMs: Math.min(...runs) };
  }) };
};`;
const bundle = await build({
  stdin: { contents: entry, resolveDir: process.cwd(), loader: "ts" },
  bundle: true,
  format: "esm",
  minify: true,
  write: false,
  platform: "browser",
  target: "es2022",
});
const js = bundle.outputFiles[0]!.contents;
emit({
  bench: "browser-bundle",
  verifierJsBytes: js.length,
  verifierJsGzipBytes: gzipSync(js, { level: 9 }).length,
  wasmBytes: wasm.length,
  wasmGzipBytes: gzipSync(wasm, { level: 9 }).length,
});

const cases = [1, 2].map((k) => {
  const { ledger, salt, userId, index } = syntheticPath(DEPTH, ASSETS.slice(0, k));
  return {
    proof: privateInclusionProof(ledger, index, engine),
    salt: `0x${Buffer.from(salt).toString("hex")}`,
    userId,
  };
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  await page.setContent("<!doctype html><title>bench</title>");
  await page.addScriptTag({ content: new TextDecoder().decode(js), type: "module" });
  await page.waitForFunction(() => typeof (globalThis as { benchVerify?: unknown }).benchVerify === "function");
  const version = browser.version();
  const out = await page.evaluate(
    ([w, c]) =>
      (
        globalThis as unknown as {
          benchVerify: (
            w: string,
            c: unknown,
          ) => Promise<{ compileMs: number; results: { ok: boolean; firstMs: number; bestMs: number }[] }>;
        }
      ).benchVerify(w, c),
    [wasm.toString("base64"), cases] as const,
  );
  out.results.forEach((r, i) => {
    if (!r.ok) throw new Error(`the ${i + 1}-asset proof did not verify in chromium`);
    emit({
      bench: `browser-verify-2^${DEPTH}`,
      chromium: version,
      assets: i + 1,
      wasmCompileMs: Math.round(out.compileMs),
      firstMs: Math.round(r.firstMs),
      bestMs: Math.round(r.bestMs),
      loadavg: loadavg().map((x) => Math.round(x * 10) / 10),
    });
  });
} finally {
  await browser.close();
}
