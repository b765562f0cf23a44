/**
 * `tsx scripts/page/build.ts`: bundles the page (page/main.ts and the core it
 * imports) into public/app.js for the Worker's static assets. Exits non-zero
 * on any error, so a broken page fails the build. `--watch` rebuilds on change.
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, context } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const PAGE_BUILD: BuildOptions = {
  entryPoints: [join(ROOT, "page", "main.ts")],
  outfile: join(ROOT, "public", "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "eof",
  logLevel: "silent",
  metafile: true,
};

/** Builds public/app.js; throws with esbuild's messages when the build fails. Returns the bundle size in bytes. */
export async function buildPage(): Promise<number> {
  const result = await build(PAGE_BUILD);
  if (result.warnings.length > 0) {
    for (const w of result.warnings)
      console.warn(`warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ""}`);
  }
  const output = Object.entries(result.metafile?.outputs ?? {}).find(([file]) => file.endsWith("app.js"));
  return output?.[1].bytes ?? 0;
}

async function main(): Promise<void> {
  if (process.argv.includes("--watch")) {
    const ctx = await context({ ...PAGE_BUILD, logLevel: "info" });
    await ctx.watch();
    console.log("watching page/ and core/ for changes (Ctrl-C to stop)");
    return;
  }
  const bytes = await buildPage();
  console.log(`built ${relative(process.cwd(), PAGE_BUILD.outfile!)} (${(bytes / 1024).toFixed(1)} KiB)`);
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
