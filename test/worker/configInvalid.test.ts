/**
 * A deployed configuration that cannot be used fails closed and quietly: the
 * public routes answer 503 with a generic code and nothing about the
 * configuration; GET /health and the authenticated admin routes say what is
 * wrong; the cron publishes nothing and raises `config_invalid`, stored once
 * per broken text and issuer, and delivered (by the real queue handler, to a
 * real HTTP receiver) where the issuer's own alerts block still parses.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env as workersEnv } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ALERT_EVENTS } from "../../core/config/alertsSchema.js";
import type { AlertMessage } from "../../worker/alerts/raiseAlerts.js";
import { DEPLOYMENT_ALERT_ISSUER, salvageAlertTargets } from "../../worker/config/configInvalid.js";
import type { Env } from "../../worker/env.js";
import worker from "../../worker/index.js";
import type { ReceivedRequest } from "../support/webhookReceiver.js";

const testEnv = workersEnv as unknown as Env & {
  TEST_WEBHOOK_RECEIVER: string;
  SOLVENT_CONFIG: string;
  ADMIN_TOKEN: string;
};
const receiver = JSON.parse(testEnv.TEST_WEBHOOK_RECEIVER) as { url: string; requestsUrl: string };
const ORIGIN = "http://solvent.test";
const HOOK_SECRET = "whsec_config_invalid_0a1b2c3d";

/**
 * The pool's working configuration, broken twice: demo-stable (which gets a
 * webhook destination here) has a holder whose address is not one, and demo's
 * policy has a negative TTL. Both issuer ids stay readable.
 */
const broken = (() => {
  const json = JSON.parse(testEnv.SOLVENT_CONFIG) as { issuers: Record<string, any>[] };
  const stable = json.issuers.find((i) => i.id === "demo-stable")!;
  stable.alerts = {
    destinations: [{ kind: "webhook", url: `${receiver.url}/config-invalid`, secret: "CONFIG_HOOK_SECRET" }],
  };
  stable.reserves.holders[0].address = "0xNOPE";
  json.issuers.find((i) => i.id === "demo")!.policy.ttlSeconds = -5;
  return JSON.stringify(json);
})();

/** Everything sent to ALERT_QUEUE, instead of the pool's queue. */
const queued: AlertMessage[] = [];
const captureQueue = {
  send: async (body: AlertMessage) => void queued.push(body),
  sendBatch: async (messages: { body: AlertMessage }[]) => void queued.push(...messages.map((m) => m.body)),
} as unknown as Queue<unknown>;

const brokenEnv = {
  ...testEnv,
  SOLVENT_CONFIG: broken,
  CONFIG_HOOK_SECRET: HOOK_SECRET,
  ALERT_QUEUE: captureQueue,
} as Env;
const admin = { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` };

const call = (path: string, init?: RequestInit, e: Env = brokenEnv) =>
  worker.fetch(new Request(`${ORIGIN}${path}`, init), e, createExecutionContext());
const count = async (sql: string, ...args: unknown[]) =>
  (await testEnv.DB.prepare(sql)
    .bind(...args)
    .first<{ n: number }>())!.n;
const storedAlerts = (issuerId: string) =>
  testEnv.DB.prepare(
    "SELECT id, event, severity, title, text, details_json FROM alerts WHERE issuer_id = ?1 AND event = 'config_invalid' ORDER BY id",
  )
    .bind(issuerId)
    .all<{ id: number; event: string; severity: string; title: string; text: string; details_json: string }>()
    .then((r) => r.results);

afterEach(() => vi.restoreAllMocks());

describe("a deployed configuration that cannot be used", () => {
  it("answers every public route 503 with a generic code and no configuration detail", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const path of [
      "/v1/issuers",
      "/v1/issuers/demo/attestations/latest",
      "/v1/issuers/demo-stable/gate",
      "/v1/issuers/demo/alerts",
      "/.well-known/solvent/keys.json",
      "/demo/users.json",
    ]) {
      const res = await call(path);
      expect(res.status, path).toBe(503);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("retry-after")).toBe("60");
      const text = await res.text();
      expect(JSON.parse(text), path).toEqual({
        error: { code: "SERVICE_UNAVAILABLE", message: "the publisher is temporarily unavailable; try again later" },
      });
      expect(text).not.toMatch(/issuers\[|NOPE|ttlSeconds|config/i);
    }
  });

  it("tells GET /health what is wrong, by JSON path", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await call("/health");
    expect(res.status).toBe(503);
    const body = (await res.json()) as {
      ok: boolean;
      error: { code: string; message: string; configIssues: { path: string; message: string }[] };
    };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe("MISCONFIGURED");
    expect(body.error.message).toContain("the configuration in SOLVENT_CONFIG is invalid; nothing is published");
    const paths = body.error.configIssues.map((i) => i.path);
    expect(paths).toContain("issuers[1].policy.ttlSeconds");
    expect(paths).toContain("issuers[0].reserves.holders[0].address");
  });

  it("tells an authenticated admin what is wrong, and nobody else", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const anonymous = await call("/v1/admin/issuers/demo/publisher");
    expect(anonymous.status).toBe(401);
    const wrong = await call("/v1/admin/issuers/demo/publisher", {
      headers: { authorization: "Bearer not-the-admin-token-0123456789" },
    });
    expect(wrong.status).toBe(403);
    for (const text of [await anonymous.text(), await wrong.text()])
      expect(text).not.toMatch(/issuers\[|NOPE|ttlSeconds|configuration/);

    const before = await count("SELECT COUNT(*) AS n FROM attestations");
    const res = await call("/v1/admin/issuers/demo-stable/publish", { method: "POST", headers: admin });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string; issues: { path: string }[] } };
    expect(body.error.code).toBe("MISCONFIGURED");
    expect(body.error.message).toBe(
      "the configuration in SOLVENT_CONFIG is invalid; nothing is published until it is fixed",
    );
    expect(body.error.issues.map((i) => i.path)).toContain("issuers[1].policy.ttlSeconds");
    expect(await count("SELECT COUNT(*) AS n FROM attestations")).toBe(before);
  });

  it("publishes nothing from the cron, raises config_invalid once per issuer it can still name, and delivers it", async () => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    const attestations = await count("SELECT COUNT(*) AS n FROM attestations");
    for (let i = 0; i < 3; i++) {
      await worker.scheduled(
        createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() + i * 60_000 }),
        brokenEnv,
      );
    }
    expect(await count("SELECT COUNT(*) AS n FROM attestations")).toBe(attestations);
    // The log (private) names the paths, on every tick.
    expect(logged.filter((l) => l.includes("nothing is published:"))).toHaveLength(3);
    expect(logged.join("\n")).toMatch(
      /configuration in SOLVENT_CONFIG is invalid; nothing is published: .*issuers\[1\]\.policy\.ttlSeconds/,
    );

    // Three ticks, one alert per issuer; both issuers keep theirs, but only demo-stable has a destination.
    for (const id of ["demo-stable", "demo"]) {
      const alerts = await storedAlerts(id);
      expect(alerts, id).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ severity: "critical", title: "configuration invalid: nothing is published" });
      // Alerts are listed publicly once the configuration works again: a count, never the paths.
      expect(alerts[0]!.text).toMatch(/^The configuration in SOLVENT_CONFIG cannot be used \(\d+ problems\)/);
      expect(alerts[0]!.text + alerts[0]!.details_json).not.toMatch(/issuers\[|NOPE|ttlSeconds/);
    }
    const [stableAlert] = await storedAlerts("demo-stable");
    expect(queued).toEqual([
      {
        type: "alert",
        alertId: stableAlert!.id,
        issuerId: "demo-stable",
        destination: 0,
        kind: "webhook",
        host: new URL(receiver.url).host,
      },
    ]);

    // The real queue handler delivers it while the configuration is still broken, signed with the issuer's secret.
    const batch = createMessageBatch("solvent-alerts", [
      { id: "config-invalid-1", timestamp: new Date(), attempts: 1, body: queued[0]! },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, brokenEnv);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["config-invalid-1"]);
    const requests = (await (await fetch(`${receiver.requestsUrl}?path=/config-invalid`)).json()) as ReceivedRequest[];
    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0]!.body)).toMatchObject({
      issuer: "demo-stable",
      event: "config_invalid",
      severity: "critical",
      id: String(stableAlert!.id),
    });
    expect(requests[0]!.headers["x-solvent-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it("keeps other alerts queued (retried) until the configuration is fixed", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const [stableAlert] = await storedAlerts("demo-stable");
    // The same destination, but an event other than config_invalid: not delivered from a broken configuration.
    const row = await testEnv.DB.prepare(
      "INSERT INTO alerts (issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at) VALUES ('demo-stable', 'flag_raised', 'warning', 'test:flag', NULL, 't', 't', '{}', 1) RETURNING id",
    ).first<{ id: number }>();
    const body: AlertMessage = { ...queued[0]!, alertId: row!.id };
    const batch = createMessageBatch("solvent-alerts", [{ id: "flag-1", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, brokenEnv);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["flag-1"]);
    expect(stableAlert).toBeDefined();
  });

  it("stores the alert under `*` when no issuer can be read, and a new broken text alerts again", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const tick = (text: string) =>
      worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), {
        ...brokenEnv,
        SOLVENT_CONFIG: text,
      } as Env);
    await tick("{ not json");
    await tick("{ not json");
    expect(await storedAlerts(DEPLOYMENT_ALERT_ISSUER)).toHaveLength(1);
    await tick('{"version": 2}');
    const alerts = await storedAlerts(DEPLOYMENT_ALERT_ISSUER);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]!.text).toContain("(1 problem)");
    expect(alerts[0]!.text).not.toContain("{ not json");
  });

  it("salvages issuer ids and alerts blocks only where they parse on their own", () => {
    const targets = salvageAlertTargets(
      JSON.stringify({
        issuers: [
          { id: "good", alerts: { destinations: [{ kind: "discord", url: "https://discord.example/hook" }] } },
          { id: "bad-alerts", alerts: { destinations: [{ kind: "pager" }] } },
          { id: "Not An Id" },
          { id: "good" },
          "nonsense",
        ],
      }),
    );
    expect(targets.map((t) => [t.issuerId, t.alerts?.destinations.length ?? null])).toEqual([
      ["good", 1],
      ["bad-alerts", null],
    ]);
    expect(targets[0]!.alerts!.events).toEqual([...ALERT_EVENTS]);
    expect(ALERT_EVENTS).toContain("config_invalid");
  });

  it("serves again as soon as the configuration is fixed", async () => {
    const res = await call("/v1/issuers", undefined, testEnv);
    expect(res.status).toBe(200);
  });
});
