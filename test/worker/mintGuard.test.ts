/**
 * The mint guard against what the real Worker serves: demo-stable is published
 * in workerd, its signed attestation is put on a fresh SolvencyOracle on the
 * demo world's anvil, and the guard's limit is compared with the one implied
 * by `GET /feed`. The oracle and tokens are this file's own (other files relay
 * to the world's oracle), deployed from an account only this file uses.
 */
import { env, exports } from "cloudflare:workers";
import {
  type Abi,
  type Address,
  type BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  numberToHex,
  parseEther,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import guardedStablecoin from "../../contracts/out/GuardedStablecoin.json";
import solvencyOracle from "../../contracts/out/SolvencyOracle.json";
import solventMintGuard from "../../contracts/out/SolventMintGuard.json";
import { attestationFromJson, issuerKey } from "../../core/attestation.js";
import { DEMO_MINT_POLICY, demoAccounts } from "../../scripts/demo/world.js";
import { mintLimitFromFeed } from "../support/mintLimit.js";
import { TEST_SIGNING_KEY } from "../support/testSecrets.js";

const testEnv = env as unknown as { ADMIN_TOKEN: string; TEST_WORLD: string };
const world = JSON.parse(testEnv.TEST_WORLD) as { rpcUrl: string; chainId: number; contracts: Record<string, Address> };
const ORIGIN = "http://solvent.test";
const get = (path: string) => exports.default.fetch(`${ORIGIN}${path}`);

const chain = defineChain({
  id: world.chainId,
  name: "anvil",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [world.rpcUrl] } },
});
const client = createPublicClient({ chain, transport: http(world.rpcUrl), pollingInterval: 50 });
const account = privateKeyToAccount(keccak256(toHex("solvent mint guard workerd test")));
const wallet = createWalletClient({ account, chain, transport: http(world.rpcUrl) });
const DUSD_DECIMALS = 6;

interface Compiled {
  abi: unknown;
  bytecode: string;
}

async function deploy(artifact: Compiled, args: readonly unknown[]): Promise<Address> {
  const hash = await wallet.deployContract({ abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex, args });
  const receipt = await client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  return receipt.contractAddress!;
}

async function send(
  address: Address,
  artifact: Compiled,
  functionName: string,
  args: readonly unknown[],
): Promise<void> {
  const hash = await wallet.writeContract({ address, abi: artifact.abi as Abi, functionName, args });
  expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
}

const read = <T>(address: Address, artifact: Compiled, functionName: string, args: readonly unknown[] = []) =>
  client.readContract({ address, abi: artifact.abi as Abi, functionName, args }) as Promise<T>;

let oracle: Address;

beforeAll(async () => {
  await client.request({
    method: "anvil_setBalance" as never,
    params: [account.address, numberToHex(parseEther("10"))] as never,
  });
  oracle = await deploy(solvencyOracle, [16n]);
  await send(oracle, solvencyOracle, "addSigner", [
    issuerKey("demo-stable"),
    privateKeyToAccount(TEST_SIGNING_KEY).address,
  ]);
});

describe("SolventMintGuard on the attestation the Worker publishes", () => {
  it("limits DUSD to exactly what GET /feed implies, over the supply the attestation counts", async () => {
    const published = await exports.default.fetch(`${ORIGIN}/v1/admin/issuers/demo-stable/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` },
    });
    expect(published.status).toBe(201);
    const latest = (await (await get("/v1/issuers/demo-stable/attestations/latest")).json()) as {
      attestation: Record<string, string>;
      signature: Hex;
    };
    const feed = (await (await get("/v1/issuers/demo-stable/feed")).json()) as { roundId: string; answer: string };
    expect(feed.roundId).toBe(latest.attestation.sequence);
    const attestation = attestationFromJson(latest.attestation);
    expect(attestation.flags & DEMO_MINT_POLICY.denyFlags).toBe(0n);

    // The Worker's own signature is what the oracle checks.
    await send(oracle, solvencyOracle, "submit", [attestation, latest.signature]);

    // A guard over the demo's DUSD with the demo policy, the bridge escrow excluded as in the issuer's liabilities.
    const guard = await deploy(solventMintGuard, [
      { oracle, issuer: issuerKey("demo-stable"), ...DEMO_MINT_POLICY },
      world.contracts.dusd,
      [demoAccounts.bridgeEscrow.address],
    ]);
    const [limit, supply, sequence] = await read<readonly [bigint, bigint, bigint]>(
      guard,
      solventMintGuard,
      "mintLimit",
    );
    const implied = mintLimitFromFeed(BigInt(feed.answer), { decimals: DUSD_DECIMALS, ...DEMO_MINT_POLICY });
    expect(limit).toBe(implied);
    expect(sequence).toBe(attestation.sequence);
    // The guard counts the supply the attestation counts: DUSD at 1 USD is liabilitiesUsd.
    expect(supply * 10n ** BigInt(18 - DUSD_DECIMALS)).toBe(attestation.liabilitiesUsd);
    expect(limit).toBeGreaterThan(supply); // the demo issuer is over-collateralised, so there is room to mint

    // A token guarding its own mint with the same policy mints exactly that limit and not one unit more.
    const coin = await deploy(guardedStablecoin, [
      "Guarded DUSD",
      "gDUSD",
      DUSD_DECIMALS,
      { oracle, issuer: issuerKey("demo-stable"), ...DEMO_MINT_POLICY },
    ]);
    await send(coin, guardedStablecoin, "mint", [account.address, implied]);
    expect(await read(coin, guardedStablecoin, "totalSupply")).toBe(implied);
    const refused = await client
      .simulateContract({
        account,
        address: coin,
        abi: guardedStablecoin.abi as Abi,
        functionName: "mint",
        args: [account.address, 1n],
      })
      .then(
        () => null,
        (e: BaseError) =>
          e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null,
      );
    expect(refused?.data).toMatchObject({ errorName: "MintExceedsReserves", args: [implied, 1n, implied] });
  });
});
