/**
 * Migrations that rebuild an append-only table keep every row, id and guard:
 * run with wrangler's own local D1 (the SQLite that `wrangler dev` uses), on a
 * database holding rows written under the previous schema.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const WRANGLER = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const MIGRATIONS = resolve(import.meta.dirname, "../../migrations");

let dir: string;

function wrangler(args: string[]): string {
  return execFileSync(process.execPath, [WRANGLER, ...args, "--local", "--persist-to", join(dir, "state")], {
    cwd: dir,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function sql(command: string): Record<string, unknown>[] {
  const out = JSON.parse(wrangler(["d1", "execute", "DB", "--json", "--command", command])) as {
    results: Record<string, unknown>[];
  }[];
  return out.flatMap((statement) => statement.results);
}

/** Runs a statement that must fail; returns wrangler's error output. */
function refused(command: string): string {
  try {
    wrangler(["d1", "execute", "DB", "--command", command]);
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return `${stdout}\n${stderr}`;
  }
  throw new Error(`expected the database to refuse: ${command}`);
}

/** Copies the migrations numbered up to `last` (e.g. "0005") and applies those not yet applied. */
function copyMigrationsUpTo(last: string): void {
  for (const file of readdirSync(MIGRATIONS).filter((f) => f.endsWith(".sql") && f.slice(0, 4) <= last)) {
    cpSync(join(MIGRATIONS, file), join(dir, "migrations", file));
  }
  wrangler(["d1", "migrations", "apply", "DB"]);
}

const alertRow = (key: string, event: string) =>
  `('demo', '${event}', 'warning', '${key}', 3, 'title ${key}', 'text ${key}', '{"k":"${key}"}', 1700000000)`;

describe("0006_alert_events: alerts rebuilt with the wider event list", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "solvent-migrations-"));
    mkdirSync(join(dir, "migrations"));
    writeFileSync(
      join(dir, "wrangler.toml"),
      [
        'name = "migrations-test"',
        'compatibility_date = "2026-04-26"',
        "[[d1_databases]]",
        'binding = "DB"',
        'database_name = "solvent"',
        'database_id = "00000000-0000-0000-0000-000000000000"',
        'migrations_dir = "migrations"',
      ].join("\n"),
    );
    copyMigrationsUpTo("0005");
    sql(
      `INSERT INTO alerts (issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at) VALUES ${alertRow("a", "flag_raised")}, ${alertRow("b", "ratio_crossed")};
       INSERT INTO alert_deliveries (alert_id, destination, kind, host, attempt, status, http_status, reason, at)
         VALUES (2, 0, 'webhook', 'hooks.example', 1, 'delivered', 200, 'ok', 1700000001);`,
    );
    expect(
      refused(
        `INSERT INTO alerts (issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at) VALUES ${alertRow("c", "ledger_switched")}`,
      ),
    ).toMatch(/CHECK constraint failed/);
    copyMigrationsUpTo("0006");
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps every alert and delivery with its id and fields", () => {
    expect(sql("SELECT id, event, dedupe_key, details_json FROM alerts ORDER BY id")).toEqual([
      { id: 1, event: "flag_raised", dedupe_key: "a", details_json: '{"k":"a"}' },
      { id: 2, event: "ratio_crossed", dedupe_key: "b", details_json: '{"k":"b"}' },
    ]);
    expect(sql("SELECT id, alert_id, status, http_status FROM alert_deliveries")).toEqual([
      { id: 1, alert_id: 2, status: "delivered", http_status: 200 },
    ]);
  });

  it("accepts the new events and continues the ids", () => {
    sql(
      `INSERT INTO alerts (issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at) VALUES ${alertRow("c", "ledger_switched")}`,
    );
    expect(sql("SELECT id FROM alerts WHERE dedupe_key = 'c'")).toEqual([{ id: 3 }]);
    expect(
      refused(
        `INSERT INTO alerts (issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at) VALUES ${alertRow("d", "no_such_event")}`,
      ),
    ).toMatch(/CHECK constraint failed/);
  });

  it("stays append-only, deduplicated and referentially sound", () => {
    expect(refused("DELETE FROM alerts WHERE id = 1")).toMatch(/alerts is append-only/);
    expect(refused("UPDATE alerts SET title = 'x' WHERE id = 1")).toMatch(/alerts is append-only/);
    expect(refused("UPDATE alert_deliveries SET reason = 'x'")).toMatch(/alert_deliveries is append-only/);
    expect(
      refused(
        `INSERT INTO alerts (issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at) VALUES ${alertRow("a", "flag_raised")}`,
      ),
    ).toMatch(/UNIQUE constraint failed/);
    expect(
      refused(
        "INSERT INTO alert_deliveries (alert_id, destination, kind, host, attempt, status, http_status, reason, at) VALUES (99, 0, 'webhook', 'h', 0, 'queued', NULL, 'r', 1)",
      ),
    ).toMatch(/FOREIGN KEY constraint failed/);
  });
});
