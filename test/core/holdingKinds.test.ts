import { describe, expect, it } from "vitest";
import { holderSchema } from "../../core/config/schema.js";
import { NATIVE_TOKEN } from "../../core/reservesTree.js";
import { evmHolderOwnership } from "../../core/sources/evmHolder.js";
import type { OwnershipReading } from "../../core/sources/holdingKind.js";
import { HOLDING_KINDS, type HoldingConfig, holdingKind, holdingSchema } from "../../core/sources/holdingKinds.js";

const HOLDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const VAULT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const UNDERLYING = "0x9fE46736679d2D9a65F0992F40226e9d5c3D6A0b";
const lower = (a: string) => a.toLowerCase();
const at = { chainId: 8453, holder: HOLDER };

describe("holding kinds: one registry", () => {
  it("the configuration's holding union is the kinds' entries, in registry order", () => {
    expect(holdingSchema.options.map((o) => o.shape.type.value)).toEqual(HOLDING_KINDS.map((k) => k.type));
    expect(HOLDING_KINDS.map((k) => k.type)).toEqual(["native", "erc20", "erc4626"]);
    expect(holderSchema.shape.holdings.element).toBe(holdingSchema);
  });

  it("every entry is strict, typed and names its asset; another kind's field is refused by name", () => {
    expect(holdingSchema.parse({ type: "erc4626", asset: "USDC", vault: VAULT })).toEqual({
      type: "erc4626",
      asset: "USDC",
      vault: VAULT,
    });
    const stray = holdingSchema.safeParse({ type: "erc20", asset: "USDC", token: TOKEN, vault: VAULT });
    expect(stray.success).toBe(false);
    expect(stray.error!.issues).toMatchObject([{ code: "unrecognized_keys", keys: ["vault"] }]);
    const noAsset = holdingSchema.safeParse({ type: "native" });
    expect(noAsset.error!.issues).toMatchObject([{ path: ["asset"] }]);
    const unknown = holdingSchema.safeParse({ type: "erc721", asset: "NFT" });
    expect(unknown.error!.issues[0]!.message).toBe(
      "Invalid discriminator value. Expected 'native' | 'erc20' | 'erc4626'",
    );
  });

  it("a type outside the registry is an error naming it, never a silent default", () => {
    expect(() => holdingKind("erc721" as HoldingConfig["type"])).toThrow(
      'holding type "erc721" is not among HOLDING_KINDS',
    );
  });
});

describe("holding kinds: label and leaf identity (SPEC §3)", () => {
  const read = (token: string, shares?: bigint) => ({
    amount: 5n,
    token: token as `0x${string}`,
    decimals: 6,
    ...(shares === undefined ? {} : { shares }),
  });

  it("native: labelled and counted as 0xEeee…EEeE", () => {
    const entry: HoldingConfig = { type: "native", asset: "ETH" };
    const kind = holdingKind(entry.type);
    expect(kind.source(entry)).toBe(NATIVE_TOKEN);
    const identity = {
      label: `evm:8453:${lower(HOLDER)}:${lower(NATIVE_TOKEN)}`,
      chainId: 8453n,
      holder: lower(HOLDER),
      token: lower(NATIVE_TOKEN),
    };
    expect(kind.identity(at, entry, null)).toEqual(identity);
    expect(kind.identity(at, entry, read(NATIVE_TOKEN))).toEqual(identity);
    expect(kind.shares(read(NATIVE_TOKEN))).toBeNull();
  });

  it("erc20: labelled and counted as the token, lowercase", () => {
    const entry: HoldingConfig = { type: "erc20", asset: "USDC", token: TOKEN };
    const kind = holdingKind(entry.type);
    expect(kind.source(entry)).toBe(TOKEN);
    const identity = {
      label: `evm:8453:${lower(HOLDER)}:${lower(TOKEN)}`,
      chainId: 8453n,
      holder: lower(HOLDER),
      token: lower(TOKEN),
    };
    expect(kind.identity(at, entry, null)).toEqual(identity);
    expect(kind.identity(at, entry, read(TOKEN))).toEqual(identity);
  });

  it("erc4626: labelled by the vault, counted in the underlying once read, with its shares", () => {
    const entry: HoldingConfig = { type: "erc4626", asset: "USDC", vault: VAULT };
    const kind = holdingKind(entry.type);
    const label = `evm:8453:${lower(HOLDER)}:${lower(VAULT)}`;
    expect(kind.source(entry)).toBe(VAULT);
    expect(kind.identity(at, entry, null)).toEqual({
      label,
      chainId: 8453n,
      holder: lower(HOLDER),
      token: lower(VAULT),
    });
    expect(kind.identity(at, entry, read(UNDERLYING, 4n))).toEqual({
      label,
      chainId: 8453n,
      holder: lower(HOLDER),
      token: lower(UNDERLYING),
    });
    expect(kind.shares(read(UNDERLYING, 4n))).toBe(4n);
  });
});

describe("holding kinds: the EVM holder ownership rule (SPEC §8)", () => {
  const reading = (over: Partial<OwnershipReading>): OwnershipReading => ({
    chainId: 8453,
    holder: HOLDER,
    method: "eoa",
    proven: true,
    detail: "EIP-191 signature by the holder over the SPEC §8 message",
    ...over,
  });

  it("is the rule of every kind today", () => {
    for (const kind of HOLDING_KINDS) expect(kind.ownership).toBe(evmHolderOwnership);
  });

  it("takes the check of this holder on this chain, whatever the address case", () => {
    const readings = [
      reading({ chainId: 1, proven: false, detail: "other chain" }),
      reading({ holder: lower(HOLDER) as `0x${string}` }),
    ];
    expect(evmHolderOwnership.judge({ ...at, ownership: { kind: "eoa" } }, readings)).toEqual({
      method: "eoa",
      proven: true,
      detail: "EIP-191 signature by the holder over the SPEC §8 message",
    });
  });

  it("never proves a holder declared none, nor one without a recorded check", () => {
    expect(evmHolderOwnership.judge({ ...at, ownership: { kind: "none" } }, [reading({ method: "none" })])).toEqual({
      method: "none",
      proven: false,
      detail: "the configuration declares no ownership proof for this holder",
    });
    expect(evmHolderOwnership.judge({ ...at, ownership: { kind: "erc1271" } }, [reading({ chainId: 1 })])).toEqual({
      method: "erc1271",
      proven: false,
      detail: "no ownership check was recorded for this holder",
    });
  });
});
