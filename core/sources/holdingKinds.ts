import { z } from "zod";
import type { HoldingKind } from "./holdingKind.js";
import { erc20Kind } from "./kinds/erc20.js";
import { erc4626Kind } from "./kinds/erc4626.js";
import { nativeKind } from "./kinds/native.js";

/**
 * Every kind of on-chain holding, in one list (docs/sources.md). The
 * configuration's holding schema, the HoldingType union and the lookup by
 * type all derive from it; worker/sources/holdingReaders.ts must give each
 * kind a reader (the type check fails until it does).
 */
export const HOLDING_KINDS = [nativeKind, erc20Kind, erc4626Kind] as const;

type SchemasOf<Kinds extends readonly { schema: unknown }[]> = { -readonly [I in keyof Kinds]: Kinds[I]["schema"] };

/** One holding of a holder: the union of the kinds' schema entries, told apart by `type`. */
export const holdingSchema = z.discriminatedUnion(
  "type",
  HOLDING_KINDS.map((k) => k.schema) as unknown as SchemasOf<typeof HOLDING_KINDS>,
);

export type HoldingConfig = z.output<typeof holdingSchema>;
export type HoldingType = HoldingConfig["type"];
export type HoldingEntry<Type extends HoldingType> = Extract<HoldingConfig, { type: Type }>;

const byType = new Map<string, HoldingKind>();
for (const kind of HOLDING_KINDS) {
  if (byType.has(kind.type)) throw new Error(`holding kind "${kind.type}" is declared twice in HOLDING_KINDS`);
  byType.set(kind.type, kind as unknown as HoldingKind);
}

/** The kind of a configured holding; every member takes any entry of that type. */
export function holdingKind(type: HoldingType): HoldingKind<HoldingConfig> {
  const kind = byType.get(type);
  if (!kind) throw new Error(`holding type "${type}" is not among HOLDING_KINDS`);
  return kind as unknown as HoldingKind<HoldingConfig>;
}
