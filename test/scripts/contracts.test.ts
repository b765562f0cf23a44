import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  type Abi,
  type Address,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  defineChain,
  encodeFunctionData,
  type Hex,
  hashMessage,
  hexToBigInt,
  http,
  numberToHex,
  type PublicClient,
  parseSignature,
  recoverMessageAddress,
  serializeSignature,
} from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompileError, compileContracts, serializeArtifact } from "../../scripts/contracts/compile.js";
import { type AnvilInstance, startAnvil } from "../../scripts/lib/anvil.js";
import {
  type Artifact,
  artifactsDir,
  deployContract,
  installMulticall3,
  loadArtifact,
  MULTICALL3_ADDRESS,
} from "../../scripts/lib/artifacts.js";

const MNEMONIC = "test test test test test test test test test test test junk";
const CHAIN_ID = 31_338; // not anvil's default, to prove the option is passed through
const ERC1271_MAGIC = "0x1626ba7e";
const ERC1271_INVALID = "0xffffffff";
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const Q96 = 2n ** 96n;
const EMPTY_ACCOUNT: Address = "0x000000000000000000000000000000000000bee5";

const deployer = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
const alice = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
const mallory = mnemonicToAccount(MNEMONIC, { addressIndex: 2 });

let anvil: AnvilInstance;
let client: PublicClient;
const abis: Record<string, Abi> = {};
const at: Record<"usd" | "weth" | "vault" | "feed" | "pool" | "wallet", Address> = {} as never;
let feedDeployedAt: bigint;

function walletFor(account: HDAccount) {
  const chain = defineChain({
    id: CHAIN_ID,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  });
  return createWalletClient({ account, chain, transport: http(anvil.rpcUrl) });
}

async function read<T>(
  address: Address,
  abiName: string,
  functionName: string,
  args: readonly unknown[] = [],
): Promise<T> {
  return (await client.readContract({ address, abi: abis[abiName]!, functionName, args })) as T;
}

/** Sends a transaction and waits for a successful receipt. */
async function write(
  account: HDAccount,
  address: Address,
  abiName: string,
  functionName: string,
  args: readonly unknown[] = [],
): Promise<void> {
  const hash = await walletFor(account).writeContract({ address, abi: abis[abiName]!, functionName, args });
  const receipt = await client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
}

interface DecodedRevert {
  errorName: string;
  args?: readonly unknown[];
}

/** The custom error a call would revert with (simulated, nothing is sent). */
async function revertOf(
  account: HDAccount,
  address: Address,
  abiName: string,
  functionName: string,
  args: readonly unknown[],
): Promise<DecodedRevert | undefined> {
  const error = await client.simulateContract({ account, address, abi: abis[abiName]!, functionName, args }).then(
    () => undefined,
    (e: unknown) => e as { walk: (fn: (e: unknown) => boolean) => unknown },
  );
  expect(error, `${functionName} should revert`).toBeDefined();
  const decoded = (e: unknown) => typeof (e as { data?: unknown }).data === "object";
  const cause = error!.walk(decoded) as { data?: DecodedRevert } | null;
  return cause?.data;
}

async function revertName(...args: Parameters<typeof revertOf>): Promise<string | undefined> {
  return (await revertOf(...args))?.errorName;
}

beforeAll(async () => {
  anvil = await startAnvil({ chainId: CHAIN_ID });
  client = createPublicClient({ transport: http(anvil.rpcUrl) });
  await installMulticall3(client);

  for (const name of ["DemoToken", "DemoVault", "DemoPriceFeed", "DemoPool", "DemoContractWallet", "Multicall3"]) {
    abis[name] = (await loadArtifact(name)).abi;
  }
  const wallet = walletFor(deployer);
  const deploy = async (name: string, args: readonly unknown[]) =>
    deployContract(wallet, client, await loadArtifact(name), args);

  at.usd = await deploy("DemoToken", ["Demo USD Coin", "dUSDC", 6]);
  at.weth = await deploy("DemoToken", ["Demo Wrapped Ether", "dWETH", 18]);
  at.vault = await deploy("DemoVault", [at.usd, "Demo USDC Vault", "vdUSDC"]);
  at.feed = await deploy("DemoPriceFeed", [8, "ETH / USD", 3_000n * 10n ** 8n]);
  feedDeployedAt = (await client.getBlock()).timestamp;
  const [token0, token1] = at.usd.toLowerCase() < at.weth.toLowerCase() ? [at.usd, at.weth] : [at.weth, at.usd];
  at.pool = await deploy("DemoPool", [token0, token1, 500, Q96]);
  at.wallet = await deploy("DemoContractWallet", [alice.address]);
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
});

describe("startAnvil", () => {
  it("serves the requested chain id on 127.0.0.1", async () => {
    expect(anvil.rpcUrl).toBe(`http://127.0.0.1:${anvil.port}`);
    expect(await client.getChainId()).toBe(CHAIN_ID);
  });

  it("refuses a port that is already taken instead of talking to another node", async () => {
    await expect(startAnvil({ port: anvil.port })).rejects.toThrow(/not available/);
  });
});

describe("DemoToken", () => {
  it("has the configured metadata", async () => {
    expect(await read(at.usd, "DemoToken", "decimals")).toBe(6);
    expect(await read(at.weth, "DemoToken", "decimals")).toBe(18);
    expect(await read(at.usd, "DemoToken", "symbol")).toBe("dUSDC");
    expect(await read(at.weth, "DemoToken", "name")).toBe("Demo Wrapped Ether");
  });

  it("mints and burns for the owner only, tracking balances and supply", async () => {
    const holder = mallory.address;
    await write(deployer, at.weth, "DemoToken", "mint", [holder, 5n * 10n ** 18n]);
    await write(deployer, at.weth, "DemoToken", "burn", [holder, 2n * 10n ** 18n]);
    expect(await read(at.weth, "DemoToken", "balanceOf", [holder])).toBe(3n * 10n ** 18n);
    expect(await read(at.weth, "DemoToken", "totalSupply")).toBe(3n * 10n ** 18n);

    expect(await revertOf(mallory, at.weth, "DemoToken", "mint", [holder, 1n])).toMatchObject({
      errorName: "NotOwner",
      args: [mallory.address],
    });
    const overBurn = [holder, 4n * 10n ** 18n];
    expect(await revertName(deployer, at.weth, "DemoToken", "burn", overBurn)).toBe("InsufficientBalance");
  });

  it("moves tokens with transfer and transferFrom within the allowance", async () => {
    await write(deployer, at.usd, "DemoToken", "mint", [mallory.address, 100n]);
    await write(mallory, at.usd, "DemoToken", "approve", [alice.address, 60n]);
    await write(alice, at.usd, "DemoToken", "transferFrom", [mallory.address, alice.address, 40n]);
    expect(await read(at.usd, "DemoToken", "balanceOf", [alice.address])).toBe(40n);
    expect(await read(at.usd, "DemoToken", "allowance", [mallory.address, alice.address])).toBe(20n);
    const overAllowance = [mallory.address, alice.address, 21n];
    expect(await revertName(alice, at.usd, "DemoToken", "transferFrom", overAllowance)).toBe("InsufficientAllowance");
    await write(alice, at.usd, "DemoToken", "transfer", [mallory.address, 40n]);
    expect(await read(at.usd, "DemoToken", "balanceOf", [mallory.address])).toBe(100n);
  });
});

describe("DemoVault", () => {
  it("prices shares above 1 after simulated yield and below after a simulated loss", async () => {
    const deposited = 1_000n * 10n ** 6n;
    expect(await read(at.vault, "DemoVault", "asset")).toBe(at.usd);
    expect(await read(at.vault, "DemoVault", "decimals")).toBe(6);

    await write(deployer, at.usd, "DemoToken", "mint", [alice.address, deposited]);
    await write(alice, at.usd, "DemoToken", "approve", [at.vault, deposited]);
    await write(alice, at.vault, "DemoVault", "deposit", [deposited, alice.address]);
    const shares = await read<bigint>(at.vault, "DemoVault", "balanceOf", [alice.address]);
    expect(shares).toBe(deposited); // first deposit: one share per asset unit
    expect(await read(at.vault, "DemoVault", "totalAssets")).toBe(deposited);
    expect(await read(at.vault, "DemoVault", "convertToAssets", [shares])).toBe(deposited);

    const yieldAmount = 100n * 10n ** 6n;
    await write(deployer, at.usd, "DemoToken", "mint", [deployer.address, yieldAmount]);
    await write(deployer, at.usd, "DemoToken", "approve", [at.vault, yieldAmount]);
    await write(deployer, at.vault, "DemoVault", "simulateYield", [yieldAmount]);
    expect(await read(at.vault, "DemoVault", "totalAssets")).toBe(deposited + yieldAmount);
    const worth = await read<bigint>(at.vault, "DemoVault", "convertToAssets", [shares]);
    expect(worth).toBeGreaterThan(deposited);
    // Only rounding (one virtual share) separates it from the whole 1,100 units.
    expect(deposited + yieldAmount - worth).toBeLessThanOrEqual(1n);
    expect(await read<bigint>(at.vault, "DemoVault", "convertToShares", [worth])).toBeLessThanOrEqual(shares);

    expect(await revertName(alice, at.vault, "DemoVault", "simulateLoss", [1n, alice.address])).toBe("NotOwner");
    await write(deployer, at.vault, "DemoVault", "simulateLoss", [300n * 10n ** 6n, deployer.address]);
    expect(await read<bigint>(at.vault, "DemoVault", "convertToAssets", [shares])).toBeLessThan(deposited);

    // Redeeming pays out exactly what convertToAssets promised.
    const promised = await read<bigint>(at.vault, "DemoVault", "previewRedeem", [shares]);
    await write(alice, at.vault, "DemoVault", "redeem", [shares, alice.address, alice.address]);
    expect(await read(at.usd, "DemoToken", "balanceOf", [alice.address])).toBe(promised);
    expect(await read(at.vault, "DemoVault", "totalSupply")).toBe(0n);
  });
});

describe("DemoPriceFeed", () => {
  type RoundData = readonly [bigint, bigint, bigint, bigint, bigint];

  it("looks like a Chainlink AggregatorV3 feed", async () => {
    expect(await read(at.feed, "DemoPriceFeed", "decimals")).toBe(8);
    expect(await read(at.feed, "DemoPriceFeed", "description")).toBe("ETH / USD");
    expect(await read(at.feed, "DemoPriceFeed", "version")).toBe(4n);
  });

  it("returns what was set, including a stale updatedAt, and keeps earlier rounds", async () => {
    const initial = await read<RoundData>(at.feed, "DemoPriceFeed", "latestRoundData");
    expect(initial).toEqual([1n, 3_000n * 10n ** 8n, feedDeployedAt, feedDeployedAt, 1n]);

    const stale = feedDeployedAt - 7_200n;
    await write(deployer, at.feed, "DemoPriceFeed", "setAnswer", [2_500n * 10n ** 8n, stale]);
    expect(await read(at.feed, "DemoPriceFeed", "latestRoundData")).toEqual([2n, 2_500n * 10n ** 8n, stale, stale, 2n]);
    expect(await read(at.feed, "DemoPriceFeed", "getRoundData", [1n])).toEqual(initial);

    expect(await revertOf(deployer, at.feed, "DemoPriceFeed", "getRoundData", [3n])).toMatchObject({
      errorName: "NoDataPresent",
      args: [3n],
    });
    expect(await revertName(mallory, at.feed, "DemoPriceFeed", "setAnswer", [1n, stale])).toBe("NotOwner");
  });
});

describe("DemoPool", () => {
  type Slot0 = readonly [bigint, number, number, number, number, number, boolean];

  /** Exact v3 tick: the largest t with 1.0001^t <= (s / 2^96)^2, in integer arithmetic. */
  function exactTick(sqrtPriceX96: bigint): number {
    const atOrAbove = (t: number): boolean => {
      const up = t >= 0 ? [10_001n, 10_000n] : [10_000n, 10_001n];
      const e = BigInt(Math.abs(t));
      return sqrtPriceX96 ** 2n * up[1]! ** e >= 2n ** 192n * up[0]! ** e;
    };
    let t = Math.floor((2 * Math.log(Number(sqrtPriceX96) / 2 ** 96)) / Math.log(1.0001)) + 2;
    while (!atOrAbove(t)) t -= 1;
    return t;
  }

  it("exposes the pair, the fee and the v3 slot0 tuple for the price that was set", async () => {
    const token0 = await read<Address>(at.pool, "DemoPool", "token0");
    const token1 = await read<Address>(at.pool, "DemoPool", "token1");
    expect(new Set([token0, token1])).toEqual(new Set([at.usd, at.weth]));
    expect(token0.toLowerCase() < token1.toLowerCase()).toBe(true);
    expect(await read(at.pool, "DemoPool", "fee")).toBe(500);
    expect(await read(at.pool, "DemoPool", "slot0")).toEqual([Q96, 0, 0, 1, 1, 0, true]);

    // ~3000 USDC per WETH with USDC (6 decimals) as token0: raw price 1e18 / 3000e6.
    const sqrtPriceX96 = 1_446_501_726_624_926_496_477_173_928_345_600n;
    await write(deployer, at.pool, "DemoPool", "setSqrtPriceX96", [sqrtPriceX96]);
    const slot0 = await read<Slot0>(at.pool, "DemoPool", "slot0");
    expect(slot0[0]).toBe(sqrtPriceX96);
    expect(slot0[1]).toBe(exactTick(sqrtPriceX96));

    expect(await revertName(mallory, at.pool, "DemoPool", "setSqrtPriceX96", [Q96])).toBe("NotOwner");
    const belowMin = [4_295_128_738n];
    expect(await revertName(deployer, at.pool, "DemoPool", "setSqrtPriceX96", belowMin)).toBe("SqrtPriceOutOfRange");
  });

  it("derives the same tick as exact integer arithmetic, down to the v3 price bounds", async () => {
    const samples: bigint[] = [];
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 16; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      const exponent = 80n + (x % 32n); // sqrt prices from 2^80 to 2^112: ticks within about ±222,000
      samples.push(2n ** exponent + ((x * 2n ** (exponent - 64n)) % 2n ** exponent));
    }
    const results = await client.multicall({
      contracts: samples.map((s) => ({
        address: at.pool,
        abi: abis.DemoPool!,
        functionName: "tickAtSqrtPrice",
        args: [s],
      })),
      multicallAddress: MULTICALL3_ADDRESS,
      allowFailure: false,
    });
    expect(results).toEqual(samples.map(exactTick));

    // The v3 extremes: MIN_SQRT_PRICE and MAX_SQRT_PRICE - 1.
    const bounds = [4_295_128_739n, 1_461_446_703_485_210_103_287_273_052_203_988_822_378_723_970_341n];
    const ticks = await Promise.all(bounds.map((s) => read<number>(at.pool, "DemoPool", "tickAtSqrtPrice", [s])));
    expect(ticks).toEqual([-887_272, 887_271]);
  });

  it("refuses unsorted tokens like a real v3 pool", async () => {
    const token0 = await read<Address>(at.pool, "DemoPool", "token0");
    const token1 = await read<Address>(at.pool, "DemoPool", "token1");
    const wallet = walletFor(deployer);
    const unsorted = [token1, token0, 500, Q96];
    await expect(deployContract(wallet, client, await loadArtifact("DemoPool"), unsorted)).rejects.toThrow(
      /TokensNotSorted/,
    );
  });
});

describe("Multicall3 at the canonical address", () => {
  it("serves viem's multicall at a pinned block, marking a failing call as failure", async () => {
    await write(deployer, at.weth, "DemoToken", "mint", [alice.address, 7n]);
    const blockNumber = await client.getBlockNumber({ cacheTime: 0 }); // viem caches the head for seconds by default
    const block = await client.getBlock({ blockNumber });
    await write(deployer, at.weth, "DemoToken", "mint", [alice.address, 1_000n]); // after the pinned block
    await client.request({ method: "anvil_setBalance" as never, params: [EMPTY_ACCOUNT, numberToHex(123n)] as never });

    const multicall = abis.Multicall3!;
    const results = await client.multicall({
      contracts: [
        { address: at.weth, abi: abis.DemoToken!, functionName: "balanceOf", args: [alice.address] },
        { address: at.feed, abi: abis.DemoPriceFeed!, functionName: "getRoundData", args: [99n] },
        { address: at.pool, abi: abis.DemoPool!, functionName: "slot0" },
        { address: MULTICALL3_ADDRESS, abi: multicall, functionName: "getBlockNumber" },
        { address: MULTICALL3_ADDRESS, abi: multicall, functionName: "getCurrentBlockTimestamp" },
        { address: MULTICALL3_ADDRESS, abi: multicall, functionName: "getChainId" },
      ],
      multicallAddress: MULTICALL3_ADDRESS,
      blockNumber,
      allowFailure: true,
    });
    expect(results.map((r) => r.status)).toEqual(["success", "failure", "success", "success", "success", "success"]);
    expect(results[0]?.result).toBe(7n); // the later mint is not visible at the pinned block
    expect(results[1]?.error?.message).toMatch(/NoDataPresent/);
    expect((results[2]?.result as readonly unknown[] | undefined)?.length).toBe(7);
    expect(results[3]?.result).toBe(blockNumber);
    expect(results[4]?.result).toBe(block.timestamp);
    expect(results[5]?.result).toBe(BigInt(CHAIN_ID));

    const latest = await client.multicall({
      contracts: [
        { address: at.weth, abi: abis.DemoToken!, functionName: "balanceOf", args: [alice.address] },
        { address: MULTICALL3_ADDRESS, abi: multicall, functionName: "getEthBalance", args: [EMPTY_ACCOUNT] },
      ],
      multicallAddress: MULTICALL3_ADDRESS,
      allowFailure: false,
    });
    expect(latest).toEqual([1_007n, 123n]);
  });

  it("reverts aggregate3 as a whole when a call that may not fail fails", async () => {
    const failing = encodeFunctionData({ abi: abis.DemoPriceFeed!, functionName: "getRoundData", args: [99n] });
    const fine = encodeFunctionData({ abi: abis.DemoPriceFeed!, functionName: "decimals" });
    const calls = (allowFailure: boolean) => [
      { target: at.feed, allowFailure: true, callData: fine },
      { target: at.feed, allowFailure, callData: failing },
    ];
    type Result = { success: boolean; returnData: Hex };
    const ok = await read<readonly Result[]>(MULTICALL3_ADDRESS, "Multicall3", "aggregate3", [calls(true)]);
    expect(ok.map((r) => r.success)).toEqual([true, false]);
    expect(decodeErrorResult({ abi: abis.DemoPriceFeed!, data: ok[1]!.returnData }).errorName).toBe("NoDataPresent");

    const reason = await revertOf(deployer, MULTICALL3_ADDRESS, "Multicall3", "aggregate3", [calls(false)]);
    expect(reason?.errorName).toBe("CallFailed");
    expect(reason?.args?.[0]).toBe(1n);
  });
});

describe("DemoContractWallet (ERC-1271)", () => {
  // Shaped like the SPEC §8 ownership message.
  const message = [
    "Solvent reserve ownership",
    "issuer: demo",
    "address: 0x000000000000000000000000000000000000dEaD",
    `chainId: ${CHAIN_ID}`,
  ].join("\n");

  const isValidSignature = (hash: Hex, signature: Hex) =>
    read<Hex>(at.wallet, "DemoContractWallet", "isValidSignature", [hash, signature]);

  it("accepts the owner's EIP-191 signature of a message hash and nobody else's", async () => {
    const hash = hashMessage(message);
    const byOwner = await alice.signMessage({ message });
    const byOther = await mallory.signMessage({ message });
    expect(await isValidSignature(hash, byOwner)).toBe(ERC1271_MAGIC);
    expect(await isValidSignature(hash, byOther)).toBe(ERC1271_INVALID);
    expect(await isValidSignature(hashMessage(`${message}!`), byOwner)).toBe(ERC1271_INVALID);

    // The same check as a verifier would run it through viem.
    expect(await client.verifyMessage({ address: at.wallet, message, signature: byOwner })).toBe(true);
    expect(await client.verifyMessage({ address: at.wallet, message, signature: byOther })).toBe(false);
  });

  it("rejects malleable, malformed and wrongly-encoded owner signatures", async () => {
    const hash = hashMessage(message);
    const signature = await alice.signMessage({ message });
    const { r, s, yParity } = parseSignature(signature);

    // (r, n - s) with the other parity recovers to the owner too, but is the high-s twin.
    const twinS = numberToHex(SECP256K1_N - hexToBigInt(s), { size: 32 });
    const highS = serializeSignature({ r, s: twinS, yParity: 1 - yParity! });
    expect(await recoverMessageAddress({ message, signature: highS })).toBe(alice.address);
    expect(await isValidSignature(hash, highS)).toBe(ERC1271_INVALID);

    const rawV = `${signature.slice(0, 130)}${yParity === 0 ? "00" : "01"}` as Hex; // v in {0,1} instead of {27,28}
    expect(await isValidSignature(hash, rawV)).toBe(ERC1271_INVALID);
    expect(await isValidSignature(hash, signature.slice(0, 130) as Hex)).toBe(ERC1271_INVALID); // 64 bytes
    expect(await isValidSignature(hash, `${signature}00`)).toBe(ERC1271_INVALID); // 66 bytes
  });

  it("lets only the owner move what the wallet holds", async () => {
    await write(deployer, at.usd, "DemoToken", "mint", [at.wallet, 500n]);
    const transfer = (amount: bigint) =>
      encodeFunctionData({ abi: abis.DemoToken!, functionName: "transfer", args: [mallory.address, amount] });
    const before = await read<bigint>(at.usd, "DemoToken", "balanceOf", [mallory.address]);

    await write(alice, at.wallet, "DemoContractWallet", "execute", [at.usd, 0n, transfer(200n)]);
    expect(await read(at.usd, "DemoToken", "balanceOf", [at.wallet])).toBe(300n);
    expect(await read(at.usd, "DemoToken", "balanceOf", [mallory.address])).toBe(before + 200n);

    const stealing = [at.usd, 0n, transfer(1n)];
    expect(await revertName(mallory, at.wallet, "DemoContractWallet", "execute", stealing)).toBe("NotOwner");
    // The callee's revert data reaches the caller unchanged.
    const overdraw = encodeFunctionData({
      abi: abis.DemoContractWallet!,
      functionName: "execute",
      args: [at.usd, 0n, transfer(301n)],
    });
    const raw = await client.call({ account: alice, to: at.wallet, data: overdraw }).then(
      () => undefined,
      (e: { walk: (fn: (e: unknown) => boolean) => unknown }) =>
        (e.walk((x) => typeof (x as { data?: unknown }).data === "string") as { data?: Hex } | null)?.data,
    );
    expect(raw, "execute should revert").toBeDefined();
    expect(decodeErrorResult({ abi: abis.DemoToken!, data: raw! }).errorName).toBe("InsufficientBalance");
  });
});

describe("artifacts", () => {
  it("installMulticall3 put the artifact's runtime code at the canonical address", async () => {
    const artifact = await loadArtifact("Multicall3");
    expect(await client.getCode({ address: MULTICALL3_ADDRESS })).toBe(artifact.deployedBytecode);
  });

  it("loadArtifact refuses names that are not artifacts", async () => {
    await expect(loadArtifact("../package")).rejects.toThrow(/invalid contract name/);
    await expect(loadArtifact("NoSuchContract")).rejects.toThrow(/cannot load artifact NoSuchContract/);
  });

  it("the committed contracts/out equals a fresh in-process compile, byte for byte", async () => {
    const fresh: Record<string, Artifact> = await compileContracts();
    const committed = (await readdir(artifactsDir)).filter((f) => f.endsWith(".json")).sort();
    expect(committed).toEqual(
      Object.keys(fresh)
        .map((name) => `${name}.json`)
        .sort(),
    );
    for (const [name, artifact] of Object.entries(fresh)) {
      const onDisk = await readFile(join(artifactsDir, `${name}.json`), "utf8");
      const hint = `contracts/out/${name}.json is stale: run npx tsx scripts/contracts/compile.ts`;
      expect(onDisk, hint).toBe(serializeArtifact(artifact));
    }
  }, 60_000);
});

describe("compileContracts on another tree", () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "solvent-contracts-")), "contracts");
    await mkdir(join(dir, "lib"), { recursive: true });
  });
  afterAll(async () => {
    await rm(dirname(dir), { recursive: true, force: true });
  });

  const pragma = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n";

  it("resolves imports inside the tree and skips contracts without bytecode", async () => {
    const iface = "interface IAnswer { function answer() external view returns (uint256); }";
    const impl = "contract Answer is IAnswer { function answer() external pure returns (uint256) { return 42; } }";
    await writeFile(join(dir, "lib", "Answer.sol"), `${pragma}${iface}\n`);
    await writeFile(join(dir, "Answer.sol"), `${pragma}import "contracts/lib/Answer.sol";\n${impl}\n`);
    const artifacts = await compileContracts({ contractsDir: dir });
    expect(Object.keys(artifacts)).toEqual(["Answer"]);
    expect(artifacts.Answer?.sourceName).toBe("contracts/Answer.sol");
    expect(artifacts.Answer?.deployedBytecode).toMatch(/^0x[0-9a-f]+$/);
  }, 60_000);

  it("fails with solc's own messages, and refuses imports from outside the tree", async () => {
    await writeFile(join(dir, "Broken.sol"), `${pragma}contract Broken { function f() external { nothing(); } }\n`);
    await expect(compileContracts({ contractsDir: dir })).rejects.toThrow(
      /DeclarationError: Undeclared identifier[\s\S]*contracts\/Broken\.sol/,
    );
    await rm(join(dir, "Broken.sol"));

    await writeFile(join(dir, "Outside.sol"), `${pragma}import "node_modules/solc/Thing.sol";\ncontract Outside {}\n`);
    const failure = await compileContracts({ contractsDir: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(CompileError);
    expect((failure as CompileError).message).toMatch(/import outside contracts\/: node_modules\/solc\/Thing\.sol/);
  }, 60_000);
});

describe("AnvilInstance.stop", () => {
  // Last on purpose: it ends this file's node (afterAll's second stop() is a no-op).
  it("ends the node and frees its port", async () => {
    await anvil.stop();
    await expect(fetch(anvil.rpcUrl, { method: "POST" })).rejects.toThrow();
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(anvil.port, "127.0.0.1", () => server.close(() => resolve()));
    });
    await anvil.stop();
  });
});
