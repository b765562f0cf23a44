import { loadConfig } from "../config/loadConfig.js";
import type { Env } from "../env.js";
import { isRelayMessage, type RelayMessage, RetryableRelayError, relayAttestation } from "./relayAttestation.js";

export const RELAY_MAX_ATTEMPTS = 5;

/** 15 s, 30 s, 60 s, 120 s … capped at 10 minutes. */
export function relayRetryDelaySeconds(attempts: number): number {
  return Math.min(600, 15 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Relays each queued attestation. Runs apart from publishing, so a slow or
 * failing chain never delays an attestation; transient failures are retried
 * with backoff (each retry with a fresh nonce and fresh fees), and after the
 * last attempt the message goes to the dead-letter queue.
 */
export async function handleRelayBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = loadConfig(env);
  for (const message of batch.messages) {
    if (!isRelayMessage(message.body)) {
      console.error("relay: malformed message", message.id);
      message.ack();
      continue;
    }
    const body: RelayMessage = message.body;
    try {
      const result = await relayAttestation({
        env,
        config,
        issuerId: body.issuerId,
        sequence: BigInt(body.sequence),
        attempt: message.attempts,
        now: BigInt(Math.floor(Date.now() / 1000)),
      });
      console.log("relay", body.issuerId, body.sequence, result.status, result.reason);
      message.ack();
    } catch (e) {
      if (e instanceof RetryableRelayError && message.attempts < RELAY_MAX_ATTEMPTS) {
        message.retry({ delaySeconds: relayRetryDelaySeconds(message.attempts) });
      } else {
        console.error("relay gave up", body.issuerId, body.sequence, (e as Error).message);
        message.retry();
      }
    }
  }
}
