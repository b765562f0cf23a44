/**
 * The demo world on an anvil node: tokens, an ERC-4626 vault, Chainlink-style
 * feeds, a v3-style pool, Multicall3, an ERC-1271 wallet, funded holders with
 * signed ownership proofs, and the configuration of two issuers:
 *
 * - `demo-stable`: a pegged token (DUSD) whose liabilities are its on-chain
 *   supply minus what a bridge escrow holds; reserves in USDC, vault shares
 *   and WETH in a contract wallet.
 * - `demo`: a custodial platform whose liabilities are a user ledger over USD
 *   and ETH; reserves on-chain (a hot wallet, an unproven cold wallet) and at
 *   a custodian that signs statements.
 *
 * `npm start` and the end-to-end tests both build exactly this world.
 */
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  parseEther,
} from "viem";
import { type HDAccount, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { issuerKey } from "../../core/attestation.js";
import type { SolventConfigInput } from "../../core/config/schema.js";
import { custodianStatementToJson, signCustodianStatement } from "../../core/custodianStatement.js";
import { signOwnership } from "../../core/ownershipProof.js";
import { deployContract, installMulticall3, loadArtifact, MULTICALL3_ADDRESS } from "../lib/artifacts.js";

const MNEMONIC = "test test test test test test test test test test test junk";
export const USD18 = 10n ** 18n;
const USDC = 10n ** 6n;
const FEED_DECIMALS = 8;

/** Anvil's default accounts, by role in the demo. */
export const demoAccounts = {
  deployer: mnemonicToAccount(MNEMONIC, { addressIndex: 0 }),
  stableTreasury: mnemonicToAccount(MNEMONIC, { addressIndex: 1 }),
  walletOwner: mnemonicToAccount(MNEMONIC, { addressIndex: 2 }),
  hotWallet: mnemonicToAccount(MNEMONIC, { addressIndex: 3 }),
  coldWallet: mnemonicToAccount(MNEMONIC, { addressIndex: 4 }),
  bridgeEscrow: mnemonicToAccount(MNEMONIC, { addressIndex: 5 }),
  custodianSigner: mnemonicToAccount(MNEMONIC, { addressIndex: 6 }),
  dusdHolders: [7, 8, 9].map((i) => mnemonicToAccount(MNEMONIC, { addressIndex: i })),
  /** demo-private's wallet (anvil's published account #12). */
  privateWallet: mnemonicToAccount(MNEMONIC, { addressIndex: 12 }),
};

/** The private demo issuer (SPEC §11 ledger); only `npm start` deploys it (DemoWorldOptions.privateIssuer). */
export const DEMO_PRIVATE_ISSUER = "demo-private";

export interface DemoWorld {
  rpcUrl: string;
  chainId: number;
  contracts: {
    usdc: Address;
    weth: Address;
    dusd: Address;
    vault: Address;
    usdcFeed: Address;
    ethFeed: Address;
    pool: Address;
    contractWallet: Address;
    multicall3: Address;
    /** Present when the world was deployed with an attestation signer. */
    oracle?: Address;
    feed?: Address;
    market?: Address;
    marketCollateral?: Address;
    /** SolventMintGuard holding DUSD's minter role (its ownership), for demo-stable. */
    mintGuard?: Address;
  };
  config: SolventConfigInput;
}

export interface DemoWorldOptions {
  /**
   * Adds `demo-private`: an exchange whose user ledger is private (SPEC §11,
   * needs LEDGER_BLINDING_SECRET), its reserves in its own wallet.
   */
  privateIssuer?: boolean;
  /**
   * The attestations' TTL (default 600). With the relayer's heartbeat (300 s)
   * and expiry margin (60 s tick + 60 s relay) it must stay above 420 s, or
   * the configuration is refused.
   */
  ttlSeconds?: number;
  /**
   * The publisher's signing address. When given, a SolvencyOracle that trusts
   * it is deployed with a ReserveFeed and a GatedLendingMarket for `demo`, a
   * SolventMintGuard that becomes DUSD's only minter for `demo-stable`, and
   * both issuers get a relayer (key secret RELAYER_KEY, see demoRelayerKey).
   */
  attestationSigner?: Address;
}

/** The market's policy: deny undercollateralised, stale-source and circular attestations (bits 0, 1, 5). */
export const DEMO_MARKET_POLICY = { minRatioBps: 10_000, maxAgeSeconds: 600, denyFlags: 0b100011n } as const;

/**
 * DUSD's mint guard: 1 DUSD = 1 USD, no margin, attestations at most 10 minutes old,
 * refused when undercollateralised, built on a failed source, circular or after a
 * supply jump (bits 0, 1, 5, 7). The bridge escrow is excluded, as in the issuer's liabilities.
 */
export const DEMO_MINT_POLICY = {
  pegUsd18: USD18,
  marginBps: 0n,
  maxAgeSeconds: 600n,
  denyFlags: 0b1010_0011n,
} as const;

/** The demo relayer's key: anvil's published account #10 (never use it anywhere real). */
export function demoRelayerKey(): Hex {
  const key = mnemonicToAccount(MNEMONIC, { addressIndex: 10 }).getHdKey().privateKey;
  if (!key) throw new Error("anvil account #10 has no private key");
  return `0x${Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The demo exchange's receipts key (SPEC §12): anvil's published account #11
 * (never use it anywhere real). It signs the demo users' balance receipts.
 */
export function demoReceiptsAccount() {
  return mnemonicToAccount(MNEMONIC, { addressIndex: 11 });
}

function chainFor(rpcUrl: string, chainId: number) {
  return defineChain({
    id: chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  });
}

export function demoClients(rpcUrl: string, chainId: number) {
  const chain = chainFor(rpcUrl, chainId);
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) }) as PublicClient;
  const wallet = (account: HDAccount) => createWalletClient({ account, chain, transport: http(rpcUrl) });
  return { publicClient, wallet };
}

/** Integer square root (Newton), for v3 sqrtPriceX96. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = n;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2n;
  }
  return x;
}

/** sqrtPriceX96 of a pool where one `base` token (baseDecimals) costs `quotePerBase` whole quote tokens. */
export function sqrtPriceX96For(
  base: Address,
  quote: Address,
  baseDecimals: number,
  quoteDecimals: number,
  quotePerBase: bigint,
): { token0: Address; token1: Address; sqrtPriceX96: bigint } {
  const baseIsToken0 = BigInt(base) < BigInt(quote);
  // raw price = token1 base units per token0 base unit, scaled by 2^192
  const num = baseIsToken0 ? quotePerBase * 10n ** BigInt(quoteDecimals) : 10n ** BigInt(baseDecimals);
  const den = baseIsToken0 ? 10n ** BigInt(baseDecimals) : quotePerBase * 10n ** BigInt(quoteDecimals);
  return {
    token0: baseIsToken0 ? base : quote,
    token1: baseIsToken0 ? quote : base,
    sqrtPriceX96: isqrt((num << 192n) / den),
  };
}

/** Deploys and funds the demo world on a fresh anvil node and returns its configuration. */
export async function deployDemoWorld(rpcUrl: string, options: DemoWorldOptions = {}): Promise<DemoWorld> {
  const probe = createPublicClient({ transport: http(rpcUrl) });
  const chainId = await probe.getChainId();
  const { publicClient, wallet } = demoClients(rpcUrl, chainId);
  const a = demoAccounts;
  const deployer = wallet(a.deployer);
  const send = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`demo transaction ${hash} reverted`);
  };

  const multicall3 = await installMulticall3(publicClient, rpcUrl);
  const [tokenArt, vaultArt, feedArt, poolArt, walletArt] = await Promise.all(
    (["DemoToken", "DemoVault", "DemoPriceFeed", "DemoPool", "DemoContractWallet"] as const).map((n) =>
      loadArtifact(n),
    ),
  );
  const token = tokenArt!;
  const usdc = await deployContract(deployer, publicClient, token, ["Demo USD Coin", "USDC", 6]);
  const weth = await deployContract(deployer, publicClient, token, ["Demo Wrapped Ether", "WETH", 18]);
  const dusd = await deployContract(deployer, publicClient, token, ["Demo Stable Dollar", "DUSD", 6]);
  const vault = await deployContract(deployer, publicClient, vaultArt!, [usdc, "Savings USDC", "svUSDC"]);
  const usdcFeed = await deployContract(deployer, publicClient, feedArt!, [FEED_DECIMALS, "USDC / USD", 100_000_000n]);
  const ethFeed = await deployContract(deployer, publicClient, feedArt!, [
    FEED_DECIMALS,
    "ETH / USD",
    3150n * 10n ** 8n,
  ]);
  const { token0, token1, sqrtPriceX96 } = sqrtPriceX96For(weth, usdc, 18, 6, 3150n);
  const pool = await deployContract(deployer, publicClient, poolArt!, [token0, token1, 500, sqrtPriceX96]);
  const contractWallet = await deployContract(deployer, publicClient, walletArt!, [a.walletOwner.address]);

  const write = (address: Address, functionName: string, args: readonly unknown[], from = deployer, abi = token.abi) =>
    from.writeContract({ address, abi, functionName, args, account: from.account, chain: from.chain }).then(send);

  // demo-stable: 1.2M DUSD minted, 200k of it locked in the bridge escrow.
  for (const holder of a.dusdHolders) await write(dusd, "mint", [holder.address, 333_334n * USDC]);
  await write(dusd, "mint", [a.bridgeEscrow.address, 200_000n * USDC]);
  // Its reserves: 600k USDC and 300k in the vault (plus 1% yield) in the treasury, 40 WETH in the contract wallet.
  await write(usdc, "mint", [a.stableTreasury.address, 900_000n * USDC]);
  const treasury = wallet(a.stableTreasury);
  await write(usdc, "approve", [vault, 300_000n * USDC], treasury);
  await write(vault, "deposit", [300_000n * USDC, a.stableTreasury.address], treasury, vaultArt!.abi);
  await write(usdc, "mint", [a.deployer.address, 3_000n * USDC]);
  await write(usdc, "approve", [vault, 3_000n * USDC]);
  await write(vault, "simulateYield", [3_000n * USDC], deployer, vaultArt!.abi);
  await write(weth, "mint", [contractWallet, 40n * USD18]);

  // demo: 250 ETH and 1.2M USDC in the hot wallet, 100 WETH in a cold wallet without an ownership proof.
  await probe.request({
    method: "anvil_setBalance" as never,
    params: [a.hotWallet.address, `0x${parseEther("250").toString(16)}`] as never,
  });
  await write(usdc, "mint", [a.hotWallet.address, 1_200_000n * USDC]);
  await write(weth, "mint", [a.coldWallet.address, 100n * USD18]);
  if (options.privateIssuer) {
    // demo-private: 120 ETH and 400k USDC in its own wallet.
    await probe.request({
      method: "anvil_setBalance" as never,
      params: [a.privateWallet.address, `0x${parseEther("120").toString(16)}`] as never,
    });
    await write(usdc, "mint", [a.privateWallet.address, 400_000n * USDC]);
  }

  const onchain = options.attestationSigner ? await deployOnchainConsumers(options.attestationSigner) : undefined;

  async function deployOnchainConsumers(signer: Address) {
    const [oracleArt, feedConsumerArt, marketArt] = await Promise.all(
      (["SolvencyOracle", "ReserveFeed", "GatedLendingMarket"] as const).map((n) => loadArtifact(n)),
    );
    const oracle = await deployContract(deployer, publicClient, oracleArt!, [256n]);
    for (const id of ["demo", "demo-stable"])
      await write(oracle, "addSigner", [issuerKey(id), signer], deployer, oracleArt!.abi);
    const feed = await deployContract(deployer, publicClient, feedConsumerArt!, [
      oracle,
      issuerKey("demo"),
      "Demo Exchange reserves (USD)",
    ]);
    const collateral = await deployContract(deployer, publicClient, token, ["Demo Exchange Token", "DXT", 18]);
    const market = await deployContract(deployer, publicClient, marketArt!, [
      {
        oracle,
        issuer: issuerKey("demo"),
        collateralToken: collateral,
        borrowToken: usdc,
        collateralPrice: 10n ** 6n, // 1 DXT (18 decimals) = 1 USDC (6 decimals), scaled by 1e18
        ltvBps: 5_000n,
        ...DEMO_MARKET_POLICY,
      },
    ]);
    await write(usdc, "mint", [market, 1_000_000n * USDC]);
    // DUSD from now on mints only through the guard: the deployer mints as the guard's minter.
    const guardArt = await loadArtifact("SolventMintGuard");
    const mintGuard = await deployContract(deployer, publicClient, guardArt, [
      { oracle, issuer: issuerKey("demo-stable"), ...DEMO_MINT_POLICY },
      dusd,
      [a.bridgeEscrow.address],
    ]);
    await write(mintGuard, "addMinter", [a.deployer.address], deployer, guardArt.abi);
    await write(dusd, "transferOwnership", [mintGuard]);
    // the relayer pays gas
    await probe.request({
      method: "anvil_setBalance" as never,
      params: [privateKeyToAccount(demoRelayerKey()).address, `0x${parseEther("100").toString(16)}`] as never,
    });
    return { oracle, feed, market, marketCollateral: collateral, mintGuard };
  }

  const relayer = onchain
    ? {
        chainId,
        oracle: onchain.oracle,
        keySecret: "RELAYER_KEY",
        heartbeatSeconds: 300,
        ratioChangeBps: 1,
        tickSeconds: 60,
        relaySeconds: 60,
      }
    : undefined;
  const sign = (account: HDAccount, issuerId: string, address: Address) =>
    signOwnership(account, { issuerId, address, chainId });
  const ttlSeconds = options.ttlSeconds ?? 600;
  const policy = {
    ttlSeconds,
    maxSourceAgeSeconds: 3600,
    statementMaxAgeSeconds: 3600,
    priceDivergenceBps: 100,
    offchainShareMaxBps: 5000,
  };
  const usdcAsset = {
    id: "USDC",
    decimals: 6,
    prices: [{ kind: "chainlink" as const, chainId, feed: usdcFeed, maxAgeSeconds: 3600 }],
  };
  const ethAsset = {
    id: "ETH",
    decimals: 18,
    prices: [
      { kind: "chainlink" as const, chainId, feed: ethFeed, maxAgeSeconds: 3600 },
      { kind: "uniswapV3" as const, chainId, pool, token: weth, quoteAsset: "USDC" },
    ],
  };

  const config: SolventConfigInput = {
    version: 1,
    chains: [{ chainId, name: "anvil (demo)", rpcUrls: [rpcUrl], batchSize: 500, timeoutMs: 5000 }],
    issuers: [
      {
        id: "demo-stable",
        name: "Demo Stable Dollar (DUSD)",
        assets: [usdcAsset, ethAsset],
        liabilities: {
          supply: {
            asset: "DUSD",
            pegUsd: USD18.toString(),
            tokens: [{ chainId, token: dusd, escrows: [a.bridgeEscrow.address] }],
          },
        },
        reserves: {
          holders: [
            {
              chainId,
              address: a.stableTreasury.address,
              name: "Treasury",
              ownership: {
                kind: "eoa",
                signature: await sign(a.stableTreasury, "demo-stable", a.stableTreasury.address),
              },
              holdings: [
                { type: "erc20", asset: "USDC", token: usdc },
                { type: "erc4626", asset: "USDC", vault },
              ],
            },
            {
              chainId,
              address: contractWallet,
              name: "Multisig-style contract wallet",
              ownership: { kind: "erc1271", signature: await sign(a.walletOwner, "demo-stable", contractWallet) },
              holdings: [{ type: "erc20", asset: "ETH", token: weth }],
            },
          ],
          custodians: [],
        },
        policy,
        ...(relayer ? { relayer } : {}),
      },
      {
        id: "demo",
        name: "Demo Exchange",
        assets: [
          { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: USD18.toString() }] },
          usdcAsset,
          ethAsset,
        ],
        liabilities: {
          ledger: {
            assets: ["USD", "ETH"],
            receiptKeys: [{ address: demoReceiptsAccount().address, validFrom: 0, validUntil: null }],
          },
        },
        reserves: {
          holders: [
            {
              chainId,
              address: a.hotWallet.address,
              name: "Hot wallet",
              ownership: { kind: "eoa", signature: await sign(a.hotWallet, "demo", a.hotWallet.address) },
              holdings: [
                { type: "native", asset: "ETH" },
                { type: "erc20", asset: "USDC", token: usdc },
              ],
            },
            {
              chainId,
              address: a.coldWallet.address,
              name: "Cold wallet (no ownership proof yet)",
              ownership: { kind: "none" },
              holdings: [{ type: "erc20", asset: "ETH", token: weth }],
            },
          ],
          custodians: [
            {
              id: "acme-trust",
              name: "Acme Trust Co.",
              signers: [a.custodianSigner.address],
              accounts: [{ account: "omnibus-1", asset: "USD" }],
            },
          ],
        },
        policy,
        ...(relayer ? { relayer: { ...relayer, feed: onchain!.feed } } : {}),
      },
      ...(options.privateIssuer
        ? [
            {
              id: DEMO_PRIVATE_ISSUER,
              name: "Demo Private Exchange",
              assets: [
                {
                  id: "USD",
                  decimals: 6,
                  pegCurrency: true,
                  prices: [{ kind: "fixed" as const, priceUsd: USD18.toString() }],
                },
                usdcAsset,
                ethAsset,
              ],
              // Balances are committed, never shown: ETH in whole gwei (9 decimals kept), at least 2^8 leaves.
              liabilities: {
                ledger: { assets: ["USD", "ETH"], scheme: "private", minDepth: 8, unitDecimals: { ETH: 9 } },
              },
              reserves: {
                holders: [
                  {
                    chainId,
                    address: a.privateWallet.address,
                    name: "Private exchange wallet",
                    ownership: {
                      kind: "eoa" as const,
                      signature: await sign(a.privateWallet, DEMO_PRIVATE_ISSUER, a.privateWallet.address),
                    },
                    holdings: [
                      { type: "native" as const, asset: "ETH" },
                      { type: "erc20" as const, asset: "USDC", token: usdc },
                    ],
                  },
                ],
                custodians: [],
              },
              policy,
            } satisfies SolventConfigInput["issuers"][number],
          ]
        : []),
    ],
  };
  return {
    rpcUrl,
    chainId,
    contracts: {
      usdc,
      weth,
      dusd,
      vault,
      usdcFeed,
      ethFeed,
      pool,
      contractWallet,
      multicall3: getAddress(multicall3),
      ...onchain,
    },
    config,
  };
}

/** Acme Trust's signed statement for the demo's omnibus account, as posted to the admin route. */
export async function demoCustodianStatement(now: bigint, amountUsd = 900_000n, nonce = BigInt(Date.now())) {
  const statement = {
    issuer: "demo",
    custodian: "acme-trust",
    account: "omnibus-1",
    asset: "USD",
    amount: amountUsd * USDC,
    asOf: now,
    // milliseconds: strictly increasing even for two statements in one second
    nonce,
  };
  return {
    statement: custodianStatementToJson(statement),
    signature: await signCustodianStatement(statement, demoAccounts.custodianSigner),
  };
}

/**
 * The demo's price keeper: republishes both feeds with a fresh `updatedAt`
 * (so they never go stale) and a small deterministic drift of the ETH price,
 * and moves the WETH/USDC pool to the same price, so the two ETH sources
 * agree (a feed that moves alone would raise PRICE_DIVERGENCE).
 */
export async function refreshDemoFeeds(world: DemoWorld, now: bigint, step: number): Promise<void> {
  const { publicClient, wallet } = demoClients(world.rpcUrl, world.chainId);
  const [feed, pool] = await Promise.all([loadArtifact("DemoPriceFeed"), loadArtifact("DemoPool")]);
  const deployer = wallet(demoAccounts.deployer);
  const ethUsd = 3150n + BigInt(Math.round(Math.sin(step / 3) * 40));
  const send = async (address: Address, abi: typeof feed.abi, functionName: string, args: readonly unknown[]) => {
    const hash = await deployer.writeContract({
      address,
      abi,
      functionName,
      args,
      account: deployer.account,
      chain: deployer.chain,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success")
      throw new Error(`demo price keeper: ${functionName} on ${address} reverted (${hash})`);
  };
  await send(world.contracts.usdcFeed, feed.abi, "setAnswer", [100_000_000n, now]);
  await send(world.contracts.ethFeed, feed.abi, "setAnswer", [ethUsd * 10n ** BigInt(FEED_DECIMALS), now]);
  const { sqrtPriceX96 } = sqrtPriceX96For(world.contracts.weth, world.contracts.usdc, 18, 6, ethUsd);
  await send(world.contracts.pool, pool.abi, "setSqrtPriceX96", [sqrtPriceX96]);
}
