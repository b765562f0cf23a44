/**
 * JSON-RPC requests per tick for 1,000 holders x 5 ERC-20 tokens on anvil:
 * `npx tsx scripts/bench/rpcBudget.ts [--holders 1000]`
 *
 * The multicall path is the Worker's own (worker/sources/gatherReadings.ts)
 * at several chain batchSize values, counted with its `onRequest` hook; the
 * baseline reads the same balances with one `eth_call` per balance (viem
 * without batching), counted at the transport. One JSON object per line.
 */
import { parseArgs } from "node:util";
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  getAddress,
  http,
  keccak256,
  numberToHex,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { chainSchema, issuerSchema } from "../../core/config/schema.js";
import { gatherReadings } from "../../worker/sources/gatherReadings.js";
import { startAnvil } from "../lib/anvil.js";
import { deployContract, installMulticall3, loadArtifact } from "../lib/artifacts.js";

const { values } = parseArgs({ options: { holders: { type: "string", default: "1000" } } });
const HOLDERS = Number(values.holders);
const TOKENS = 5;
const CHAIN_ID = 31_337;
const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));

const anvil = await startAnvil({ chainId: CHAIN_ID });
try {
  const chain = defineChain({
    id: CHAIN_ID,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  });
  const client = createPublicClient({ chain, transport: http(anvil.rpcUrl) });
  await installMulticall3(client);
  const deployer = mnemonicToAccount("test test test test test test test test test test test junk");
  const wallet = createWalletClient({ account: deployer, chain, transport: http(anvil.rpcUrl) });
  const tokenArtifact = await loadArtifact("DemoToken");
  const tokens: Address[] = [];
  for (let t = 0; t < TOKENS; t++)
    tokens.push(await deployContract(wallet, client, tokenArtifact, [`Token ${t}`, `T${t}`, 18]));
  const holders = Array.from({ length: HOLDERS }, (_, i) =>
    getAddress(keccak256(numberToHex(i, { size: 32 })).slice(0, 42)),
  );
  // Some non-zero balances so the reads are not all of empty slots.
  for (let i = 0; i < Math.min(HOLDERS, 20); i++) {
    const hash = await wallet.writeContract({
      address: tokens[i % TOKENS]!,
      abi: tokenArtifact.abi,
      functionName: "mint",
      args: [holders[i], BigInt(i + 1) * 10n ** 18n],
    });
    await client.waitForTransactionReceipt({ hash });
  }

  const issuer = issuerSchema.parse({
    id: "bench",
    name: "Bench",
    assets: [{ id: "T", decimals: 18, prices: [{ kind: "fixed", priceUsd: "1" }] }],
    liabilities: { ledger: { assets: ["T"] } },
    reserves: {
      holders: holders.map((address) => ({
        chainId: CHAIN_ID,
        address,
        ownership: { kind: "none" },
        holdings: tokens.map((token) => ({ type: "erc20", asset: "T", token })),
      })),
    },
  });

  for (const batchSize of [500, 1000, 2500, 5000]) {
    let requests = 0;
    const t = performance.now();
    const readings = await gatherReadings({
      issuer,
      chains: [chainSchema.parse({ chainId: CHAIN_ID, rpcUrls: [anvil.rpcUrl], batchSize })],
      secrets: {},
      statements: [],
      ledger: null,
      now: BigInt(Math.floor(Date.now() / 1000)),
      fetchFn: fetch,
      onRequest: () => void requests++,
    });
    const ok = readings.holdings.filter((h) => h.result.ok).length;
    const failed = readings.holdings.find((h) => !h.result.ok)?.result;
    emit({
      bench: "rpc-budget",
      path: "gatherReadings (aggregate3)",
      holders: HOLDERS,
      tokens: TOKENS,
      batchSize,
      requests,
      holdingsOk: ok,
      ms: Math.round(performance.now() - t),
      ...(failed && !failed.ok ? { firstFailure: failed.reason.slice(0, 200) } : {}),
    });
  }

  // Baseline: one eth_call per balance (and per token's decimals), no batching, pinned to one block.
  let requests = 0;
  const counting = createPublicClient({
    chain,
    transport: http(anvil.rpcUrl, { batch: false, onFetchRequest: () => void requests++ }),
    batch: { multicall: false },
  });
  const t = performance.now();
  const blockNumber = await counting.getBlockNumber();
  await Promise.all(
    tokens.map((address) => counting.readContract({ address, abi: erc20Abi, functionName: "decimals", blockNumber })),
  );
  let read = 0;
  for (let i = 0; i < HOLDERS; i += 50) {
    const slice = holders.slice(i, i + 50);
    const results = await Promise.all(
      slice.flatMap((holder) =>
        tokens.map((address) =>
          counting.readContract({ address, abi: erc20Abi, functionName: "balanceOf", args: [holder], blockNumber }),
        ),
      ),
    );
    read += results.length;
  }
  emit({
    bench: "rpc-budget",
    path: "one eth_call per balance",
    holders: HOLDERS,
    tokens: TOKENS,
    requests,
    balancesRead: read,
    ms: Math.round(performance.now() - t),
  });
} finally {
  await anvil.stop();
}
process.exit(0);
