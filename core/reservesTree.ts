import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { type Address, keccak256 } from "viem";
import { parseAddress } from "./address.js";
import { type Hex, utf8 } from "./bytes.js";
import { fail } from "./errors.js";
import { parseAmount, UINT256_MAX } from "./numbers.js";

/** SPEC §3 leaf encoding, in order. */
export const RESERVE_LEAF_ENCODING = [
  "bytes32", // sourceId
  "uint256", // chainId
  "address", // holder
  "address", // token
  "uint256", // amount
  "uint256", // priceUsd
  "uint256", // valueUsd
  "uint8", // status
] as const;

export const ReserveStatus = {
  ON_CHAIN_PROVEN: 0,
  ON_CHAIN_UNPROVEN: 1,
  OFF_CHAIN_STATEMENT: 2,
  EXCLUDED: 3,
} as const;
export type ReserveStatus = (typeof ReserveStatus)[keyof typeof ReserveStatus];

/** Whether a line item counts towards `reservesUsd` (status 0 and 2). */
export function isCounted(status: ReserveStatus): boolean {
  return status === ReserveStatus.ON_CHAIN_PROVEN || status === ReserveStatus.OFF_CHAIN_STATEMENT;
}

export const NATIVE_TOKEN: Address = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE";
export const ZERO_ADDRESS: Address = "0x0000000000000000000000000000000000000000";

export interface ReserveLineItem {
  label: string;
  chainId: bigint;
  holder: Address;
  token: Address;
  amount: bigint;
  priceUsd: bigint;
  valueUsd: bigint;
  status: ReserveStatus;
}

/** Report JSON form: numbers as decimal strings except `status`, a JSON integer 0-3. */
export interface ReserveLineItemJson {
  label: string;
  chainId: string;
  holder: string;
  token: string;
  amount: string;
  priceUsd: string;
  valueUsd: string;
  status: number;
}

export type ReserveLeaf = [
  sourceId: Hex,
  chainId: bigint,
  holder: Address,
  token: Address,
  amount: bigint,
  priceUsd: bigint,
  valueUsd: bigint,
  status: number,
];
export type ReservesTree = StandardMerkleTree<ReserveLeaf>;

export function sourceId(label: string): Hex {
  if (typeof label !== "string" || label === "") fail("INVALID_ARGUMENT", "label", "must be a non-empty string");
  return keccak256(utf8(label));
}

/** Enforces the SPEC §3 shape rules that tie chainId, addresses and status together. */
function checkItemShape(item: ReserveLineItem, record: string): void {
  const offChain = item.chainId === 0n;
  if (![0, 1, 2, 3].includes(item.status))
    fail("OUT_OF_RANGE", `${record}.status`, `${String(item.status)} is not 0-3`);
  if (offChain && item.holder.toLowerCase() !== ZERO_ADDRESS)
    fail("INVALID_ARGUMENT", `${record}.holder`, "must be the zero address for an off-chain item (chainId 0)");
  if (offChain && item.token.toLowerCase() !== ZERO_ADDRESS)
    fail("INVALID_ARGUMENT", `${record}.token`, "must be the zero address for an off-chain item (chainId 0)");
  if (item.status === ReserveStatus.OFF_CHAIN_STATEMENT && !offChain)
    fail("INVALID_ARGUMENT", `${record}.chainId`, "must be 0 for status 2 (off-chain statement)");
  if ((item.status === ReserveStatus.ON_CHAIN_PROVEN || item.status === ReserveStatus.ON_CHAIN_UNPROVEN) && offChain) {
    fail("INVALID_ARGUMENT", `${record}.chainId`, `must not be 0 for on-chain status ${item.status}`);
  }
  for (const name of ["chainId", "amount", "priceUsd", "valueUsd"] as const) {
    const v: unknown = item[name];
    if (typeof v !== "bigint" || v < 0n || v > UINT256_MAX)
      fail("OUT_OF_RANGE", `${record}.${name}`, `${String(v)} is not a uint256`);
  }
}

export function reserveLeaf(item: ReserveLineItem): ReserveLeaf {
  checkItemShape(item, `reserve item "${item.label}"`);
  return [
    sourceId(item.label),
    item.chainId,
    item.holder,
    item.token,
    item.amount,
    item.priceUsd,
    item.valueUsd,
    item.status,
  ];
}

/**
 * The OpenZeppelin tree over the items in the given order, with its default
 * (sorted) leaf placement as SPEC §3 requires. An empty list is refused: the
 * SPEC defines no root for it and a snapshot without a single reserve line
 * item is a configuration error, not a zero.
 */
export function buildReservesTree(items: readonly ReserveLineItem[]): ReservesTree {
  if (items.length === 0)
    fail(
      "INVALID_ARGUMENT",
      "reserves.items",
      "a snapshot needs at least one reserve line item; SPEC §3 defines no root for none",
    );
  return StandardMerkleTree.of(items.map(reserveLeaf), [...RESERVE_LEAF_ENCODING]);
}

export function reservesRoot(items: readonly ReserveLineItem[]): Hex {
  return buildReservesTree(items).root as Hex;
}

/** Proof for the item at `index` in the order given to `buildReservesTree` (usable with OZ `MerkleProof.verify`). */
export function reserveItemProof(tree: ReservesTree, index: number): Hex[] {
  if (!Number.isInteger(index) || index < 0 || index >= tree.length)
    fail("OUT_OF_RANGE", "index", `${index} is not an item of this tree (${tree.length} items)`);
  return tree.getProof(index) as Hex[];
}

export function verifyReserveItemProof(root: Hex, item: ReserveLineItem, proof: readonly Hex[]): boolean {
  return StandardMerkleTree.verify(root, [...RESERVE_LEAF_ENCODING], reserveLeaf(item), [...proof]);
}

/**
 * Parses one `reserves.items[index]` entry of a SPEC §4 report. Keys beyond the
 * leaf fields (source, block number, price sources, ...) belong to the report
 * and are ignored here; addresses come out lowercase.
 */
export function reserveLineItemFromJson(json: unknown, index: number): ReserveLineItem {
  const record = `reserves.items[${index}]`;
  if (typeof json !== "object" || json === null || Array.isArray(json))
    fail("INVALID_DOCUMENT", record, "must be an object");
  const obj = json as Record<string, unknown>;
  if (typeof obj.label !== "string" || obj.label === "")
    fail("INVALID_DOCUMENT", `${record}.label`, "must be a non-empty string");
  const status = obj.status;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 0 || status > 3) {
    fail("OUT_OF_RANGE", `${record}.status`, `${JSON.stringify(status) ?? "undefined"} is not an integer 0-3`);
  }
  const item: ReserveLineItem = {
    label: obj.label,
    chainId: parseAmount(obj.chainId, `${record}.chainId`),
    holder: parseAddress(obj.holder, `${record}.holder`),
    token: parseAddress(obj.token, `${record}.token`),
    amount: parseAmount(obj.amount, `${record}.amount`),
    priceUsd: parseAmount(obj.priceUsd, `${record}.priceUsd`),
    valueUsd: parseAmount(obj.valueUsd, `${record}.valueUsd`),
    status: status as ReserveStatus,
  };
  checkItemShape(item, record);
  return item;
}

export function reserveLineItemToJson(item: ReserveLineItem): ReserveLineItemJson {
  checkItemShape(item, `reserve item "${item.label}"`);
  return {
    label: item.label,
    chainId: item.chainId.toString(10),
    holder: item.holder.toLowerCase(),
    token: item.token.toLowerCase(),
    amount: item.amount.toString(10),
    priceUsd: item.priceUsd.toString(10),
    valueUsd: item.valueUsd.toString(10),
    status: item.status,
  };
}
