import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateVectors } from "../../scripts/vectors/generate.js";

const DIR = "docs/test-vectors";

describe("docs/test-vectors", () => {
  it("are exactly what the code generates now (run `npm run vectors` after a deliberate format change)", async () => {
    const generated = await generateVectors();
    const committed = (await readdir(DIR, { recursive: true }))
      .map((p) => p.replaceAll("\\", "/"))
      .filter((p) => p.endsWith(".json"))
      .sort();
    expect(committed).toEqual([...generated.keys()].sort());
    for (const [name, content] of generated) {
      expect(await readFile(join(DIR, name), "utf8"), name).toBe(content);
    }
  });
});
