import type { Address } from "viem";
import { address } from "../../config/fields.js";
import { evmHolderOwnership, evmLeafIdentity } from "../evmHolder.js";
import { defineHoldingKind } from "../holdingKind.js";

/**
 * Vault shares, valued as `convertToAssets(shares)` of the vault's underlying
 * asset: `{ "type": "erc4626", "asset": "USDC", "vault": "0x…" }`. The label
 * names the vault; the leaf's token is the underlying once read.
 */
export const erc4626Kind = defineHoldingKind({
  type: "erc4626",
  fields: { vault: address },
  noun: "vault",
  contractField: "vault",
  source: (entry) => entry.vault as Address,
  identity: (at, entry, read) => evmLeafIdentity(at, entry.vault, read ? read.token : entry.vault),
  shares: (read) => read.shares ?? null,
  ownership: evmHolderOwnership,
});
