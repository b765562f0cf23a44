import { keccak256 } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { attestationToJson, issuerKey, nextAttestation, signAttestation } from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";

/** A signed sequence-1 attestation of `issuerId` committing to a liabilities root and the exact report bytes. */
export async function attestLedger(
  signer: PrivateKeyAccount,
  issuerId: string,
  liabilitiesRoot: Hex,
  report: Uint8Array,
) {
  const attestation = nextAttestation(null, {
    issuer: issuerKey(issuerId),
    observedAt: 1_700_000_100n,
    validUntil: 1_700_003_700n,
    reservesUsd: 1n,
    onchainReservesUsd: 1n,
    offchainReservesUsd: 0n,
    liabilitiesUsd: 1n,
    ratioBps: 10000,
    reservesRoot: `0x${"11".repeat(32)}`,
    liabilitiesRoot,
    flags: 0n,
    reportHash: keccak256(report),
  });
  return { attestation: attestationToJson(attestation), signature: await signAttestation(attestation, signer) };
}
