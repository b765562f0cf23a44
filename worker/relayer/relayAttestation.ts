import {
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  defineChain,
  fallback,
  getAddress,
  type Hex,
  http,
} from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { Attestation } from "../../core/attestation.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { relayDecision, relayMarginSeconds } from "../../core/relayPolicy.js";
import { privateKeySecret } from "../config/secrets.js";
import type { Env } from "../env.js";
import { createChainClient, describeRpcError, resolveRpcUrls } from "../sources/chainClient.js";
import { attestationBySequence } from "../storage/attestationStore.js";
import { type OnchainCopy, readOnchainCopy } from "./onchainCopy.js";
import { solvencyOracleAbi } from "./oracleAbi.js";
import { type RelayAttempt, recordRelayAttempt, slowestRecentRelaySeconds } from "./relayStore.js";

/** The body of one relay queue message. */
export interface RelayMessage {
  kind: "relay";
  issuerId: string;
  /** Decimal string: queue bodies are structured-cloned, bigints travel as text. */
  sequence: string;
}

export function isRelayMessage(body: unknown): body is RelayMessage {
  const b = body as Partial<RelayMessage> | null;
  return (
    typeof b === "object" &&
    b !== null &&
    b.kind === "relay" &&
    typeof b.issuerId === "string" &&
    typeof b.sequence === "string" &&
    /^[1-9][0-9]*$/.test(b.sequence)
  );
}

/** Worth another try later (RPC trouble, a dropped transaction) — the queue retries with backoff. */
export class RetryableRelayError extends Error {
  override readonly name = "RetryableRelayError";
}

export type RelayResult = Pick<RelayAttempt, "status" | "reason" | "txHash" | "gasUsed">;

/**
 * Puts attestation `sequence` of `issuerId` on the issuer's SolvencyOracle
 * when the relay policy says it is worth it. Every outcome is appended to the
 * relay log. Throws RetryableRelayError when a later attempt may succeed; a
 * retry reads the chain afresh, so it gets a fresh nonce and fresh fees.
 */
export async function relayAttestation(params: {
  env: Env;
  config: SolventConfig;
  issuerId: string;
  sequence: bigint;
  attempt: number;
  now: bigint;
}): Promise<RelayResult> {
  const { env, config, issuerId, sequence, attempt, now } = params;
  const issuer = config.issuers.find((i) => i.id === issuerId);
  const relayer = issuer?.relayer;
  const base = {
    issuerId,
    sequence,
    attempt,
    at: Number(now),
    chainId: relayer?.chainId ?? 0,
    oracle: relayer?.oracle ?? "",
  };
  const finish = async (result: RelayResult): Promise<RelayResult> => {
    await recordRelayAttempt(env.DB, { ...base, ...result });
    return result;
  };
  const fail = (reason: string) => finish({ status: "failed", reason, txHash: null, gasUsed: null });
  const skip = (reason: string) => finish({ status: "skipped", reason, txHash: null, gasUsed: null });

  if (!issuer || !relayer) return skip(`issuer "${issuerId}" has no relayer configured`);
  const chain = config.chains.find((c) => c.chainId === relayer.chainId);
  if (!chain) return fail(`relayer chain ${relayer.chainId} is not in chains`);
  let account: PrivateKeyAccount;
  try {
    account = privateKeySecret(env, relayer.keySecret);
  } catch (e) {
    // The same rule and sentence as GET /health (worker/config/secrets.ts), never the key.
    return fail(`the relayer key: ${(e as Error).message}`);
  }
  const stored = await attestationBySequence(env.DB, issuerId, sequence);
  if (!stored) return fail(`attestation #${sequence} of ${issuerId} is not stored`);
  const a = stored.attestation;
  const oracle = getAddress(relayer.oracle);

  const client = createChainClient(chain, env);
  let copy: OnchainCopy;
  try {
    copy = await readOnchainCopy(client, oracle, issuerId);
  } catch (e) {
    await fail(`reading the oracle failed: ${describeRpcError(e)}`);
    throw new RetryableRelayError(`reading the oracle failed: ${describeRpcError(e)}`);
  }
  // The contract judges expiry by block.timestamp: use it when it runs ahead of ours.
  const clock = copy.chainTime > now ? copy.chainTime : now;
  const marginSeconds = relayMarginSeconds(relayer, await slowestRecentRelaySeconds(env.DB, issuerId));
  const decision = relayDecision(copy.state, a, clock, { ...relayer, marginSeconds });
  if (!decision.relay) return skip(decision.why);

  const rpcUrls = resolveRpcUrls(chain, env);
  const wallet = createWalletClient({
    account,
    chain: defineChain({
      id: chain.chainId,
      name: chain.name ?? `chain ${chain.chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: rpcUrls } },
    }),
    transport: fallback(rpcUrls.map((url) => http(url, { timeout: chain.timeoutMs }))),
  });
  const args = [toOracleStruct(a), stored.signature] as const;
  try {
    // Simulate first: a refusal comes back as the contract's named error, and costs nothing.
    await client.simulateContract({ address: oracle, abi: solvencyOracleAbi, functionName: "submit", args, account });
  } catch (e) {
    const named = revertName(e);
    if (named === "StaleSequence") return skip(`the oracle already holds a newer attestation (${describeRpcError(e)})`);
    if (named) return fail(`the oracle refuses #${sequence}: ${named} (${describeRpcError(e)})`);
    await fail(`simulating submit failed: ${describeRpcError(e)}`);
    throw new RetryableRelayError(`simulating submit failed: ${describeRpcError(e)}`);
  }
  let hash: Hex;
  try {
    hash = await wallet.writeContract({ address: oracle, abi: solvencyOracleAbi, functionName: "submit", args });
  } catch (e) {
    await fail(`sending the transaction failed: ${describeRpcError(e)}`);
    throw new RetryableRelayError(`sending the transaction failed: ${describeRpcError(e)}`);
  }
  try {
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 120_000 });
    if (receipt.status !== "success") return fail(`transaction ${hash} reverted`);
    return finish({ status: "submitted", reason: decision.why, txHash: hash, gasUsed: receipt.gasUsed });
  } catch (e) {
    await finish({
      status: "failed",
      reason: `no receipt for ${hash}: ${describeRpcError(e)}`,
      txHash: hash,
      gasUsed: null,
    });
    throw new RetryableRelayError(`no receipt for ${hash}`);
  }
}

function toOracleStruct(a: Attestation) {
  return {
    issuer: a.issuer,
    sequence: a.sequence,
    previous: a.previous,
    observedAt: a.observedAt,
    validUntil: a.validUntil,
    reservesUsd: a.reservesUsd,
    onchainReservesUsd: a.onchainReservesUsd,
    offchainReservesUsd: a.offchainReservesUsd,
    liabilitiesUsd: a.liabilitiesUsd,
    ratioBps: a.ratioBps,
    reservesRoot: a.reservesRoot,
    liabilitiesRoot: a.liabilitiesRoot,
    flags: a.flags,
    reportHash: a.reportHash,
  };
}

function revertName(e: unknown): string | null {
  if (!(e instanceof BaseError)) return null;
  const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? (reverted.data?.errorName ?? null) : null;
}
