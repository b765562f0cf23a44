/**
 * `tsx scripts/page/build.ts`: bundles the page (page/main.ts and the core it
 * imports) into public/app.js for the Worker's static assets, with the views
 * the page loads on demand in public/chunks/, and copies the Bulletproofs
 * WebAssembly module a private proof's check fetches (public/range-proofs.wasm).
 * Exits non-zero on any error, so a broken page fails the build. `--watch`
 * rebuilds on change.
 */

import { copyFile, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, context } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PUBLIC = join(ROOT, "public");
const CHUNKS = join(PUBLIC, "chunks");
/** Where the page fetches the range-proof module from (page/rangeProofs.ts RANGE_PROOFS_URL). */
export const RANGE_PROOFS_WASM = join(PUBLIC, "range-proofs.wasm");
const WASM_SOURCE = join(
  ROOT,
  "node_modules",
  "@aptos-labs",
  "confidential-asset-wasm-bindings",
  "range-proofs",
  "aptos_rp_wasm_bg.wasm",
);

export const PAGE_BUILD: BuildOptions = {
  entryPoints: { app: join(ROOT, "page", "main.ts") },
  outdir: PUBLIC,
  // Views imported with import() become chunks, fetched when first shown.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "eof",
  logLevel: "silent",
  metafile: true,
  plugins: [
    {
      // viem loads its CCIP-read fallback (an offchain lookup inside eth_call) with import(). The page makes no
      // eth_call, and with code splitting that import would keep viem's whole call path in the chunk every
      // visit loads (about 60 KiB). Left out, it fails loudly if it is ever reached.
      name: "no-ccip-read",
      setup(b) {
        b.onResolve({ filter: /\/ccip\.js$/ }, (args) =>
          args.kind === "dynamic-import" && /node_modules[\\/]viem[\\/]/.test(args.importer)
            ? { path: "/viem-ccip-read-is-not-in-this-page.js", external: true }
            : undefined,
        );
      },
    },
  ],
};

export interface PageSizes {
  /** public/app.js and the chunks it imports statically: what every visit loads. */
  app: number;
  /** app.js and every chunk: what a visit to every view loads. */
  total: number;
  wasm: number;
}

/** Builds public/app.js and its chunks, copies the WebAssembly; throws with esbuild's messages when the build fails. Returns the app.js size in bytes. */
export async function buildPage(): Promise<number> {
  return (await buildPageSizes()).app;
}

export async function buildPageSizes(): Promise<PageSizes> {
  // Chunk names carry a content hash: drop the last build's so none is left behind.
  await rm(CHUNKS, { recursive: true, force: true });
  const result = await build(PAGE_BUILD);
  if (result.warnings.length > 0) {
    for (const w of result.warnings)
      console.warn(`warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ""}`);
  }
  await copyFile(WASM_SOURCE, RANGE_PROOFS_WASM);
  const outputs = result.metafile?.outputs ?? {};
  const scripts = Object.keys(outputs).filter((file) => file.endsWith(".js"));
  // Everything app.js reaches through static imports loads with the page; dynamic imports load with their view.
  const eager = new Set<string>();
  const reach = (file: string | undefined) => {
    if (file === undefined || eager.has(file)) return;
    eager.add(file);
    for (const i of outputs[file]?.imports ?? []) if (i.kind === "import-statement") reach(i.path);
  };
  reach(scripts.find((file) => file.endsWith("/app.js")));
  const bytes = (files: Iterable<string>) => [...files].reduce((sum, file) => sum + (outputs[file]?.bytes ?? 0), 0);
  return { app: bytes(eager), total: bytes(scripts), wasm: (await stat(RANGE_PROOFS_WASM)).size };
}

async function main(): Promise<void> {
  if (process.argv.includes("--watch")) {
    await rm(CHUNKS, { recursive: true, force: true });
    await copyFile(WASM_SOURCE, RANGE_PROOFS_WASM);
    const ctx = await context({ ...PAGE_BUILD, logLevel: "info" });
    await ctx.watch();
    console.log("watching page/ and core/ for changes (Ctrl-C to stop)");
    return;
  }
  const sizes = await buildPageSizes();
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `built ${relative(process.cwd(), join(PUBLIC, "app.js"))} (${kib(sizes.app)} loaded on every visit; ${kib(sizes.total)} with the parts loaded on demand) and ${relative(process.cwd(), RANGE_PROOFS_WASM)} (${kib(sizes.wasm)})`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    // esbuild's BuildFailure carries every error with its location.
    const errors = (
      e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }
    ).errors;
    if (errors?.length)
      for (const err of errors)
        console.error(
          `error: ${err.text}${err.location ? ` (${err.location.file}:${err.location.line}:${err.location.column})` : ""}`,
        );
    else console.error(e);
    process.exit(1);
  });
}
