/**
 * The relayer end to end: attestations published in workerd are put on the
 * demo world's SolvencyOracle on anvil by the relay queue consumer, and the
 * contract refuses a forged one. Only this file relays (see vitest.workerd.config.ts).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { type Address, createPublicClient, createWalletClient, defineChain, type Hex, http, parseAbi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { type Attestation, attestationFromJson, issuerKey, signAttestation } from "../../core/attestation.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import { gateReasons } from "../../core/gatePolicy.js";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { DEMO_MARKET_POLICY, demoCustodianStatement } from "../../scripts/demo/world.js";
import { watchOnchainCopies } from "../../worker/alerts/watchOnchainCopies.js";
import type { Env } from "../../worker/env.js";
import worker from "../../worker/index.js";
import { publishTick } from "../../worker/publisher/publishTick.js";
import { solvencyOracleAbi } from "../../worker/relayer/oracleAbi.js";
import { handleRelayBatch, relayRetryDelaySeconds } from "../../worker/relayer/queueConsumer.js";
import { relayAfterMissedPublish } from "../../worker/relayer/relayAfterMissedPublish.js";
import { recentRelayAttempts } from "../../worker/relayer/relayStore.js";

const testEnv = env as unknown as Env & { TEST_WORLD: string };
const world = JSON.parse(testEnv.TEST_WORLD) as {
  rpcUrl: string;
  chainId: number;
  contracts: Record<string, Address>;
  config: unknown;
};
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
const fetchWorker = (path: string) =>
  worker.fetch(new Request(`http://solvent.test${path}`), relayEnv, createExecutionContext());

/** Runs the Worker's queue handler on one relay message, as the Queue would. */
async function relay(issuerId: string, sequence: string, attempts = 1) {
  const batch = createMessageBatch("solvent-relays", [
    {
      id: `relay-${issuerId}-${sequence}-${attempts}`,
      timestamp: new Date(),
      attempts,
      body: { kind: "relay", issuerId, sequence },
    },
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
  return (await (
    await exports.default.fetch(`http://solvent.test/v1/issuers/${issuerId}/attestations/latest`)
  ).json()) as {
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
    expect(
      await client.readContract({
        address: oracle,
        abi: solvencyOracleAbi,
        functionName: "latestSequence",
        args: [issuerKey("demo-stable")],
      }),
    ).toBe(BigInt(signed.attestation.sequence!));
    const onchain = await client.readContract({
      address: oracle,
      abi: solvencyOracleAbi,
      functionName: "latest",
      args: [issuerKey("demo-stable")],
    });
    expect(onchain.reservesUsd.toString()).toBe(signed.attestation.reservesUsd);
    expect(onchain.reportHash).toBe(signed.attestation.reportHash);
    expect(onchain.ratioBps.toString()).toBe(signed.attestation.ratioBps);

    const status = await relayerStatus("demo-stable");
    expect(status.configured).toBe(true);
    expect(
      status.attempts.some((a) => a.sequence === signed.attestation.sequence && a.status === "submitted" && a.txHash),
    ).toBe(true);
  });

  it("names the chain and the issuer's ReserveFeed, for readers to find the on-chain copy", async () => {
    const res = await fetchWorker("/v1/issuers/demo/relayer");
    const status = (await res.json()) as { chainId: number; chainName?: string; oracle: string; feed?: string };
    expect(status).toMatchObject({
      chainId: world.chainId,
      chainName: "anvil (demo)",
      oracle,
      feed: world.contracts.feed,
    });
    // demo-stable has no feed deployed: the field is absent, not null or a guess.
    expect("feed" in ((await (await fetchWorker("/v1/issuers/demo-stable/relayer")).json()) as object)).toBe(false);
  });

  it("skips an attestation that changes nothing before the heartbeat", async () => {
    await publishTick({ env: relayEnv, config, issuerId: "demo-stable", now: now() });
    const signed = await latestSigned("demo-stable");
    const before = await client.readContract({
      address: oracle,
      abi: solvencyOracleAbi,
      functionName: "latestSequence",
      args: [issuerKey("demo-stable")],
    });
    await relay("demo-stable", signed.attestation.sequence!);
    const status = await relayerStatus("demo-stable");
    const mine = status.attempts.find((a) => a.sequence === signed.attestation.sequence);
    // ratio, flags unchanged and the heartbeat (300 s) not due: no gas spent
    expect(mine).toMatchObject({ status: "skipped" });
    expect(mine!.reason).toMatch(/no change|already holds/);
    expect(
      await client.readContract({
        address: oracle,
        abi: solvencyOracleAbi,
        functionName: "latestSequence",
        args: [issuerKey("demo-stable")],
      }),
    ).toBe(before);
  });

  it("retries with backoff when the chain cannot be reached, and logs why", async () => {
    const signed = await latestSigned("demo-stable");
    const deadChains = config.chains.map((c) => ({ ...c, rpcUrls: ["http://127.0.0.1:9"] }));
    const batch = createMessageBatch("solvent-relays", [
      {
        id: "relay-dead",
        timestamp: new Date(),
        attempts: 1,
        body: { kind: "relay", issuerId: "demo-stable", sequence: signed.attestation.sequence! },
      },
    ]);
    const ctx = createExecutionContext();
    // the consumer, with a configuration whose only RPC refuses connections
    await handleRelayBatch(batch, {
      ...relayEnv,
      SOLVENT_CONFIG: JSON.stringify({ ...(world.config as object), chains: deadChains }),
    });
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

/**
 * A quiet period longer than the TTL on a chain of its own (globalSetup's
 * second anvil), whose clock this file moves forward. The Worker is driven
 * on the same clock: publishTick takes `now`, and the relayer takes the later
 * of its own clock and the chain's. Ratio and flags never change, and there is
 * no heartbeat, so only the expiry margin can keep the copy valid.
 */
describe("a quiet period longer than the TTL", () => {
  const quietWorld = JSON.parse((testEnv as unknown as { TEST_RELAY_WORLD: string }).TEST_RELAY_WORLD) as typeof world;
  // No heartbeat: the copy is refreshed only because it would expire.
  const quietConfigJson = {
    ...(quietWorld.config as { issuers: Record<string, unknown>[] }),
    issuers: (quietWorld.config as { issuers: { relayer?: Record<string, unknown> }[] }).issuers.map((i) => {
      const { heartbeatSeconds: _drop, ...relayer } = i.relayer!;
      return { ...i, relayer, alerts: { destinations: [], events: ["onchain_copy_expired"] } };
    }),
  };
  const quietConfig = parseConfig(quietConfigJson);
  const quietEnv: Env = { ...testEnv, SOLVENT_CONFIG: JSON.stringify(quietConfigJson) };
  const quietOracle = quietWorld.contracts.oracle!;
  const market = quietWorld.contracts.market!;
  const quietChain = defineChain({
    ...chain,
    id: quietWorld.chainId,
    rpcUrls: { default: { http: [quietWorld.rpcUrl] } },
  });
  const quietClient = createPublicClient({ chain: quietChain, transport: http(quietWorld.rpcUrl) });
  const marketAbi = parseAbi(["function frozenReasons() view returns (uint256)"]);
  const EXPIRED_BIT = 1n << 1n;
  const ttl = BigInt(quietConfig.issuers.find((i) => i.id === "demo")!.policy.ttlSeconds);

  const chainNow = async () => (await quietClient.getBlock({ blockTag: "latest" })).timestamp;
  const advance = async (seconds: number) => {
    await quietClient.request({ method: "evm_increaseTime" as never, params: [seconds] as never });
    await quietClient.request({ method: "evm_mine" as never, params: [] as never });
  };
  const quietFetch = (path: string, init?: RequestInit) =>
    worker.fetch(new Request(`http://solvent.test${path}`, init), quietEnv, createExecutionContext());
  const copyOnChain = () =>
    quietClient.readContract({
      address: quietOracle,
      abi: solvencyOracleAbi,
      functionName: "latest",
      args: [issuerKey("demo")],
    });
  const relayQuiet = async (sequence: bigint) => {
    const batch = createMessageBatch("solvent-relays", [
      {
        id: `quiet-${sequence}`,
        timestamp: new Date(),
        attempts: 1,
        body: { kind: "relay", issuerId: "demo", sequence: sequence.toString() },
      },
    ]);
    await worker.queue(batch, quietEnv);
  };

  /** What a lender on-chain and a lender over HTTP see at the chain's current time: they must agree on expiry. */
  async function checkAgreement(
    latest: Attestation,
    seen: { checks: number; expiredWhileFresher: number; frozenExpiredWhileGateAllows: number },
  ) {
    const now = await chainNow();
    const onchain = await copyOnChain();
    const frozen = await quietClient.readContract({ address: market, abi: marketAbi, functionName: "frozenReasons" });
    const gateAllows =
      gateReasons(
        latest,
        {
          minRatioBps: BigInt(DEMO_MARKET_POLICY.minRatioBps),
          maxAgeSeconds: BigInt(DEMO_MARKET_POLICY.maxAgeSeconds),
          denyFlags: DEMO_MARKET_POLICY.denyFlags,
        },
        now,
      ).length === 0;
    seen.checks++;
    if (
      onchain.sequence > 0n &&
      onchain.validUntil < now &&
      latest.sequence > onchain.sequence &&
      latest.validUntil >= now
    )
      seen.expiredWhileFresher++;
    if ((frozen & EXPIRED_BIT) !== 0n && gateAllows) seen.frozenExpiredWhileGateAllows++;
  }

  it("keeps the on-chain copy valid for 2.5 TTLs without a change, relaying only for expiry", async () => {
    // A quiet anvil mines no blocks: bring its clock up to the Worker's before it leads.
    const lag = Number(now() - (await chainNow()));
    if (lag >= 0) await advance(lag + 1);
    const start = await chainNow();
    const post = (path: string, body: string, type: string, method = "POST") =>
      quietFetch(path, {
        method,
        headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, "content-type": type },
        body,
      });
    expect(
      (
        await post(
          "/v1/admin/issuers/demo/statements",
          JSON.stringify(await demoCustodianStatement(start)),
          "application/json",
        )
      ).status,
    ).toBe(201);
    expect((await post("/v1/admin/issuers/demo/ledger", demoLedgerCsv(demoUsers(50)), "text/csv", "PUT")).status).toBe(
      201,
    );

    const seen = { checks: 0, expiredWhileFresher: 0, frozenExpiredWhileGateAllows: 0 };
    const published: Attestation[] = [];
    const ticks = Math.ceil((Number(ttl) * 5) / 2 / 60);
    for (let k = 0; k < ticks; k++) {
      const outcome = await publishTick({
        env: quietEnv,
        config: quietConfig,
        issuerId: "demo",
        now: await chainNow(),
      });
      expect(outcome, `tick ${k}: ${"reason" in outcome ? outcome.reason : ""}`).toMatchObject({
        published: true,
        relay: "queued",
      });
      const latest = attestationFromJson(
        (
          (await (await quietFetch("/v1/issuers/demo/attestations/latest")).json()) as {
            attestation: Record<string, string>;
          }
        ).attestation,
      );
      published.push(latest);
      await checkAgreement(latest, seen);
      await relayQuiet(latest.sequence);
      await checkAgreement(latest, seen);
      // the last second before the next tick, then the tick
      await advance(59);
      await checkAgreement(latest, seen);
      await advance(1);
    }
    // quiet: one ratio, one set of flags throughout
    expect(new Set(published.map((a) => `${a.ratioBps}/${a.flags}`)).size).toBe(1);
    expect(published.at(-1)!.observedAt - published[0]!.observedAt).toBeGreaterThan(2n * ttl);
    expect(seen).toEqual({ checks: 3 * ticks, expiredWhileFresher: 0, frozenExpiredWhileGateAllows: 0 });

    const status = (await (await quietFetch("/v1/issuers/demo/relayer")).json()) as { marginSeconds: number };
    const submitted = (await recentRelayAttempts(testEnv.DB, "demo", 100)).filter((a) => a.status === "submitted");
    // the first relay, then one per (ttl - margin) or so — never one per tick
    expect(submitted.length).toBeGreaterThanOrEqual(3);
    expect(submitted.length).toBeLessThan(ticks / 4);
    expect(
      submitted
        .slice(0, -1)
        .every((a) => /^expiry: the on-chain #\d+ expires in \d+ s, within the 120 s margin/.test(a.reason)),
    ).toBe(true);
    expect(status.marginSeconds).toBe(120);
  }, 300_000);

  it("shows the on-chain copy's remaining validity, from the chain, or from the relay log when the chain cannot be read", async () => {
    const onchain = await copyOnChain();
    const status = (await (await quietFetch("/v1/issuers/demo/relayer")).json()) as {
      onchain: Record<string, unknown>;
    };
    // nothing is mined between these reads, and the chain's clock is ahead of the Worker's
    const now = await chainNow();
    expect(status.onchain).toEqual({
      source: "chain",
      sequence: onchain.sequence.toString(),
      observedAt: Number(onchain.observedAt),
      validUntil: Number(onchain.validUntil),
      remainingSeconds: Number(onchain.validUntil - now),
      expired: false,
    });
    const dead = {
      ...quietConfigJson,
      chains: (quietConfigJson as unknown as { chains: object[] }).chains.map((c) => ({
        ...c,
        rpcUrls: ["http://127.0.0.1:9"],
      })),
    };
    const res = await worker.fetch(
      new Request("http://solvent.test/v1/issuers/demo/relayer"),
      { ...quietEnv, SOLVENT_CONFIG: JSON.stringify(dead) },
      createExecutionContext(),
    );
    const fallback = ((await res.json()) as { onchain: Record<string, unknown> }).onchain;
    expect(fallback).toMatchObject({
      source: "relayLog",
      sequence: onchain.sequence.toString(),
      observedAt: Number(onchain.observedAt),
      validUntil: Number(onchain.validUntil),
      chainError: expect.any(String),
    });
  });

  it("alerts once when the copy expires while a fresher attestation is published, and a missed publish re-queues the latest", async () => {
    // The relayer stops (nothing is relayed) while publishing goes on past the copy's validUntil.
    const onchain = await copyOnChain();
    await advance(Number(onchain.validUntil - (await chainNow())) + 1);
    const outcome = await publishTick({ env: quietEnv, config: quietConfig, issuerId: "demo", now: await chainNow() });
    if (!outcome.published) throw new Error(`publishing failed: ${outcome.reason}`);
    const latest = BigInt(outcome.sequence);
    const now = Number(await chainNow());
    const [alert, ...rest] = await watchOnchainCopies(quietEnv, now, quietConfig);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      event: "onchain_copy_expired",
      severity: "critical",
      details: {
        onchainSequence: onchain.sequence.toString(),
        validUntil: onchain.validUntil.toString(),
        expiredSeconds: String(now - Number(onchain.validUntil)),
        oracle: quietOracle,
      },
    });
    expect(alert!.text).toContain(`still holds attestation ${onchain.sequence} of demo`);
    expect(await watchOnchainCopies(quietEnv, now + 60, quietConfig)).toEqual([]);

    // a tick that published nothing queues the latest for the relayer, since the copy is past its margin
    const sent: unknown[] = [];
    const capture = {
      ...quietEnv,
      RELAY_QUEUE: { send: async (body: unknown) => void sent.push(body) } as unknown as Queue<unknown>,
    };
    const missed = [
      {
        issuerId: "demo",
        outcome: {
          published: false as const,
          issuerId: "demo",
          code: "NOT_PUBLISHED" as const,
          reason: "a source is down",
        },
      },
    ];
    expect(await relayAfterMissedPublish(capture, missed, now, quietConfig)).toEqual(["demo"]);
    expect(sent).toEqual([{ kind: "relay", issuerId: "demo", sequence: latest.toString() }]);
    // relayed, the copy is fresh again and nothing more is queued
    await relayQuiet(latest);
    expect((await copyOnChain()).sequence).toBe(latest);
    expect(await relayAfterMissedPublish(capture, missed, now, quietConfig)).toEqual([]);
  });
});
