import { raiseFlag } from "./flags.js";
import type { FlagRule } from "./valuation/riskFlags.js";

/**
 * SPEC §6 bit 11: DISPUTED while a valid SPEC §12 dispute stands against the
 * attested ledger, i.e. one was stored for an asOf at or after the ledger's
 * own. The publisher reads the standing disputes with the ledger
 * (worker/disputes/disputeStore.ts); a ledger with a newer asOf clears it.
 */
export const disputed: FlagRule = ({ issuer, readings }) => {
  const ledger = readings.ledger;
  const standing = ledger?.disputes;
  if (ledger === null || standing === undefined || standing.count === 0) return null;
  const kinds = [
    standing.absent > 0 ? `${standing.absent} omitting a receipt holder` : null,
    standing.balanceDiffers > 0 ? `${standing.balanceDiffers} showing other balances than a receipt` : null,
  ].filter((k) => k !== null);
  return raiseFlag(
    "DISPUTED",
    `${standing.count} valid dispute${standing.count === 1 ? "" : "s"} (${kinds.join(", ")}) stand against ledger ${ledger.ledgerId} (asOf ${ledger.asOf}); ` +
      `listed at /v1/issuers/${issuer.id}/disputes, until a ledger with a newer asOf is attested`,
  );
};
