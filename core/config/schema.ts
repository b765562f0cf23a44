import { z } from "zod";
import { holdingSchema } from "../sources/holdingKinds.js";
import { lookThroughSchema } from "../sources/kinds/erc20.js";
import { alertsSchema } from "./alertsSchema.js";
import { address, assetId, id } from "./fields.js";
import { relayerSchema } from "./relayerSchema.js";

/**
 * The deployment configuration: chains and issuers. It is a file in the repo
 * (config/solvent.config.json), checked by these schemas at start; secrets
 * never appear in it (RPC URLs may name a secret as `${NAME}`).
 * Cross-references (asset ids, chain ids) are checked in ./parseConfig.ts.
 */

const decimalString = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, "must be a decimal integer string (no sign, exponent, point or leading zeros)");
const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x signature");
const positiveInt = z.number().int().positive();
const seconds = z
  .number()
  .int()
  .positive()
  .max(10 * 365 * 86400);
const bps = z.number().int().min(0).max(1_000_000);

export const chainSchema = z.strictObject({
  chainId: positiveInt,
  name: z.string().min(1).optional(),
  /** Tried in order; `${SECRET}` placeholders are filled from Worker secrets. */
  rpcUrls: z.array(z.string().regex(/^https?:\/\/\S+$/, "must be an http(s) URL")).min(1),
  multicall3: address.default("0xcA11bde05977b3631167028862bE2a173976CA11"),
  /** Reads are pinned to `latest - confirmations`. */
  confirmations: z.number().int().min(0).max(1000).default(0),
  /** Calls per Multicall3 aggregate3 request. */
  batchSize: z.number().int().min(1).max(5000).default(500),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  /**
   * "first" (the default): rpcUrls are fallbacks and the first that answers is
   * trusted. "all": every URL answers every read at the pinned block and the
   * raw answers must be identical, else every reading of the chain fails
   * (status 3, STALE_SOURCE); needs two or more rpcUrls.
   */
  agreement: z.enum(["first", "all"]).optional(),
});

const chainlinkSource = z.strictObject({
  kind: z.literal("chainlink"),
  chainId: positiveInt,
  feed: address,
  maxAgeSeconds: seconds,
});

const uniswapV3Source = z.strictObject({
  kind: z.literal("uniswapV3"),
  chainId: positiveInt,
  pool: address,
  /** The token of this asset in the pool; the other side is `quoteAsset`. */
  token: address,
  /** An asset of this issuer, priced without pool sources, that the pool quotes against. */
  quoteAsset: assetId,
});

const httpSource = z.strictObject({
  kind: z.literal("http"),
  url: z.string().regex(/^https?:\/\/\S+$/, "must be an http(s) URL"),
  /** Dot path to the USD price in the JSON answer, e.g. `data.ETH.usd`. */
  path: z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, "must be a dot path like data.price"),
  /** Optional dot path to a unix-seconds timestamp, checked against maxAgeSeconds. */
  timestampPath: z
    .string()
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/)
    .optional(),
  maxAgeSeconds: seconds.optional(),
});

const fixedSource = z.strictObject({
  kind: z.literal("fixed"),
  /** usd18 per whole unit; allowed only for an asset that is the peg currency itself. */
  priceUsd: decimalString,
});

export const priceSourceSchema = z.discriminatedUnion("kind", [
  chainlinkSource,
  uniswapV3Source,
  httpSource,
  fixedSource,
]);

export const assetSchema = z.strictObject({
  id: assetId,
  /** Base-unit decimals for off-chain amounts and ledger balances of this asset. */
  decimals: z.number().int().min(0).max(36),
  /** True only for the currency liabilities are pegged to (e.g. USD): it may use a fixed price. */
  pegCurrency: z.boolean().default(false),
  prices: z.array(priceSourceSchema).min(1, "every asset needs at least one price source"),
  /**
   * Sanity band, usd18 per whole unit like `priceUsd`: an observation outside
   * [minPriceUsd, maxPriceUsd] is rejected as a failed read with the reason,
   * so one broken source (e.g. a feed answering 1e30) can never price the asset.
   */
  minPriceUsd: decimalString.optional(),
  maxPriceUsd: decimalString.optional(),
});

export { lookThroughSchema };

/** The holding kinds and their schema entries are declared once, in core/sources/ (docs/sources.md). */
const holding = holdingSchema;

const ownership = z.discriminatedUnion("kind", [
  /** EIP-191 personal_sign by the holder itself (SPEC §8). */
  z.strictObject({ kind: z.literal("eoa"), signature }),
  /** A contract wallet that answers ERC-1271 isValidSignature for the SPEC §8 message. */
  z.strictObject({ kind: z.literal("erc1271"), signature }),
  /** A contract whose code is the proof (reported as such). */
  z.strictObject({ kind: z.literal("contract") }),
  /** Explicitly unproven: the holder is read and reported, never counted. */
  z.strictObject({ kind: z.literal("none") }),
]);

export const holderSchema = z.strictObject({
  chainId: positiveInt,
  address,
  name: z.string().min(1).max(80).optional(),
  ownership,
  holdings: z.array(holding).min(1),
});

export const custodianSchema = z.strictObject({
  id,
  name: z.string().min(1).max(80).optional(),
  /** Addresses whose SPEC §9 statements are accepted for this custodian. */
  signers: z.array(address).min(1),
  accounts: z.array(z.strictObject({ account: z.string().min(1).max(128), asset: assetId })).min(1),
});

const supplyLiability = z.strictObject({
  /** The issuer's own token, e.g. DUSD; it must not be listed as a reserve asset. */
  asset: assetId,
  /** usd18 each whole token is redeemable for (its face value). */
  pegUsd: decimalString,
  tokens: z
    .array(
      z.strictObject({
        chainId: positiveInt,
        token: address,
        /** Escrow / bridge holdings subtracted from totalSupply (counted once, on the other chain). */
        escrows: z.array(address).default([]),
      }),
    )
    .min(1),
  /**
   * Venues quoting the token's market price (at least two when any), for
   * LIABILITY_PEG_DEVIATION only: liabilities stay valued at pegUsd (SPEC §1).
   */
  marketPrices: z.array(z.discriminatedUnion("kind", [chainlinkSource, uniswapV3Source, httpSource])).default([]),
});

/**
 * A key the issuer's account system signs SPEC §12 balance receipts with,
 * published in the keys document with role "receipts" (SPEC §7). Rotation:
 * set the old entry's validUntil and add the new key; never delete an entry,
 * or the receipts it signed stop verifying.
 */
const receiptKey = z.strictObject({
  address,
  /** Unix seconds from which receipts with this asOf or later are signed by it. */
  validFrom: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Unix seconds (exclusive) from which it no longer signs; null while it is the open key. */
  validUntil: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().default(null),
});

const ledgerLiability = z.strictObject({
  /** Ordered SPEC §2 asset list of the user ledger; each is an asset of this issuer. */
  assets: z.array(assetId).min(1).max(64),
  /** Keys that sign this issuer's SPEC §12 balance receipts (absent: the issuer hands out no receipts). */
  receiptKeys: z.array(receiptKey).optional(),
  /**
   * "plain" (absent): SPEC §2 sum tree (`sum-sha256-v1`), proofs show sibling
   * sums. "private": SPEC §11 Pedersen tree (`pedersen-ristretto255-v2`),
   * proofs reveal no other balance; needs the LEDGER_BLINDING_SECRET secret.
   */
  scheme: z.enum(["plain", "private"]).optional(),
  /** Private only: at least 2^minDepth leaves, so a small user count hides among padding (absent = 0). */
  minDepth: z.number().int().min(0).max(24).optional(),
  /** Private only: decimals kept per ledger asset in the committed unit (absent: the most that keeps the total below 2^64). */
  unitDecimals: z.record(assetId, z.number().int().min(0).max(77)).optional(),
});

/** The ledger's tree scheme: "plain" unless the configuration says "private". */
export function ledgerScheme(ledger: { scheme?: "plain" | "private" | undefined }): "plain" | "private" {
  return ledger.scheme ?? "plain";
}

export const policySchema = z.strictObject({
  /** validUntil = observedAt + ttlSeconds. */
  ttlSeconds: seconds.default(3600),
  /** A price feed or HTTP source older than this is stale (unless the source sets its own). */
  maxSourceAgeSeconds: seconds.default(3600),
  /** A custodian statement older than this no longer counts. */
  statementMaxAgeSeconds: seconds.default(86400),
  /** Price sources of one asset further apart than this (max/min - 1) raise PRICE_DIVERGENCE. */
  priceDivergenceBps: bps.default(100),
  /** OFFCHAIN_SHARE_HIGH when offchain / counted reserves is above this. */
  offchainShareMaxBps: bps.default(5000),
  /** CONCENTRATION when one holder, custodian or asset holds more than this share of counted reserves; 10000 = off. */
  concentrationMaxBps: bps.max(10000).default(10000),
  /** SUPPLY_GROWTH when liabilities grew more than reserves by more than this, relative to the previous attestation. */
  supplyGrowthMaxBps: bps.default(1000),
  /** RESERVE_DROP when reserves fell by more than this against the previous attestation or the window's high; 10000 = off. */
  reserveDropMaxBps: bps.max(10000).default(2000),
  /** The window (back from observedAt) whose highest reservesUsd RESERVE_DROP also compares with. */
  reserveDropWindowSeconds: seconds.default(86400),
  /** LIABILITY_PEG_DEVIATION when the liability token's market price is further than this from pegUsd. */
  pegDeviationMaxBps: bps.default(100),
  /** LIABILITIES_STALE when the attested ledger's asOf is older than this (seconds before observedAt); absent = off. */
  maxLedgerAgeSeconds: seconds.optional(),
});

export const issuerSchema = z.strictObject({
  id,
  name: z.string().min(1).max(120),
  assets: z.array(assetSchema).min(1),
  liabilities: z
    .strictObject({ supply: supplyLiability.optional(), ledger: ledgerLiability.optional() })
    .refine((l) => l.supply !== undefined || l.ledger !== undefined, "needs a supply, a ledger, or both"),
  reserves: z.strictObject({
    holders: z.array(holderSchema).default([]),
    custodians: z.array(custodianSchema).default([]),
  }),
  policy: policySchema.default(() => policySchema.parse({})),
  relayer: relayerSchema.optional(),
  alerts: alertsSchema.optional(),
});

export const configSchema = z.strictObject({
  /** Notes for people (JSON has no comments): ignored by Solvent. `solvent init` writes them. */
  $comment: z.array(z.string()).optional(),
  version: z.literal(1),
  chains: z.array(chainSchema).default([]),
  issuers: z.array(issuerSchema).min(1),
});

export type SolventConfig = z.output<typeof configSchema>;
export type SolventConfigInput = z.input<typeof configSchema>;
export type ChainConfig = z.output<typeof chainSchema>;
export type IssuerConfig = z.output<typeof issuerSchema>;
export type AssetConfig = z.output<typeof assetSchema>;
export type PriceSourceConfig = z.output<typeof priceSourceSchema>;
export type HolderConfig = z.output<typeof holderSchema>;
export type CustodianConfig = z.output<typeof custodianSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type LookThroughConfig = z.output<typeof lookThroughSchema>;
export type SupplyLiabilityConfig = z.output<typeof supplyLiability>;
export type ReceiptKeyConfig = z.output<typeof receiptKey>;
