import {
  type Abi,
  type Address,
  type Client,
  type ContractFunctionName,
  type DecodeFunctionResultReturnType,
  decodeErrorResult,
  decodeFunctionResult,
  type EncodeFunctionDataParameters,
  encodeFunctionData,
  getAddress,
  type Hex,
} from "viem";
import { call } from "viem/actions";
import type { ChainConfig } from "../../core/config/schema.js";
import type { Reading } from "../../core/valuation/readings.js";
import { describeRpcError } from "./chainClient.js";

/** The Multicall3 functions the sources use. */
export const multicall3Abi = [
  {
    type: "function",
    name: "aggregate3",
    stateMutability: "payable",
    inputs: [
      {
        name: "calls",
        type: "tuple[]",
        components: [
          { name: "target", type: "address" },
          { name: "allowFailure", type: "bool" },
          { name: "callData", type: "bytes" },
        ],
      },
    ],
    outputs: [
      {
        name: "returnData",
        type: "tuple[]",
        components: [
          { name: "success", type: "bool" },
          { name: "returnData", type: "bytes" },
        ],
      },
    ],
  },
  {
    type: "function",
    name: "getEthBalance",
    stateMutability: "view",
    inputs: [{ name: "addr", type: "address" }],
    outputs: [{ name: "balance", type: "uint256" }],
  },
  {
    type: "function",
    name: "getChainId",
    stateMutability: "view",
    inputs: [],
    outputs: [{ name: "chainid", type: "uint256" }],
  },
] as const;

/** One read through Multicall3; `label` names it in failure reasons, e.g. `balanceOf(0xab…) on 0xcd…`. */
export interface ContractCall {
  target: Address;
  callData: Hex;
  label: string;
}

export type CallResult = { ok: true; data: Hex } | { ok: false; reason: string };

export interface Aggregate3Parameters {
  multicall3: Address;
  calls: readonly ContractCall[];
  blockNumber: bigint;
  /** Calls per aggregate3 eth_call (chain.batchSize). */
  batchSize: number;
}

/**
 * Multicall3 `aggregate3` at one block, every call with `allowFailure: true`,
 * `batchSize` calls per eth_call (chunks are sent in parallel). A call that
 * reverts, or a chunk whose eth_call fails, comes back as `{ ok: false }`.
 * We encode aggregate3 ourselves rather than use viem's `multicall`, whose
 * default 1,024-byte chunks would mean hundreds of requests per tick.
 */
export async function aggregate3(
  client: Client,
  { multicall3, calls, blockNumber, batchSize }: Aggregate3Parameters,
): Promise<CallResult[]> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const chunks: (readonly ContractCall[])[] = [];
  for (let i = 0; i < calls.length; i += batchSize) chunks.push(calls.slice(i, i + batchSize));
  const results = await Promise.all(chunks.map((chunk) => aggregate3Chunk(client, multicall3, chunk, blockNumber)));
  return results.flat();
}

async function aggregate3Chunk(
  client: Client,
  multicall3: Address,
  calls: readonly ContractCall[],
  blockNumber: bigint,
): Promise<CallResult[]> {
  const data = encodeFunctionData({
    abi: multicall3Abi,
    functionName: "aggregate3",
    args: [calls.map((c) => ({ target: c.target, allowFailure: true, callData: c.callData }))],
  });
  let returned: Hex | undefined;
  try {
    ({ data: returned } = await call(client, { to: multicall3, data, blockNumber }));
  } catch (error) {
    const reason = `aggregate3 eth_call at block ${blockNumber} failed: ${describeRpcError(error)}`;
    return calls.map(() => ({ ok: false, reason }));
  }
  if (returned === undefined || returned === "0x") {
    const reason = `Multicall3 at ${multicall3} returned no data at block ${blockNumber} (not deployed?)`;
    return calls.map(() => ({ ok: false, reason }));
  }
  let decoded: readonly { success: boolean; returnData: Hex }[];
  try {
    decoded = decodeFunctionResult({ abi: multicall3Abi, functionName: "aggregate3", data: returned });
  } catch {
    const reason = `Multicall3 at ${multicall3} returned undecodable aggregate3 data`;
    return calls.map(() => ({ ok: false, reason }));
  }
  if (decoded.length !== calls.length) {
    const reason = `Multicall3 returned ${decoded.length} results for ${calls.length} calls`;
    return calls.map(() => ({ ok: false, reason }));
  }
  return decoded.map((r, i) =>
    r.success
      ? { ok: true, data: r.returnData }
      : { ok: false, reason: `${calls[i]!.label} reverted${revertText(r.returnData)}` },
  );
}

const errorStringAbi = [{ type: "error", name: "Error", inputs: [{ name: "message", type: "string" }] }] as const;

function revertText(data: Hex): string {
  if (data === "0x") return " without data";
  try {
    const { errorName, args } = decodeErrorResult({ abi: errorStringAbi, data });
    if (errorName === "Error") return `: ${String(args[0]).slice(0, 200)}`;
    if (errorName === "Panic") return `: panic ${String(args[0])}`;
  } catch {
    // A custom error: its selector is all we can say without the contract's ABI.
  }
  return ` with ${data.slice(0, 10)}`;
}

/** A call's label: `name(arg, …) on target`, long byte strings shortened. */
export function callLabel(target: Address, functionName: string, args: readonly unknown[] = []): string {
  const shown = args.map((a) => {
    const text = typeof a === "bigint" ? a.toString(10) : String(a);
    return text.startsWith("0x") && text.length > 66 ? `${text.slice(0, 10)}…` : text;
  });
  return `${functionName}(${shown.join(", ")}) on ${target}`;
}

export type ReadParameters<
  abi extends Abi,
  functionName extends ContractFunctionName<abi>,
> = EncodeFunctionDataParameters<abi, functionName> & {
  address: Address;
};

/** Encodes a read as a ContractCall for aggregate3. */
export function contractCall<const abi extends Abi, functionName extends ContractFunctionName<abi>>(
  parameters: ReadParameters<abi, functionName>,
): ContractCall {
  const { address, functionName, args } = parameters as {
    address: Address;
    functionName: string;
    args?: readonly unknown[];
  };
  return {
    target: address,
    callData: encodeFunctionData(parameters as EncodeFunctionDataParameters),
    label: callLabel(address, functionName, args ?? []),
  };
}

/**
 * Decodes one aggregate3 result with `abi`. An empty success is how a call to
 * an address without code looks, so it is reported as such.
 */
export function decodeCallResult<const abi extends Abi, functionName extends ContractFunctionName<abi>>(
  result: CallResult,
  { abi, functionName, label }: { abi: abi; functionName: functionName; label: string },
): Reading<DecodeFunctionResultReturnType<abi, functionName>> {
  if (!result.ok) return result;
  if (result.data === "0x") return { ok: false, reason: `${label} returned no data (no contract code?)` };
  try {
    const value = decodeFunctionResult({ abi, functionName, data: result.data } as Parameters<
      typeof decodeFunctionResult
    >[0]);
    return { ok: true, value: value as DecodeFunctionResultReturnType<abi, functionName> };
  } catch {
    return { ok: false, reason: `${label} returned data that does not decode as ${functionName}'s result` };
  }
}

export interface CallBatchStats {
  /** aggregate3 rounds (a round's calls go out together, in as many chunks as batchSize needs). */
  rounds: number;
  /** eth_call requests sent. */
  requests: number;
  /** Distinct calls made. */
  calls: number;
}

export interface CallBatch {
  readonly blockNumber: bigint;
  /**
   * Queues a read for the next round and resolves with its decoded result.
   * Identical calls (same target and calldata, e.g. `decimals()` of one
   * token) are made once per batch: every read is at the same block.
   */
  read<const abi extends Abi, functionName extends ContractFunctionName<abi>>(
    parameters: ReadParameters<abi, functionName>,
  ): Promise<Reading<DecodeFunctionResultReturnType<abi, functionName>>>;
  /** The raw form of `read`. */
  call(c: ContractCall): Promise<CallResult>;
  readonly stats: Readonly<CallBatchStats>;
  /**
   * With witnesses: why the RPCs did not all return the same data for some
   * round (naming RPC indexes, never URLs), else null. Readers still get the
   * primary's results; the caller must distrust them all when this is set.
   */
  readonly disagreement: string | null;
}

export interface CallBatchOptions {
  multicall3: Address;
  batchSize: number;
  blockNumber: bigint;
  /**
   * Other RPCs of the same chain (chain.agreement "all"): every round is also
   * sent to each of them at the same block, and their answers compared call
   * by call with the primary's (RPC 0); witness i is RPC i + 1.
   */
  witnesses?: readonly Client[];
}

/** The first call whose result differs between two answers to one round, as a sentence; null when they are identical. */
export function compareRounds(
  calls: readonly ContractCall[],
  a: readonly CallResult[],
  b: readonly CallResult[],
  names: [string, string],
): string | null {
  for (let i = 0; i < calls.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return `${names[0]} and ${names[1]} returned different numbers of results`;
    if (x.ok && y.ok) {
      if (x.data.toLowerCase() !== y.data.toLowerCase())
        return `${names[0]} and ${names[1]} returned different data for ${calls[i]!.label}`;
    } else if (x.ok !== y.ok) {
      const [failed, reason] = x.ok
        ? [names[1], (y as { reason: string }).reason]
        : [names[0], (x as { reason: string }).reason];
      return `${calls[i]!.label} failed on ${failed} only (${reason}), so ${names[0]} and ${names[1]} do not agree`;
    }
  }
  return null;
}

/**
 * Collects reads from any number of concurrent readers into shared aggregate3
 * rounds at one block. Reads queued before the event loop turns (readers that
 * start together, or continue from the same round's results) go out in one
 * round: a round's results are released only when all its chunks are back,
 * so follow-up reads of every reader land in the same next round.
 *
 * @example
 * const batch = createCallBatch(client, { multicall3: chain.multicall3, batchSize: chain.batchSize, blockNumber: block.number });
 * const [holdings, supply] = await Promise.all([readHoldings(client, { chain, holders, block, batch }), readSupply(...)]);
 */
export function createCallBatch(client: Client, options: CallBatchOptions): CallBatch {
  const { multicall3, batchSize, blockNumber, witnesses = [] } = options;
  const stats: CallBatchStats = { rounds: 0, requests: 0, calls: 0 };
  let disagreement: string | null = null;
  const known = new Map<string, Promise<CallResult>>();
  let pending: { call: ContractCall; resolve: (r: CallResult) => void }[] = [];
  let scheduled = false;

  async function flush(): Promise<void> {
    scheduled = false;
    const round = pending;
    pending = [];
    if (round.length === 0) return;
    stats.rounds += 1;
    stats.requests += Math.ceil(round.length / batchSize);
    const calls = round.map((p) => p.call);
    const send = async (rpc: Client): Promise<CallResult[]> => {
      try {
        return await aggregate3(rpc, { multicall3, calls, blockNumber, batchSize });
      } catch (error) {
        const reason = `aggregate3 failed: ${describeRpcError(error)}`;
        return round.map(() => ({ ok: false, reason }));
      }
    };
    stats.requests += witnesses.length * Math.ceil(round.length / batchSize);
    const [results, ...witnessed] = await Promise.all([send(client), ...witnesses.map(send)]);
    witnessed.forEach((other, w) => {
      disagreement ??= compareRounds(calls, results!, other, ["RPC 0", `RPC ${w + 1}`]);
    });
    round.forEach((p, i) => {
      p.resolve(results![i]!);
    });
  }

  function callOnce(c: ContractCall): Promise<CallResult> {
    const key = `${c.target.toLowerCase()}:${c.callData.toLowerCase()}`;
    const existing = known.get(key);
    if (existing) return existing;
    const promise = new Promise<CallResult>((resolve) => pending.push({ call: c, resolve }));
    known.set(key, promise);
    stats.calls += 1;
    if (!scheduled) {
      scheduled = true;
      // A macrotask, so every microtask continuation of the previous round queues first.
      setTimeout(() => void flush(), 0);
    }
    return promise;
  }

  return {
    blockNumber,
    stats,
    get disagreement() {
      return disagreement;
    },
    call: callOnce,
    async read(parameters) {
      let c: ContractCall;
      try {
        c = contractCall(parameters);
      } catch (error) {
        // Bad arguments (e.g. a malformed address) fail this read, never the whole tick.
        const { address, functionName } = parameters as unknown as { address: string; functionName: string };
        return {
          ok: false,
          reason: `${functionName} on ${address} could not be encoded: ${describeRpcError(error)}`,
        } as never;
      }
      const result = await callOnce(c);
      const { abi, functionName } = parameters as unknown as { abi: Abi; functionName: string };
      return decodeCallResult(result, { abi, functionName, label: c.label }) as never;
    },
  };
}

/** A batch over the chain's Multicall3 and batchSize, pinned to `blockNumber` (with `witnesses`: checked against them). */
export function createChainCallBatch(
  client: Client,
  chain: Pick<ChainConfig, "multicall3" | "batchSize">,
  blockNumber: bigint,
  witnesses: readonly Client[] = [],
): CallBatch {
  return createCallBatch(client, {
    multicall3: getAddress(chain.multicall3),
    batchSize: chain.batchSize,
    blockNumber,
    witnesses,
  });
}
