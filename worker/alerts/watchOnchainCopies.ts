import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import { loadConfig } from "../config/loadConfig.js";
import type { Env } from "../env.js";
import { readOnchainCopy } from "../relayer/onchainCopy.js";
import { createChainClient, describeRpcError } from "../sources/chainClient.js";
import { latestAttestation } from "../storage/attestationStore.js";
import type { StoredAlert } from "./alertStore.js";
import { onchainCopyExpiredAlert } from "./detectAlerts.js";
import { raiseAlerts } from "./raiseAlerts.js";

/**
 * The on-chain watchdog, run by the cron tick beside the stale-publisher one:
 * for each issuer that relays and wants `onchain_copy_expired`, reads the
 * oracle's copy and raises the alert when it has expired while a fresher
 * attestation is published (see onchainCopyExpiredAlert). A chain that cannot
 * be read is logged and skipped. Never throws; returns the alerts stored now.
 */
export async function watchOnchainCopies(env: Env, now: number, config?: SolventConfig): Promise<StoredAlert[]> {
  let loaded: SolventConfig;
  try {
    loaded = config ?? loadConfig(env);
  } catch (e) {
    console.error("on-chain watchdog: no configuration", e instanceof Error ? e.message : String(e));
    return [];
  }
  const watched = loaded.issuers.filter((i) => i.relayer && i.alerts?.events.includes("onchain_copy_expired"));
  const raised = await Promise.all(
    watched.map(async (issuer) => {
      try {
        return await watchIssuer(env, loaded, issuer, BigInt(now));
      } catch (e) {
        console.error(`on-chain watchdog of ${issuer.id} failed`, e instanceof Error ? e.message : describeRpcError(e));
        return [];
      }
    }),
  );
  return raised.flat();
}

async function watchIssuer(env: Env, config: SolventConfig, issuer: IssuerConfig, now: bigint): Promise<StoredAlert[]> {
  const relayer = issuer.relayer!;
  const chain = config.chains.find((c) => c.chainId === relayer.chainId);
  if (!chain) return [];
  const latest = await latestAttestation(env.DB, issuer.id);
  if (!latest) return [];
  const copy = await readOnchainCopy(createChainClient(chain, env), relayer.oracle, issuer.id);
  if (!copy.state) return [];
  const clock = copy.chainTime > now ? copy.chainTime : now;
  const draft = onchainCopyExpiredAlert(issuer.id, relayer, copy.state, latest.attestation, clock);
  return draft ? raiseAlerts(env, issuer.id, issuer.alerts!, [draft], Number(now)) : [];
}
