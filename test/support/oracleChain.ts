/**
 * An anvil node for the Solidity tests (test/scripts/oracle.test.ts,
 * mintGuard.test.ts): reads, writes that must succeed, the named custom error
 * a call reverts with, the chain clock, and plausible attestation fields.
 */
import {
  type Abi,
  type Account,
  type Address,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  type TransactionReceipt,
  toHex,
} from "viem";
import { expect } from "vitest";
import type { AttestationFields } from "../../core/attestation.js";
import type { AnvilInstance } from "../../scripts/lib/anvil.js";

export const USD = 10n ** 18n;

export interface DecodedRevert {
  errorName: string;
  args: readonly unknown[];
}

export type OracleChain = ReturnType<typeof oracleChain>;

export function oracleChain(anvil: AnvilInstance) {
  const client = createPublicClient({ transport: http(anvil.rpcUrl), pollingInterval: 20 }) as PublicClient;
  const chain = defineChain({
    id: anvil.chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  });
  const walletFor = (account: Account) => createWalletClient({ account, chain, transport: http(anvil.rpcUrl) });

  const rpc = (method: string, params: readonly unknown[] = []): Promise<unknown> =>
    (client.request as (args: { method: string; params: readonly unknown[] }) => Promise<unknown>)({ method, params });

  const chainNow = async (): Promise<bigint> => (await client.getBlock()).timestamp;

  /** Moves the chain clock forward and mines a block at the new time. */
  const advance = async (seconds: number): Promise<void> => {
    await rpc("evm_increaseTime", [seconds]);
    await rpc("evm_mine");
  };

  const read = async <T>(address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []): Promise<T> =>
    (await client.readContract({ address, abi, functionName, args })) as T;

  /** Sends a transaction and expects a successful receipt. */
  const write = async (
    account: Account,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[] = [],
  ): Promise<TransactionReceipt> => {
    const data = encodeFunctionData({ abi, functionName, args });
    const hash = await walletFor(account).sendTransaction({ to: address, data });
    const receipt = await client.waitForTransactionReceipt({ hash });
    expect(receipt.status, `${functionName} should succeed`).toBe("success");
    return receipt;
  };

  /** The named custom error a call reverts with, decoded by viem from the ABI (nothing is sent). */
  const revertOf = async (
    account: Account,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ): Promise<DecodedRevert> => {
    const error = await client.simulateContract({ account, address, abi, functionName, args }).then(
      () => undefined,
      (e: unknown) => e as { walk: (fn: (e: unknown) => boolean) => unknown },
    );
    expect(error, `${functionName} should revert`).toBeDefined();
    const reverted = error!.walk(
      (e) => e instanceof ContractFunctionRevertedError,
    ) as ContractFunctionRevertedError | null;
    expect(reverted?.data, `${functionName} should revert with a custom error`).toBeDefined();
    return { errorName: reverted!.data!.errorName, args: reverted!.data!.args ?? [] };
  };

  return { client, walletFor, rpc, chainNow, advance, read, write, revertOf };
}

let fieldsMade = 0;

/** Fields of a plausible attestation observed 10 s before `now`, valid for an hour; roots differ every call. */
export function fieldsFor(issuer: Hex, now: bigint, overrides: Partial<AttestationFields> = {}): AttestationFields {
  const salt = `${issuer} ${now} ${++fieldsMade}`;
  const reservesUsd = 2_000_000n * USD;
  const liabilitiesUsd = 1_600_000n * USD;
  return {
    issuer,
    observedAt: now - 10n,
    validUntil: now + 3_600n,
    reservesUsd,
    onchainReservesUsd: 1_500_000n * USD,
    offchainReservesUsd: 500_000n * USD,
    liabilitiesUsd,
    ratioBps: Number((reservesUsd * 10_000n) / liabilitiesUsd),
    reservesRoot: keccak256(toHex(`reserves ${salt}`)),
    liabilitiesRoot: keccak256(toHex(`liabilities ${salt}`)),
    flags: 0n,
    reportHash: keccak256(toHex(`report ${salt}`)),
    ...overrides,
  };
}
