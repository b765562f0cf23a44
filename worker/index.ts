import { handleAlertBatch } from "./alerts/queueConsumer.js";
import { watchStaleness } from "./alerts/afterPublish.js";
import { createApp } from "./api/app.js";
import type { Env } from "./env.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "./ledger/queueConsumer.js";
import { publishAll } from "./publisher/publishAll.js";
import { handleRelayBatch } from "./relayer/queueConsumer.js";

export { IssuerPublisher } from "./publisher/issuerPublisher.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller: ScheduledController, env: Env): Promise<void> {
    // Awaited, so the cron invocation ends (and is reported) when every issuer has published or said why not.
    // The stale-publisher watchdog runs beside the fan-out: a hung publisher must not hold it up.
    const [results, stale] = await Promise.all([publishAll(env), watchStaleness(env, Math.floor(controller.scheduledTime / 1000))]);
    for (const result of results) console.log("tick", JSON.stringify(result));
    for (const alert of stale) console.log("alert", alert.issuerId, alert.event, alert.id);
  },
  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    if (batch.queue.startsWith("solvent-relays")) await handleRelayBatch(batch, env);
    else if (batch.queue.startsWith("solvent-alerts")) await handleAlertBatch(batch, env);
    else await handleLedgerBuild(batch as MessageBatch<LedgerBuildMessage>, env);
  },
} satisfies ExportedHandler<Env, unknown>;
