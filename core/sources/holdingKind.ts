import type { Address } from "viem";
import { z } from "zod";
import { assetId } from "../config/fields.js";

/**
 * The one interface every kind of on-chain holding implements (docs/sources.md).
 * A kind is declared in two modules of the same name: core/sources/kinds/<type>.ts
 * (this interface: its configuration entry, its line-item label and identity,
 * its ownership rule; pure) and worker/sources/kinds/<type>.ts (what it reads
 * at the pinned block). The registries beside them list every kind once.
 */

/** What reading one holding yields (SPEC §3 leaf amount and the token it is counted in). */
export interface HoldingAmount {
  /** Base units of `token` (for a vault: underlying assets from convertToAssets(shares)). */
  amount: bigint;
  /** The token the amount is denominated in: NATIVE_TOKEN, the ERC-20, or the vault's underlying. */
  token: Address;
  decimals: number;
  /** Vault shares held, for ERC-4626 holdings. */
  shares?: bigint;
}

/** Where a holding sits: its holder's chain and address as configured. */
export interface HolderAt {
  chainId: number;
  holder: string;
}

/** The fields of a SPEC §3 leaf that name the item (sourceId = keccak256(utf8(label))); addresses lowercase. */
export interface LeafIdentity {
  label: string;
  chainId: bigint;
  holder: Address;
  token: Address;
}

/** How a holder proves it owns what it holds (SPEC §8): the method configured for it. */
export type OwnershipMethod = "eoa" | "erc1271" | "contract" | "none";

/** The outcome of one holder's ownership check, as the sources record it for valuation. */
export interface OwnershipReading {
  chainId: number;
  holder: Address;
  method: OwnershipMethod;
  proven: boolean;
  /** Why it is (not) proven, in words, e.g. "ERC-1271 isValidSignature returned 0xffffffff". */
  detail: string;
}

/** The holder a rule judges: its place and the ownership proof it declares. */
export interface OwnershipClaim extends HolderAt {
  ownership: { kind: OwnershipMethod };
}

/**
 * Whose proof makes a holding count (status 0 rather than 1). `judge` is the
 * pure half (from the tick's ownership readings); the check that produces
 * those readings lives with the readers (worker/sources/checkOwnership.ts for
 * the EVM holder rule).
 */
export interface OwnershipRule {
  /** Its name in docs/sources.md. */
  name: string;
  judge(
    claim: OwnershipClaim,
    readings: readonly OwnershipReading[],
  ): { method: OwnershipMethod; proven: boolean; detail: string };
}

/** Fields every holding entry has besides `type`. */
export interface HoldingEntryBase {
  type: string;
  asset: string;
}

export interface HoldingKind<Entry = HoldingEntryBase, Schema extends z.ZodObject = z.ZodObject> {
  /** The `type` of its configuration entries, e.g. "erc20". */
  type: string;
  /** Its configuration entry: a strict object whose `type` is the literal above; the config's holding schema is the union of these. */
  schema: Schema;
  /** What the holding is, in messages: "token", "vault". */
  noun: string;
  /** The entry field naming the contract the balance sits in (`solvent init --holding` takes it after the asset); null for the chain's coin. */
  contractField: string | null;
  /** Where the balance sits, as configured: NATIVE_TOKEN, the token, the vault. Readings are matched to entries by it. */
  source(entry: Entry): Address;
  /** The leaf's label and identity: before the read (`read` null) and once the amount is known (a vault's leaf token is its underlying). */
  identity(at: HolderAt, entry: Entry, read: HoldingAmount | null): LeafIdentity;
  /** Vault shares behind the amount, shown in the report; null for kinds without shares. */
  shares(read: HoldingAmount): bigint | null;
  /** Whose proof makes it count. */
  ownership: OwnershipRule;
}

/** The configuration entry of a kind declared with `fields`: `type`, `asset`, then the fields in order. */
export type EntrySchema<Type extends string, Fields extends z.ZodRawShape> = z.ZodObject<
  { type: z.ZodLiteral<Type>; asset: typeof assetId } & Fields,
  z.core.$strict
>;

export type EntryOf<Type extends string, Fields extends z.ZodRawShape> = z.output<EntrySchema<Type, Fields>>;

export interface HoldingKindDefinition<Type extends string, Fields extends z.ZodRawShape>
  extends Omit<HoldingKind<EntryOf<Type, Fields>, EntrySchema<Type, Fields>>, "schema" | "type"> {
  type: Type;
  /** The entry's own fields, after `type` and `asset` (the asset id every holding is valued as). */
  fields: Fields;
}

/**
 * A kind from its definition: the schema entry is built here, so every entry
 * is strict, starts with its `type` literal and names its `asset`.
 */
export function defineHoldingKind<const Type extends string, Fields extends z.ZodRawShape>(
  definition: HoldingKindDefinition<Type, Fields>,
): HoldingKind<EntryOf<Type, Fields>, EntrySchema<Type, Fields>> & { type: Type } {
  const { fields, ...kind } = definition;
  const schema = z.strictObject({ type: z.literal(definition.type), asset: assetId, ...fields }) as EntrySchema<
    Type,
    Fields
  >;
  return { ...kind, schema };
}
