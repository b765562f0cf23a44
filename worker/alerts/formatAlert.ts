import type { AlertDestinationConfig } from "../../core/config/alertsSchema.js";
import { isoSeconds } from "../../core/time.js";
import type { StoredAlert } from "./alertStore.js";

/**
 * The generic webhook body. `id` is the same on every retry of one alert to
 * one destination, so a receiver can drop duplicates.
 */
export interface WebhookPayload {
  version: 1;
  id: string;
  issuer: string;
  event: StoredAlert["event"];
  severity: StoredAlert["severity"];
  title: string;
  text: string;
  sequence: string | null;
  /** Unix seconds when the alert was raised. */
  createdAt: number;
  details: StoredAlert["details"];
}

export function webhookPayload(alert: StoredAlert): WebhookPayload {
  return {
    version: 1,
    id: String(alert.id),
    issuer: alert.issuerId,
    event: alert.event,
    severity: alert.severity,
    title: alert.title,
    text: alert.text,
    sequence: alert.sequence === null ? null : alert.sequence.toString(),
    createdAt: alert.createdAt,
    details: alert.details,
  };
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const EMOJI = { critical: ":rotating_light:", warning: ":warning:", info: ":white_check_mark:" } as const;
/** Discord embed colours (0xRRGGBB). */
const COLOUR = { critical: 0xd92d20, warning: 0xf79009, info: 0x12b76a } as const;

/** The facts worth a line of their own in chat: flag, reason, ratio, threshold … */
function fields(alert: StoredAlert): [name: string, value: string][] {
  const out: [string, string][] = [
    ["Issuer", alert.issuerId],
    ["Event", alert.event],
  ];
  if (alert.sequence !== null) out.push(["Attestation", alert.sequence.toString()]);
  for (const key of [
    "flag",
    "thresholdBps",
    "ratioBps",
    "previousRatioBps",
    "validUntil",
    "staleSeconds",
    "onchainSequence",
    "expiredSeconds",
  ]) {
    const value = alert.details[key];
    if (value !== undefined && value !== null) out.push([key, String(value)]);
  }
  return out;
}

/** Slack incoming-webhook message: `text` is the notification fallback, `blocks` the layout (Block Kit limits applied). */
export function slackPayload(alert: StoredAlert): { text: string; blocks: unknown[] } {
  return {
    text: clip(`${EMOJI[alert.severity]} ${alert.title}`, 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: clip(alert.title, 150), emoji: true } },
      { type: "section", text: { type: "mrkdwn", text: clip(`${EMOJI[alert.severity]} ${alert.text}`, 3000) } },
      {
        type: "section",
        fields: fields(alert)
          .slice(0, 10)
          .map(([name, value]) => ({ type: "mrkdwn", text: clip(`*${name}*\n${value}`, 2000) })),
      },
      {
        type: "context",
        elements: [
          { type: "mrkdwn", text: `Solvent alert ${alert.id} · ${alert.severity} · ${isoSeconds(alert.createdAt)}` },
        ],
      },
    ],
  };
}

/** Discord webhook message: `content` plus one embed; mentions disabled so alert text can never ping anyone. */
export function discordPayload(alert: StoredAlert): {
  content: string;
  embeds: unknown[];
  allowed_mentions: { parse: string[] };
} {
  return {
    content: clip(`**${alert.title}**`, 2000),
    embeds: [
      {
        title: clip(alert.title, 256),
        description: clip(alert.text, 4096),
        color: COLOUR[alert.severity],
        timestamp: new Date(alert.createdAt * 1000).toISOString(),
        fields: fields(alert)
          .slice(0, 25)
          .map(([name, value]) => ({ name: clip(name, 256), value: clip(value, 1024), inline: true })),
        footer: { text: `Solvent alert ${alert.id} · ${alert.severity}` },
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/** The exact request body for one destination (the bytes that are signed and sent). */
export function alertBody(kind: AlertDestinationConfig["kind"], alert: StoredAlert): string {
  if (kind === "slack") return JSON.stringify(slackPayload(alert));
  if (kind === "discord") return JSON.stringify(discordPayload(alert));
  return JSON.stringify(webhookPayload(alert));
}

export const SIGNATURE_HEADER = "X-Solvent-Signature";
export const TIMESTAMP_HEADER = "X-Solvent-Timestamp";

/**
 * The generic webhook's signature (README "Alerts"): hex HMAC-SHA256, keyed
 * with the UTF-8 bytes of the secret, over the UTF-8 bytes of
 * `${timestamp}.${body}`; sent as `X-Solvent-Signature: sha256=<hex>` with
 * `X-Solvent-Timestamp: <timestamp>` (unix seconds). The timestamp is inside
 * the MAC so a captured request cannot be replayed later with a fresh one.
 */
export async function signWebhook(secret: string, timestamp: number, body: string): Promise<string> {
  const utf8 = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(`${timestamp}.${body}`)));
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
