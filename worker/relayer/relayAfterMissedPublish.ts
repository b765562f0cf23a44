import type { SolventConfig } from "../../core/config/schema.js";
import { relayMarginSeconds } from "../../core/relayPolicy.js";
import { loadConfig } from "../config/loadConfig.js";
import type { Env } from "../env.js";
import type { FanOutResult } from "../publisher/publishAll.js";
import { attestationBySequence, latestAttestation } from "../storage/attestationStore.js";
import type { RelayMessage } from "./relayAttestation.js";
import { lastSubmittedRelay, slowestRecentRelaySeconds } from "./relayStore.js";

/**
 * A relay is normally queued by a publish. When a tick publishes nothing (a
 * source down, a refused valuation), the latest attestation may have been
 * skipped while the copy on-chain, per the relay log, is now within the
 * expiry margin: queue the latest again so it replaces the copy before it
 * expires. The consumer reads the chain and decides; this only saves it a
 * read every minute when nothing is due. Never throws; returns the issuers queued.
 */
export async function relayAfterMissedPublish(
  env: Env,
  results: readonly FanOutResult[],
  now: number,
  config?: SolventConfig,
): Promise<string[]> {
  let loaded: SolventConfig;
  try {
    loaded = config ?? loadConfig(env);
  } catch {
    return []; // the fan-out has already reported the configuration problem
  }
  const missed = results.filter((r) => !("outcome" in r && r.outcome.published)).map((r) => r.issuerId);
  const queued: string[] = [];
  for (const issuer of loaded.issuers.filter((i) => i.relayer && missed.includes(i.id))) {
    try {
      const latest = await latestAttestation(env.DB, issuer.id);
      if (!latest || latest.attestation.validUntil < BigInt(now)) continue;
      const last = await lastSubmittedRelay(env.DB, issuer.id);
      if (last && last.sequence >= latest.attestation.sequence) continue;
      const onchain = last && (await attestationBySequence(env.DB, issuer.id, last.sequence));
      const margin = relayMarginSeconds(issuer.relayer!, await slowestRecentRelaySeconds(env.DB, issuer.id));
      if (onchain && onchain.attestation.validUntil - BigInt(now) > BigInt(margin)) continue;
      await env.RELAY_QUEUE.send({
        kind: "relay",
        issuerId: issuer.id,
        sequence: latest.attestation.sequence.toString(),
      } satisfies RelayMessage);
      queued.push(issuer.id);
    } catch (e) {
      console.error(
        `relay of ${issuer.id} after a missed publish not queued`,
        e instanceof Error ? e.message : String(e),
      );
    }
  }
  return queued;
}
