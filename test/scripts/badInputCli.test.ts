import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../scripts/cli/main.js";
import corpus from "../fixtures/bad-input/cli.json" with { type: "json" };

/**
 * The CLI half of the bad-input corpus (test/fixtures/bad-input/cli.json):
 * unusable input exits 2 with the reason, a proof that does not verify exits
 * 1 naming the failing record, and nothing throws out of `main`.
 */

interface CliCase {
  name: string;
  target: string;
  args: string[];
  files?: Record<string, unknown>;
  expect: { exit: number; stderr?: string; stdout?: string };
}

const VECTORS = join(process.cwd(), "docs/test-vectors/cli");
let tmp: string;
let user: { userId: string; salt: string };
let vectorProof: unknown;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "solvent-bad-input-"));
  user = JSON.parse(await readFile(join(VECTORS, "user.json"), "utf8"));
  vectorProof = JSON.parse(await readFile(join(VECTORS, "proof.json"), "utf8"));
});

/** Replaces the value at a JSON path like `path[0].sums` (`""` is the whole document). */
function setPath(doc: unknown, path: string, value: unknown): unknown {
  if (path === "") return value;
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let node = doc as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
  node[parts.at(-1)!] = value;
  return doc;
}

function fileContent(spec: unknown): string {
  if (typeof spec === "string") return spec;
  if (spec && typeof spec === "object" && "fromVector" in spec) {
    const { set } = spec as unknown as { set: Record<string, unknown> };
    let doc: unknown = structuredClone(vectorProof);
    for (const [path, value] of Object.entries(set)) doc = setPath(doc, path, value);
    return JSON.stringify(doc);
  }
  return JSON.stringify(spec);
}

async function run(c: CliCase) {
  const dir = await mkdtemp(join(tmp, "case-"));
  for (const [name, spec] of Object.entries(c.files ?? {})) await writeFile(join(dir, name), fileContent(spec));
  const fill = (arg: string) =>
    arg
      .replaceAll("$TMP", dir)
      .replaceAll("$VECTORS", VECTORS)
      .replace(/^\$USER$/, user.userId)
      .replace(/^\$SALT$/, user.salt);
  const out: string[] = [];
  const err: string[] = [];
  const exit = await main(c.args.map(fill), { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { exit, stdout: out.join("\n"), stderr: err.join("\n") };
}

const cases = corpus.cases as CliCase[];

describe("bad-input corpus: the solvent CLI", () => {
  it("has a case for every kind of CLI input", () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const result = await run(c);
    expect(result.exit, `${c.name}\n${result.stdout}\n${result.stderr}`).toBe(c.expect.exit);
    if (c.expect.stderr !== undefined) expect(result.stderr).toContain(c.expect.stderr);
    if (c.expect.stdout !== undefined) expect(result.stdout).toContain(c.expect.stdout);
    // Unusable input prints why and nothing that looks like a result.
    if (c.expect.exit === 2 && c.expect.stderr !== undefined) {
      expect(result.stdout).not.toMatch(/commitment:|private key:|VALID/);
    }
  });
});
