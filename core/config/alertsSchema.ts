import { z } from "zod";

/** Every kind of alert (README "Alerts" says when each is raised). */
export const ALERT_EVENTS = [
  "flag_raised",
  "flag_cleared",
  "ratio_crossed",
  "publisher_stale",
  "signing_failed",
  "onchain_copy_expired",
  "config_invalid",
  "ledger_switched",
  "ledger_superseded",
  "ledger_failed",
  "ledger_stale",
  "dispute_filed",
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/**
 * An http(s) URL whose host is literal; the rest may hold `${NAME}`
 * placeholders filled from Worker secrets at delivery (Slack and Discord
 * webhook URLs are credentials and belong in secrets, not in git).
 */
const webhookUrl = z
  .string()
  .max(2000)
  .regex(
    /^https?:\/\/[^/?#\s${}]+(?:[/?#]\S*)?$/,
    "must be an http(s) URL with a literal host (${NAME} placeholders only after the host)",
  );

const secretName = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must be an UPPER_SNAKE_CASE secret name");

/** Generic JSON, signed: `X-Solvent-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + body)`. */
const webhookDestination = z.strictObject({
  kind: z.literal("webhook"),
  url: webhookUrl,
  /** Name of the Worker secret holding the HMAC key (never the key itself). */
  secret: secretName,
});

/** A Slack incoming webhook (`{ text, blocks }`). */
const slackDestination = z.strictObject({ kind: z.literal("slack"), url: webhookUrl });

/** A Discord webhook (`{ content, embeds }`). */
const discordDestination = z.strictObject({ kind: z.literal("discord"), url: webhookUrl });

export const alertDestinationSchema = z.discriminatedUnion("kind", [
  webhookDestination,
  slackDestination,
  discordDestination,
]);

/**
 * Optional per issuer: where to send alerts and which ones. Every alert is
 * stored and listed at `GET /v1/issuers/{issuer}/alerts` whether or not a
 * destination takes it.
 */
export const alertsSchema = z.strictObject({
  destinations: z.array(alertDestinationSchema).max(10, "at most 10 destinations per issuer"),
  /** `ratio_crossed` when ratioBps passes one of these, either way, between two consecutive attestations. */
  ratioThresholdsBps: z
    .array(z.number().int().min(0).max(4_294_967_295))
    .max(20)
    .default([])
    .refine((t) => new Set(t).size === t.length, "thresholds must be distinct"),
  /** The events sent; default all. */
  events: z
    .array(z.enum(ALERT_EVENTS))
    .min(1, "list at least one event, or leave `alerts` out")
    .default([...ALERT_EVENTS])
    .refine((e) => new Set(e).size === e.length, "events must be distinct"),
});

export type AlertsConfig = z.output<typeof alertsSchema>;
export type AlertDestinationConfig = z.output<typeof alertDestinationSchema>;
