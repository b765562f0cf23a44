import { keccak256, toHex } from "viem";
import { type AlertsConfig, alertsSchema } from "../../core/config/alertsSchema.js";
import type { StoredAlert } from "../alerts/alertStore.js";
import type { AlertDraft } from "../alerts/detectAlerts.js";
import { raiseAlerts } from "../alerts/raiseAlerts.js";
import type { Env } from "../env.js";
import type { ConfigState } from "./loadConfig.js";

/**
 * What the deployment does when its configuration cannot be used: publish
 * nothing, answer the public routes 503 without detail, and say what is wrong
 * only where it is safe (the log, GET /health, the authenticated admin
 * routes, and a `config_invalid` alert).
 *
 * The alert has no parsed issuer to belong to, so it is stored once under
 * every issuer id that can still be read from the broken text (a string `id`
 * of the right shape), and delivered to that issuer's destinations when its
 * own `alerts` block still parses on its own and lists `config_invalid`.
 * When no issuer id can be read it is stored under the issuer id `*` and only
 * logged. One alert per distinct configuration text and issuer: the cron's
 * every-minute retries never repeat it.
 */

type Invalid = Extract<ConfigState, { ok: false }>;

/** An issuer id as the schema allows it (core/config/schema.ts). */
const ISSUER_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Deployment-wide alerts (no issuer can be read from the configuration) are stored under this id. */
export const DEPLOYMENT_ALERT_ISSUER = "*";

/**
 * The issuers still named in a configuration that does not parse as a whole,
 * each with its `alerts` block when that block parses alone (else null).
 */
export function salvageAlertTargets(text: string): { issuerId: string; alerts: AlertsConfig | null }[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  const issuers = (json as { issuers?: unknown } | null)?.issuers;
  if (!Array.isArray(issuers)) return [];
  const seen = new Set<string>();
  const out: { issuerId: string; alerts: AlertsConfig | null }[] = [];
  for (const issuer of issuers as unknown[]) {
    const id = (issuer as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || !ISSUER_ID.test(id) || seen.has(id)) continue;
    seen.add(id);
    const alerts = alertsSchema.safeParse((issuer as { alerts?: unknown }).alerts);
    out.push({ issuerId: id, alerts: alerts.success ? alerts.data : null });
  }
  return out;
}

/**
 * The `config_invalid` alert of one broken configuration text. Alerts are
 * listed publicly (GET /v1/issuers/{issuer}/alerts), so it counts the
 * problems without naming them: the paths and reasons are in the log and at
 * GET /health.
 */
export function configInvalidAlert(state: Invalid): AlertDraft {
  const n = state.error.issues.length;
  return {
    event: "config_invalid",
    severity: "critical",
    dedupeKey: `config_invalid:${keccak256(toHex(state.text)).slice(2, 18)}`,
    sequence: null,
    title: "configuration invalid: nothing is published",
    text:
      `The configuration in ${state.source} cannot be used (${n} ${n === 1 ? "problem" : "problems"}), so no issuer is published ` +
      "and the public routes answer 503 until it is fixed. GET /health and the Worker's log list every problem by its JSON path.",
    details: { source: state.source, issueCount: n },
  };
}

let logged: string | undefined;

function logIssues(state: Invalid): void {
  console.error(
    `solvent: the configuration in ${state.source} is invalid; nothing is published: ${state.error.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
  );
}

/** Logs the issues of a broken configuration once per isolate and text (the log is private: paths and reasons are safe there). */
export function logConfigInvalid(state: Invalid): void {
  if (logged === state.text) return;
  logged = state.text;
  logIssues(state);
}

/**
 * The cron's whole work while the configuration is broken: log it and raise
 * `config_invalid` (stored, and delivered where a destination can still be
 * read). Never throws; returns the alerts stored now.
 */
export async function reportConfigInvalid(
  env: Pick<Env, "DB" | "ALERT_QUEUE">,
  state: Invalid,
  now: number,
): Promise<StoredAlert[]> {
  logIssues(state); // every tick: the cron's log is where an operator looks for why nothing was published
  const draft = configInvalidAlert(state);
  const targets = salvageAlertTargets(state.text);
  const storeOnly: AlertsConfig = { destinations: [], ratioThresholdsBps: [], events: ["config_invalid"] };
  const stored: StoredAlert[] = [];
  for (const { issuerId, alerts } of targets.length > 0
    ? targets
    : [{ issuerId: DEPLOYMENT_ALERT_ISSUER, alerts: null }]) {
    try {
      // Stored even when the issuer's alerts leave config_invalid out; delivered only when they list it.
      const deliver = alerts?.events.includes("config_invalid") ? alerts : storeOnly;
      stored.push(...(await raiseAlerts(env, issuerId, deliver, [draft], now)));
    } catch (e) {
      console.error(`config_invalid alert of ${issuerId} failed`, e instanceof Error ? e.message : String(e));
    }
  }
  for (const alert of stored) console.error("alert", alert.issuerId, alert.event, alert.id);
  return stored;
}
