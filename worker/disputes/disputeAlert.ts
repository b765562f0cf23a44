import type { IssuerConfig } from "../../core/config/schema.js";
import type { DisputeSummary } from "../../core/dispute.js";
import type { AlertDraft } from "../alerts/detectAlerts.js";
import { raiseAlerts } from "../alerts/raiseAlerts.js";
import type { Env } from "../env.js";

/** The `dispute_filed` alert of a newly stored dispute (one per receipt: the dedupe key is the receipt digest). */
export function disputeAlert(issuerId: string, d: DisputeSummary): AlertDraft {
  const what =
    d.kind === "absent"
      ? "omits a user the issuer signed a balance receipt for"
      : `lists a receipt holder with other balances (${d.differences.map((x) => `${x.asset}: receipt ${x.receipt}, ledger ${x.ledger}`).join("; ")})`;
  return {
    event: "dispute_filed",
    severity: "critical",
    dedupeKey: `dispute_filed:${d.id}`,
    sequence: d.sequence,
    title: `${issuerId}: valid dispute against ledger ${d.ledgerId}`,
    text:
      `A valid dispute was filed: ledger ${d.ledgerId} (asOf ${d.asOf}, attestation ${d.sequence}) ${what}. ` +
      `DISPUTED is set on ${issuerId}'s attestations until a ledger with a newer asOf is attested. The bundle is listed at /v1/issuers/${issuerId}/disputes.`,
    details: {
      dispute: d.id,
      kind: d.kind,
      commitment: d.commitment,
      asOf: d.asOf.toString(),
      ledgerId: d.ledgerId,
      sequence: d.sequence.toString(),
    },
  };
}

/** Stores and queues the alert when the issuer has alerts configured; a failure is logged, never undoes the stored dispute. */
export async function raiseDisputeAlert(
  env: Pick<Env, "DB" | "ALERT_QUEUE">,
  issuer: IssuerConfig,
  d: DisputeSummary,
  now: number,
): Promise<void> {
  if (!issuer.alerts) return;
  try {
    await raiseAlerts(env, issuer.id, issuer.alerts, [disputeAlert(issuer.id, d)], now);
  } catch (e) {
    console.error(`dispute_filed alert of ${issuer.id} could not be raised`, e);
  }
}
