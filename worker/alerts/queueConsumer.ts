import type { AlertDestinationConfig, AlertEvent } from "../../core/config/alertsSchema.js";
import { salvageAlertTargets } from "../config/configInvalid.js";
import { configState } from "../config/loadConfig.js";
import type { Env } from "../env.js";
import { alertById, type DeliveryRecord, recordDeliveries } from "./alertStore.js";
import { destinationLabel, destinationUrl, redactUrl, webhookSecret } from "./destinations.js";
import { alertBody, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "./formatAlert.js";
import { type AlertMessage, isAlertMessage } from "./raiseAlerts.js";

/** wrangler.toml gives the alert consumer max_retries = 6: the first delivery and six retries, then the dead-letter queue. */
export const ALERT_MAX_ATTEMPTS = 7;
/** A destination gets this long to answer. */
export const ALERT_TIMEOUT_MS = 10_000;
/** Queues accept delays up to 12 hours. */
const MAX_DELAY_SECONDS = 43_200;

/** 30 s, 60 s, 120 s … doubling per attempt, capped at one hour. */
export function alertRetryDelaySeconds(attempts: number): number {
  return Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));
}

/** What one delivery attempt came to. */
type Delivery =
  | { status: "delivered"; httpStatus: number; reason: string }
  /** Worth retrying: a non-2xx answer, a timeout, a refused connection, a missing secret. */
  | { status: "retry"; httpStatus: number | null; reason: string; retryAfterSeconds: number | null }
  /** Never deliverable: the alert or the destination is gone. */
  | { status: "drop"; reason: string };

/**
 * Delivers each queued (alert, destination): 2xx is delivered; anything else
 * is retried with exponential backoff (longer when the destination sends
 * Retry-After), and after the last attempt recorded as failed and left to the
 * dead-letter queue. Every attempt is appended to `alert_deliveries`.
 */
export async function handleAlertBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  fetchFn: typeof fetch = fetch,
): Promise<void> {
  const destinations = alertDestinations(env);
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!isAlertMessage(message.body)) {
        console.error("alert: malformed message", message.id);
        message.ack();
        return;
      }
      const body = message.body;
      const attempt = message.attempts;
      let result: Delivery;
      try {
        result = await deliverAlert(env, destinations, body, fetchFn);
      } catch (e) {
        result = {
          status: "retry",
          httpStatus: null,
          reason: e instanceof Error ? e.message : String(e),
          retryAfterSeconds: null,
        };
      }
      const last = attempt >= ALERT_MAX_ATTEMPTS;
      const status: DeliveryRecord["status"] =
        result.status === "delivered" ? "delivered" : result.status === "retry" && !last ? "retrying" : "failed";
      await recordDeliveries(env.DB, [
        {
          alertId: body.alertId,
          destination: body.destination,
          kind: body.kind,
          host: body.host,
          attempt,
          status,
          httpStatus: result.status === "drop" ? null : result.httpStatus,
          reason:
            last && result.status === "retry" ? `${result.reason}; gave up after ${attempt} attempts` : result.reason,
          at: Math.floor(Date.now() / 1000),
        },
      ]).catch((e: unknown) =>
        console.error("alert: recording the delivery failed", body.alertId, (e as Error).message),
      );
      if (result.status === "retry")
        console.error(
          "alert delivery failed",
          body.issuerId,
          body.alertId,
          body.kind,
          body.host,
          attempt,
          result.reason,
        );
      if (result.status === "delivered" || result.status === "drop") message.ack();
      else if (last)
        message.retry(); // past max_retries: the queue moves it to the dead-letter queue
      else
        message.retry({
          delaySeconds: Math.min(
            MAX_DELAY_SECONDS,
            Math.max(alertRetryDelaySeconds(attempt), result.retryAfterSeconds ?? 0),
          ),
        });
    }),
  );
}

type DestinationsOf = (issuerId: string, event: AlertEvent) => readonly AlertDestinationConfig[] | undefined;

/**
 * An issuer's alert destinations, from the configuration. While the
 * configuration cannot be used, only `config_invalid` alerts are delivered,
 * to the destinations still readable from the broken text (see
 * worker/config/configInvalid.ts); others wait in the queue's retries.
 */
function alertDestinations(env: Env): DestinationsOf {
  const state = configState(env);
  if (state.ok) return (issuerId) => state.config.issuers.find((i) => i.id === issuerId)?.alerts?.destinations;
  const salvaged = new Map(salvageAlertTargets(state.text).map((t) => [t.issuerId, t.alerts?.destinations]));
  return (issuerId, event) => {
    if (event !== "config_invalid") throw new Error("the configuration is invalid; delivery waits until it is fixed");
    return salvaged.get(issuerId);
  };
}

/** One attempt to deliver one alert to one destination. */
async function deliverAlert(
  env: Env,
  destinations: DestinationsOf,
  message: AlertMessage,
  fetchFn: typeof fetch,
): Promise<Delivery> {
  const alert = await alertById(env.DB, message.alertId);
  if (!alert || alert.issuerId !== message.issuerId)
    return { status: "drop", reason: `alert ${message.alertId} of ${message.issuerId} is not stored` };
  const destination = destinations(message.issuerId, alert.event)?.[message.destination];
  const label = destination && destinationLabel(destination);
  if (!destination || label?.kind !== message.kind || label.host !== message.host) {
    return {
      status: "drop",
      reason: `destination ${message.destination} (${message.kind} ${message.host}) is no longer configured`,
    };
  }
  const url = destinationUrl(destination, env);
  const body = alertBody(destination.kind, alert);
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Solvent-Alerts/1" };
  if (destination.kind === "webhook") {
    const timestamp = Math.floor(Date.now() / 1000);
    headers[TIMESTAMP_HEADER] = String(timestamp);
    headers[SIGNATURE_HEADER] = await signWebhook(webhookSecret(destination.secret, env), timestamp, body);
    headers["X-Solvent-Alert-Id"] = String(alert.id);
    headers["X-Solvent-Event"] = alert.event;
  }
  let response: Response;
  try {
    // No redirects: a signed body goes to the configured host or nowhere.
    response = await fetchFn(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(ALERT_TIMEOUT_MS),
    });
  } catch (e) {
    const why =
      e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")
        ? `no answer within ${ALERT_TIMEOUT_MS} ms`
        : (e as Error).message;
    return {
      status: "retry",
      httpStatus: null,
      reason: redactUrl(`request failed: ${why}`, url),
      retryAfterSeconds: null,
    };
  }
  const answer = redactUrl((await response.text().catch(() => "")).slice(0, 200), url);
  if (response.status >= 200 && response.status < 300)
    return { status: "delivered", httpStatus: response.status, reason: `HTTP ${response.status}` };
  const retryAfter = Number(response.headers.get("retry-after"));
  return {
    status: "retry",
    httpStatus: response.status,
    reason: `HTTP ${response.status}${answer ? `: ${answer}` : ""}`,
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : null,
  };
}
