import type { Address } from "viem";
import { z } from "zod";
import { address, httpUrl, id } from "../../config/fields.js";
import { evmHolderOwnership, evmLeafIdentity } from "../evmHolder.js";
import { defineHoldingKind } from "../holdingKind.js";

/**
 * The token held is itself attested (docs/flags.md, CIRCULAR_RESERVES): by
 * another issuer of this deployment (`{ issuer }`), or by an external Solvent
 * publisher (`{ issuer, url, signer }`: the base URL of its API and the
 * address that must have signed its attestations).
 */
export const lookThroughSchema = z
  .strictObject({
    issuer: id,
    url: httpUrl.optional(),
    signer: address.optional(),
  })
  .refine(
    (l) => (l.url === undefined) === (l.signer === undefined),
    "an external publisher needs both url and signer; a local issuer neither",
  );

/** An ERC-20 balance: `{ "type": "erc20", "asset": "USDC", "token": "0x…" }`, optionally a look-through of its issuer's attestation. */
export const erc20Kind = defineHoldingKind({
  type: "erc20",
  fields: { token: address, lookThrough: lookThroughSchema.optional() },
  noun: "token",
  contractField: "token",
  source: (entry) => entry.token as Address,
  identity: (at, entry) => evmLeafIdentity(at, entry.token, entry.token),
  shares: () => null,
  ownership: evmHolderOwnership,
});
