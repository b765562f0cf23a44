import { watchStaleness } from "./alerts/afterPublish.js";
import { watchLedgers } from "./alerts/ledgerAlerts.js";
import { handleAlertBatch } from "./alerts/queueConsumer.js";
import { watchOnchainCopies } from "./alerts/watchOnchainCopies.js";
import { createApp } from "./api/app.js";
import { reportConfigInvalid } from "./config/configInvalid.js";
import { configState } from "./config/loadConfig.js";
import type { Env } from "./env.js";
import { handleLedgerBuild, type LedgerBuildMessage } from "./ledger/queueConsumer.js";
import { sweepLedgers } from "./ledger/sweepLedgers.js";
import { publishAll } from "./publisher/publishAll.js";
import { handleRelayBatch } from "./relayer/queueConsumer.js";
import { relayAfterMissedPublish } from "./relayer/relayAfterMissedPublish.js";

export { IssuerPublisher } from "./publisher/issuerPublisher.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller: ScheduledController, env: Env): Promise<void> {
    // Awaited, so the cron invocation ends (and is reported) when every issuer has published or said why not.
    // The stale-publisher watchdog runs beside the fan-out: a hung publisher must not hold it up.
    // The ledger sweep resumes stalled builds and fails abandoned uploads; superseded and failed ledgers alert.
    const now = Math.floor(controller.scheduledTime / 1000);
    // A configuration that cannot be used publishes nothing: the tick only logs it and raises config_invalid.
    const config = configState(env);
    if (!config.ok) {
      await reportConfigInvalid(env, config, now);
      return;
    }
    // The on-chain watchdog reads each relaying issuer's oracle for a copy that expired under a fresher attestation.
    const [results, stale, ledgers, onchain, ledgerAlerts] = await Promise.all([
      publishAll(env),
      watchStaleness(env, now),
      sweepLedgers(env, { now }).catch((e: unknown) => {
        console.error("ledger sweep", e);
        return { resumed: [], failed: [] };
      }),
      watchOnchainCopies(env, now),
      watchLedgers(env, now),
    ]);
    for (const result of results) console.log("tick", JSON.stringify(result));
    for (const alert of [...stale, ...onchain, ...ledgerAlerts])
      console.log("alert", alert.issuerId, alert.event, alert.id);
    // A tick that published nothing still gets the latest attestation on-chain before the copy there expires.
    for (const issuerId of await relayAfterMissedPublish(env, results, now))
      console.log("relay queued after a missed publish", issuerId);
    if (ledgers.resumed.length + ledgers.failed.length > 0) console.log("ledger sweep", JSON.stringify(ledgers));
  },
  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    if (batch.queue.startsWith("solvent-relays")) await handleRelayBatch(batch, env);
    else if (batch.queue.startsWith("solvent-alerts")) await handleAlertBatch(batch, env);
    else await handleLedgerBuild(batch as MessageBatch<LedgerBuildMessage>, env);
  },
} satisfies ExportedHandler<Env, unknown>;
