import { getAddress, type PublicClient } from "viem";
import { issuerKey } from "../../core/attestation.js";
import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import type { OnchainState } from "../../core/relayPolicy.js";
import type { Env } from "../env.js";
import { createChainClient, describeRpcError } from "../sources/chainClient.js";
import { attestationBySequence } from "../storage/attestationStore.js";
import { solvencyOracleAbi } from "./oracleAbi.js";
import { lastSubmittedRelay } from "./relayStore.js";

/**
 * The issuer's attestation as the oracle holds it (null: none yet) and the
 * chain's clock: the contract judges expiry by block.timestamp, so callers
 * take the later of it and their own clock.
 */
export interface OnchainCopy {
  state: OnchainState | null;
  chainTime: bigint;
}

/** Reads the oracle's latest attestation of `issuerId` and the head block's timestamp. Throws on RPC failure. */
export async function readOnchainCopy(client: PublicClient, oracle: string, issuerId: string): Promise<OnchainCopy> {
  const [current, head] = await Promise.all([
    client.readContract({
      address: getAddress(oracle),
      abi: solvencyOracleAbi,
      functionName: "latest",
      args: [issuerKey(issuerId)],
    }),
    client.getBlock({ blockTag: "latest" }),
  ]);
  const state =
    current.sequence === 0n
      ? null
      : {
          sequence: current.sequence,
          observedAt: current.observedAt,
          validUntil: current.validUntil,
          ratioBps: current.ratioBps,
          flags: current.flags,
        };
  return { state, chainTime: head.timestamp };
}

/** What `GET …/relayer` says about the copy on-chain. */
export interface OnchainCopyStatus {
  /** chain: read from the oracle now; relayLog: the last attestation this publisher submitted (the chain could not be read). */
  source: "chain" | "relayLog";
  sequence: string | null;
  /** When the copy's data was read (its attestation's observedAt), unix seconds: the copy's age. */
  observedAt: number | null;
  validUntil: number | null;
  /** validUntil minus the later of the chain's and the publisher's clock; negative once expired. */
  remainingSeconds: number | null;
  expired: boolean | null;
  /** Why the chain was not the source. */
  chainError?: string;
}

/**
 * The on-chain copy's remaining validity. The chain is the truth (anyone may
 * relay, and only the contract's clock decides expiry); when it cannot be
 * read, the relay log gives a lower bound: the oracle holds at least what this
 * publisher last submitted, since it only accepts growing sequences.
 */
export async function onchainCopyStatus(
  env: Env,
  config: SolventConfig,
  issuer: IssuerConfig,
  now: bigint,
): Promise<OnchainCopyStatus> {
  const relayer = issuer.relayer!;
  const remaining = (observedAt: bigint, validUntil: bigint, clock: bigint) => {
    const left = Number(validUntil - clock);
    return {
      observedAt: Number(observedAt),
      validUntil: Number(validUntil),
      remainingSeconds: left,
      expired: left < 0,
    };
  };
  const none = { sequence: null, observedAt: null, validUntil: null, remainingSeconds: null, expired: null };
  const chain = config.chains.find((c) => c.chainId === relayer.chainId);
  let chainError = `chain ${relayer.chainId} is not configured`;
  if (chain) {
    try {
      const copy = await readOnchainCopy(createChainClient(chain, env), relayer.oracle, issuer.id);
      if (!copy.state) return { source: "chain", ...none };
      const clock = copy.chainTime > now ? copy.chainTime : now;
      return {
        source: "chain",
        sequence: copy.state.sequence.toString(),
        ...remaining(copy.state.observedAt, copy.state.validUntil, clock),
      };
    } catch (e) {
      chainError = describeRpcError(e);
    }
  }
  const last = await lastSubmittedRelay(env.DB, issuer.id);
  const stored = last && (await attestationBySequence(env.DB, issuer.id, last.sequence));
  if (!stored) return { source: "relayLog", ...none, chainError };
  return {
    source: "relayLog",
    sequence: last.sequence.toString(),
    ...remaining(stored.attestation.observedAt, stored.attestation.validUntil, now),
    chainError,
  };
}
