import { createApp } from "./api/app.js";
import type { Env } from "./env.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "./ledger/queueConsumer.js";
import { publishAll } from "./publisher/publishAll.js";
import { handleRelayBatch } from "./relayer/queueConsumer.js";

export { IssuerPublisher } from "./publisher/issuerPublisher.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    // Awaited, so the cron invocation ends (and is reported) when every issuer has published or said why not.
    for (const result of await publishAll(env)) console.log("tick", JSON.stringify(result));
  },
  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    if (batch.queue.startsWith("solvent-relays")) await handleRelayBatch(batch, env);
    else await handleLedgerBuild(batch as MessageBatch<LedgerBuildMessage>, env);
  },
} satisfies ExportedHandler<Env, unknown>;
