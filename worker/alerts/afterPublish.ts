import { keccak256, toHex } from "viem";
import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import { loadConfig } from "../config/loadConfig.js";
import { signingAccount } from "../config/secrets.js";
import type { Env } from "../env.js";
import type { PublishedFacts, PublishOutcome } from "../publisher/publishTick.js";
import { latestAttestation, type StoredAttestation } from "../storage/attestationStore.js";
import { getReport } from "../storage/reportStore.js";
import type { StoredAlert } from "./alertStore.js";
import {
  type AlertDraft,
  type AttestationFacts,
  flagAlerts,
  ratioAlerts,
  signingFailedAlert,
  staleAlert,
} from "./detectAlerts.js";
import { ledgerChangeAlerts } from "./ledgerAlerts.js";
import { raiseAlerts } from "./raiseAlerts.js";

/**
 * What one publish attempt ended with: its outcome with what the publisher
 * computed when it published (publishTickWithFacts), or the exception it
 * threw. A published outcome without its facts raises no change alerts.
 */
export type PublishAttempt = { outcome: PublishOutcome; published?: PublishedFacts | null } | { error: unknown };

export interface AlertAfterPublishDeps {
  env: Env;
  config: SolventConfig;
  issuerId: string;
  attempt: PublishAttempt;
  /** Unix seconds of the attempt. */
  now: number;
}

/**
 * Detects the alerts of one publish attempt (IssuerPublisher.publish calls it
 * once the attempt is over) and stores and queues them. Never throws: the
 * attestation is already committed or refused, and alerting must not change
 * that. Returns the alerts stored now.
 */
export async function alertAfterPublish({
  env,
  config,
  issuerId,
  attempt,
  now,
}: AlertAfterPublishDeps): Promise<StoredAlert[]> {
  try {
    const issuer = config.issuers.find((i) => i.id === issuerId);
    if (!issuer?.alerts) return [];
    const drafts = await detect(env, issuer, attempt);
    return await raiseAlerts(env, issuerId, issuer.alerts, drafts, now);
  } catch (e) {
    console.error(`alerts after publishing ${issuerId} failed`, e instanceof Error ? e.message : String(e));
    return [];
  }
}

async function detect(env: Env, issuer: IssuerConfig, attempt: PublishAttempt): Promise<AlertDraft[]> {
  const events = issuer.alerts?.events ?? [];
  if ("outcome" in attempt && attempt.outcome.published) {
    if (
      !events.some(
        (e) =>
          e === "flag_raised" ||
          e === "flag_cleared" ||
          e === "ratio_crossed" ||
          e === "ledger_switched" ||
          e === "ledger_stale",
      )
    )
      return [];
    return changeAlerts(env, issuer, attempt.published ?? null);
  }
  if (!events.includes("signing_failed")) return [];
  // A refused publish is about signing only when it is MISCONFIGURED (SIGNING_KEY) and the key indeed cannot sign.
  const refused = "outcome" in attempt && !attempt.outcome.published ? attempt.outcome : null;
  if (refused && refused.code !== "MISCONFIGURED") return [];
  const failure = await signingFailure(env, "error" in attempt ? attempt.error : null);
  if (failure === null) return [];
  const latest = await latestAttestation(env.DB, issuer.id);
  return [
    signingFailedAlert(issuer.id, latest?.attestation.sequence ?? 0n, redactKeys(refused?.reason ?? failure, env)),
  ];
}

/** Flag and ratio changes between the new attestation and the one before it. */
async function changeAlerts(env: Env, issuer: IssuerConfig, published: PublishedFacts | null): Promise<AlertDraft[]> {
  if (!published) return [];
  const { stored: next, previous } = published;
  const changed = next.attestation.flags ^ (previous?.attestation.flags ?? 0n);
  const nextFacts: AttestationFacts = { ...factsOf(next), reasons: published.reasons };
  // Cleared flags take their reasons from the previous report, read only when one was cleared.
  const previousFacts = previous && (await facts(env, previous, (changed & previous.attestation.flags) !== 0n));
  return [
    ...flagAlerts(issuer.id, previousFacts, nextFacts),
    ...ratioAlerts(issuer.id, issuer.alerts?.ratioThresholdsBps ?? [], previousFacts, nextFacts),
    ...(await ledgerChangeAlerts(
      env.DB,
      issuer.id,
      previous,
      next,
      nextFacts.reasons.get("LIABILITIES_STALE") ?? null,
    )),
  ];
}

function factsOf(stored: StoredAttestation): Omit<AttestationFacts, "reasons"> {
  return {
    sequence: stored.attestation.sequence,
    ratioBps: stored.attestation.ratioBps,
    flags: stored.attestation.flags,
  };
}

async function facts(env: Env, stored: StoredAttestation, withReasons: boolean): Promise<AttestationFacts> {
  return { ...factsOf(stored), reasons: withReasons ? await flagReasons(env.BUCKET, stored.reportKey) : new Map() };
}

/** Flag name → reason from a stored SPEC §4 report; empty when the report cannot be read. */
async function flagReasons(bucket: R2Bucket, key: string): Promise<Map<string, string>> {
  try {
    const bytes = await getReport(bucket, key);
    if (!bytes) return new Map();
    const report = JSON.parse(new TextDecoder().decode(bytes)) as { flags?: unknown };
    const flags = Array.isArray(report.flags) ? (report.flags as { name?: unknown; reason?: unknown }[]) : [];
    return new Map(
      flags
        .filter((f) => typeof f.name === "string" && typeof f.reason === "string")
        .map((f) => [f.name as string, f.reason as string]),
    );
  } catch (e) {
    console.error(`report ${key} unreadable for alert reasons`, (e as Error).message);
    return new Map();
  }
}

const PROBE_HASH = keccak256(toHex("solvent alert signing probe"));

/**
 * Whether the publisher cannot sign: the key is missing or malformed, or it
 * fails to sign a fixed digest, or the attempt's exception was thrown while
 * signing. Returns why, or null when signing is not the problem (a refused
 * publish for other reasons alerts nothing here).
 */
async function signingFailure(env: Pick<Env, "SIGNING_KEY">, error: unknown): Promise<string | null> {
  try {
    await signingAccount(env).sign({ hash: PROBE_HASH });
  } catch (e) {
    return redactKeys(e instanceof Error ? e.message : String(e), env);
  }
  if (error instanceof Error && /\bsign(Attestation|TypedData)\b/.test(error.stack ?? "")) {
    return redactKeys(`signing threw: ${error.message}`, env);
  }
  return null;
}

/** Never let a key into an alert: the configured key, and anything shaped like one. */
function redactKeys(text: string, env: Pick<Env, "SIGNING_KEY">): string {
  const key = typeof env.SIGNING_KEY === "string" ? env.SIGNING_KEY.trim() : "";
  const out = key.length >= 16 ? text.split(key).join("[redacted]") : text;
  return out.replace(/(0x)?[0-9a-fA-F]{64}/g, "[redacted]");
}

/**
 * The watchdog, run by the cron tick: an issuer whose latest attestation has
 * expired (validUntil < now) gets one `publisher_stale` alert per episode
 * (see staleAlert). Issuers without alerts, or that never published, are
 * skipped. Never throws; returns the alerts stored now.
 */
export async function watchStaleness(env: Env, now: number, config?: SolventConfig): Promise<StoredAlert[]> {
  let watched: IssuerConfig[];
  try {
    watched = (config ?? loadConfig(env)).issuers.filter((i) => i.alerts?.events.includes("publisher_stale"));
  } catch (e) {
    console.error("stale watchdog: no configuration", e instanceof Error ? e.message : String(e));
    return [];
  }
  const raised = await Promise.all(
    watched.map(async (issuer) => {
      try {
        const latest = await latestAttestation(env.DB, issuer.id);
        const draft = latest && staleAlert(issuer.id, latest.attestation, BigInt(now));
        return draft ? await raiseAlerts(env, issuer.id, issuer.alerts!, [draft], now) : [];
      } catch (e) {
        console.error(`stale watchdog of ${issuer.id} failed`, e instanceof Error ? e.message : String(e));
        return [];
      }
    }),
  );
  return raised.flat();
}
