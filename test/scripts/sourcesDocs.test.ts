/**
 * Adding a holding kind means its module, its schema entry and its docs:
 * the type check holds the first two together, this test the third.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HOLDING_KINDS } from "../../core/sources/holdingKinds.js";
import { holdingReader } from "../../worker/sources/holdingReaders.js";

const docs = readFileSync(new URL("../../docs/sources.md", import.meta.url), "utf8");

describe("docs/sources.md", () => {
  it("has a section for every holding kind, and no section for a kind that is not registered", () => {
    const kindsSection = docs.split(/^### Kinds$/m)[1]!.split(/^## /m)[0]!;
    const documented = [...kindsSection.matchAll(/^#### `([^`]+)`$/gm)].map((m) => m[1]);
    expect(documented).toEqual(HOLDING_KINDS.map((k) => k.type));
  });

  it("every registered kind has a reader", () => {
    for (const kind of HOLDING_KINDS) expect(typeof holdingReader(kind.type)).toBe("function");
  });

  it("is linked from the README's documentation list", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toMatch(/\| `docs\/` \|.*\(docs\/sources\.md\)/);
  });
});
