import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { concat, encodeAbiParameters, type Hex, keccak256, toHex } from "viem";
import { describe, expect, it } from "vitest";
import { SolventError } from "../../core/errors.js";
import {
  buildReservesTree,
  NATIVE_TOKEN,
  RESERVE_LEAF_ENCODING,
  type ReserveLineItem,
  ReserveStatus,
  reserveItemProof,
  reserveLeaf,
  reserveLineItemFromJson,
  reserveLineItemToJson,
  reservesRoot,
  sourceId,
  verifyReserveItemProof,
  ZERO_ADDRESS,
} from "../../core/reservesTree.js";

const HOLDER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
const E18 = 10n ** 18n;

const items: ReserveLineItem[] = [
  {
    label: `evm:1:${HOLDER}:${USDC}`,
    chainId: 1n,
    holder: HOLDER,
    token: USDC,
    amount: 600_000n * 10n ** 6n,
    priceUsd: E18,
    valueUsd: 600_000n * E18,
    status: 0,
  },
  {
    label: `evm:1:${HOLDER}:native`,
    chainId: 1n,
    holder: HOLDER,
    token: NATIVE_TOKEN,
    amount: 100n * E18,
    priceUsd: 3000n * E18,
    valueUsd: 300_000n * E18,
    status: 1,
  },
  {
    label: "custodian:acme-trust:USD",
    chainId: 0n,
    holder: ZERO_ADDRESS,
    token: ZERO_ADDRESS,
    amount: 50_000n * 100n,
    priceUsd: E18,
    valueUsd: 50_000n * E18,
    status: 2,
  },
  {
    label: `evm:8453:${HOLDER}:${USDC}`,
    chainId: 8453n,
    holder: HOLDER,
    token: USDC,
    amount: 1n,
    priceUsd: E18,
    valueUsd: 0n,
    status: 3,
  },
];

/** leaf = keccak256(keccak256(abi.encode(...))) done by hand from the SPEC §3 types. */
function handLeaf(item: ReserveLineItem): Hex {
  const encoded = encodeAbiParameters(
    [
      { type: "bytes32" },
      { type: "uint256" },
      { type: "address" },
      { type: "address" },
      { type: "uint256" },
      { type: "uint256" },
      { type: "uint256" },
      { type: "uint8" },
    ],
    [
      keccak256(toHex(item.label)),
      item.chainId,
      item.holder,
      item.token,
      item.amount,
      item.priceUsd,
      item.valueUsd,
      item.status,
    ],
  );
  return keccak256(keccak256(encoded));
}

/** OpenZeppelin's commutative node hash: keccak256 of the sorted pair. */
function pair(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/**
 * The OZ tree shape for 1-4 leaves written out explicitly. Leaves are sorted
 * ascending (default `sortLeaves`) and laid out right-to-left at the end of the
 * flat array, so with sorted h0 < h1 < h2 < h3:
 *   3 leaves: root = H(H(h0, h1), h2)
 *   4 leaves: root = H(H(h2, h3), H(h0, h1))
 */
function handRoot(list: ReserveLineItem[]): Hex {
  const h = list.map(handLeaf).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const [h0, h1, h2, h3] = h as [Hex, Hex, Hex, Hex];
  switch (h.length) {
    case 1:
      return h0;
    case 2:
      return pair(h0, h1);
    case 3:
      return pair(pair(h0, h1), h2);
    case 4:
      return pair(pair(h2, h3), pair(h0, h1));
    default:
      throw new Error("handRoot covers 1-4 leaves");
  }
}

/** What Solidity's MerkleProof.verify does: fold the proof with the commutative hash. */
function solidityVerify(proof: Hex[], root: Hex, leaf: Hex): boolean {
  return proof.reduce(pair, leaf) === root;
}

describe("reserves tree (SPEC §3)", () => {
  it("has the SPEC leaf encoding and constants", () => {
    expect(RESERVE_LEAF_ENCODING).toEqual([
      "bytes32",
      "uint256",
      "address",
      "address",
      "uint256",
      "uint256",
      "uint256",
      "uint8",
    ]);
    expect(ReserveStatus).toEqual({ ON_CHAIN_PROVEN: 0, ON_CHAIN_UNPROVEN: 1, OFF_CHAIN_STATEMENT: 2, EXCLUDED: 3 });
    expect(NATIVE_TOKEN).toBe("0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE");
    expect(ZERO_ADDRESS).toBe("0x0000000000000000000000000000000000000000");
    expect(sourceId("custodian:acme-trust:USD")).toBe(keccak256(new TextEncoder().encode("custodian:acme-trust:USD")));
  });

  it("root equals a hand-computed root for 1 to 4 items", () => {
    for (let n = 1; n <= 4; n++) {
      const list = items.slice(0, n);
      expect(reservesRoot(list)).toBe(handRoot(list));
    }
    // order of the input does not change the root (OZ sorts leaves), only the proof indices
    expect(reservesRoot([...items].reverse())).toBe(handRoot(items));
  });

  it("any changed leaf field changes the root", () => {
    const root = reservesRoot(items);
    const first = items[0]!;
    const variants: ReserveLineItem[] = [
      { ...first, label: `${first.label}x` },
      { ...first, chainId: 10n },
      { ...first, holder: USDC },
      { ...first, token: NATIVE_TOKEN },
      { ...first, amount: first.amount + 1n },
      { ...first, priceUsd: 1n },
      { ...first, valueUsd: 1n },
      { ...first, status: 1 },
    ];
    for (const v of variants) expect(reservesRoot([v, ...items.slice(1)])).not.toBe(root);
  });

  it("proves every item by its index, checkable the Solidity way and with OZ verify/multiproof", () => {
    const tree = buildReservesTree(items);
    const root = tree.root as Hex;
    items.forEach((item, i) => {
      const proof = reserveItemProof(tree, i);
      expect(solidityVerify(proof, root, handLeaf(item))).toBe(true);
      expect(StandardMerkleTree.verify(root, [...RESERVE_LEAF_ENCODING], reserveLeaf(item), proof)).toBe(true);
      expect(verifyReserveItemProof(root, item, proof)).toBe(true);
      expect(verifyReserveItemProof(root, { ...item, amount: item.amount + 1n }, proof)).toBe(false);
    });
    const multi = tree.getMultiProof([0, 2]);
    expect(StandardMerkleTree.verifyMultiProof(root, [...RESERVE_LEAF_ENCODING], multi)).toBe(true);
    expect(() => reserveItemProof(tree, 4)).toThrow(SolventError);
  });

  it("refuses an empty item list with a SolventError", () => {
    expect(() => buildReservesTree([])).toThrow(SolventError);
    expect(() => reservesRoot([])).toThrow(/at least one reserve line item/);
  });

  it("refuses items that break the SPEC shape rules", () => {
    const offChain = items[2]!;
    const onChain = items[0]!;
    expect(() => reserveLeaf({ ...offChain, holder: HOLDER })).toThrow(/holder/);
    expect(() => reserveLeaf({ ...offChain, token: USDC })).toThrow(/token/);
    expect(() => reserveLeaf({ ...offChain, chainId: 1n, holder: HOLDER, token: USDC })).toThrow(/chainId/);
    expect(() => reserveLeaf({ ...onChain, chainId: 0n, holder: ZERO_ADDRESS, token: ZERO_ADDRESS })).toThrow(
      /chainId/,
    );
    expect(() => reserveLeaf({ ...onChain, status: 4 as ReserveStatus })).toThrow(/status/);
    expect(() => reserveLeaf({ ...onChain, amount: -1n })).toThrow(/amount/);
    expect(() => reserveLeaf({ ...onChain, label: "" })).toThrow(SolventError);
  });
});

describe("reserve line item JSON", () => {
  const json = {
    label: `evm:1:${HOLDER}:native`,
    chainId: "1",
    holder: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    token: NATIVE_TOKEN,
    amount: "100000000000000000000",
    priceUsd: "3000000000000000000000",
    valueUsd: "300000000000000000000000",
    status: 1,
    source: "rpc:mainnet",
    blockNumber: "19000000",
  };

  it("parses a report item (extra report keys ignored) and writes it back lowercase", () => {
    const item = reserveLineItemFromJson(json, 1);
    expect(item).toEqual({ ...items[1]!, token: NATIVE_TOKEN.toLowerCase() });
    expect(reserveLineItemToJson(item)).toEqual({
      label: json.label,
      chainId: "1",
      holder: HOLDER,
      token: NATIVE_TOKEN.toLowerCase(),
      amount: json.amount,
      priceUsd: json.priceUsd,
      valueUsd: json.valueUsd,
      status: 1,
    });
    // lowercase vs checksummed addresses give the same leaf
    expect(handLeaf(item)).toBe(handLeaf(items[1]!));
  });

  it("rejects bad fields naming the record", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ amount: "1e18" }, "reserves.items[5].amount"],
      [{ amount: "-1" }, "reserves.items[5].amount"],
      [{ priceUsd: 3000 }, "reserves.items[5].priceUsd"],
      [{ valueUsd: "01" }, "reserves.items[5].valueUsd"],
      [{ chainId: 1 }, "reserves.items[5].chainId"],
      [{ chainId: "0" }, "reserves.items[5].holder"],
      [{ holder: "0x1234" }, "reserves.items[5].holder"],
      [{ holder: "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266" }, "reserves.items[5].holder"],
      [{ token: undefined }, "reserves.items[5].token"],
      [{ status: 4 }, "reserves.items[5].status"],
      [{ status: "1" }, "reserves.items[5].status"],
      [{ label: "" }, "reserves.items[5].label"],
    ];
    for (const [patch, record] of cases) {
      try {
        reserveLineItemFromJson({ ...json, ...patch }, 5);
        throw new Error(`expected ${record} to be rejected`);
      } catch (e) {
        expect(e).toBeInstanceOf(SolventError);
        expect((e as SolventError).record).toBe(record);
      }
    }
  });
});
