import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { checkImports, importSpecifiers } from "../../scripts/checkImports.mjs";

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, "../../scripts/checkImports.mjs");

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

/** A throw-away tree with the given files (path → text). */
async function tree(files: Record<string, string>): Promise<string> {
  root = await mkdtemp(join(tmpdir(), "check-imports-"));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

/** Runs the script as `npm test` does; resolves with its exit code and output. */
async function cli(dir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, dir]);
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string };
    return { code: error.code, out: error.stdout + error.stderr };
  }
}

describe("scripts/checkImports.mjs", () => {
  it("passes a tree whose imports only go one way", async () => {
    const dir = await tree({
      "core/a.ts": 'import { b } from "./b.js";\nexport const a = b;\n',
      "core/b.ts": 'import { z } from "zod";\nexport const b = z;\n',
      "worker/w.ts": 'import { a } from "../core/a.js";\nexport { a };\n',
      "scripts/s.ts":
        'import { a } from "../worker/w.js";\nimport { readFile } from "node:fs/promises";\nexport { a, readFile };\n',
    });
    expect(await cli(dir)).toEqual({ code: 0, out: expect.stringMatching(/^checkImports: no import circle/) });
  });

  it("fails on a circle and names every file in it, type-only imports included", async () => {
    const dir = await tree({
      "worker/one.ts": 'import { two } from "./two.js";\nexport const one = two;\n',
      "worker/two.ts": 'import type { Three } from "./deep/three.js";\nexport const two = 2 as unknown as Three;\n',
      "worker/deep/three.ts": 'export type Three = typeof import("../one.js").one;\n',
      "worker/leaf.ts": 'import { one } from "./one.js";\nexport const leaf = one;\n',
    });
    const { code, out } = await cli(dir);
    expect(code).toBe(1);
    expect(out).toContain(
      "import circle of 3 file(s): worker/deep/three.ts -> worker/one.ts -> worker/two.ts -> worker/deep/three.ts",
    );
    expect(out).not.toContain("leaf.ts");
  });

  it("fails when core imports from above it or a Node builtin, and when worker imports scripts or page", async () => {
    const dir = await tree({
      "core/pure.ts":
        'import { w } from "../worker/w.js";\nimport { createHash } from "crypto";\nexport const pure = [w, createHash];\n',
      "worker/w.ts": 'export { s } from "../scripts/s.js";\nexport const w = 1;\n',
      "scripts/s.ts": "export const s = 1;\n",
      "page/p.ts": 'import { pure } from "../core/pure.js";\nexport const p = pure;\n',
    });
    const problems: string[] = checkImports(dir);
    expect(problems).toEqual([
      'core/pure.ts imports worker/w.ts ("../worker/w.js"): core/ must not import from worker/, scripts/, page/',
      'core/pure.ts imports the Node builtin "crypto": core/ is pure and runs in the Worker and the browser too; pass what it needs in',
      'worker/w.ts imports scripts/s.ts ("../scripts/s.js"): worker/ must not import from scripts/, page/',
    ]);
    expect((await cli(dir)).code).toBe(1);
  });

  it("reads imports from code only, not from comments or strings", () => {
    const text = [
      '// import { x } from "./commented.js";',
      '/* export * from "./blocked.js"; */',
      'const doc = `import { y } from "./template.js"`;',
      "import {",
      "  a,",
      "  type B,",
      '} from "./multi.js";',
      'export * from "./all.js";',
      'import "./side.js";',
      'const lazy = await import("./lazy.js");',
    ].join("\n");
    expect(importSpecifiers(text)).toEqual(["./multi.js", "./all.js", "./side.js", "./lazy.js"]);
  });

  it("passes on this repository", async () => {
    expect(await cli(join(import.meta.dirname, "../.."))).toMatchObject({ code: 0 });
  });
});
