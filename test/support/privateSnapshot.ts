/**
 * A signed snapshot of a private ledger (SPEC §11), made with the core alone:
 * users with salts, the ledger built from a blinding secret, the report that
 * names its root opening (docs/spec.md §4), a sequence-1 attestation of the
 * report's exact bytes signed by a real key, and the publisher's answers for
 * any commitment (an inclusion proof with fresh range proofs, or a proof of
 * absence).
 */
import { privateKeyToAccount } from "viem/accounts";
import { attestationDigest, attestationFromJson } from "../../core/attestation.js";
import { bytesEqual, bytesToHex, type Hex } from "../../core/bytes.js";
import { userCommitment } from "../../core/liabilities/commitment.js";
import {
  buildPrivateLedger,
  type PrivateAsset,
  type PrivateInclusionProof,
  type PrivateNonInclusionProof,
  privateInclusionProof,
  privateNonInclusionProof,
  scalarToHex,
} from "../../core/liabilities/private/index.js";
import { attestLedger } from "./ledgerAttestation.js";
import { rangeProofEngine } from "./rangeProofs.js";

/** A throwaway publisher key (anvil's account 9): the snapshot's attestation is really signed with it. */
const PUBLISHER = privateKeyToAccount("0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6");
const ASSETS: PrivateAsset[] = [
  { symbol: "USD", decimals: 6, unitDecimals: 6 },
  { symbol: "ETH", decimals: 18, unitDecimals: 9 },
];

export interface PrivateUser {
  userId: string;
  salt: Hex;
  commitment: Uint8Array;
  /** Base units, one per asset. */
  balances: bigint[];
}

export interface PrivateSnapshot {
  issuer: string;
  users: PrivateUser[];
  leafCount: number;
  report: Uint8Array;
  /** The API's attestation answer (`{ attestation, signature, digest, signer, reportUrl }`). */
  answer: { attestation: unknown; signature: Hex; digest: Hex; signer: string; reportUrl: string };
  keys: { keys: { address: string; validFrom: number; validUntil: null }[] };
  /** The inclusion proof of a leaf's commitment (range proofs made now), or the proof of its absence. */
  proofFor(commitment: Uint8Array): Promise<PrivateInclusionProof | { nonInclusion: PrivateNonInclusionProof }>;
}

export async function privateSnapshot(issuer: string, userCount: number, minDepth = 0): Promise<PrivateSnapshot> {
  const users: PrivateUser[] = Array.from({ length: userCount }, (_, i) => {
    const saltBytes = new Uint8Array(16).fill(i + 7);
    const salt = bytesToHex(saltBytes);
    const userId = `user${i + 1}@example.com`;
    return {
      userId,
      salt,
      commitment: userCommitment(saltBytes, userId),
      balances: [BigInt(1_000_000 * (i + 1) + 250_000), 10n ** 17n * BigInt(i + 2)],
    };
  });
  const ledger = buildPrivateLedger({
    ledgerId: `lg_${issuer}`,
    secret: new Uint8Array(32).fill(0x5a),
    assets: ASSETS,
    users: users.map((u) => ({ commitment: u.commitment, balances: u.balances })),
    minDepth,
  });
  const asOf = 1_764_748_800n;
  const report = new TextEncoder().encode(
    JSON.stringify({
      version: 1,
      issuer,
      assets: ASSETS.map((a) => ({ id: a.symbol, decimals: String(a.decimals) })),
      liabilities: {
        root: bytesToHex(ledger.root.hash),
        assets: ASSETS.map((a, k) => ({
          asset: a.symbol,
          amount: String(ledger.totals[k]! * 10n ** BigInt(a.decimals - a.unitDecimals)),
        })),
        ledger: {
          id: ledger.ledgerId,
          asOf: String(asOf),
          leafCount: String(2 ** ledger.depth),
          order: "commitment",
          scheme: "pedersen-ristretto255-v2",
          assets: ASSETS.map((a) => a.symbol),
          unitDecimals: ASSETS.map((a) => a.unitDecimals),
          rootCommitments: ledger.root.encoded.map(bytesToHex),
          totals: ledger.totals.map(String),
          totalBlindings: ledger.totalBlindings.map(scalarToHex),
        },
      },
    }),
  );
  const signed = await attestLedger(PUBLISHER, issuer, bytesToHex(ledger.root.hash), report);
  const engine = await rangeProofEngine();
  return {
    issuer,
    users,
    leafCount: 2 ** ledger.depth,
    report,
    answer: {
      ...signed,
      digest: attestationDigest(attestationFromJson(signed.attestation)),
      signer: PUBLISHER.address,
      reportUrl: `/v1/issuers/${issuer}/reports/1`,
    },
    keys: { keys: [{ address: PUBLISHER.address.toLowerCase(), validFrom: 0, validUntil: null }] },
    async proofFor(commitment) {
      const at = ledger.commitments.findIndex((c) => bytesEqual(c, commitment));
      return at < 0
        ? { nonInclusion: privateNonInclusionProof(ledger, commitment) }
        : privateInclusionProof(ledger, at, engine);
    },
  };
}
