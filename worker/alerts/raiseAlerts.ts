import type { AlertsConfig } from "../../core/config/alertsSchema.js";
import type { Env } from "../env.js";
import { type DeliveryRecord, insertAlert, recordDeliveries, type StoredAlert } from "./alertStore.js";
import { type DestinationLabel, destinationLabel } from "./destinations.js";
import type { AlertDraft } from "./detectAlerts.js";

/**
 * One queue message per (alert, destination). The destination is named by
 * its index in the issuer's `alerts.destinations` plus its kind and host, so
 * the consumer can tell when the configuration changed under it; the URL
 * itself never travels (it may hold a token).
 */
export interface AlertMessage extends DestinationLabel {
  kind: "webhook" | "slack" | "discord";
  type: "alert";
  alertId: number;
  issuerId: string;
  destination: number;
}

export function isAlertMessage(body: unknown): body is AlertMessage {
  if (typeof body !== "object" || body === null) return false;
  const m = body as Record<string, unknown>;
  return (
    m.type === "alert" &&
    Number.isSafeInteger(m.alertId) &&
    typeof m.issuerId === "string" &&
    Number.isSafeInteger(m.destination) &&
    (m.kind === "webhook" || m.kind === "slack" || m.kind === "discord") &&
    typeof m.host === "string"
  );
}

/**
 * Stores each new event (a duplicate of a stored one is dropped) and queues
 * one delivery per destination. Returns the alerts stored now. A queue that
 * refuses the messages is recorded as a failed delivery; the alert stays
 * stored and listed.
 */
export async function raiseAlerts(
  env: Pick<Env, "DB" | "ALERT_QUEUE">,
  issuerId: string,
  config: AlertsConfig,
  drafts: readonly AlertDraft[],
  now: number,
): Promise<StoredAlert[]> {
  const wanted = drafts.filter((d) => config.events.includes(d.event));
  const stored: StoredAlert[] = [];
  for (const draft of wanted) {
    const alert = await insertAlert(env.DB, issuerId, draft, now);
    if (alert) stored.push(alert);
  }
  const messages: AlertMessage[] = stored.flatMap((alert) =>
    config.destinations.map((destination, index) => ({
      type: "alert" as const,
      alertId: alert.id,
      issuerId,
      destination: index,
      ...destinationLabel(destination),
    })),
  );
  if (messages.length === 0) return stored;
  const record = (m: AlertMessage, status: DeliveryRecord["status"], reason: string): DeliveryRecord => ({
    alertId: m.alertId,
    destination: m.destination,
    kind: m.kind,
    host: m.host,
    attempt: 0,
    status,
    httpStatus: null,
    reason,
    at: now,
  });
  await recordDeliveries(
    env.DB,
    messages.map((m) => record(m, "queued", "queued")),
  );
  // sendBatch takes at most 100 messages.
  let sent = 0;
  try {
    for (; sent < messages.length; sent += 100) {
      await env.ALERT_QUEUE.sendBatch(
        messages.slice(sent, sent + 100).map((body) => ({ body, contentType: "json" as const })),
      );
    }
  } catch (e) {
    const reason = `could not be queued: ${e instanceof Error ? e.message : String(e)}`;
    console.error(`alerts of ${issuerId}`, reason);
    await recordDeliveries(
      env.DB,
      messages.slice(sent).map((m) => record(m, "failed", reason)),
    );
  }
  return stored;
}
