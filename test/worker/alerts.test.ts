/**
 * Alerts end to end: attestations published in workerd against the demo
 * world, alerts detected after each attempt, stored in D1, queued, and
 * delivered by the queue consumer to a real HTTP receiver on 127.0.0.1
 * (test/support/webhookReceiver.ts, started by globalSetup.ts).
 *
 * The pool's configuration has no alerts, so this file runs the publish path
 * and the consumer with its own configuration and captures what is queued
 * (so the pool's own consumer, which does not know these destinations,
 * never races the deliveries asserted here).
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { signOwnership } from "../../core/ownershipProof.js";
import { alertAfterPublish, type PublishAttempt, watchStaleness } from "../../worker/alerts/afterPublish.js";
import { onchainCopyExpiredAlert } from "../../worker/alerts/detectAlerts.js";
import { ALERT_MAX_ATTEMPTS, alertRetryDelaySeconds } from "../../worker/alerts/queueConsumer.js";
import { type AlertMessage, raiseAlerts } from "../../worker/alerts/raiseAlerts.js";
import type { Env } from "../../worker/env.js";
import worker from "../../worker/index.js";
import { type IssuerPublisher, publisherFor } from "../../worker/publisher/issuerPublisher.js";
import { publishTickWithFacts } from "../../worker/publisher/publishTick.js";
import type { ReceivedRequest } from "../support/webhookReceiver.js";

const testEnv = env as unknown as Env & { TEST_WEBHOOK_RECEIVER: string; SOLVENT_CONFIG: string };
const receiver = JSON.parse(testEnv.TEST_WEBHOOK_RECEIVER) as { url: string; controlUrl: string; requestsUrl: string };
const ISSUER = "demo-stable";
const SECRET = "whsec_test_5f1c0e3a9b7d4c2e8a6f";
const SLACK_PATH = "T0001/B0001/slacktokenXYZ";
const ORIGIN = "http://solvent.test";

/** The pool's configuration (no relayers) with alerts for demo-stable: a signed webhook, Slack and Discord, all on the receiver. */
const configJson = (() => {
  const json = JSON.parse(testEnv.SOLVENT_CONFIG) as { issuers: Record<string, unknown>[] };
  const issuer = json.issuers.find((i) => i.id === ISSUER)!;
  issuer.alerts = {
    destinations: [
      { kind: "webhook", url: `${receiver.url}/generic?token=query-secret`, secret: "ALERT_WEBHOOK_SECRET" },
      { kind: "slack", url: `${receiver.url}/slack/\${SLACK_HOOK_PATH}` },
      { kind: "discord", url: `${receiver.url}/discord` },
    ],
    ratioThresholdsBps: [10000, 10200],
  };
  return json;
})();
const config: SolventConfig = parseConfig(configJson);

/** Everything sent to ALERT_QUEUE, instead of a real queue. */
const queued: AlertMessage[] = [];
const captureQueue = {
  send: async (body: AlertMessage) => void queued.push(body),
  sendBatch: async (messages: { body: AlertMessage }[]) => void queued.push(...messages.map((m) => m.body)),
} as unknown as Queue<unknown>;

const alertEnv: Env = {
  ...testEnv,
  SOLVENT_CONFIG: JSON.stringify(configJson),
  ALERT_WEBHOOK_SECRET: SECRET,
  SLACK_HOOK_PATH: SLACK_PATH,
  ALERT_QUEUE: captureQueue,
};

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** One publish attempt and its alerts, as IssuerPublisher.publish runs them. */
async function publishWithAlerts(options: { config?: SolventConfig; env?: Env } = {}) {
  const cfg = options.config ?? config;
  const e = options.env ?? alertEnv;
  const now = nowSeconds();
  let attempt: PublishAttempt;
  try {
    attempt = await publishTickWithFacts({ env: e, config: cfg, issuerId: ISSUER, now: BigInt(now) });
  } catch (error) {
    attempt = { error };
  }
  const alerts = await alertAfterPublish({ env: e, config: cfg, issuerId: ISSUER, attempt, now });
  return { attempt, alerts };
}

/** demo-stable with its treasury's ownership proof signed by a stranger: UNPROVEN_OWNERSHIP, and most reserves stop counting. */
async function forgedOwnershipConfig(): Promise<SolventConfig> {
  const copy = structuredClone(config);
  const treasury = copy.issuers.find((i) => i.id === ISSUER)!.reserves.holders[0]!;
  const stranger = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
  treasury.ownership = {
    kind: "eoa",
    signature: await signOwnership(stranger, {
      issuerId: ISSUER,
      address: treasury.address,
      chainId: treasury.chainId,
    }),
  };
  return copy;
}

/** Runs the Worker's queue handler on the given messages, as the Queue would, with this file's configuration. */
async function deliver(messages: AlertMessage[], attempts = 1) {
  const batch = createMessageBatch(
    "solvent-alerts",
    messages.map((body, i) => ({
      id: `alert-${body.alertId}-${body.destination}-${attempts}-${i}`,
      timestamp: new Date(),
      attempts,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, alertEnv);
  return getQueueResult(batch, ctx);
}

async function received(path: string): Promise<ReceivedRequest[]> {
  return (await (await fetch(`${receiver.requestsUrl}?path=${encodeURIComponent(path)}`)).json()) as ReceivedRequest[];
}

const messagesFor = (alertId: number) => queued.filter((m) => m.alertId === alertId);

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface ListedAlert {
  id: string;
  event: string;
  severity: string;
  title: string;
  text: string;
  sequence: string | null;
  details: Record<string, unknown>;
  deliveries: {
    destination: number;
    kind: string;
    host: string;
    status: string;
    attempts: number;
    httpStatus: number | null;
    reason: string;
  }[];
}

async function listAlerts(query = ""): Promise<{
  res: Response;
  body: { issuer: string; destinations: unknown[]; alerts: ListedAlert[]; nextBefore: string | null };
}> {
  const res = await worker.fetch(
    new Request(`${ORIGIN}/v1/issuers/${ISSUER}/alerts${query}`),
    alertEnv,
    createExecutionContext(),
  );
  return { res, body: (await res.clone().json()) as never };
}

let raisedId = 0;
let clearedId = 0;

describe("alerts on flag and ratio changes", () => {
  it("raises one alert per flag raised and per flag cleared, with the report's reason, and per threshold crossed", async () => {
    const baseline = await publishWithAlerts();
    expect(baseline.attempt).toMatchObject({ outcome: { published: true } });
    const healthy = (baseline.attempt as { outcome: { ratioBps: number; flags: string[] } }).outcome;
    expect(healthy.flags).toEqual([]);
    expect(healthy.ratioBps).toBeGreaterThanOrEqual(10200);
    // nothing was raised on the first, clean attestation
    expect(baseline.alerts).toEqual([]);

    const forged = await publishWithAlerts({ config: await forgedOwnershipConfig() });
    const outcome = (
      forged.attempt as { outcome: { published: boolean; sequence: string; flags: string[]; ratioBps: number } }
    ).outcome;
    expect(outcome.published).toBe(true);
    expect(outcome.flags).toContain("UNPROVEN_OWNERSHIP");
    const raised = forged.alerts.filter((a) => a.event === "flag_raised");
    expect(raised.map((a) => a.details.flag).sort()).toEqual([...outcome.flags].sort());
    const ownership = raised.find((a) => a.details.flag === "UNPROVEN_OWNERSHIP")!;
    // the reason is the one the signed report gives
    const report = (await (
      await worker.fetch(
        new Request(`${ORIGIN}/v1/issuers/${ISSUER}/reports/${outcome.sequence}`),
        alertEnv,
        createExecutionContext(),
      )
    ).json()) as {
      flags: { name: string; reason: string }[];
    };
    const reason = report.flags.find((f) => f.name === "UNPROVEN_OWNERSHIP")!.reason;
    expect(reason.length).toBeGreaterThan(0);
    expect(ownership).toMatchObject({
      severity: "warning",
      sequence: BigInt(outcome.sequence),
      details: { flag: "UNPROVEN_OWNERSHIP", bit: 3, reason },
    });
    expect(ownership.text).toContain(reason);
    raisedId = ownership.id;

    // the ratio fell through both thresholds: one alert each, downwards
    expect(outcome.ratioBps).toBeLessThan(10000);
    const crossings = forged.alerts.filter((a) => a.event === "ratio_crossed");
    expect(crossings.map((a) => [a.details.thresholdBps, a.details.direction])).toEqual([
      [10000, "down"],
      [10200, "down"],
    ]);
    expect(crossings[0]).toMatchObject({
      severity: "critical",
      details: { ratioBps: outcome.ratioBps, previousRatioBps: healthy.ratioBps },
    });

    // one queue message per (alert, destination)
    for (const alert of forged.alerts) expect(messagesFor(alert.id).map((m) => m.destination)).toEqual([0, 1, 2]);

    // the same attempt examined again stores nothing twice
    expect(
      await alertAfterPublish({ env: alertEnv, config, issuerId: ISSUER, attempt: forged.attempt, now: nowSeconds() }),
    ).toEqual([]);

    const restored = await publishWithAlerts();
    const cleared = restored.alerts.filter((a) => a.event === "flag_cleared");
    expect(cleared.map((a) => a.details.flag)).toContain("UNPROVEN_OWNERSHIP");
    const ownershipCleared = cleared.find((a) => a.details.flag === "UNPROVEN_OWNERSHIP")!;
    // a cleared flag carries the reason it had been raised for
    expect(ownershipCleared).toMatchObject({ severity: "info", details: { reason } });
    expect(restored.alerts.filter((a) => a.event === "flag_raised")).toEqual([]);
    expect(
      restored.alerts
        .filter((a) => a.event === "ratio_crossed")
        .map((a) => [a.details.thresholdBps, a.details.direction]),
    ).toEqual([
      [10000, "up"],
      [10200, "up"],
    ]);
    clearedId = ownershipCleared.id;
  });

  it("delivers the generic webhook signed with HMAC-SHA256 over timestamp and body", async () => {
    const result = await deliver(messagesFor(raisedId));
    expect(result.explicitAcks).toHaveLength(3);
    expect(result.retryMessages).toEqual([]);

    const generic = (await received("/generic")).filter((r) => JSON.parse(r.body).id === String(raisedId));
    expect(generic).toHaveLength(1);
    const request = generic[0]!;
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.url).toBe("/generic?token=query-secret");
    const payload = JSON.parse(request.body);
    expect(payload).toMatchObject({
      version: 1,
      id: String(raisedId),
      issuer: ISSUER,
      event: "flag_raised",
      severity: "warning",
      details: { flag: "UNPROVEN_OWNERSHIP" },
    });
    expect(typeof payload.details.reason).toBe("string");
    expect(request.headers["x-solvent-alert-id"]).toBe(String(raisedId));
    expect(request.headers["x-solvent-event"]).toBe("flag_raised");

    const timestamp = request.headers["x-solvent-timestamp"]!;
    expect(Math.abs(Number(timestamp) - nowSeconds())).toBeLessThan(60);
    const signature = request.headers["x-solvent-signature"]!;
    expect(signature).toBe(`sha256=${await hmacHex(SECRET, `${timestamp}.${request.body}`)}`);
    // a tampered body, a replayed timestamp or another key would not verify
    expect(signature).not.toBe(
      `sha256=${await hmacHex(SECRET, `${timestamp}.${request.body.replace("UNPROVEN_OWNERSHIP", "UNDERCOLLATERALIZED")}`)}`,
    );
    expect(signature).not.toBe(`sha256=${await hmacHex(SECRET, `${Number(timestamp) + 600}.${request.body}`)}`);
    expect(signature).not.toBe(`sha256=${await hmacHex("another-secret", `${timestamp}.${request.body}`)}`);
  });

  it("delivers Slack ({ text, blocks }) and Discord ({ content, embeds }) messages", async () => {
    const slack = (await received(`/slack/${SLACK_PATH}`)).map((r) => JSON.parse(r.body));
    const slackMessage = slack.find((m) => JSON.stringify(m).includes(`Solvent alert ${raisedId} `))!;
    expect(slackMessage.text).toContain(`${ISSUER}: UNPROVEN_OWNERSHIP raised`);
    expect(slackMessage.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: `${ISSUER}: UNPROVEN_OWNERSHIP raised`, emoji: true },
    });
    expect(slackMessage.blocks[1]).toMatchObject({ type: "section", text: { type: "mrkdwn" } });
    expect(slackMessage.blocks[1].text.text).toContain("UNPROVEN_OWNERSHIP");
    expect(slackMessage.blocks[2].fields).toContainEqual({ type: "mrkdwn", text: "*flag*\nUNPROVEN_OWNERSHIP" });
    expect(slackMessage.blocks.at(-1).type).toBe("context");

    const discord = (await received("/discord")).map((r) => JSON.parse(r.body));
    const discordMessage = discord.find((m) => m.embeds?.[0]?.footer?.text.startsWith(`Solvent alert ${raisedId} `))!;
    expect(discordMessage.content).toBe(`**${ISSUER}: UNPROVEN_OWNERSHIP raised**`);
    expect(discordMessage.allowed_mentions).toEqual({ parse: [] });
    const embed = discordMessage.embeds[0];
    expect(embed).toMatchObject({ title: `${ISSUER}: UNPROVEN_OWNERSHIP raised`, color: 0xf79009 });
    expect(embed.description).toContain("UNPROVEN_OWNERSHIP");
    expect(new Date(embed.timestamp).getTime()).toBeGreaterThan(0);
    expect(embed.fields).toContainEqual({ name: "flag", value: "UNPROVEN_OWNERSHIP", inline: true });
  });

  it("retries a delivery the receiver refused, with backoff, and records it delivered on the next attempt", async () => {
    const generic = messagesFor(clearedId).filter((m) => m.kind === "webhook");
    expect(generic).toHaveLength(1);
    await fetch(receiver.controlUrl, { method: "POST", body: JSON.stringify({ failNext: 1, path: "/generic" }) });

    const first = await deliver(generic, 1);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toHaveLength(1);
    let listed = (await listAlerts()).body.alerts.find((a) => a.id === String(clearedId))!;
    expect(listed.deliveries.find((d) => d.kind === "webhook")).toMatchObject({
      status: "retrying",
      attempts: 1,
      httpStatus: 500,
    });

    const second = await deliver(generic, 2);
    expect(second.explicitAcks).toHaveLength(1);
    expect(second.retryMessages).toEqual([]);
    const hits = (await received("/generic")).filter((r) => JSON.parse(r.body).id === String(clearedId));
    expect(hits.map((r) => r.answered)).toEqual([500, 200]);
    // the same alert, re-signed at its own time
    expect(JSON.parse(hits[0]!.body)).toEqual(JSON.parse(hits[1]!.body));
    listed = (await listAlerts()).body.alerts.find((a) => a.id === String(clearedId))!;
    expect(listed.deliveries.find((d) => d.kind === "webhook")).toMatchObject({
      status: "delivered",
      attempts: 2,
      httpStatus: 200,
    });

    // (the pool does not report the delay it was given; the backoff schedule itself:)
    expect([1, 2, 3, 4, 5, 6, 10].map(alertRetryDelaySeconds)).toEqual([30, 60, 120, 240, 480, 960, 3600]);
  });

  it("gives up after the last attempt: recorded failed, and the message is left to the dead-letter queue", async () => {
    const slack = messagesFor(clearedId).filter((m) => m.kind === "slack");
    await fetch(receiver.controlUrl, {
      method: "POST",
      body: JSON.stringify({ failNext: 1, path: `/slack/${SLACK_PATH}` }),
    });
    const last = await deliver(slack, ALERT_MAX_ATTEMPTS);
    expect(last.retryMessages).toHaveLength(1);
    expect(last.explicitAcks).toEqual([]);
    const listed = (await listAlerts()).body.alerts.find((a) => a.id === String(clearedId))!;
    const state = listed.deliveries.find((d) => d.kind === "slack")!;
    expect(state).toMatchObject({ status: "failed", attempts: ALERT_MAX_ATTEMPTS, httpStatus: 500 });
    expect(state.reason).toMatch(/gave up after 7 attempts/);
  });
});

describe("the stale-publisher watchdog", () => {
  it("alerts once per staleness episode", async () => {
    const latest = (await (
      await worker.fetch(
        new Request(`${ORIGIN}/v1/issuers/${ISSUER}/attestations/latest`),
        alertEnv,
        createExecutionContext(),
      )
    ).json()) as {
      attestation: { sequence: string; validUntil: string };
    };
    const validUntil = Number(latest.attestation.validUntil);
    // still fresh: nothing
    expect(await watchStaleness(alertEnv, validUntil, config)).toEqual([]);

    const first = await watchStaleness(alertEnv, validUntil + 1, config);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      event: "publisher_stale",
      severity: "critical",
      sequence: BigInt(latest.attestation.sequence),
      details: { validUntil: String(validUntil), staleSeconds: "1" },
    });
    expect(messagesFor(first[0]!.id)).toHaveLength(3);
    // the watchdog ticks every minute: the same episode never alerts again
    expect(await watchStaleness(alertEnv, validUntil + 60, config)).toEqual([]);
    expect(await watchStaleness(alertEnv, validUntil + 3600, config)).toEqual([]);

    // a new attestation ends the episode; when that one expires, a new episode alerts once
    const fresh = await publishWithAlerts();
    expect(fresh.attempt).toMatchObject({ outcome: { published: true } });
    const next = (await (
      await worker.fetch(
        new Request(`${ORIGIN}/v1/issuers/${ISSUER}/attestations/latest`),
        alertEnv,
        createExecutionContext(),
      )
    ).json()) as {
      attestation: { sequence: string; validUntil: string };
    };
    expect(await watchStaleness(alertEnv, Number(next.attestation.validUntil), config)).toEqual([]);
    const second = await watchStaleness(alertEnv, Number(next.attestation.validUntil) + 120, config);
    expect(second.map((a) => a.sequence)).toEqual([BigInt(next.attestation.sequence)]);
    expect(await watchStaleness(alertEnv, Number(next.attestation.validUntil) + 180, config)).toEqual([]);

    const result = await deliver(messagesFor(second[0]!.id).filter((m) => m.kind === "webhook"));
    expect(result.explicitAcks).toHaveLength(1);
    const payload = (await received("/generic"))
      .map((r) => JSON.parse(r.body))
      .find((p) => p.id === String(second[0]!.id));
    expect(payload).toMatchObject({ event: "publisher_stale", sequence: next.attestation.sequence });
  });

  it("runs in the cron tick", async () => {
    await publishWithAlerts(); // an attestation whose staleness was never alerted
    const before = (await listAlerts("?limit=100")).body.alerts.filter((a) => a.event === "publisher_stale").length;
    // a tick two hours ahead: whatever the latest attestation is by then, it has expired
    const controller = createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() + 2 * 3600 * 1000 });
    await worker.scheduled(controller, alertEnv);
    const after = (await listAlerts("?limit=100")).body.alerts.filter((a) => a.event === "publisher_stale");
    expect(after.length).toBeGreaterThan(before);
  });
});

describe("an on-chain copy expired under a fresher attestation", () => {
  const relayer = { chainId: 31337, oracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
  const copy = { sequence: 7n, validUntil: 1_800_000_600n };
  const fresher = { sequence: 9n, validUntil: 1_800_001_200n };

  it("is raised only when the copy has expired and a newer, still valid attestation exists", () => {
    expect(onchainCopyExpiredAlert(ISSUER, relayer, copy, fresher, copy.validUntil)).toBeNull(); // valid to its last second
    expect(onchainCopyExpiredAlert(ISSUER, relayer, copy, copy, copy.validUntil + 1n)).toBeNull(); // nothing fresher: publisher_stale's case
    expect(
      onchainCopyExpiredAlert(
        ISSUER,
        relayer,
        copy,
        { ...fresher, validUntil: copy.validUntil + 5n },
        copy.validUntil + 10n,
      ),
    ).toBeNull(); // the newer one expired too
    expect(onchainCopyExpiredAlert(ISSUER, relayer, copy, fresher, copy.validUntil + 30n)).toMatchObject({
      event: "onchain_copy_expired",
      severity: "critical",
      dedupeKey: "onchain_copy_expired:7",
      sequence: 9n,
      details: {
        onchainSequence: "7",
        expiredSeconds: "30",
        latestSequence: "9",
        oracle: relayer.oracle,
        chainId: 31337,
      },
    });
  });

  it("is stored once per on-chain copy and delivered with its facts as chat fields", async () => {
    const draft = onchainCopyExpiredAlert(ISSUER, relayer, copy, fresher, copy.validUntil + 30n)!;
    const [alert, ...none] = await raiseAlerts(
      alertEnv,
      ISSUER,
      config.issuers.find((i) => i.id === ISSUER)!.alerts!,
      [draft, draft],
      nowSeconds(),
    );
    expect(none).toEqual([]);
    expect(
      await raiseAlerts(alertEnv, ISSUER, config.issuers.find((i) => i.id === ISSUER)!.alerts!, [draft], nowSeconds()),
    ).toEqual([]);
    const result = await deliver(messagesFor(alert!.id));
    expect(result.explicitAcks).toHaveLength(3);
    const slack = (await received(`/slack/${SLACK_PATH}`))
      .map((r) => JSON.parse(r.body))
      .find((m) => JSON.stringify(m).includes(`Solvent alert ${alert!.id} `))!;
    expect(slack.text).toContain(`${ISSUER}: on-chain copy expired`);
    expect(slack.blocks[2].fields).toEqual(
      expect.arrayContaining([
        { type: "mrkdwn", text: "*onchainSequence*\n7" },
        { type: "mrkdwn", text: "*expiredSeconds*\n30" },
      ]),
    );
    const generic = (await received("/generic")).map((r) => JSON.parse(r.body)).find((p) => p.id === String(alert!.id));
    expect(generic).toMatchObject({
      event: "onchain_copy_expired",
      severity: "critical",
      sequence: "9",
      details: { validUntil: "1800000600" },
    });
    expect(generic.text).toContain("still holds attestation 7");
  });
});

describe("failed signing", () => {
  const { SIGNING_KEY: _key, ...withoutKey } = alertEnv;
  const noKeyEnv = withoutKey as Env;

  it("alerts when the signing key is missing, once per episode", async () => {
    const first = await publishWithAlerts({ env: noKeyEnv });
    expect(first.attempt).toMatchObject({ outcome: { published: false, code: "MISCONFIGURED" } });
    expect(first.alerts).toHaveLength(1);
    expect(first.alerts[0]).toMatchObject({ event: "signing_failed", severity: "critical" });
    expect(first.alerts[0]!.details.reason).toMatch(/SIGNING_KEY is missing/);
    // the next tick fails the same way: no second alert
    expect((await publishWithAlerts({ env: noKeyEnv })).alerts).toEqual([]);

    // a malformed key fails too, and never shows up in the alert
    const badKey = `0x${"0".repeat(64)}`;
    await publishWithAlerts(); // a good attestation closes the episode
    const bad = await publishWithAlerts({ env: { ...alertEnv, SIGNING_KEY: badKey } });
    expect(bad.attempt).toMatchObject({ outcome: { published: false } });
    expect(bad.alerts.map((a) => a.event)).toEqual(["signing_failed"]);
    expect(JSON.stringify(bad.alerts, (_, v) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(
      "0".repeat(64),
    );

    // refusals that are not about signing alert nothing of the kind
    const unconfigured = await alertAfterPublish({
      env: alertEnv,
      config,
      issuerId: ISSUER,
      attempt: { outcome: { published: false, issuerId: ISSUER, code: "NOT_PUBLISHED", reason: "no price" } },
      now: nowSeconds(),
    });
    expect(unconfigured).toEqual([]);
  });

  it("is detected by IssuerPublisher.publish itself, after the attempt", async () => {
    const alertsBefore = (await listAlerts("?limit=100")).body.alerts.length;
    await publishWithAlerts(); // a new episode
    const stub = publisherFor(testEnv, ISSUER);
    // the object with this file's configuration and no signing key
    const outcome = await runInDurableObject(stub, async (instance: IssuerPublisher) => {
      const object = instance as unknown as { env: Env };
      const original = object.env;
      object.env = noKeyEnv;
      try {
        return await instance.publish(ISSUER);
      } finally {
        object.env = original;
      }
    });
    expect(outcome).toMatchObject({ published: false, code: "MISCONFIGURED" });
    // alerting runs after the answer (ctx.waitUntil); wait for its row
    let alerts: ListedAlert[] = [];
    for (let i = 0; i < 50; i++) {
      alerts = (await listAlerts("?limit=100")).body.alerts;
      if (alerts.length > alertsBefore) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(alerts[0]).toMatchObject({ event: "signing_failed" });
    expect(alerts[0]!.deliveries.map((d) => d.status)).toEqual(["queued", "queued", "queued"]);
  });
});

describe("GET /v1/issuers/{issuer}/alerts", () => {
  it("lists every alert newest first with its delivery status per destination, never a secret", async () => {
    const { res, body } = await listAlerts("?limit=100");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=15");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(body.issuer).toBe(ISSUER);
    const host = new URL(receiver.url).host;
    expect(body.destinations).toEqual([
      { destination: 0, kind: "webhook", host },
      { destination: 1, kind: "slack", host },
      { destination: 2, kind: "discord", host },
    ]);
    const ids = body.alerts.map((a) => Number(a.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const events = new Set(body.alerts.map((a) => a.event));
    for (const event of ["flag_raised", "flag_cleared", "ratio_crossed", "publisher_stale", "signing_failed"])
      expect(events).toContain(event);

    const raised = body.alerts.find((a) => a.id === String(raisedId))!;
    expect(raised).toMatchObject({
      event: "flag_raised",
      title: `${ISSUER}: UNPROVEN_OWNERSHIP raised`,
      details: { flag: "UNPROVEN_OWNERSHIP" },
    });
    expect(raised.deliveries).toEqual([
      expect.objectContaining({
        destination: 0,
        kind: "webhook",
        host,
        status: "delivered",
        attempts: 1,
        httpStatus: 200,
      }),
      expect.objectContaining({ destination: 1, kind: "slack", host, status: "delivered", attempts: 1 }),
      expect.objectContaining({ destination: 2, kind: "discord", host, status: "delivered", attempts: 1 }),
    ]);
    const text = JSON.stringify(body);
    for (const secret of [SECRET, SLACK_PATH, "query-secret", "token=", "/generic", testEnv.SIGNING_KEY as string])
      expect(text).not.toContain(secret);

    // pages follow nextBefore to the end
    const page1 = (await listAlerts("?limit=2")).body;
    expect(page1.alerts.map((a) => a.id)).toEqual(body.alerts.slice(0, 2).map((a) => a.id));
    const page2 = (await listAlerts(`?limit=2&before=${page1.nextBefore}`)).body;
    expect(page2.alerts.map((a) => a.id)).toEqual(body.alerts.slice(2, 4).map((a) => a.id));
    const tail = (await listAlerts(`?limit=100&before=${body.alerts.at(-1)!.id}`)).body;
    expect(tail).toMatchObject({ alerts: [], nextBefore: null });
  });

  it("answers 404 for an unknown issuer, 400 for a bad parameter, and an empty list where nothing was raised", async () => {
    const get = (path: string) => worker.fetch(new Request(`${ORIGIN}${path}`), alertEnv, createExecutionContext());
    expect((await get("/v1/issuers/nobody/alerts")).status).toBe(404);
    const bad = await get(`/v1/issuers/${ISSUER}/alerts?limit=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "INVALID_PARAMETER", field: "limit" } });
    expect(await (await get("/v1/issuers/demo/alerts")).json()).toEqual({
      issuer: "demo",
      destinations: [],
      alerts: [],
      nextBefore: null,
    });
    const doc = (await (await get("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(doc.paths["/v1/issuers/{issuer}/alerts"]).toBeDefined();
  });

  it("stores alerts append-only", async () => {
    await expect(testEnv.DB.prepare("UPDATE alerts SET title = 'x'").run()).rejects.toThrow(/append-only/);
    await expect(testEnv.DB.prepare("DELETE FROM alert_deliveries").run()).rejects.toThrow(/append-only/);
  });
});
