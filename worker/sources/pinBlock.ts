import type { Client } from "viem";
import { getBlock } from "viem/actions";
import type { PinnedBlock } from "../../core/valuation/readings.js";

export interface PinBlockParameters {
  /** Blocks to stay behind the head: the pinned block is `latest - confirmations`. */
  confirmations: number;
}

/**
 * The block every read of one chain in this tick is pinned to. One request
 * when `confirmations` is 0 (the head itself), two otherwise.
 *
 * @example
 * const block = await pinBlock(client, { confirmations: chain.confirmations });
 */
export async function pinBlock(client: Client, { confirmations }: PinBlockParameters): Promise<PinnedBlock> {
  if (!Number.isSafeInteger(confirmations) || confirmations < 0)
    throw new Error(`confirmations must be a non-negative integer, got ${confirmations}`);
  const head = await getBlock(client, { blockTag: "latest" });
  if (head.number === null || head.hash === null) throw new Error("the node returned a pending block as latest");
  if (confirmations === 0) return { number: head.number, hash: head.hash, timestamp: head.timestamp };
  const target = head.number - BigInt(confirmations);
  if (target < 0n) throw new Error(`chain head ${head.number} is below the ${confirmations} required confirmations`);
  return readBlock(client, target);
}

/**
 * Re-reads the pinned block by number after every read of the tick and throws
 * when its hash changed: the chain reorganised between reads, so reads made
 * "at block N" may have seen two different blocks and none of them is trusted.
 */
export async function confirmBlockUnchanged(client: Client, pinned: PinnedBlock): Promise<void> {
  const now = await readBlock(client, pinned.number);
  if (now.hash.toLowerCase() !== pinned.hash.toLowerCase()) {
    throw new Error(`block ${pinned.number} changed from ${pinned.hash} to ${now.hash} during the reads (reorg)`);
  }
}

async function readBlock(client: Client, blockNumber: bigint): Promise<PinnedBlock> {
  const block = await getBlock(client, { blockNumber });
  if (block.hash === null || block.number === null) throw new Error(`block ${blockNumber} has no hash`);
  return { number: block.number, hash: block.hash, timestamp: block.timestamp };
}
