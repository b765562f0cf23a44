/**
 * A scenario's on-chain world on the shared anvil node: its tokens
 * (DemoToken), Chainlink-style feeds (DemoPriceFeed), v3-style pools
 * (DemoPool) and accounts, deployed from anvil's funded account #0, and the
 * state changes of its BEFORE and AFTER phases (balances by mint/burn, feed
 * answers, pool prices).
 */
import { type Address, type Hex, keccak256, type PublicClient, parseUnits, toHex } from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { demoAccounts, demoClients, isqrt } from "../demo/world.js";
import { type Artifact, deployContract, installMulticall3, loadArtifact } from "../lib/artifacts.js";
import type { Scenario, ScenarioState } from "./format.js";

const FEED_DECIMALS = 8;

export interface Chain {
  rpcUrl: string;
  chainId: number;
  publicClient: PublicClient;
  send(address: Address, abi: Artifact["abi"], functionName: string, args: readonly unknown[]): Promise<void>;
  deploy(artifact: Artifact, args: readonly unknown[]): Promise<Address>;
  artifacts: { token: Artifact; feed: Artifact; pool: Artifact };
}

export interface ScenarioWorld {
  scenario: Scenario;
  accounts: Map<string, PrivateKeyAccount>;
  tokens: Map<string, { address: Address; decimals: number }>;
  feeds: Map<string, Address>;
  pools: Map<string, { address: Address; base: string; quote: string }>;
  /** The answer each feed republishes before every tick, and how old it claims to be. */
  feedState: Map<string, { answer: string; ageSeconds: number }>;
}

/** Connects to anvil, installs Multicall3 and loads the three artifacts the worlds use. */
export async function connectChain(rpcUrl: string): Promise<Chain> {
  const { publicClient: probe } = demoClients(rpcUrl, 31337);
  const chainId = await probe.getChainId();
  const { publicClient, wallet } = demoClients(rpcUrl, chainId);
  await installMulticall3(publicClient, rpcUrl);
  const deployer = wallet(demoAccounts.deployer);
  const [token, feed, pool] = await Promise.all(
    (["DemoToken", "DemoPriceFeed", "DemoPool"] as const).map((n) => loadArtifact(n)),
  );
  return {
    rpcUrl,
    chainId,
    publicClient,
    artifacts: { token: token!, feed: feed!, pool: pool! },
    deploy: (artifact, args) => deployContract(deployer, publicClient, artifact, args),
    async send(address, abi, functionName, args) {
      const hash: Hex = await deployer.writeContract({
        address,
        abi,
        functionName,
        args,
        account: deployer.account,
        chain: deployer.chain,
      });
      const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 });
      if (receipt.status !== "success") throw new Error(`${functionName} on ${address} reverted (tx ${hash})`);
    },
  };
}

/** The key of a scenario's account: derived from the scenario and role, so runs are reproducible and scenarios never share one. */
export function scenarioAccount(scenario: string, role: string): PrivateKeyAccount {
  return privateKeyToAccount(keccak256(toHex(`solvent scenario account:${scenario}:${role}`)));
}

/**
 * sqrtPriceX96 of a pool where one `base` (baseDecimals) costs `price` (a
 * decimal string, may be fractional) of `quote`. Unlike the demo's
 * sqrtPriceX96For it takes fractional prices, and of the roots next to the
 * exact one it picks the one the Worker's reader turns into exactly `price`
 * at 18 decimals (or the nearest), so reports show round numbers.
 */
export function poolSqrtPrice(
  base: Address,
  quote: Address,
  baseDecimals: number,
  quoteDecimals: number,
  price: string,
) {
  const p18 = parseUnits(price, 18);
  const baseIsToken0 = BigInt(base) < BigInt(quote);
  // raw price: token1 base units per token0 base unit, times 2^192
  const num = baseIsToken0 ? p18 * 10n ** BigInt(quoteDecimals) : 10n ** BigInt(baseDecimals) * 10n ** 18n;
  const den = baseIsToken0 ? 10n ** BigInt(baseDecimals) * 10n ** 18n : p18 * 10n ** BigInt(quoteDecimals);
  const scaled = (num << 192n) / den;
  const root = isqrt(scaled);
  // The reader's formula (worker/sources/readOnchainPrices.ts poolPrice18): pick the neighbour root it turns into exactly p18.
  const [d0, d1] = baseIsToken0 ? [baseDecimals, quoteDecimals] : [quoteDecimals, baseDecimals];
  const read = (r: bigint) => {
    const n = r * r * 10n ** BigInt(d0);
    const d = (1n << 192n) * 10n ** BigInt(d1);
    return baseIsToken0 ? (n * 10n ** 18n) / d : (d * 10n ** 18n) / n;
  };
  let best = root;
  for (let delta = -4n; delta <= 4n; delta++) {
    const r = root + delta;
    if (r <= 0n) continue;
    const off = read(r) - p18;
    const bestOff = read(best) - p18;
    if ((off < 0n ? -off : off) < (bestOff < 0n ? -bestOff : bestOff)) best = r;
  }
  return { token0: baseIsToken0 ? base : quote, token1: baseIsToken0 ? quote : base, sqrtPriceX96: best };
}

/** Deploys the scenario's tokens, feeds and pools (in that order). */
export async function deployWorld(chain: Chain, scenario: Scenario): Promise<ScenarioWorld> {
  const { token: tokenArt, feed: feedArt, pool: poolArt } = chain.artifacts;
  const world: ScenarioWorld = {
    scenario,
    accounts: new Map(scenario.world.accounts.map((role) => [role, scenarioAccount(scenario.name, role)])),
    tokens: new Map(),
    feeds: new Map(),
    pools: new Map(),
    feedState: new Map(),
  };
  for (const [symbol, { decimals }] of Object.entries(scenario.world.tokens)) {
    const address = await chain.deploy(tokenArt, [`${scenario.name} ${symbol}`, symbol, decimals]);
    world.tokens.set(symbol, { address, decimals });
  }
  for (const [feed, { answer }] of Object.entries(scenario.world.feeds)) {
    world.feeds.set(
      feed,
      await chain.deploy(feedArt, [FEED_DECIMALS, `${scenario.name} ${feed}`, parseUnits(answer, FEED_DECIMALS)]),
    );
    world.feedState.set(feed, { answer, ageSeconds: 0 });
  }
  for (const [pool, { base, quote, price }] of Object.entries(scenario.world.pools)) {
    const b = world.tokens.get(base)!;
    const q = world.tokens.get(quote)!;
    const { token0, token1, sqrtPriceX96 } = poolSqrtPrice(b.address, q.address, b.decimals, q.decimals, price);
    world.pools.set(pool, { address: await chain.deploy(poolArt, [token0, token1, 500, sqrtPriceX96]), base, quote });
  }
  return world;
}

export function accountAddress(world: ScenarioWorld, role: string): Address {
  const account = world.accounts.get(role);
  if (!account) throw new Error(`${world.scenario.name}: account "${role}" is not declared`);
  return account.address;
}

/** Sets balances (mint or burn to the target), pool prices and feed answers of one phase. Statements are posted by the runner. */
export async function applyChainState(chain: Chain, world: ScenarioWorld, state: ScenarioState): Promise<void> {
  const abi = chain.artifacts.token.abi;
  for (const [symbol, byAccount] of Object.entries(state.balances)) {
    const token = world.tokens.get(symbol)!;
    for (const [role, amount] of Object.entries(byAccount)) {
      const holder = accountAddress(world, role);
      const target = parseUnits(amount, token.decimals);
      const current = (await chain.publicClient.readContract({
        address: token.address,
        abi,
        functionName: "balanceOf",
        args: [holder],
      })) as bigint;
      if (target > current) await chain.send(token.address, abi, "mint", [holder, target - current]);
      else if (target < current) await chain.send(token.address, abi, "burn", [holder, current - target]);
    }
  }
  for (const [name, price] of Object.entries(state.pools)) {
    const pool = world.pools.get(name)!;
    const b = world.tokens.get(pool.base)!;
    const q = world.tokens.get(pool.quote)!;
    const { sqrtPriceX96 } = poolSqrtPrice(b.address, q.address, b.decimals, q.decimals, price);
    await chain.send(pool.address, chain.artifacts.pool.abi, "setSqrtPriceX96", [sqrtPriceX96]);
  }
  for (const [feed, value] of Object.entries(state.feeds)) {
    world.feedState.set(feed, typeof value === "string" ? { answer: value, ageSeconds: 0 } : value);
  }
  await refreshFeeds(chain, world);
}

/** Republishes every feed of the world with its current answer and updatedAt = now − ageSeconds, so none goes stale between phases. */
export async function refreshFeeds(chain: Chain, world: ScenarioWorld): Promise<void> {
  const now = BigInt(Math.floor(Date.now() / 1000));
  for (const [feed, { answer, ageSeconds }] of world.feedState) {
    await chain.send(world.feeds.get(feed)!, chain.artifacts.feed.abi, "setAnswer", [
      parseUnits(answer, FEED_DECIMALS),
      now - BigInt(ageSeconds),
    ]);
  }
}
