import {
  type Abi,
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  keccak256,
  numberToHex,
  type PublicClient,
} from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChainConfig, chainSchema, type IssuerConfig, issuerSchema } from "../../core/config/schema.js";
import { signOwnership } from "../../core/ownershipProof.js";
import { NATIVE_TOKEN } from "../../core/reservesTree.js";
import { poolQuotesInUsd } from "../../core/valuation/priceQuorum.js";
import type { PriceObservation } from "../../core/valuation/readings.js";
import { type AnvilInstance, getFreePort, startAnvil } from "../../scripts/lib/anvil.js";
import { deployContract, installMulticall3, loadArtifact } from "../../scripts/lib/artifacts.js";
import { createChainClient } from "../../worker/sources/chainClient.js";
import { checkOwnership } from "../../worker/sources/checkOwnership.js";
import { gatherReadings } from "../../worker/sources/gatherReadings.js";
import { createChainCallBatch } from "../../worker/sources/multicall.js";
import { confirmBlockUnchanged, pinBlock } from "../../worker/sources/pinBlock.js";
import { readHoldings } from "../../worker/sources/readHoldings.js";
import { poolPrice18, readOnchainPrices, scaleToUsd18 } from "../../worker/sources/readOnchainPrices.js";
import { readSupply } from "../../worker/sources/readSupply.js";

const MNEMONIC = "test test test test test test test test test test test junk";
const CHAIN_ID = 31_337;
const ISSUER = "acme-usd";
const NOW = 1_800_000_000n;
const E6 = 10n ** 6n;
const E18 = 10n ** 18n;
const Q96 = 2n ** 96n;
const NO_CODE: Address = "0x000000000000000000000000000000000000bee5";
const BOB: Address = "0x000000000000000000000000000000000000b0b0";
const ESCROW1: Address = "0x00000000000000000000000000000000000e5c01";
const ESCROW2: Address = "0x00000000000000000000000000000000000e5c02";

const deployer = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
const alice = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
const mallory = mnemonicToAccount(MNEMONIC, { addressIndex: 2 });

let anvil: AnvilInstance;
let client: PublicClient;
let chain: ChainConfig;
let issuer: IssuerConfig;
const abis: Record<string, Abi> = {};
const at = {} as Record<
  | "usd"
  | "weth"
  | "dusd"
  | "x"
  | "y"
  | "vault"
  | "feed"
  | "feedStale"
  | "feedNeg"
  | "feedFuture"
  | "feed20"
  | "pool"
  | "wallet"
  | "wallet2"
  | "wallet3",
  Address
>;

async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  return (client.request as (a: { method: string; params: unknown[] }) => Promise<unknown>)({ method, params });
}

async function write(
  account: HDAccount,
  address: Address,
  abiName: string,
  functionName: string,
  args: readonly unknown[] = [],
): Promise<void> {
  const chainDef = defineChain({
    id: CHAIN_ID,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  });
  const wallet = createWalletClient({ account, chain: chainDef, transport: http(anvil.rpcUrl) });
  const hash = await wallet.writeContract({ address, abi: abis[abiName]!, functionName, args });
  expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
}

const chainWith = (overrides: Partial<ChainConfig> & { rpcUrls?: string[] } = {}): ChainConfig =>
  chainSchema.parse({ chainId: CHAIN_ID, rpcUrls: [anvil.rpcUrl], ...overrides });

beforeAll(async () => {
  anvil = await startAnvil({ chainId: CHAIN_ID });
  client = createPublicClient({ transport: http(anvil.rpcUrl) });
  await installMulticall3(client);
  for (const name of ["DemoToken", "DemoVault", "DemoPriceFeed", "DemoPool", "DemoContractWallet"])
    abis[name] = (await loadArtifact(name)).abi;
  const chainDef = defineChain({
    id: CHAIN_ID,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  });
  const wallet = createWalletClient({ account: deployer, chain: chainDef, transport: http(anvil.rpcUrl) });
  const deploy = async (name: string, args: readonly unknown[]) =>
    deployContract(wallet, client, await loadArtifact(name), args);

  at.usd = await deploy("DemoToken", ["Demo USD Coin", "dUSDC", 6]);
  at.weth = await deploy("DemoToken", ["Demo Wrapped Ether", "dWETH", 18]);
  at.dusd = await deploy("DemoToken", ["Acme Dollar", "DUSD", 18]);
  at.x = await deploy("DemoToken", ["X", "X", 18]);
  at.y = await deploy("DemoToken", ["Y", "Y", 6]);
  at.vault = await deploy("DemoVault", [at.usd, "Demo USDC Vault", "vdUSDC"]);
  at.feed = await deploy("DemoPriceFeed", [8, "ETH / USD", 1n]);
  at.feedStale = await deploy("DemoPriceFeed", [8, "stale", 1n]);
  at.feedNeg = await deploy("DemoPriceFeed", [8, "negative", 1n]);
  at.feedFuture = await deploy("DemoPriceFeed", [8, "future", 1n]);
  at.feed20 = await deploy("DemoPriceFeed", [20, "twenty decimals", 123456789012345678901n]);
  // One pool of X (18 decimals) and Y (6): 1 X = 244,140,625 Y (= 10^12 / 4096), whichever is token0.
  // X token0: raw token1/token0 = 244140625 * 10^6 / 10^18 = 2^-12 → sqrtPriceX96 = 2^90.
  // X token1: raw token1/token0 = 10^18 / (244140625 * 10^6) = 4096 → sqrtPriceX96 = 64 * 2^96 = 2^102.
  const xIsToken0 = at.x.toLowerCase() < at.y.toLowerCase();
  at.pool = await deploy("DemoPool", xIsToken0 ? [at.x, at.y, 500, 2n ** 90n] : [at.y, at.x, 500, 2n ** 102n]);
  at.wallet = await deploy("DemoContractWallet", [alice.address]);
  at.wallet2 = await deploy("DemoContractWallet", [alice.address]);
  at.wallet3 = await deploy("DemoContractWallet", [alice.address]);

  await write(deployer, at.feed, "DemoPriceFeed", "setAnswer", [300_012_345_678n, NOW - 60n]); // 3000.12345678
  await write(deployer, at.feedStale, "DemoPriceFeed", "setAnswer", [100_000_000n, NOW - 7_200n]);
  await write(deployer, at.feedNeg, "DemoPriceFeed", "setAnswer", [-1n, NOW]);
  await write(deployer, at.feedFuture, "DemoPriceFeed", "setAnswer", [100_000_000n, NOW + 86_400n]);

  await write(deployer, at.usd, "DemoToken", "mint", [alice.address, 3_500n * E6]);
  await write(alice, at.usd, "DemoToken", "approve", [at.vault, 1_000n * E6]);
  await write(alice, at.vault, "DemoVault", "deposit", [1_000n * E6, alice.address]);
  await write(deployer, at.usd, "DemoToken", "mint", [deployer.address, 100n * E6]);
  await write(deployer, at.usd, "DemoToken", "approve", [at.vault, 100n * E6]);
  await write(deployer, at.vault, "DemoVault", "simulateYield", [100n * E6]);
  await write(deployer, at.weth, "DemoToken", "mint", [alice.address, 7n * E18]);
  await write(deployer, at.usd, "DemoToken", "mint", [mallory.address, 42n * E6]);
  await write(deployer, at.usd, "DemoToken", "mint", [at.wallet, 5n * E6]);
  await write(deployer, at.dusd, "DemoToken", "mint", [deployer.address, 1_000n * E18]);
  await write(deployer, at.dusd, "DemoToken", "mint", [ESCROW1, 250n * E18]);
  await rpc("anvil_setBalance", [BOB, numberToHex(15n * 10n ** 17n)]); // 1.5 ETH

  const claim = (address: Address) => ({ issuerId: ISSUER, address, chainId: CHAIN_ID });
  chain = chainWith();
  issuer = issuerSchema.parse({
    id: ISSUER,
    name: "Acme",
    assets: [
      { id: "USD", decimals: 18, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
      {
        id: "ETH",
        decimals: 18,
        prices: [
          { kind: "chainlink", chainId: CHAIN_ID, feed: at.feed, maxAgeSeconds: 3600 },
          { kind: "chainlink", chainId: CHAIN_ID, feed: at.feedStale, maxAgeSeconds: 3600 },
          { kind: "chainlink", chainId: CHAIN_ID, feed: at.feedNeg, maxAgeSeconds: 3600 },
          { kind: "chainlink", chainId: CHAIN_ID, feed: at.feedFuture, maxAgeSeconds: 3600 },
        ],
      },
      {
        id: "T20",
        decimals: 18,
        prices: [{ kind: "chainlink", chainId: CHAIN_ID, feed: at.feed20, maxAgeSeconds: 10 ** 8 }],
      },
      {
        id: "X",
        decimals: 18,
        prices: [{ kind: "uniswapV3", chainId: CHAIN_ID, pool: at.pool, token: at.x, quoteAsset: "Y" }],
      },
      {
        id: "Y",
        decimals: 6,
        prices: [{ kind: "uniswapV3", chainId: CHAIN_ID, pool: at.pool, token: at.y, quoteAsset: "X" }],
      },
      {
        id: "Z",
        decimals: 18,
        prices: [{ kind: "uniswapV3", chainId: CHAIN_ID, pool: at.pool, token: at.x, quoteAsset: "NOPE" }],
      },
    ],
    liabilities: {
      supply: {
        asset: "DUSD",
        pegUsd: "1000000000000000000",
        tokens: [{ chainId: CHAIN_ID, token: at.dusd, escrows: [ESCROW1, ESCROW2] }],
      },
    },
    reserves: {
      holders: [
        {
          chainId: CHAIN_ID,
          address: alice.address,
          ownership: { kind: "eoa", signature: await signOwnership(alice, claim(alice.address)) },
          holdings: [
            { type: "erc20", asset: "USDC", token: at.usd },
            { type: "erc20", asset: "WETH", token: at.weth },
            { type: "erc4626", asset: "USDC", vault: at.vault },
          ],
        },
        {
          chainId: CHAIN_ID,
          address: mallory.address,
          // Signed by alice for mallory's address: does not prove mallory's ownership.
          ownership: { kind: "eoa", signature: await signOwnership(alice, claim(mallory.address)) },
          holdings: [
            { type: "erc20", asset: "USDC", token: at.usd },
            { type: "erc20", asset: "USDC", token: NO_CODE },
            { type: "erc4626", asset: "USDC", vault: at.usd }, // a token, not a vault: asset() reverts
          ],
        },
        {
          chainId: CHAIN_ID,
          address: at.wallet,
          ownership: { kind: "erc1271", signature: await signOwnership(alice, claim(at.wallet)) },
          holdings: [{ type: "erc20", asset: "USDC", token: at.usd }],
        },
        {
          chainId: CHAIN_ID,
          address: at.wallet2,
          ownership: { kind: "erc1271", signature: await signOwnership(mallory, claim(at.wallet2)) },
          holdings: [{ type: "erc20", asset: "USDC", token: at.usd }],
        },
        {
          chainId: CHAIN_ID,
          address: at.wallet3,
          ownership: { kind: "contract" },
          holdings: [{ type: "erc20", asset: "USDC", token: at.usd }],
        },
        {
          chainId: CHAIN_ID,
          address: NO_CODE,
          ownership: { kind: "contract" },
          holdings: [{ type: "native", asset: "ETH" }],
        },
        { chainId: CHAIN_ID, address: BOB, ownership: { kind: "none" }, holdings: [{ type: "native", asset: "ETH" }] },
      ],
    },
  });
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
});

const quotes = (assetId: string): bigint | null => (assetId === "Y" ? E18 : assetId === "X" ? 2_000n * E18 : null);

function find(prices: PriceObservation[], asset: string, source: string): PriceObservation {
  const found = prices.find((p) => p.asset === asset && p.source === source);
  expect(found, `${asset} ${source}`).toBeDefined();
  return found!;
}

describe("sources: pinBlock", () => {
  it("pins latest - confirmations and refuses a chain shorter than that", async () => {
    const head = await client.getBlock();
    const pinned = await pinBlock(client, { confirmations: 2 });
    const expected = await client.getBlock({ blockNumber: head.number - 2n });
    expect(pinned).toEqual({ number: head.number - 2n, hash: expected.hash, timestamp: expected.timestamp });
    await expect(pinBlock(client, { confirmations: 1000 })).rejects.toThrow(/below the 1000 required confirmations/);
  });

  it("detects a reorg of the pinned block", async () => {
    const pinned = await pinBlock(client, { confirmations: 0 });
    await expect(confirmBlockUnchanged(client, pinned)).resolves.toBeUndefined();
    await expect(confirmBlockUnchanged(client, { ...pinned, hash: `0x${"11".repeat(32)}` })).rejects.toThrow(/reorg/);
  });
});

describe("sources: readHoldings", () => {
  it("reads native, ERC-20 and ERC-4626 holdings at the pinned block, in two rounds", async () => {
    const block = await pinBlock(client, { confirmations: 0 });
    // After pinning: more tokens to alice. The pinned read must not see them.
    await write(deployer, at.usd, "DemoToken", "mint", [alice.address, 1n * E6]);
    const batch = createChainCallBatch(client, chain, block.number);
    const holdings = await readHoldings(client, { chain, holders: issuer.reserves.holders, block, batch });
    const of = (holder: Address) => holdings.filter((h) => h.holder === getAddress(holder));

    expect(of(alice.address)).toEqual([
      {
        chainId: CHAIN_ID,
        holder: alice.address,
        asset: "USDC",
        kind: "erc20",
        source: at.usd,
        result: { ok: true, value: { amount: 2_500n * E6, token: at.usd, decimals: 6 } },
      },
      {
        chainId: CHAIN_ID,
        holder: alice.address,
        asset: "WETH",
        kind: "erc20",
        source: at.weth,
        result: { ok: true, value: { amount: 7n * E18, token: at.weth, decimals: 18 } },
      },
      // 1000e6 shares; convertToAssets = 1000e6 * (1100e6 + 1) / (1000e6 + 1), floored = 1,099,999,999.
      {
        chainId: CHAIN_ID,
        holder: alice.address,
        asset: "USDC",
        kind: "erc4626",
        source: at.vault,
        result: { ok: true, value: { amount: 1_099_999_999n, token: at.usd, decimals: 6, shares: 1_000n * E6 } },
      },
    ]);
    expect(of(BOB)).toEqual([
      {
        chainId: CHAIN_ID,
        holder: getAddress(BOB),
        asset: "ETH",
        kind: "native",
        source: NATIVE_TOKEN,
        result: { ok: true, value: { amount: 15n * 10n ** 17n, token: NATIVE_TOKEN, decimals: 18 } },
      },
    ]);

    const [good, noCode, notVault] = of(mallory.address);
    expect(good!.result).toEqual({ ok: true, value: { amount: 42n * E6, token: at.usd, decimals: 6 } });
    expect(noCode!.result).toEqual({
      ok: false,
      reason: `balanceOf(${mallory.address}) on ${getAddress(NO_CODE)} returned no data (no contract code?)`,
    });
    expect(notVault!.result).toEqual({ ok: false, reason: `asset() on ${at.usd} reverted without data` });
    // Round 1: balances, decimals, asset(); round 2: convertToAssets + underlying decimals (already known: deduped).
    expect(batch.stats.rounds).toBe(2);

    const later = await readHoldings(client, {
      chain,
      holders: issuer.reserves.holders.slice(0, 1),
      block: await pinBlock(client, { confirmations: 0 }),
    });
    expect(later[0]!.result).toMatchObject({ ok: true, value: { amount: 2_501n * E6 } });
    await write(deployer, at.usd, "DemoToken", "burn", [alice.address, 1n * E6]);
  });

  it("fails every call when Multicall3 is not deployed at the configured address", async () => {
    const block = await pinBlock(client, { confirmations: 0 });
    const holdings = await readHoldings(client, {
      chain: chainWith({ multicall3: NO_CODE }),
      holders: issuer.reserves.holders.slice(0, 1),
      block,
    });
    for (const h of holdings)
      expect(h.result).toEqual({
        ok: false,
        reason: `Multicall3 at ${getAddress(NO_CODE)} returned no data at block ${block.number} (not deployed?)`,
      });
  });
});

describe("sources: readSupply", () => {
  it("reads totalSupply, decimals and escrow balances", async () => {
    const block = await pinBlock(client, { confirmations: 0 });
    const supply = await readSupply(client, { chain, supply: issuer.liabilities.supply, block });
    expect(supply).toEqual([
      {
        chainId: CHAIN_ID,
        token: at.dusd,
        result: {
          ok: true,
          value: {
            totalSupply: 1_250n * E18,
            decimals: 18,
            escrows: [
              { address: getAddress(ESCROW1), amount: 250n * E18 },
              { address: getAddress(ESCROW2), amount: 0n },
            ],
          },
        },
      },
    ]);
  });
});

describe("sources: readOnchainPrices", () => {
  it("converts Chainlink answers to usd18 and fails stale and negative ones", async () => {
    const block = await pinBlock(client, { confirmations: 0 });
    const { direct } = await readOnchainPrices(client, { chain, assets: issuer.assets, block, now: NOW });
    const label = (a: Address) => `chainlink:${CHAIN_ID}:${a.toLowerCase()}`;
    expect(find(direct, "ETH", label(at.feed)).result).toEqual({
      ok: true,
      value: { priceUsd: 3_000_123_456_780_000_000_000n, updatedAt: NOW - 60n },
    });
    expect(find(direct, "ETH", label(at.feedStale)).result).toEqual({
      ok: false,
      reason: `stale: feed ${at.feedStale} updated at ${NOW - 7200n}, 7200s before now, over its 3600s limit`,
    });
    expect(find(direct, "ETH", label(at.feedNeg)).result).toEqual({
      ok: false,
      reason: `feed ${at.feedNeg} on chain ${CHAIN_ID} answered -1 (not positive)`,
    });
    // A round dated a day after both the block read and now is refused, not taken as fresh.
    expect(find(direct, "ETH", label(at.feedFuture)).result).toEqual({
      ok: false,
      reason: `feed ${at.feedFuture} on chain ${CHAIN_ID} says it was updated at ${NOW + 86_400n}, after the block read (${block.timestamp}) and now (${NOW})`,
    });
    // 20 decimals: 1.23456789012345678901 → floored to 18 decimals.
    expect(find(direct, "T20", label(at.feed20)).result).toMatchObject({
      ok: true,
      value: { priceUsd: 1_234_567_890_123_456_789n },
    });
  });

  it("prices a pool in quote terms for either orientation and different decimals", async () => {
    const block = await pinBlock(client, { confirmations: 0 });
    const { pools } = await readOnchainPrices(client, { chain, assets: issuer.assets, block, now: NOW });
    const source = `uniswapV3:${CHAIN_ID}:${at.pool.toLowerCase()}`;
    expect(pools).toEqual([
      {
        asset: "X",
        source,
        quoteAsset: "Y",
        result: { ok: true, value: { price18: 244_140_625n * E18, updatedAt: block.timestamp } },
      },
      // 1 Y = 1 / 244,140,625 X = 4.096e-9 X
      {
        asset: "Y",
        source,
        quoteAsset: "X",
        result: { ok: true, value: { price18: 4_096_000_000n, updatedAt: block.timestamp } },
      },
      {
        asset: "Z",
        source,
        quoteAsset: "NOPE",
        result: { ok: true, value: { price18: 244_140_625n * E18, updatedAt: block.timestamp } },
      },
    ]);
  });

  it("computes pool prices with integer math", () => {
    expect(poolPrice18(2n ** 90n, 18, 6, true)).toBe(244_140_625n * E18);
    expect(poolPrice18(2n ** 90n, 18, 6, false)).toBe(4_096_000_000n);
    expect(poolPrice18(2n ** 102n, 6, 18, false)).toBe(244_140_625n * E18);
    expect(poolPrice18(Q96, 18, 18, true)).toBe(E18);
    expect(poolPrice18(Q96, 6, 18, true)).toBe(10n ** 6n); // 1 base unit each: 1 token0 (1e6 units) = 1e-12 token1
    expect(scaleToUsd18(5n, 0)).toBe(5n * E18);
    expect(scaleToUsd18(199n, 20)).toBe(1n);
  });
});

describe("sources: checkOwnership", () => {
  it("proves EOA, ERC-1271 and contract holders, and nothing else", async () => {
    const block = await pinBlock(client, { confirmations: 0 });
    const readings = await checkOwnership(client, { issuerId: ISSUER, chain, holders: issuer.reserves.holders, block });
    expect(readings.map((r) => [r.holder, r.method, r.proven])).toEqual([
      [alice.address, "eoa", true],
      [mallory.address, "eoa", false],
      [at.wallet, "erc1271", true],
      [at.wallet2, "erc1271", false],
      [at.wallet3, "contract", true],
      [getAddress(NO_CODE), "contract", false],
      [getAddress(BOB), "none", false],
    ]);
    expect(readings[2]!.detail).toBe(`ERC-1271 isValidSignature returned 0x1626ba7e at block ${block.number}`);
    expect(readings[3]!.detail).toBe(`ERC-1271 isValidSignature returned 0xffffffff at block ${block.number}`);
    expect(readings[4]!.detail).toMatch(/^contract code at address \(declared\)/);
    expect(readings[5]!.detail).toMatch(/no code at the address/);
    expect(readings[6]!.detail).toMatch(/declared none/);
  });

  it("does not accept an ERC-1271 answer from an address without code", async () => {
    const block = await pinBlock(client, { confirmations: 0 });
    const holder = { ...issuer.reserves.holders[2]!, address: NO_CODE };
    const [reading] = await checkOwnership(client, { issuerId: ISSUER, chain, holders: [holder], block });
    expect(reading!.proven).toBe(false);
    expect(reading!.detail).toMatch(
      /^ERC-1271 check failed: isValidSignature\(0x[0-9a-f]{64}, 0x[0-9a-f]{8}…\) on 0x0+bEE5 returned no data/,
    );
  });
});

describe("sources: gatherReadings", () => {
  const gather = (chains: ChainConfig[], extra: Partial<Parameters<typeof gatherReadings>[0]> = {}) =>
    gatherReadings({ issuer, chains, secrets: {}, statements: [], ledger: null, now: NOW, fetchFn: fetch, ...extra });

  it("reads a whole chain in few requests and hands pool quotes to valuation, which puts them in USD", async () => {
    let requests = 0;
    const readings = await gather([chain], { onRequest: () => void requests++ });
    const prices = [...readings.prices, ...poolQuotesInUsd(readings.pools!, quotes)];
    expect(readings.blocks).toHaveLength(1);
    expect(readings.blocks[0]!.result.ok).toBe(true);
    expect(readings.holdings).toHaveLength(11);
    expect(readings.holdings.filter((h) => !h.result.ok)).toHaveLength(2);
    expect(readings.ownership.filter((o) => o.proven)).toHaveLength(3);
    expect(readings.supply[0]!.result.ok).toBe(true);
    const pool = `uniswapV3:${CHAIN_ID}:${at.pool.toLowerCase()}`;
    expect(find(prices, "X", pool).result).toEqual({
      ok: true,
      value: { priceUsd: 244_140_625n * E18, updatedAt: expect.any(BigInt) },
    });
    // 4.096e-9 X per Y at 2000 USD per X = 8.192e-6 USD.
    expect(find(prices, "Y", pool).result).toMatchObject({ ok: true, value: { priceUsd: 8_192_000_000_000n } });
    expect(find(prices, "Z", pool).result).toEqual({ ok: false, reason: "quote asset NOPE has no chosen price" });
    expect(find(prices, "USD", "fixed").result).toEqual({ ok: true, value: { priceUsd: E18 } });
    // Prices come in config order.
    expect(prices.map((p) => p.asset)).toEqual(["USD", "ETH", "ETH", "ETH", "ETH", "T20", "X", "Y", "Z"]);
    // pin (1) + aggregate3 round 1 (1) + round 2 (1) + eth_getCode for two `contract` holders (2) + reorg check (1).
    expect(requests).toBe(6);
  });

  it("fails every reading of a chain whose RPC is unreachable", async () => {
    const closed = `http://127.0.0.1:${await getFreePort()}`;
    const readings = await gather([chainWith({ rpcUrls: [closed], timeoutMs: 2_000 })]);
    const block = readings.blocks[0]!.result;
    expect(block.ok).toBe(false);
    const reason = block.ok ? "" : block.reason;
    expect(reason).toMatch(/^chain 31337: could not pin a block: HTTP request failed/);
    expect(reason).not.toContain(closed);
    expect(readings.holdings).toHaveLength(11);
    for (const h of readings.holdings) expect(h.result).toEqual({ ok: false, reason });
    for (const o of readings.ownership) expect(o).toMatchObject({ proven: false, detail: reason });
    expect(readings.supply).toEqual([{ chainId: CHAIN_ID, token: at.dusd, result: { ok: false, reason } }]);
    const onchainPrices = [...readings.prices, ...readings.pools!].filter((p) => p.source !== "fixed");
    expect(onchainPrices.every((p) => !p.result.ok)).toBe(true);
    expect(onchainPrices).toHaveLength(8);
  });

  it("falls back to the second URL, with secrets filled in", async () => {
    const closed = `http://127.0.0.1:${await getFreePort()}`;
    let requests = 0;
    const readings = await gather([chainWith({ rpcUrls: [closed, "http://127.0.0.1:${ANVIL_PORT}"] })], {
      secrets: { ANVIL_PORT: String(anvil.port) },
      onRequest: () => void requests++,
    });
    expect(readings.blocks[0]!.result.ok).toBe(true);
    expect(readings.holdings.filter((h) => h.result.ok)).toHaveLength(9);
    expect(requests).toBe(12); // every request tries the closed URL first
  });

  it("names the chain and placeholder of a missing secret", async () => {
    const readings = await gather([chainWith({ rpcUrls: ["http://127.0.0.1:${ANVIL_PORT}"] })]);
    expect(readings.blocks[0]!.result).toEqual({
      ok: false,
      reason: "chain 31337: rpcUrls[0] needs secret ${ANVIL_PORT}, which is not set",
    });
    expect(() => createChainClient(chainWith({ rpcUrls: ["https://rpc.example/${KEY}"] }), { KEY: "" })).toThrow(
      /needs secret \$\{KEY\}/,
    );
  });

  it("fails the chain when the RPC serves another chain id", async () => {
    const readings = await gather([chainWith({ chainId: 5 })], {
      issuer: {
        ...issuer,
        reserves: { ...issuer.reserves, holders: issuer.reserves.holders.map((h) => ({ ...h, chainId: 5 })) },
        liabilities: {},
        assets: issuer.assets.slice(0, 1),
      },
    });
    expect(readings.blocks).toEqual([
      { chainId: 5, result: { ok: false, reason: "chain 5: the RPC serves chain 31337" } },
    ]);
    expect(readings.holdings.every((h) => !h.result.ok)).toBe(true);
  });

  it("fails the chain when the pinned block is reorganised during the reads", async () => {
    const snapshot = await rpc("evm_snapshot");
    await rpc("evm_mine");
    const original = await client.getBlock();
    let requests = 0;
    const readings = await gather([chain], {
      onRequest: async () => {
        requests++;
        if (requests !== 2) return; // the first aggregate3 round, after the pin
        await rpc("evm_revert", [snapshot]);
        await rpc("evm_setNextBlockTimestamp", [Number(original.timestamp) + 1_000]);
        await rpc("evm_mine");
      },
    });
    const replaced = await client.getBlock({ blockNumber: original.number });
    expect(replaced.hash).not.toBe(original.hash);
    expect(readings.blocks[0]!.result).toEqual({
      ok: false,
      reason: `chain ${CHAIN_ID}: block ${original.number} changed from ${original.hash} to ${replaced.hash} during the reads (reorg)`,
    });
    expect(readings.holdings.every((h) => !h.result.ok)).toBe(true);
    expect(readings.ownership.every((o) => !o.proven)).toBe(true);
  });
});

describe("sources: request budget", () => {
  async function budget(holderCount: number, batchSize: number) {
    const tokens = [at.usd, at.weth, at.dusd, at.x, at.y];
    const holders = Array.from({ length: holderCount }, (_, i) => ({
      chainId: CHAIN_ID,
      address: getAddress(keccak256(numberToHex(i, { size: 32 })).slice(0, 42)),
      ownership: { kind: "none" as const },
      holdings: tokens.map((token) => ({ type: "erc20" as const, asset: "T", token })),
    }));
    const last = holderCount - 1; // a different holder per run
    await write(deployer, at.weth, "DemoToken", "mint", [holders[last]!.address, 123n]);
    const big = issuerSchema.parse({
      id: ISSUER,
      name: "Acme",
      assets: [{ id: "T", decimals: 18, prices: [{ kind: "fixed", priceUsd: "1" }] }],
      liabilities: { ledger: { assets: ["T"] } },
      reserves: { holders },
    });
    let requests = 0;
    const started = Date.now();
    const readings = await gatherReadings({
      issuer: big,
      chains: [chainWith({ batchSize })],
      secrets: {},
      statements: [],
      ledger: null,
      now: NOW,
      fetchFn: fetch,
      onRequest: () => void requests++,
    });
    expect(readings.holdings).toHaveLength(holderCount * 5);
    expect(readings.holdings.every((h) => h.result.ok)).toBe(true);
    expect(readings.holdings[last * 5 + 1]!.result).toMatchObject({
      ok: true,
      value: { amount: 123n, token: at.weth, decimals: 18 },
    });
    return { requests, ms: Date.now() - started };
  }

  it("reads 200 holders x 5 tokens in 5 requests (a call per holding would need over 1,000)", async () => {
    // 1,000 balanceOf + 5 decimals + getChainId = 1,006 calls: 3 chunks of 500, plus pin and reorg check.
    const { requests } = await budget(200, 500);
    expect(requests).toBeLessThanOrEqual(6);
    expect(requests).toBe(5);
  });

  it("reads 1,000 holders x 5 tokens within 10 requests at batchSize 2,500", async () => {
    const { requests, ms } = await budget(1_000, 2_500);
    console.log(`1000 holders x 5 tokens, batchSize 2500: ${requests} requests, ${ms} ms`);
    expect(requests).toBeLessThanOrEqual(10);
  });
});
