/**
 * Loading compiled demo contracts (`contracts/out/*.json`, written by
 * `scripts/contracts/compile.ts`) and putting them on an anvil chain.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Abi, Account, Address, Chain, Client, Hex, PublicClient, Transport, WalletClient } from "viem";
import { BaseError, decodeErrorResult, getAddress } from "viem";
import { getCode, waitForTransactionReceipt } from "viem/actions";

/** One compiled contract, exactly as stored in `contracts/out/<contractName>.json`. */
export interface Artifact {
  contractName: string;
  /** Repository-relative source path, e.g. `contracts/demo/DemoToken.sol`. */
  sourceName: string;
  abi: Abi;
  /** Creation code (constructor included), 0x-prefixed. */
  bytecode: Hex;
  /** Runtime code, 0x-prefixed; what `anvil_setCode` installs. */
  deployedBytecode: Hex;
}

/** The contracts in `contracts/demo`. */
export type DemoContractName =
  | "DemoContractWallet"
  | "DemoPool"
  | "DemoPriceFeed"
  | "DemoToken"
  | "DemoVault"
  | "Multicall3";

/** Where Multicall3 lives on every public chain; viem's chain definitions point here. */
export const MULTICALL3_ADDRESS: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";

export const artifactsDir = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "contracts", "out");

const HEX = /^0x([0-9a-f]{2})*$/;

/** Reads `contracts/out/<name>.json` and checks its shape. */
export async function loadArtifact(name: DemoContractName | (string & {})): Promise<Artifact> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid contract name: ${JSON.stringify(name)}`);
  const path = join(artifactsDir, `${name}.json`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const reason = (error as Error).message;
    throw new Error(`cannot load artifact ${name} from ${path} (run npx tsx scripts/contracts/compile.ts): ${reason}`);
  }
  const artifact = parsed as Partial<Artifact>;
  if (
    artifact.contractName !== name ||
    typeof artifact.sourceName !== "string" ||
    !Array.isArray(artifact.abi) ||
    typeof artifact.bytecode !== "string" ||
    !HEX.test(artifact.bytecode) ||
    typeof artifact.deployedBytecode !== "string" ||
    !HEX.test(artifact.deployedBytecode)
  ) {
    throw new Error(`artifact ${path} is not a valid ${name} artifact`);
  }
  return artifact as Artifact;
}

/**
 * Deploys `artifact` from the wallet client's account and waits for the receipt.
 *
 * @example
 * const token = await deployContract(wallet, client, await loadArtifact("DemoToken"), ["Demo USD", "dUSD", 6]);
 */
export async function deployContract(
  walletClient: WalletClient<Transport, Chain | undefined, Account>,
  publicClient: PublicClient | Client,
  artifact: Artifact,
  args: readonly unknown[] = [],
): Promise<Address> {
  let hash: Hex;
  try {
    hash = await walletClient.deployContract({
      abi: artifact.abi,
      bytecode: artifact.bytecode,
      args,
      account: walletClient.account,
      chain: walletClient.chain,
    });
  } catch (error) {
    throw withDecodedRevert(error, artifact);
  }
  const receipt = await waitForTransactionReceipt(publicClient, { hash });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new Error(`deploying ${artifact.contractName} failed (tx ${hash}, status ${receipt.status})`);
  }
  return getAddress(receipt.contractAddress);
}

/**
 * Installs the compiled Multicall3 runtime code at the canonical address on an
 * anvil node (`anvil_setCode`, no block is mined), so viem's `multicall` works.
 * The request goes through `client`, or straight to `rpcUrl` when given (for
 * clients whose transport is not the anvil node itself). Returns the address.
 */
export async function installMulticall3(client: Client, rpcUrl?: string): Promise<Address> {
  const { deployedBytecode } = await loadArtifact("Multicall3");
  const params = [MULTICALL3_ADDRESS, deployedBytecode] as const;
  if (rpcUrl) {
    await rawRequest(rpcUrl, "anvil_setCode", params);
  } else {
    // anvil_setCode is not in viem's public RPC schema, hence the loose request type.
    await (client.request as (args: { method: string; params: readonly unknown[] }) => Promise<unknown>)({
      method: "anvil_setCode",
      params,
    });
  }
  const code = await getCode(client, { address: MULTICALL3_ADDRESS });
  if (code?.toLowerCase() !== deployedBytecode.toLowerCase()) {
    throw new Error(`Multicall3 code at ${MULTICALL3_ADDRESS} does not match the artifact after anvil_setCode`);
  }
  return MULTICALL3_ADDRESS;
}

/** viem does not decode constructor reverts; name the contract's custom error when there is one. */
function withDecodedRevert(error: unknown, artifact: Artifact): unknown {
  if (!(error instanceof BaseError)) return error;
  const withData = error.walk((e) => typeof (e as { data?: unknown }).data === "string") as { data?: Hex } | null;
  if (!withData?.data || withData.data === "0x") return error;
  try {
    const { errorName, args } = decodeErrorResult({ abi: artifact.abi, data: withData.data });
    const shown = (args ?? [])
      .map((arg) => (typeof arg === "bigint" ? arg.toString() : JSON.stringify(arg)))
      .join(", ");
    return new Error(`deploying ${artifact.contractName} reverted: ${errorName}(${shown})`, { cause: error });
  } catch {
    return error;
  }
}

async function rawRequest(rpcUrl: string, method: string, params: readonly unknown[]): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  if (!response.ok) throw new Error(`${method} to ${rpcUrl}: HTTP ${response.status}`);
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error) throw new Error(`${method} to ${rpcUrl}: ${body.error.message ?? JSON.stringify(body.error)}`);
  return body.result;
}
