/**
 * Stores a first attestation no honest tick would publish (expired, from the
 * future, with reserved flag bits…) directly in D1, signed by `signer`, so a
 * route can be tested against it: reserves 2M USD against liabilities 1M,
 * zero roots, no report stored.
 */
import type { LocalAccount } from "viem";
import {
  type Attestation,
  attestationDigest,
  issuerKey,
  nextAttestation,
  signAttestation,
  ZERO_HASH,
} from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";
import { insertAttestation } from "../../worker/storage/attestationStore.js";

export async function storeOddAttestation(
  db: D1Database,
  issuerId: string,
  times: { observedAt: bigint; validUntil: bigint; flags: bigint; publishedAt: bigint },
  signer: LocalAccount,
): Promise<Attestation> {
  const attestation = nextAttestation(null, {
    issuer: issuerKey(issuerId),
    observedAt: times.observedAt,
    validUntil: times.validUntil,
    reservesUsd: 2n * 10n ** 24n,
    onchainReservesUsd: 2n * 10n ** 24n,
    offchainReservesUsd: 0n,
    liabilitiesUsd: 10n ** 24n,
    ratioBps: 20000,
    reservesRoot: ZERO_HASH,
    liabilitiesRoot: ZERO_HASH,
    flags: times.flags,
    reportHash: ZERO_HASH,
  });
  await insertAttestation(db, {
    issuerId,
    attestation,
    digest: attestationDigest(attestation),
    signature: await signAttestation(attestation, signer),
    signer: signer.address.toLowerCase() as Hex,
    reportKey: "reports/none",
    reportHash: ZERO_HASH,
    ledgerId: null,
    publishedAt: Number(times.publishedAt),
  });
  return attestation;
}
