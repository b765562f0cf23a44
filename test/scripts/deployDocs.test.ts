/**
 * The README's deploy steps must create every resource wrangler.toml binds,
 * and nothing it does not: a queue, bucket or database added to one and not
 * the other fails here, before a deploy fails (or a queue silently drops
 * messages) in production.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** `key = "value"` pairs of wrangler.toml, each with the [table] or [[array]] header it sits under. */
function tomlStrings(text: string): { table: string; key: string; value: string }[] {
  const out: { table: string; key: string; value: string }[] = [];
  let table = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    const header = /^\[\[?([A-Za-z0-9_.]+)\]\]?$/.exec(line);
    if (header) {
      table = header[1]!;
      continue;
    }
    const pair = /^([A-Za-z0-9_]+)\s*=\s*"([^"]*)"$/.exec(line);
    if (pair) out.push({ table, key: pair[1]!, value: pair[2]! });
  }
  return out;
}

/** The first ```sh block under "## Deploying to Cloudflare". */
function deployBlock(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Deploying to Cloudflare"));
  if (!section) throw new Error('README.md has no "## Deploying to Cloudflare" section');
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("the deploy section has no ```sh block");
  return block[1]!;
}

/** `npx wrangler <verb…> NAME` commands of the block, comments dropped. */
function created(block: string, verb: string): string[] {
  const names: string[] = [];
  for (const raw of block.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const match = new RegExp(`^npx wrangler ${verb} (\\S+)`).exec(line);
    if (match) names.push(match[1]!);
  }
  return names;
}

const toml = tomlStrings(readFileSync("wrangler.toml", "utf8"));
const block = deployBlock(readFileSync("README.md", "utf8"));
const values = (table: string, key: string) =>
  [...new Set(toml.filter((t) => t.table === table && t.key === key).map((t) => t.value))].sort();

describe("README deploy steps against wrangler.toml", () => {
  it("create every queue wrangler.toml produces to, consumes or dead-letters to, and no other", () => {
    const bound = [
      ...new Set([
        ...values("queues.producers", "queue"),
        ...values("queues.consumers", "queue"),
        ...values("queues.consumers", "dead_letter_queue"),
      ]),
    ].sort();
    expect(bound.length).toBeGreaterThanOrEqual(6);
    expect(created(block, "queues create").sort()).toEqual(bound);
  });

  it("create every R2 bucket and D1 database, and apply the migrations of every database binding", () => {
    expect(created(block, "r2 bucket create").sort()).toEqual(values("r2_buckets", "bucket_name"));
    expect(created(block, "d1 create").sort()).toEqual(values("d1_databases", "database_name"));
    expect(created(block, "d1 migrations apply").sort()).toEqual(values("d1_databases", "binding"));
    for (const line of block.split("\n").filter((l) => l.includes("d1 migrations apply")))
      expect(line).toContain("--remote");
  });

  it("put the secrets every deployment needs", () => {
    expect(created(block, "secret put")).toEqual(expect.arrayContaining(["SIGNING_KEY", "ADMIN_TOKEN"]));
  });

  it("are what this test reads (the parser sees the bindings it must compare)", () => {
    expect(values("queues.producers", "binding")).toEqual(["ALERT_QUEUE", "LEDGER_QUEUE", "RELAY_QUEUE"]);
    expect(values("r2_buckets", "binding")).toEqual(["BUCKET"]);
  });
});
