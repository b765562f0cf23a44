/**
 * Ledger lifecycle alerts (README "Alerts"):
 *
 * - `ledger_switched`: an attestation names a different ledger than the one before;
 * - `ledger_stale`: an attestation raises LIABILITIES_STALE for its ledger (once per ledger);
 * - `ledger_superseded`: a build completed for an asOf no newer than the
 *   current ledger's, so it is never attested;
 * - `ledger_failed`: a ledger ended failed (refused rows, a build that gave up,
 *   an upload abandoned or never completed).
 *
 * The first two are detected after a publish (afterPublish.ts); the last two by
 * the cron, which looks back LEDGER_ALERT_WINDOW_SECONDS (the alert store keeps
 * each one once, so a ledger alerts once however many ticks see it).
 */
import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import { hasFlag } from "../../core/flags.js";
import { isoSeconds } from "../../core/time.js";
import { loadConfig } from "../config/loadConfig.js";
import type { Env } from "../env.js";
import { latestCompleteLedger } from "../ledger/ledgerLifecycle.js";
import { type EndedLedger, endedLedgers, getLedger } from "../ledger/ledgerStore.js";
import type { StoredAttestation } from "../storage/attestationStore.js";
import type { StoredAlert } from "./alertStore.js";
import type { AlertDraft } from "./detectAlerts.js";
import { raiseAlerts } from "./raiseAlerts.js";

/** How far back the cron looks for ledgers that ended superseded or failed. */
export const LEDGER_ALERT_WINDOW_SECONDS = 2 * 86400;

const when = (seconds: number) => `${isoSeconds(seconds)} (${seconds})`;

/** `ledger_switched` and `ledger_stale` of attestation `next` against the one before it. */
export async function ledgerChangeAlerts(
  db: D1Database,
  issuerId: string,
  previous: StoredAttestation | null,
  next: StoredAttestation,
  staleReason: string | null,
): Promise<AlertDraft[]> {
  const out: AlertDraft[] = [];
  const sequence = next.attestation.sequence;
  if (next.ledgerId === null) return out;
  const ledger = await getLedger(db, next.ledgerId);
  const asOf = ledger?.asOf ?? null;
  if (previous !== null && previous.ledgerId !== next.ledgerId) {
    const before = previous.ledgerId === null ? null : await getLedger(db, previous.ledgerId);
    out.push({
      event: "ledger_switched",
      severity: "info",
      dedupeKey: `ledger_switched:${sequence}`,
      sequence,
      title: `${issuerId}: attestations now name ledger ${next.ledgerId}`,
      text:
        `Attestation ${sequence} of ${issuerId} names ledger ${next.ledgerId}` +
        (asOf === null ? "" : ` (balances as of ${when(asOf)}, ${ledger!.rows} users)`) +
        `; attestation ${previous.attestation.sequence} named ${previous.ledgerId ?? "no ledger"}` +
        (before ? ` (as of ${when(before.asOf)}, ${before.rows} users).` : "."),
      details: {
        ledgerId: next.ledgerId,
        asOf: asOf === null ? null : String(asOf),
        previousLedgerId: previous.ledgerId,
        previousAsOf: before ? String(before.asOf) : null,
        sequence: sequence.toString(),
      },
    });
  }
  if (hasFlag(next.attestation.flags, "LIABILITIES_STALE")) {
    out.push({
      event: "ledger_stale",
      severity: "warning",
      dedupeKey: `ledger_stale:${next.ledgerId}`,
      sequence,
      title: `${issuerId}: ledger ${next.ledgerId} is stale`,
      text:
        `Attestation ${sequence} of ${issuerId} raises LIABILITIES_STALE` +
        (staleReason ? `: ${staleReason}.` : ".") +
        " Upload a ledger with current balances (with its asOf) to clear it.",
      details: {
        ledgerId: next.ledgerId,
        asOf: asOf === null ? null : String(asOf),
        reason: staleReason,
        sequence: sequence.toString(),
      },
    });
  }
  return out;
}

/** The alert of a ledger that ended superseded or failed; `current` is the issuer's current ledger now. */
export function endedLedgerAlert(
  issuerId: string,
  ended: EndedLedger,
  current: { ledgerId: string; asOf: number } | null,
): AlertDraft {
  if (ended.status === "superseded") {
    return {
      event: "ledger_superseded",
      severity: "warning",
      dedupeKey: `ledger_superseded:${ended.ledgerId}`,
      sequence: null,
      title: `${issuerId}: ledger ${ended.ledgerId} superseded, never attested`,
      text:
        `Ledger ${ended.ledgerId} of ${issuerId} (balances as of ${when(ended.asOf)}, ${ended.rows} users) finished building at ${isoSeconds(ended.endedAt)}, ` +
        `but a ledger at least as new was already complete` +
        (current ? ` (current: ${current.ledgerId}, as of ${when(current.asOf)})` : "") +
        `. It will never be attested. If its balances are the ones to publish, upload them again with a newer asOf.`,
      details: {
        ledgerId: ended.ledgerId,
        asOf: String(ended.asOf),
        currentLedgerId: current?.ledgerId ?? null,
        currentAsOf: current ? String(current.asOf) : null,
      },
    };
  }
  return {
    event: "ledger_failed",
    severity: "warning",
    dedupeKey: `ledger_failed:${ended.ledgerId}`,
    sequence: null,
    title: `${issuerId}: ledger ${ended.ledgerId} failed`,
    text:
      `Ledger ${ended.ledgerId} of ${issuerId} (balances as of ${when(ended.asOf)}) failed at ${isoSeconds(ended.endedAt)}: ${ended.reason ?? "no reason recorded"}. ` +
      (current
        ? `Attestations keep naming ${current.ledgerId} (as of ${when(current.asOf)}).`
        : "The issuer has no complete ledger yet.") +
      " Check the ledger's status route, fix the cause and upload again.",
    details: {
      ledgerId: ended.ledgerId,
      asOf: String(ended.asOf),
      reason: ended.reason,
      currentLedgerId: current?.ledgerId ?? null,
    },
  };
}

/**
 * The cron's look at ledgers that ended superseded or failed recently, for
 * every issuer with a user ledger and alerts. Never throws; returns the alerts
 * stored now (each ledger alerts once).
 */
export async function watchLedgers(env: Env, now: number, config?: SolventConfig): Promise<StoredAlert[]> {
  let watched: IssuerConfig[];
  try {
    watched = (config ?? loadConfig(env)).issuers.filter(
      (i) => i.liabilities.ledger && i.alerts?.events.some((e) => e === "ledger_superseded" || e === "ledger_failed"),
    );
  } catch (e) {
    console.error("ledger alerts: no configuration", e instanceof Error ? e.message : String(e));
    return [];
  }
  const raised = await Promise.all(
    watched.map(async (issuer) => {
      try {
        const ended = await endedLedgers(env.DB, issuer.id, now - LEDGER_ALERT_WINDOW_SECONDS);
        if (ended.length === 0) return [];
        const current = await latestCompleteLedger(env.DB, issuer.id);
        const drafts = ended.map((e) => endedLedgerAlert(issuer.id, e, current));
        return await raiseAlerts(env, issuer.id, issuer.alerts!, drafts, now);
      } catch (e) {
        console.error(`ledger alerts of ${issuer.id} failed`, e instanceof Error ? e.message : String(e));
        return [];
      }
    }),
  );
  return raised.flat();
}
