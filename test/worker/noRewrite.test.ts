/**
 * Published history is append-only: no route (every path of the OpenAPI
 * document, the admin routes and the plain ones, with every method, with and
 * without the admin token, with and without a body) and no cron tick changes
 * an attestation row that exists or the report bytes it points to. New
 * attestations may be appended. The D1 triggers behind this are tested in
 * test/worker/storage.test.ts.
 */
import { createScheduledController } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../worker/env.js";
import worker from "../../worker/index.js";

const testEnv = env as unknown as Env & { ADMIN_TOKEN: string };
const ORIGIN = "http://solvent.test";
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
/** Routes served outside the OpenAPI document. */
const PLAIN_PATHS = [
  "/health",
  "/v1/issuers/{issuer}/relayer",
  "/demo/users.json",
  "/demo/contracts.json",
  "/api",
  "/openapi.json",
];

let client = 0;
function call(path: string, init: RequestInit = {}): Promise<Response> {
  client += 1;
  const headers = new Headers(init.headers);
  headers.set("CF-Connecting-IP", `10.88.${(client >> 8) & 255}.${client & 255}`);
  return exports.default.fetch(`${ORIGIN}${path}`, { ...init, headers });
}

interface Published {
  rows: string;
  reports: Map<string, string>;
}

/** Every attestation row as stored, and the bytes of every report they name. */
async function published(): Promise<Published> {
  const { results } = await testEnv.DB.prepare("SELECT * FROM attestations ORDER BY issuer_id, sequence").all<{
    report_key: string;
  }>();
  const reports = new Map<string, string>();
  for (const row of results) {
    const object = await testEnv.BUCKET.get(row.report_key);
    reports.set(row.report_key, object === null ? "(missing)" : await object.text());
  }
  return { rows: JSON.stringify(results), reports };
}

/** `after` still holds every row and report of `before`, unchanged (appended rows allowed). */
function expectPreserved(before: Published, after: Published): void {
  const beforeRows = JSON.parse(before.rows) as Record<string, unknown>[];
  const afterRows = JSON.parse(after.rows) as Record<string, unknown>[];
  for (const row of beforeRows) {
    expect(afterRows.find((r) => r.issuer_id === row.issuer_id && r.sequence === row.sequence)).toEqual(row);
  }
  for (const [key, bytes] of before.reports) expect(after.reports.get(key), key).toBe(bytes);
}

function fill(template: string, sequence: string): string {
  return template
    .replaceAll("{issuer}", "demo-stable")
    .replaceAll("{sequence}", sequence)
    .replaceAll("{commitment}", `0x${"5e".repeat(32)}`)
    .replaceAll("{ledgerId}", `lg_${"0".repeat(32)}`)
    .replaceAll("{part}", "0");
}

let paths: string[] = [];

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const res = await call("/v1/admin/issuers/demo-stable/publish", {
      method: "POST",
      headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` },
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, unknown> };
  paths = [...new Set([...Object.keys(doc.paths), ...PLAIN_PATHS])];
});

describe("no route or job rewrites published history", () => {
  it("enumerates the whole API, admin routes included", () => {
    expect(paths).toEqual(
      expect.arrayContaining([
        "/v1/issuers/{issuer}/attestations/{sequence}",
        "/v1/issuers/{issuer}/reports/{sequence}",
        "/v1/admin/issuers/{issuer}/statements",
        "/v1/admin/issuers/{issuer}/ledger",
        "/v1/admin/issuers/{issuer}/publish",
      ]),
    );
    expect(paths.length).toBeGreaterThanOrEqual(15);
  });

  it("every path × method × credentials × body leaves existing attestations and reports as they were", async () => {
    const before = await published();
    expect(before.reports.size).toBeGreaterThanOrEqual(2);
    const bodies: (string | undefined)[] = [
      undefined,
      "{}",
      `{"sequence":"1","attestation":null,"delete":true}`,
      "userId,salt,USD,ETH\n",
    ];
    let requests = 0;
    for (const template of paths) {
      for (const sequence of ["1", "2", "latest"]) {
        const path = fill(template, sequence);
        if (sequence !== "1" && path === fill(template, "1")) continue;
        for (const method of METHODS) {
          for (const auth of [undefined, `Bearer ${testEnv.ADMIN_TOKEN}`]) {
            for (const body of method === "GET" || method === "HEAD" ? [undefined] : bodies) {
              const headers: Record<string, string> = {};
              if (auth) headers.authorization = auth;
              if (body !== undefined) headers["content-type"] = body.startsWith("{") ? "application/json" : "text/csv";
              const res = await call(path, { method, headers, body });
              expect(res.status, `${method} ${path}`).toBeLessThan(500);
              await res.arrayBuffer();
              requests += 1;
            }
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(300);
    expectPreserved(before, await published());
  });

  it("a cron tick only appends", async () => {
    const before = await published();
    const quiet = vi.spyOn(console, "log").mockImplementation(() => {});
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), testEnv);
    quiet.mockRestore();
    const after = await published();
    expectPreserved(before, after);
  });
});
