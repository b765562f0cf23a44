import type { HoldingType } from "../../core/sources/holdingKinds.js";
import { readErc20 } from "./kinds/erc20.js";
import { readErc4626 } from "./kinds/erc4626.js";
import { readNative } from "./kinds/native.js";
import type { HoldingReader } from "./kinds/reader.js";

/**
 * The reader of every holding kind, keyed by its `type` (docs/sources.md).
 * `satisfies` makes the type check fail when core/sources/holdingKinds.ts
 * gains a kind this table does not read.
 */
const HOLDING_READERS = {
  native: readNative,
  erc20: readErc20,
  erc4626: readErc4626,
} satisfies { [Type in HoldingType]: HoldingReader<Type> };

/** The reader for a configured holding's type; it takes any entry of that type. */
export function holdingReader(type: HoldingType): HoldingReader<HoldingType> {
  return HOLDING_READERS[type] as HoldingReader<HoldingType>;
}
