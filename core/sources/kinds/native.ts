import { NATIVE_TOKEN } from "../../reservesTree.js";
import { evmHolderOwnership, evmLeafIdentity } from "../evmHolder.js";
import { defineHoldingKind } from "../holdingKind.js";

/** The chain's own coin (ETH on Ethereum): `{ "type": "native", "asset": "ETH" }`; its leaf token is NATIVE_TOKEN (SPEC §3). */
export const nativeKind = defineHoldingKind({
  type: "native",
  fields: {},
  noun: "native coin",
  contractField: null,
  source: () => NATIVE_TOKEN,
  identity: (at) => evmLeafIdentity(at, NATIVE_TOKEN, NATIVE_TOKEN),
  shares: () => null,
  ownership: evmHolderOwnership,
});
