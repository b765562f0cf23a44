import type { Address } from "viem";
import type { HolderAt, LeafIdentity, OwnershipRule } from "./holdingKind.js";

/**
 * What today's kinds share: their holder is an EVM account (chain id and a
 * 20-byte address), their label is `evm:<chainId>:<holder>:<source>`, and
 * they count only when that account's SPEC §8 proof holds.
 */

const lower = (a: string) => a.toLowerCase() as Address;

/** The label of an on-chain item: chain, holder and where the balance sits, lowercase (docs/spec.md §3). */
export function onchainLabel(chainId: number, holder: string, source: string): string {
  return `evm:${chainId}:${holder.toLowerCase()}:${source.toLowerCase()}`;
}

/** The leaf identity of a balance of an EVM holder: labelled by `source`, counted in `token`. */
export function evmLeafIdentity(at: HolderAt, source: string, token: string): LeafIdentity {
  return {
    label: onchainLabel(at.chainId, at.holder, source),
    chainId: BigInt(at.chainId),
    holder: lower(at.holder),
    token: lower(token),
  };
}

/**
 * The holder's SPEC §8 proof on its chain (eoa, erc1271, contract; `none` never
 * proves), as checked at the pinned block by worker/sources/checkOwnership.ts.
 */
export const evmHolderOwnership: OwnershipRule = {
  name: "evm-holder",
  judge(claim, readings) {
    const holder = lower(claim.holder);
    const found = readings.find((o) => o.chainId === claim.chainId && lower(o.holder) === holder);
    if (claim.ownership.kind === "none") {
      return { method: "none", proven: false, detail: "the configuration declares no ownership proof for this holder" };
    }
    if (!found)
      return { method: claim.ownership.kind, proven: false, detail: "no ownership check was recorded for this holder" };
    return { method: found.method, proven: found.proven, detail: found.detail };
  },
};
