/**
 * Plain words for the codes a report carries (SPEC §6 flag names, line-item
 * statuses), so a reader never has to know the spec to read the page; the
 * codes stay one click away in a disclosure (dom.ts `codes`). No DOM here.
 */
import { FLAGS } from "../core/flags.js";

const FLAG_WORDS: Record<string, string> = {
  UNDERCOLLATERALIZED: "Less in reserve than owed",
  STALE_SOURCE: "A data source failed or is out of date",
  PRICE_DIVERGENCE: "Price sources disagree",
  UNPROVEN_OWNERSHIP: "A wallet's ownership is not proven",
  OFFCHAIN_SHARE_HIGH: "Too much held off-chain",
  CIRCULAR_RESERVES: "Reserves backed by the issuer itself",
  CONCENTRATION: "Reserves concentrated in one place",
  SUPPLY_GROWTH: "Liabilities grew faster than reserves",
  RESERVE_DROP: "Reserves fell sharply",
  LIABILITY_PEG_DEVIATION: "The issuer's token trades off its peg",
  LIABILITIES_STALE: "The user ledger is out of date",
  DISPUTED: "A user has filed a valid dispute",
};

/** "A wallet's ownership is not proven" for UNPROVEN_OWNERSHIP; an unknown name is shown as it is. */
export function flagWords(name: string): string {
  return FLAG_WORDS[name] ?? name.toLowerCase().replaceAll("_", " ");
}

/** What a flag means, from the one FLAGS table. */
export function flagMeaning(name: string): string | null {
  return FLAGS.find((f) => f.name === name)?.meaning ?? null;
}
