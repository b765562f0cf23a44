/**
 * The relayer end to end: attestations published in workerd are put on the
 * demo world's SolvencyOracle on anvil by the relay queue consumer, and the
 * contract refuses a forged one. Only this file relays (see vitest.workerd.config.ts).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { attestationFromJson, issuerKey, signAttestation } from "../../core/attestation.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import { DEMO_MARKET_POLICY } from "../../scripts/demo/world.js";
import worker from "../../worker/index.js";
import type { Env } from "../../worker/env.js";
import { publishTick } from "../../worker/publisher/publishTick.js";
import { handleRelayBatch, relayRetryDelaySeconds } from "../../worker/relayer/queueConsumer.js";
import { solvencyOracleAbi } from "../../worker/relayer/oracleAbi.js";

const testEnv = env as unknown as Env & { TEST_WORLD: string };
const world = JSON.parse(testEnv.TEST_WORLD) as { rpcUrl: string; chainId: number; contracts: Record<string, Address>; config: unknown };
const config = parseConfig(world.config);
const oracle = world.contracts.oracle!;
const chain = defineChain({
  id: world.chainId,
  name: "anvil",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [world.rpcUrl] } },
});
const client = createPublicClient({ chain, transport: http(world.rpcUrl) });
const now = () => BigInt(Math.floor(Date.now() / 1000));
/** The pool's SOLVENT_CONFIG has no relayers (see vitest.workerd.config.ts); this file runs the Worker with the world's own. */
const relayEnv: Env = { ...testEnv, SOLVENT_CONFIG: JSON.stringify(world.config) };
const fetchWorker = (path: string) => worker.fetch(new Request(`http://solvent.test${path}`), relayEnv, createExecutionContext());

/** Runs the Worker's queue handler on one relay message, as the Queue would. */
async function relay(issuerId: string, sequence: string, attempts = 1) {
  const batch = createMessageBatch("solvent-relays", [
    { id: `relay-${issuerId}-${sequence}-${attempts}`, timestamp: new Date(), attempts, body: { kind: "relay", issuerId, sequence } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, relayEnv);
  return getQueueResult(batch, ctx);
}

async function relayerStatus(issuerId: string) {
  return (await (await fetchWorker(`/v1/issuers/${issuerId}/relayer`)).json()) as {
    configured: boolean;
    attempts: { sequence: string; status: string; reason: string; txHash: string | null }[];
  };
}

async function latestSigned(issuerId: string) {
  return (await (await exports.default.fetch(`http://solvent.test/v1/issuers/${issuerId}/attestations/latest`)).json()) as {
    attestation: Record<string, string>;
    signature: Hex;
    digest: Hex;
  };
}

describe("relaying attestations to the SolvencyOracle", () => {
  it("queues a relay after publishing and puts the attestation on-chain", async () => {
    const outcome = await publishTick({ env: relayEnv, config, issuerId: "demo-stable", now: now() });
    expect(outcome).toMatchObject({ published: true, relay: "queued" });
    const signed = await latestSigned("demo-stable");

    const result = await relay("demo-stable", signed.attestation.sequence!);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await client.readContract({ address: oracle, abi: solvencyOracleAbi, functionName: "latestSequence", args: [issuerKey("demo-stable")] })).toBe(
      BigInt(signed.attestation.sequence!),
    );
    const onchain = await client.readContract({ address: oracle, abi: solvencyOracleAbi, functionName: "latest", args: [issuerKey("demo-stable")] });
    expect(onchain.reservesUsd.toString()).toBe(signed.attestation.reservesUsd);
    expect(onchain.reportHash).toBe(signed.attestation.reportHash);
    expect(onchain.ratioBps.toString()).toBe(signed.attestation.ratioBps);

    const status = await relayerStatus("demo-stable");
    expect(status.configured).toBe(true);
    expect(status.attempts.some((a) => a.sequence === signed.attestation.sequence && a.status === "submitted" && a.txHash)).toBe(true);
  });

  it("names the chain and the issuer's ReserveFeed, for readers to find the on-chain copy", async () => {
    const res = await fetchWorker("/v1/issuers/demo/relayer");
    const status = (await res.json()) as { chainId: number; chainName?: string; oracle: string; feed?: string };
    expect(status).toMatchObject({ chainId: world.chainId, chainName: "anvil (demo)", oracle, feed: world.contracts.feed });
    // demo-stable has no feed deployed: the field is absent, not null or a guess.
    expect("feed" in ((await (await fetchWorker("/v1/issuers/demo-stable/relayer")).json()) as object)).toBe(false);
  });

  it("skips an attestation that changes nothing before the heartbeat", async () => {
    await publishTick({ env: relayEnv, config, issuerId: "demo-stable", now: now() });
    const signed = await latestSigned("demo-stable");
    const before = await client.readContract({ address: oracle, abi: solvencyOracleAbi, functionName: "latestSequence", args: [issuerKey("demo-stable")] });
    await relay("demo-stable", signed.attestation.sequence!);
    const status = await relayerStatus("demo-stable");
    const mine = status.attempts.find((a) => a.sequence === signed.attestation.sequence);
    // ratio, flags unchanged and the heartbeat (300 s) not due: no gas spent
    expect(mine).toMatchObject({ status: "skipped" });
    expect(mine!.reason).toMatch(/no change|already holds/);
    expect(await client.readContract({ address: oracle, abi: solvencyOracleAbi, functionName: "latestSequence", args: [issuerKey("demo-stable")] })).toBe(before);
  });

  it("retries with backoff when the chain cannot be reached, and logs why", async () => {
    const signed = await latestSigned("demo-stable");
    const deadChains = config.chains.map((c) => ({ ...c, rpcUrls: ["http://127.0.0.1:9"] }));
    const batch = createMessageBatch("solvent-relays", [
      { id: "relay-dead", timestamp: new Date(), attempts: 1, body: { kind: "relay", issuerId: "demo-stable", sequence: signed.attestation.sequence! } },
    ]);
    const ctx = createExecutionContext();
    // the consumer, with a configuration whose only RPC refuses connections
    await handleRelayBatch(batch, { ...relayEnv, SOLVENT_CONFIG: JSON.stringify({ ...(world.config as object), chains: deadChains }) });
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toHaveLength(1);
    // (the pool does not report the delay it was given; the backoff schedule itself:)
    expect([1, 2, 3, 4, 10].map(relayRetryDelaySeconds)).toEqual([15, 30, 60, 120, 600]);
    const status = await relayerStatus("demo-stable");
    expect(status.attempts[0]).toMatchObject({ sequence: signed.attestation.sequence, status: "failed" });
    expect(status.attempts[0]!.reason).toMatch(/reading the oracle failed/);
  });

  it("the oracle refuses a forged attestation, and isHealthy agrees with the HTTP gate", async () => {
    const signed = await latestSigned("demo-stable");
    const attestation = attestationFromJson(signed.attestation);
    const impostor = privateKeyToAccount("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");
    const forged = await signAttestation({ ...attestation, sequence: attestation.sequence + 100n }, impostor);
    const wallet = createWalletClient({ account: impostor, chain, transport: http(world.rpcUrl) });
    await expect(
      client.simulateContract({
        address: oracle,
        abi: solvencyOracleAbi,
        functionName: "submit",
        args: [{ ...attestation, sequence: attestation.sequence + 100n }, forged],
        account: wallet.account,
      }),
    ).rejects.toThrow(/UnauthorizedSigner/);

    const { minRatioBps, maxAgeSeconds, denyFlags } = DEMO_MARKET_POLICY;
    const healthy = await client.readContract({
      address: oracle,
      abi: solvencyOracleAbi,
      functionName: "isHealthy",
      args: [issuerKey("demo-stable"), minRatioBps, BigInt(maxAgeSeconds), denyFlags],
    });
    const gate = (await (
      await exports.default.fetch(
        `http://solvent.test/v1/issuers/demo-stable/gate?minRatioBps=${minRatioBps}&maxAgeSeconds=${maxAgeSeconds}&denyFlags=${denyFlags}`,
      )
    ).json()) as { allow: boolean; sequence: string };
    // the gate judges the latest attestation; the oracle the latest relayed one — same verdict for this policy
    expect(healthy).toBe(gate.allow);
    expect(healthy).toBe(true);
  });
});
