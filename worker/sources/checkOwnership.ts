import { type Address, type Client, getAddress, type Hex } from "viem";
import { getCode } from "viem/actions";
import type { ChainConfig, HolderConfig } from "../../core/config/schema.js";
import { checkOwnershipSignature, ownershipMessageHash } from "../../core/ownershipProof.js";
import type { OwnershipReading, PinnedBlock } from "../../core/valuation/readings.js";
import { describeRpcError } from "./chainClient.js";
import { type CallBatch, createChainCallBatch } from "./multicall.js";

const erc1271Abi = [
  {
    type: "function",
    name: "isValidSignature",
    stateMutability: "view",
    inputs: [
      { name: "hash", type: "bytes32" },
      { name: "signature", type: "bytes" },
    ],
    outputs: [{ name: "magicValue", type: "bytes4" }],
  },
] as const;

/** What ERC-1271 `isValidSignature` returns for a valid signature. */
export const ERC1271_MAGIC_VALUE = "0x1626ba7e";

export interface CheckOwnershipParameters {
  issuerId: string;
  chain: ChainConfig;
  /** The issuer's holders; only those on this chain are checked. */
  holders: readonly HolderConfig[];
  block: PinnedBlock;
  batch?: CallBatch;
}

/**
 * SPEC §8 ownership of every holder on this chain:
 * - `eoa`: the personal_sign signature recovers to the holder (no network);
 * - `erc1271`: `isValidSignature(messageHash, signature)` at the pinned block
 *   (in the shared aggregate3 round) returns exactly 0x1626ba7e;
 * - `contract`: code at the address at the pinned block (one eth_getCode each);
 * - `none`: never proven.
 *
 * @example
 * const ownership = await checkOwnership(client, { issuerId: issuer.id, chain, holders: issuer.reserves.holders, block });
 */
export async function checkOwnership(
  client: Client,
  parameters: CheckOwnershipParameters,
): Promise<OwnershipReading[]> {
  const { issuerId, chain, block } = parameters;
  const batch = parameters.batch ?? createChainCallBatch(client, chain, block.number);
  const holders = parameters.holders.filter((h) => h.chainId === chain.chainId);
  return Promise.all(
    holders.map(async (holder): Promise<OwnershipReading> => {
      const address = getAddress(holder.address);
      const base = { chainId: chain.chainId, holder: address, method: holder.ownership.kind };
      try {
        return { ...base, ...(await check(client, batch, issuerId, chain.chainId, address, holder.ownership, block)) };
      } catch (error) {
        return { ...base, proven: false, detail: `ownership check failed: ${describeRpcError(error)}` };
      }
    }),
  );
}

async function check(
  client: Client,
  batch: CallBatch,
  issuerId: string,
  chainId: number,
  address: Address,
  ownership: HolderConfig["ownership"],
  block: PinnedBlock,
): Promise<{ proven: boolean; detail: string }> {
  const claim = { issuerId, address, chainId };
  switch (ownership.kind) {
    case "eoa": {
      const check = await checkOwnershipSignature(claim, ownership.signature as Hex);
      return check.ok
        ? { proven: true, detail: "EIP-191 signature by the holder over the SPEC §8 message" }
        : { proven: false, detail: `EIP-191 signature not accepted for the SPEC §8 message: ${check.reason}` };
    }
    case "erc1271": {
      const answer = await batch.read({
        address,
        abi: erc1271Abi,
        functionName: "isValidSignature",
        args: [ownershipMessageHash(claim), ownership.signature as Hex],
      });
      if (!answer.ok) return { proven: false, detail: `ERC-1271 check failed: ${answer.reason}` };
      const proven = answer.value.toLowerCase() === ERC1271_MAGIC_VALUE;
      return { proven, detail: `ERC-1271 isValidSignature returned ${answer.value} at block ${block.number}` };
    }
    case "contract": {
      const code = await getCode(client, { address, blockNumber: block.number });
      return code !== undefined && code !== "0x"
        ? { proven: true, detail: `contract code at address (declared), block ${block.number}` }
        : {
            proven: false,
            detail: `declared a contract, but there is no code at the address at block ${block.number}`,
          };
    }
    case "none":
      return { proven: false, detail: "ownership not proven (declared none)" };
  }
}

/**
 * Under `agreement: "all"`, the code behind `contract` ownership is compared
 * across RPCs too (eth_getCode is not part of the aggregate3 rounds): the
 * first difference, or a witness that cannot answer, as a sentence naming
 * RPCs by index; null when every RPC serves the same code.
 */
export async function compareContractCode(
  client: Client,
  witnesses: readonly Client[],
  parameters: { chain: ChainConfig; holders: readonly HolderConfig[]; block: PinnedBlock },
): Promise<string | null> {
  if (witnesses.length === 0) return null;
  const addresses = parameters.holders
    .filter((h) => h.chainId === parameters.chain.chainId && h.ownership.kind === "contract")
    .map((h) => getAddress(h.address));
  const blockNumber = parameters.block.number;
  for (const address of addresses) {
    const codes = await Promise.all(
      [client, ...witnesses].map((c) =>
        getCode(c, { address, blockNumber }).then(
          (code) => ({ ok: true as const, code: code ?? "0x" }),
          (error: unknown) => ({ ok: false as const, reason: describeRpcError(error) }),
        ),
      ),
    );
    const first = codes[0]!;
    if (!first.ok) return `RPC 0 could not read the code at ${address}: ${first.reason}`;
    for (let w = 1; w < codes.length; w++) {
      const other = codes[w]!;
      if (!other.ok) return `RPC ${w} could not read the code at ${address}: ${other.reason}`;
      if (other.code.toLowerCase() !== first.code.toLowerCase())
        return `RPC 0 and RPC ${w} returned different code at ${address} (block ${blockNumber})`;
    }
  }
  return null;
}
