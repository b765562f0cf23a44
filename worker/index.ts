import { createApp } from "./api/app.js";
import type { Env } from "./env.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "./ledger/queueConsumer.js";
import { publishAll } from "./publisher/publishAll.js";

export { IssuerPublisher } from "./publisher/issuerPublisher.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    // Awaited, so the cron invocation ends (and is reported) when every issuer has published or said why not.
    for (const result of await publishAll(env)) console.log("tick", JSON.stringify(result));
  },
  async queue(batch: MessageBatch<LedgerBuildMessage>, env: Env): Promise<void> {
    await handleLedgerBuild(batch, env);
  },
} satisfies ExportedHandler<Env, LedgerBuildMessage>;
