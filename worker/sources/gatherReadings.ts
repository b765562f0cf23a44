import { getAddress } from "viem";
import type { AssetConfig, ChainConfig, IssuerConfig } from "../../core/config/schema.js";
import type {
  BlockReading,
  HoldingReading,
  LedgerReading,
  OwnershipReading,
  PoolQuote,
  PriceObservation,
  SupplyReading,
  TickReadings,
} from "../../core/valuation/readings.js";
import { createChainClient, createRpcClients, describeRpcError } from "./chainClient.js";
import { checkOwnership, compareContractCode } from "./checkOwnership.js";
import { type FetchFn, fetchHttpPrice, fixedPrice, httpLabel } from "./fetchHttpPrice.js";
import { createChainCallBatch, multicall3Abi } from "./multicall.js";
import { confirmBlockUnchanged, pinBlock } from "./pinBlock.js";
import { type LocalAttestationFn, readAttestedTokens } from "./readAttestedTokens.js";
import { holdingReadingBase, readHoldings } from "./readHoldings.js";
import { chainlinkLabel, failedOnchainPrices, readOnchainPrices, uniswapV3Label } from "./readOnchainPrices.js";
import { readSupply } from "./readSupply.js";
import { recheckStatements, type StoredStatement } from "./recheckStatements.js";

export interface GatherReadingsParameters {
  issuer: IssuerConfig;
  /** The deployment's chains; the ones the issuer uses are read. */
  chains: readonly ChainConfig[];
  /** Worker secrets, for `${NAME}` placeholders in RPC URLs. */
  secrets: Record<string, unknown>;
  /** The latest stored statement per (custodian, account, asset). */
  statements: readonly StoredStatement[];
  ledger: LedgerReading | null;
  /** Unix seconds; becomes `observedAt`. */
  now: bigint;
  /** For HTTP price sources. */
  fetchFn: FetchFn;
  /** Called for every JSON-RPC HTTP request, with the chain it is for (awaited when it returns a promise). */
  onRequest?: (chainId: number) => void | Promise<void>;
  /** Timeout of each HTTP price request; default 10 s. */
  httpTimeoutMs?: number;
  /** Every issuer of the deployment, for the look-through graph; default just `issuer`. */
  issuers?: readonly IssuerConfig[];
  /** Reads a local issuer's latest attestation, for look-through holdings (none given: they fail as unreadable). */
  localAttestation?: LocalAttestationFn;
}

interface ChainReadings {
  block: BlockReading;
  holdings: HoldingReading[];
  ownership: OwnershipReading[];
  supply: SupplyReading[];
  prices: PriceObservation[];
  pools: PoolQuote[];
}

/**
 * Everything one tick of one issuer needs, read once: per chain (in parallel)
 * one client, one pinned block, holdings + ownership + supply + on-chain
 * prices in shared aggregate3 rounds (two at most), then a reorg check; a
 * chain that cannot be pinned, errs on the chain-id check or reorganised has
 * every reading failed with that reason. HTTP and fixed prices alongside. Prices
 * are handed on as read: pool quotes in their quote asset, no band applied;
 * valuation prices them (core/valuation/priceQuorum.ts `priceTick`).
 * Statements are re-checked at `now`.
 * The liability token's market venues are read like price sources (into
 * `marketPrices`); the attestations behind look-through holdings are read
 * alongside (`attested`, see ./readAttestedTokens.ts).
 *
 * @example
 * const readings = await gatherReadings({ issuer, chains: config.chains, secrets: env, statements, ledger, now, fetchFn: fetch });
 */
export async function gatherReadings(parameters: GatherReadingsParameters): Promise<TickReadings> {
  const { issuer, now, fetchFn } = parameters;
  const chainIds = chainsOf(issuer);
  const maxSourceAgeSeconds = issuer.policy.maxSourceAgeSeconds;
  const market = marketAsset(issuer);

  const offchainPrices = Promise.all(
    pricedAssets(issuer).flatMap((asset) =>
      asset.prices.flatMap((source) => {
        if (source.kind === "http") {
          return [
            fetchHttpPrice(fetchFn, source, {
              asset: asset.id,
              now,
              maxSourceAgeSeconds,
              timeoutMs: parameters.httpTimeoutMs,
            }),
          ];
        }
        if (source.kind === "fixed") return [Promise.resolve(fixedPrice(asset.id, source))];
        return [];
      }),
    ),
  );
  const [perChain, offchain, statements, attested] = await Promise.all([
    Promise.all(chainIds.map((chainId) => readChain(parameters, chainId))),
    offchainPrices,
    recheckStatements({
      issuerId: issuer.id,
      custodians: issuer.reserves.custodians,
      statements: parameters.statements,
      now,
      maxAgeSeconds: issuer.policy.statementMaxAgeSeconds,
    }),
    readAttestedTokens({
      issuer,
      issuers: parameters.issuers ?? [issuer],
      localAttestation: parameters.localAttestation,
      fetchFn,
      timeoutMs: parameters.httpTimeoutMs,
    }),
  ]);

  const direct = inConfigOrder(issuer, [...perChain.flatMap((c) => c.prices), ...offchain]);
  const isMarket = (o: PriceObservation) => market !== null && o.asset === market.id;
  return {
    observedAt: now,
    blocks: perChain.map((c) => c.block),
    holdings: perChain.flatMap((c) => c.holdings),
    ownership: perChain.flatMap((c) => c.ownership),
    supply: perChain.flatMap((c) => c.supply),
    prices: direct.filter((o) => !isMarket(o)),
    statements,
    ledger: parameters.ledger,
    attested,
    marketPrices: direct.filter(isMarket),
    pools: inConfigOrder(
      issuer,
      perChain.flatMap((c) => c.pools),
    ),
  };
}

/** The liability token's market venues, read like an asset's price sources (its id cannot be a reserve asset id). */
function marketAsset(issuer: IssuerConfig): AssetConfig | null {
  const supply = issuer.liabilities.supply;
  if (!supply || supply.marketPrices.length === 0) return null;
  return { id: supply.asset, decimals: 0, pegCurrency: false, prices: supply.marketPrices };
}

/** The reserve assets, then the liability token's market venues. */
function pricedAssets(issuer: IssuerConfig): AssetConfig[] {
  const market = marketAsset(issuer);
  return market ? [...issuer.assets, market] : [...issuer.assets];
}

async function readChain(parameters: GatherReadingsParameters, chainId: number): Promise<ChainReadings> {
  const { issuer, now } = parameters;
  const chain = parameters.chains.find((c) => c.chainId === chainId);
  if (!chain) return failedChain(issuer, chainId, `chain ${chainId} is not configured`);
  const onRequest = parameters.onRequest;

  // agreement "all": RPC 0 reads, every other RPC witnesses each read; else the URLs are fallbacks.
  let client;
  let witnesses: ReturnType<typeof createRpcClients> = [];
  try {
    const options = { onRequest: onRequest && (() => onRequest(chainId)) };
    if (chain.agreement === "all") {
      [client, ...witnesses] = createRpcClients(chain, parameters.secrets, options);
      if (client === undefined) throw new Error(`chain ${chainId}: no RPC URL`);
    } else {
      client = createChainClient(chain, parameters.secrets, options);
    }
  } catch (error) {
    return failedChain(issuer, chainId, describeRpcError(error));
  }

  let block;
  try {
    block = await pinBlock(client, { confirmations: chain.confirmations });
  } catch (error) {
    return failedChain(issuer, chainId, `chain ${chainId}: could not pin a block: ${describeRpcError(error)}`);
  }

  const batch = createChainCallBatch(client, chain, block.number, witnesses);
  const holders = issuer.reserves.holders;
  let reads;
  try {
    reads = await Promise.all([
      batch.read({ address: getAddress(chain.multicall3), abi: multicall3Abi, functionName: "getChainId" }),
      readHoldings(client, { chain, holders, block, batch }),
      checkOwnership(client, { issuerId: issuer.id, chain, holders, block, batch }),
      readSupply(client, { chain, supply: issuer.liabilities.supply, block, batch }),
      readOnchainPrices(client, { chain, assets: pricedAssets(issuer), block, now, batch }),
    ]);
  } catch (error) {
    // Readers report failures as readings; reaching this is a bug, but it must not sink the other chains.
    return failedChain(issuer, chainId, `chain ${chainId}: reading failed: ${describeRpcError(error)}`);
  }
  const [servedChainId, holdings, ownership, supply, prices] = reads;

  try {
    await confirmBlockUnchanged(client, block);
  } catch (error) {
    return failedChain(issuer, chainId, `chain ${chainId}: ${describeRpcError(error)}`);
  }
  if (batch.disagreement !== null)
    return failedChain(issuer, chainId, `chain ${chainId}: the RPCs disagree (agreement "all"): ${batch.disagreement}`);
  const hashes = await Promise.all(
    witnesses.map((witness, w) =>
      confirmBlockUnchanged(witness, block).then(
        () => null,
        (error) => `RPC ${w + 1} does not serve block ${block.number} as RPC 0 does: ${describeRpcError(error)}`,
      ),
    ),
  );
  const blockDisagreement =
    hashes.find((h) => h !== null) ?? (await compareContractCode(client, witnesses, { chain, holders, block }));
  if (blockDisagreement)
    return failedChain(issuer, chainId, `chain ${chainId}: the RPCs disagree (agreement "all"): ${blockDisagreement}`);
  // The URL could serve another network (a mistyped secret); then nothing read from it is about this chain.
  if (!servedChainId.ok)
    return failedChain(issuer, chainId, `chain ${chainId}: could not confirm the chain id: ${servedChainId.reason}`);
  if (servedChainId.value !== BigInt(chainId)) {
    return failedChain(issuer, chainId, `chain ${chainId}: the RPC serves chain ${servedChainId.value}`);
  }
  return {
    block: { chainId, result: { ok: true, value: block } },
    holdings,
    ownership,
    supply,
    prices: prices.direct,
    pools: prices.pools,
  };
}

/** Every reading of one chain, failed with one reason: no partial trust in a chain we could not read consistently. */
function failedChain(issuer: IssuerConfig, chainId: number, reason: string): ChainReadings {
  const failed = { ok: false as const, reason };
  const holders = issuer.reserves.holders.filter((h) => h.chainId === chainId);
  return {
    block: { chainId, result: failed },
    holdings: holders.flatMap((h) =>
      h.holdings.map(
        (holding): HoldingReading => ({ ...holdingReadingBase(chainId, h.address, holding), result: failed }),
      ),
    ),
    ownership: holders.map((h) => ({
      chainId,
      holder: getAddress(h.address),
      method: h.ownership.kind,
      proven: false,
      detail: reason,
    })),
    supply: (issuer.liabilities.supply?.tokens ?? [])
      .filter((t) => t.chainId === chainId)
      .map((t) => ({ chainId, token: getAddress(t.token), result: failed })),
    prices: failedOnchainPrices(chainId, pricedAssets(issuer), reason),
    pools: [],
  };
}

/** Chain ids the issuer reads, ascending. */
function chainsOf(issuer: IssuerConfig): number[] {
  const ids = new Set<number>();
  for (const h of issuer.reserves.holders) ids.add(h.chainId);
  for (const t of issuer.liabilities.supply?.tokens ?? []) ids.add(t.chainId);
  for (const a of pricedAssets(issuer))
    for (const s of a.prices) if (s.kind === "chainlink" || s.kind === "uniswapV3") ids.add(s.chainId);
  return [...ids].sort((a, b) => a - b);
}

/** Observations ordered as their sources are configured (asset order, then source order). */
function inConfigOrder<T extends { asset: string; source: string }>(
  issuer: IssuerConfig,
  observations: readonly T[],
): T[] {
  const rank = new Map<string, number>();
  for (const asset of pricedAssets(issuer)) {
    for (const s of asset.prices) {
      const label =
        s.kind === "chainlink"
          ? chainlinkLabel(s.chainId, s.feed)
          : s.kind === "uniswapV3"
            ? uniswapV3Label(s.chainId, s.pool)
            : s.kind === "http"
              ? httpLabel(s.url)
              : "fixed";
      const key = `${asset.id}\u0000${label}`;
      if (!rank.has(key)) rank.set(key, rank.size);
    }
  }
  const at = (o: T): number => rank.get(`${o.asset}\u0000${o.source}`) ?? Number.MAX_SAFE_INTEGER;
  return [...observations].sort((a, b) => at(a) - at(b));
}
