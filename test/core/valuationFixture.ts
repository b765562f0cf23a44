import { parseConfig } from "../../core/config/parseConfig.js";
import type { IssuerConfig } from "../../core/config/schema.js";
import { NATIVE_TOKEN } from "../../core/reservesTree.js";
import type { PriceObservation, TickReadings } from "../../core/valuation/readings.js";

/**
 * A hand-built issuer and one tick of readings for it. Every expected value
 * in the valuation and report tests is worked out by hand from these numbers.
 *
 * Reserves (all counted in the base tick):
 *   H1 (chain 1, eoa proof)     native ETH  10 ETH × 3000         = 30,000 USD
 *                               USDC        500,000 USDC × 1       = 500,000 USD
 *                               vault       shares → 100,000 USDC  = 100,000 USD
 *   H2 (chain 8453, erc1271)    USDC        20,000 USDC × 1        = 20,000 USD
 *   acme-trust / ops            USD         5,000,000 cents        = 50,000 USD
 *   on-chain 650,000, off-chain 50,000, reserves 700,000
 * Liabilities (AUSD at 1 USD):
 *   chain 1    totalSupply 700,000 AUSD (18 dec) − escrow 100,000   = 600,000 USD
 *   chain 8453 totalSupply 50,000 AUSD (6 dec)                     = 50,000 USD
 *   total 650,000 → ratio floor(700000 × 10000 / 650000) = 10769 bps
 */
export const E18 = 10n ** 18n;
export const E6 = 10n ** 6n;

export const H1 = "0x1111111111111111111111111111111111111111";
export const H2 = "0x2222222222222222222222222222222222222222";
export const USDC_1 = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
export const USDC_BASE = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
export const VAULT = "0x3333333333333333333333333333333333333333";
export const AUSD_1 = "0x4444444444444444444444444444444444444444";
export const AUSD_BASE = "0x5555555555555555555555555555555555555555";
export const ESCROW = "0x6666666666666666666666666666666666666666";
export const SIGNER = "0x7777777777777777777777777777777777777777";
export const FEED_ETH = "0x5f4ec3df9cbd43714fe2740f5e3616155c5b8419";
export const FEED_USDC = "0x8fffffd4afb6115b954bd326cbe7b4ba576818f6";
export const NATIVE = NATIVE_TOKEN.toLowerCase();
export const OBSERVED_AT = 1_700_000_000n;
export const LEDGER_ROOT = `0x${"ab".repeat(32)}` as const;

export function issuerInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "acme-usd",
    name: "Acme USD",
    assets: [
      { id: "USD", decimals: 2, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: E18.toString() }] },
      { id: "USDC", decimals: 6, prices: [{ kind: "chainlink", chainId: 1, feed: FEED_USDC, maxAgeSeconds: 90000 }] },
      {
        id: "ETH",
        decimals: 18,
        prices: [
          { kind: "chainlink", chainId: 1, feed: FEED_ETH, maxAgeSeconds: 3600 },
          { kind: "http", url: "https://a.example/eth", path: "usd" },
          { kind: "http", url: "https://b.example/eth", path: "usd" },
        ],
      },
    ],
    liabilities: {
      supply: {
        asset: "AUSD",
        pegUsd: E18.toString(),
        tokens: [
          { chainId: 1, token: AUSD_1, escrows: [ESCROW] },
          { chainId: 8453, token: AUSD_BASE },
        ],
      },
    },
    reserves: {
      holders: [
        {
          chainId: 1,
          address: H1,
          name: "Treasury",
          ownership: { kind: "eoa", signature: `0x${"11".repeat(65)}` },
          holdings: [
            { type: "native", asset: "ETH" },
            { type: "erc20", asset: "USDC", token: USDC_1 },
            { type: "erc4626", asset: "USDC", vault: VAULT },
          ],
        },
        {
          chainId: 8453,
          address: H2,
          ownership: { kind: "erc1271", signature: `0x${"22".repeat(65)}` },
          holdings: [{ type: "erc20", asset: "USDC", token: USDC_BASE }],
        },
      ],
      custodians: [{ id: "acme-trust", signers: [SIGNER], accounts: [{ account: "ops", asset: "USD" }] }],
    },
    ...overrides,
  };
}

export function makeIssuer(overrides: Record<string, unknown> = {}): IssuerConfig {
  const config = parseConfig({
    version: 1,
    chains: [
      { chainId: 1, rpcUrls: ["https://rpc.example/1"] },
      { chainId: 8453, rpcUrls: ["https://rpc.example/8453"] },
    ],
    issuers: [issuerInput(overrides)],
  });
  return config.issuers[0]!;
}

export const price = (asset: string, source: string, priceUsd: bigint): PriceObservation => ({
  asset,
  source,
  result: { ok: true, value: { priceUsd, updatedAt: OBSERVED_AT - 60n } },
});

export const failedPrice = (asset: string, source: string, reason: string): PriceObservation => ({
  asset,
  source,
  result: { ok: false, reason },
});

export function baseReadings(): TickReadings {
  const block = (n: bigint) => ({
    ok: true as const,
    value: { number: n, hash: `0x${n.toString(16).padStart(64, "0")}` as const, timestamp: OBSERVED_AT - 12n },
  });
  return {
    observedAt: OBSERVED_AT,
    blocks: [
      { chainId: 8453, result: block(30_000_000n) },
      { chainId: 1, result: block(20_000_000n) },
    ],
    holdings: [
      {
        chainId: 1,
        holder: H1,
        asset: "ETH",
        kind: "native",
        source: NATIVE_TOKEN,
        result: { ok: true, value: { amount: 10n * E18, token: NATIVE_TOKEN, decimals: 18 } },
      },
      {
        chainId: 1,
        holder: H1,
        asset: "USDC",
        kind: "erc20",
        source: USDC_1,
        result: { ok: true, value: { amount: 500_000n * E6, token: USDC_1, decimals: 6 } },
      },
      {
        chainId: 1,
        holder: H1,
        asset: "USDC",
        kind: "erc4626",
        source: VAULT,
        result: { ok: true, value: { amount: 100_000n * E6, token: USDC_1, decimals: 6, shares: 95_000n * E6 } },
      },
      {
        chainId: 8453,
        holder: H2,
        asset: "USDC",
        kind: "erc20",
        source: USDC_BASE,
        result: { ok: true, value: { amount: 20_000n * E6, token: USDC_BASE, decimals: 6 } },
      },
    ],
    ownership: [
      { chainId: 1, holder: H1, method: "eoa", proven: true, detail: "personal_sign recovers the holder" },
      { chainId: 8453, holder: H2, method: "erc1271", proven: true, detail: "isValidSignature returned 0x1626ba7e" },
    ],
    supply: [
      {
        chainId: 1,
        token: AUSD_1,
        result: {
          ok: true,
          value: { totalSupply: 700_000n * E18, decimals: 18, escrows: [{ address: ESCROW, amount: 100_000n * E18 }] },
        },
      },
      {
        chainId: 8453,
        token: AUSD_BASE,
        result: { ok: true, value: { totalSupply: 50_000n * E6, decimals: 6, escrows: [] } },
      },
    ],
    prices: [
      price("ETH", `chainlink:1:${FEED_ETH}`, 3000n * E18),
      price("ETH", "http:https://a.example/eth", 3010n * E18),
      price("ETH", "http:https://b.example/eth", 2990n * E18),
      price("USDC", `chainlink:1:${FEED_USDC}`, E18),
      price("USD", "fixed", E18),
    ],
    statements: [
      {
        custodian: "acme-trust",
        account: "ops",
        asset: "USD",
        result: {
          ok: true,
          value: {
            amount: 5_000_000n,
            asOf: OBSERVED_AT - 600n,
            nonce: 7n,
            signer: SIGNER,
            signature: `0x${"33".repeat(65)}`,
          },
        },
      },
    ],
    ledger: null,
    attested: [],
    marketPrices: [],
  };
}

/** A copy of the base readings changed by `edit`. */
export function readingsWith(edit: (r: TickReadings) => void): TickReadings {
  const r = baseReadings();
  edit(r);
  return r;
}
