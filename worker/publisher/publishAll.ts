import { loadConfig } from "../config/loadConfig.js";
import type { Env } from "../env.js";
import { publisherFor } from "./issuerPublisher.js";
import type { PublishOutcome } from "./publishTick.js";

export type FanOutResult = { issuerId: string; outcome: PublishOutcome } | { issuerId: string; error: string };

/**
 * The cron tick: asks every configured issuer's publisher object to publish.
 * The work itself runs in the objects, in parallel; the cron handler only
 * fans out and waits, so it stays far below its CPU limit.
 */
export async function publishAll(env: Env): Promise<FanOutResult[]> {
  const config = loadConfig(env);
  return Promise.all(
    config.issuers.map(async ({ id }): Promise<FanOutResult> => {
      try {
        return { issuerId: id, outcome: await publisherFor(env, id).publish(id) };
      } catch (e) {
        return { issuerId: id, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}
