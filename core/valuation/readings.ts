import type { Address } from "viem";
import type { Hex } from "../bytes.js";
import type { HoldingAmount, OwnershipMethod, OwnershipReading } from "../sources/holdingKind.js";
import type { HoldingType } from "../sources/holdingKinds.js";

export type { OwnershipMethod, OwnershipReading };

/**
 * What the sources hand to valuation: every value read for one tick, each
 * with the place it was read from, or the reason it could not be. Valuation
 * is pure: from readings + configuration + the previous attestation it
 * derives line items, totals, flags and the report.
 */
export type Reading<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The block every read of one chain is pinned to. */
export interface PinnedBlock {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
}

export interface BlockReading {
  chainId: number;
  result: Reading<PinnedBlock>;
}

/** One configured on-chain holding of one holder. */
export interface HoldingReading {
  chainId: number;
  holder: Address;
  asset: string;
  /** The holding's `type` (core/sources/holdingKinds.ts). */
  kind: HoldingType;
  /**
   * Where the balance sits (its kind's `source`): NATIVE_TOKEN for the chain's
   * coin, the token for ERC-20, the vault for ERC-4626 (its label uses the vault address).
   */
  source: Address;
  result: Reading<HoldingAmount>;
}

/** totalSupply of a liability token on one chain, with the escrow balances to subtract. */
export interface SupplyReading {
  chainId: number;
  token: Address;
  result: Reading<{
    totalSupply: bigint;
    decimals: number;
    escrows: { address: Address; amount: bigint }[];
  }>;
}

/** One price source's answer for one asset, in usd18 per whole unit (pools: see PoolQuote). */
export interface PriceObservation {
  asset: string;
  /** e.g. `chainlink:1:0xfeed…`, `uniswapV3:1:0xpool…`, `http:https://…`, `fixed`. */
  source: string;
  result: Reading<{ priceUsd: bigint; updatedAt?: bigint }>;
}

/**
 * A pool's price of `asset` in whole units of `quoteAsset` (18 decimals), as
 * read: valuation puts it in USD once the quote asset is priced
 * (priceQuorum.ts `priceTick`).
 */
export interface PoolQuote {
  asset: string;
  /** e.g. `uniswapV3:1:0xpool…`. */
  source: string;
  quoteAsset: string;
  /** `updatedAt` is the pinned block's timestamp: slot0 is the price as of that block. */
  result: Reading<{ price18: bigint; updatedAt: bigint }>;
}

/** A custodian statement the tick considered (the latest per custodian/account/asset). */
export interface StatementReading {
  custodian: string;
  account: string;
  asset: string;
  result: Reading<{ amount: bigint; asOf: bigint; nonce: bigint; signer: Address; signature: Hex }>;
}

/** The issuer's current liabilities ledger (its complete one with the newest asOf), if any. */
export interface LedgerReading {
  ledgerId: string;
  assets: string[];
  root: Hex;
  rootSums: bigint[];
  users: number;
  /** Unix seconds: when the balances were true (declared at upload). */
  asOf: number;
  /** SPEC §2 leaf order: "commitment", or null for ledgers built before that rule. */
  order: "commitment" | null;
  /** Valid SPEC §12 disputes standing against this ledger (stored with an asOf at or after its own); absent when none. */
  disputes?: StandingDisputes;
  /**
   * A private ledger's (SPEC §11) root facts; absent for the SPEC §2 sum tree.
   * Its `users` is then the padded leaf count and `rootSums` the totals in base units.
   */
  private?: PrivateLedgerRoot;
}

/** The root of a private ledger as the report publishes it (SPEC §11, docs/spec.md §4). */
export interface PrivateLedgerRoot {
  /** Per asset, the decimals kept in the committed unit. */
  unitDecimals: number[];
  rootCommitments: Hex[];
  /** Per asset, the root's value in quantised units. */
  totals: bigint[];
  totalBlindings: Hex[];
}

/** The disputes that raise DISPUTED: how many, of which kind, and the asOf they name. */
export interface StandingDisputes {
  count: number;
  absent: number;
  balanceDiffers: number;
  asOf: number;
}

/** What valuation needs of another issuer's latest attestation: its ratio and whether it may still be relied on. */
export interface AttestedRatio {
  sequence: bigint;
  observedAt: bigint;
  /** After this the attestation is stale (SPEC §5); valuation compares it with observedAt. */
  validUntil: bigint;
  ratioBps: number;
  flags: bigint;
  digest: Hex;
  /** The key that signed it (recovered, and checked by the reader against the trusted signer). */
  signer: Address;
}

/**
 * The latest attestation of the issuer behind a look-through holding's token
 * (configured as `lookThrough`): one reading per distinct (issuer, url).
 * `result` fails when it could not be fetched, did not parse, or its
 * signature is not by the trusted signer.
 */
export interface AttestedTokenReading {
  issuer: string;
  /** Base URL of an external Solvent publisher; null for an issuer of this deployment. */
  url: string | null;
  /**
   * The dependency path back to the reading issuer, e.g. ["x", "y", "x"], or
   * null. Local issuers: found in the configuration; external publishers: their
   * latest report lists a holding of our liability token (one level deep).
   */
  circular: string[] | null;
  result: Reading<AttestedRatio>;
}

export interface TickReadings {
  observedAt: bigint;
  blocks: BlockReading[];
  holdings: HoldingReading[];
  ownership: OwnershipReading[];
  supply: SupplyReading[];
  prices: PriceObservation[];
  statements: StatementReading[];
  ledger: LedgerReading | null;
  /** Attestations behind look-through holdings. */
  attested: AttestedTokenReading[];
  /** Market prices of the issuer's own liability token (`liabilities.supply.marketPrices`), asset = its id. */
  marketPrices: PriceObservation[];
  /**
   * Pool quotes of reserve assets and of the liability token's market venues,
   * not yet in USD (absent: none). `prices` and `marketPrices` hold the direct
   * answers as read; bands and pools are applied in valuation (`priceTick`).
   */
  pools?: PoolQuote[];
}
