import type { z } from "zod";
import { SolventError } from "../errors.js";
import { relayMarginSeconds } from "../relayPolicy.js";
import { outsideBand } from "../valuation/priceQuorum.js";
import {
  assetSchema,
  type CustodianConfig,
  chainSchema,
  configSchema,
  custodianSchema,
  type HolderConfig,
  holderSchema,
  type IssuerConfig,
  issuerSchema,
  ledgerScheme,
  policySchema,
  type SolventConfig,
} from "./schema.js";

export interface ConfigIssue {
  /** JSON path of the offending field, e.g. `issuers[0].reserves.holders[2].address`. */
  path: string;
  message: string;
}

/** A configuration that cannot be used; lists every problem, not just the first, each path once. */
export class ConfigError extends SolventError {
  constructor(readonly issues: ConfigIssue[]) {
    const [first, ...rest] = issues;
    super(
      "INVALID_CONFIG",
      first?.path ?? "config",
      [first?.message ?? "is invalid", ...rest.map((i) => `${i.path}: ${i.message}`)].join("; "),
    );
  }
}

export function jsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path)
    out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out === "" ? "(root)" : out;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message }));
}

/**
 * Every problem of a configuration document (already JSON-parsed) in one
 * pass: the shape by the zod schema and the references between its parts
 * together, each once, in document order. When the shape is wrong, the
 * references are still checked among the parts that do parse (see
 * salvageConfig), so fixing one round never reveals a second.
 */
export function checkConfig(json: unknown): { config: SolventConfig | null; issues: ConfigIssue[] } {
  const parsed = configSchema.safeParse(json);
  if (parsed.success) {
    const issues = crossReferenceIssues(parsed.data, declaredIds(json));
    return { config: issues.length === 0 ? parsed.data : null, issues: ordered(issues) };
  }
  const salvaged = salvageConfig(json);
  const issues = [...zodIssues(parsed.error), ...(salvaged ? crossReferenceIssues(salvaged, declaredIds(json)) : [])];
  return { config: null, issues: ordered(issues) };
}

/**
 * Validates a configuration document (already JSON-parsed). Throws
 * ConfigError naming the JSON path of every bad field.
 */
export function parseConfig(json: unknown): SolventConfig {
  const { config, issues } = checkConfig(json);
  if (config === null) throw new ConfigError(issues);
  return config;
}

/** Parses configuration text, reporting JSON syntax errors as a ConfigError too. */
export function parseConfigText(text: string, source = "config"): SolventConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ path: source, message: `is not valid JSON: ${(e as Error).message}` }]);
  }
  return parseConfig(json);
}

/** Distinct issues, sorted by path in document order (numeric indexes compared as numbers). */
function ordered(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const parts = (path: string) => path.split(/[.[\]]+/).filter(Boolean);
  const compare = (a: string, b: string): number => {
    const [pa, pb] = [parts(a), parts(b)];
    for (let k = 0; k < Math.min(pa.length, pb.length); k++) {
      if (pa[k] === pb[k]) continue;
      const [na, nb] = [Number(pa[k]), Number(pb[k])];
      if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
      return 0; // different keys of one object: keep the order they were found in
    }
    return pa.length - pb.length;
  };
  return unique
    .map((issue, index) => ({ issue, index }))
    .sort((x, y) => compare(x.issue.path, y.issue.path) || x.index - y.index)
    .map((x) => x.issue);
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const rawArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The ids a document declares, read from the raw JSON so that a chain or an
 * asset with a problem of its own still counts as declared: a reference to it
 * is not reported as a second, false problem.
 */
interface DeclaredIds {
  chainIds: Set<number>;
  /** Per issuer index: its asset ids. */
  assets: Map<number, Set<string>>;
}

function declaredIds(json: unknown): DeclaredIds {
  const root = isObject(json) ? json : {};
  const chainIds = new Set(
    rawArray(root.chains).flatMap((c) => (isObject(c) && typeof c.chainId === "number" ? [c.chainId] : [])),
  );
  const assets = new Map<number, Set<string>>();
  rawArray(root.issuers).forEach((issuer, i) => {
    const ids = isObject(issuer)
      ? rawArray(issuer.assets).flatMap((a) => (isObject(a) && typeof a.id === "string" ? [a.id] : []))
      : [];
    assets.set(i, new Set(ids));
  });
  return { chainIds, assets };
}

/**
 * The parts of a document that parse on their own, at their own indexes:
 * arrays keep a hole (a sparse array slot, skipped by forEach/some/find)
 * where an element does not parse, so the cross-reference checks below run
 * on what is there and still name each element by its index in the file.
 * Null when there is nothing to salvage (not an object, no issuers array).
 */
function salvageConfig(json: unknown): SolventConfig | null {
  if (!isObject(json) || !Array.isArray(json.issuers)) return null;
  const chains = sparse(rawArray(json.chains), (c) => chainSchema.safeParse(c));
  const issuers = sparse(json.issuers, (raw) => {
    const whole = issuerSchema.safeParse(raw);
    if (whole.success || !isObject(raw) || typeof raw.id !== "string") return whole;
    return { success: true as const, data: salvageIssuer(raw) };
  });
  return { version: 1, chains, issuers };
}

function sparse<T>(raw: unknown[], parse: (v: unknown, index: number) => { success: boolean; data?: T }): T[] {
  const out: T[] = new Array<T>(raw.length);
  raw.forEach((v, i) => {
    const r = parse(v, i);
    if (r.success) out[i] = r.data as T;
  });
  return out;
}

/** A holder with a bad field of its own still has its holdings' assets checked; its own problem is already reported. */
function salvageHolder(raw: unknown, index: number): { success: boolean; data?: HolderConfig } {
  const whole = holderSchema.safeParse(raw);
  if (whole.success || !isObject(raw) || typeof raw.chainId !== "number") return whole;
  const address = typeof raw.address === "string" ? raw.address : "";
  return {
    success: true,
    data: {
      chainId: raw.chainId,
      // never equal to another holder's: an unreadable address is not a duplicate
      address: /^0x[0-9a-fA-F]{40}$/.test(address) ? address : `unreadable address of holder ${index}`,
      ownership: { kind: "none" },
      holdings: sparse(rawArray(raw.holdings), (h) => holderSchema.shape.holdings.element.safeParse(h)),
    },
  };
}

function salvageCustodian(raw: unknown): { success: boolean; data?: CustodianConfig } {
  const whole = custodianSchema.safeParse(raw);
  if (whole.success || !isObject(raw) || typeof raw.id !== "string") return whole;
  const account = custodianSchema.shape.accounts.element;
  return {
    success: true,
    data: { id: raw.id, signers: [], accounts: sparse(rawArray(raw.accounts), (a) => account.safeParse(a)) },
  };
}

function salvageIssuer(raw: Raw): IssuerConfig {
  const shape = issuerSchema.shape;
  const reserves = isObject(raw.reserves) ? raw.reserves : {};
  const liabilities = isObject(raw.liabilities) ? raw.liabilities : {};
  const optional = <T>(schema: z.ZodType<T>, value: unknown): T | undefined => {
    const r = schema.safeParse(value);
    return r.success ? r.data : undefined;
  };
  const liabilityShape = shape.liabilities.shape;
  return {
    id: raw.id as string,
    name: typeof raw.name === "string" ? raw.name : "",
    assets: sparse(rawArray(raw.assets), (a) => assetSchema.safeParse(a)),
    liabilities: {
      supply: optional(liabilityShape.supply, liabilities.supply),
      ledger: optional(liabilityShape.ledger, liabilities.ledger),
    },
    reserves: {
      holders: sparse(rawArray(reserves.holders), salvageHolder),
      custodians: sparse(rawArray(reserves.custodians), salvageCustodian),
    },
    policy: optional(policySchema, raw.policy ?? {}) ?? policySchema.parse({}),
    relayer: optional(shape.relayer, raw.relayer),
    alerts: undefined,
  };
}

function duplicates<T>(values: T[]): Set<T> {
  const seen = new Set<T>();
  const dup = new Set<T>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return dup;
}

function crossReferenceIssues(config: SolventConfig, declared: DeclaredIds): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  const chainIds = declared.chainIds;
  const dupChains = duplicates(config.chains.map((c) => c.chainId));
  config.chains.forEach((c, i) => {
    if (dupChains.has(c.chainId)) add(`chains[${i}].chainId`, `chain ${c.chainId} is listed twice`);
  });
  config.chains.forEach((c, i) => {
    if (c.agreement === "all" && c.rpcUrls.length < 2)
      add(`chains[${i}].agreement`, `"all" needs two or more rpcUrls to compare`);
  });
  const dupIssuers = duplicates(config.issuers.map((x) => x.id));
  config.issuers.forEach((issuer, i) => {
    const at = `issuers[${i}]`;
    if (dupIssuers.has(issuer.id)) add(`${at}.id`, `issuer "${issuer.id}" is listed twice`);
    issuerIssues(issuer, at, chainIds, declared.assets.get(i) ?? new Set(), add);
    lookThroughIssues(config, issuer, at, add);
  });
  return issues;
}

function issuerIssues(
  issuer: IssuerConfig,
  at: string,
  chainIds: Set<number>,
  assetIds: Set<string>,
  add: (path: string, message: string) => void,
): void {
  const assets = new Map(issuer.assets.flatMap((a) => (a ? [[a.id, a] as const] : [])));
  const needAsset = (path: string, asset: string) =>
    assetIds.has(asset) || add(path, `asset "${asset}" is not in this issuer's assets`);
  const needChain = (path: string, chainId: number) =>
    chainIds.has(chainId) || add(path, `chain ${chainId} is not in chains`);

  const dupAssets = duplicates(issuer.assets.map((a) => a.id));
  issuer.assets.forEach((asset, a) => {
    const ap = `${at}.assets[${a}]`;
    if (dupAssets.has(asset.id)) add(`${ap}.id`, `asset "${asset.id}" is listed twice`);
    if (asset.maxPriceUsd !== undefined && BigInt(asset.maxPriceUsd) === 0n)
      add(`${ap}.maxPriceUsd`, "must be positive");
    if (
      asset.minPriceUsd !== undefined &&
      asset.maxPriceUsd !== undefined &&
      BigInt(asset.minPriceUsd) > BigInt(asset.maxPriceUsd)
    ) {
      add(`${ap}.minPriceUsd`, `is above maxPriceUsd ${asset.maxPriceUsd}`);
    }
    asset.prices.forEach((source, s) => {
      const sp = `${ap}.prices[${s}]`;
      if (source.kind === "fixed" && !asset.pegCurrency) {
        add(sp, `a fixed price is allowed only for the peg currency itself; "${asset.id}" must be priced from markets`);
      }
      if (source.kind === "fixed" && outsideBand(BigInt(source.priceUsd), asset) !== null) {
        add(`${sp}.priceUsd`, `is outside the asset's band: ${outsideBand(BigInt(source.priceUsd), asset)}`);
      }
      if (source.kind === "chainlink" || source.kind === "uniswapV3") needChain(`${sp}.chainId`, source.chainId);
      if (source.kind === "uniswapV3") {
        const quote = assets.get(source.quoteAsset);
        if (!quote) needAsset(`${sp}.quoteAsset`, source.quoteAsset);
        else if (quote.id === asset.id) add(`${sp}.quoteAsset`, "an asset cannot be quoted against itself");
        else if (quote.prices.some((q) => q.kind === "uniswapV3")) {
          add(
            `${sp}.quoteAsset`,
            `"${quote.id}" is itself priced from a pool; quote against an asset with direct sources`,
          );
        }
      }
    });
  });

  const { supply, ledger } = issuer.liabilities;
  if (supply) {
    if (assetIds.has(supply.asset)) {
      add(
        `${at}.liabilities.supply.asset`,
        `"${supply.asset}" is the issuer's own liability; it cannot also be one of its reserve assets`,
      );
    }
    supply.tokens.forEach((t, i) => {
      needChain(`${at}.liabilities.supply.tokens[${i}].chainId`, t.chainId);
    });
    if (supply.marketPrices.length === 1) {
      add(
        `${at}.liabilities.supply.marketPrices`,
        "needs at least two venues (or none): one venue alone never decides a peg deviation",
      );
    }
    supply.marketPrices.forEach((source, s) => {
      const sp = `${at}.liabilities.supply.marketPrices[${s}]`;
      if (source.kind === "chainlink" || source.kind === "uniswapV3") needChain(`${sp}.chainId`, source.chainId);
      if (source.kind === "uniswapV3") {
        const quote = assets.get(source.quoteAsset);
        if (!quote) needAsset(`${sp}.quoteAsset`, source.quoteAsset);
        else if (quote.prices.some((q) => q.kind === "uniswapV3")) {
          add(
            `${sp}.quoteAsset`,
            `"${quote.id}" is itself priced from a pool; quote against an asset with direct sources`,
          );
        }
      }
    });
  }
  if (ledger) {
    const dupLedger = duplicates(ledger.assets);
    ledger.assets.forEach((asset, i) => {
      const p = `${at}.liabilities.ledger.assets[${i}]`;
      needAsset(p, asset);
      if (dupLedger.has(asset)) add(p, `asset "${asset}" is listed twice`);
    });
    const receiptKeys = ledger.receiptKeys ?? [];
    const dupReceiptKeys = duplicates(receiptKeys.map((k) => k.address.toLowerCase()));
    receiptKeys.forEach((key, i) => {
      const p = `${at}.liabilities.ledger.receiptKeys[${i}]`;
      if (dupReceiptKeys.has(key.address.toLowerCase()))
        add(
          `${p}.address`,
          "this receipts key is listed twice; rotate by closing its entry (validUntil) and adding the new key",
        );
      if (key.validUntil !== null && key.validUntil <= key.validFrom)
        add(`${p}.validUntil`, `${key.validUntil} must be after validFrom ${key.validFrom}`);
    });
    privateLedgerIssues(issuer, at, add);
  }

  const holderKeys = duplicates(issuer.reserves.holders.map((h) => `${h.chainId}:${h.address.toLowerCase()}`));
  issuer.reserves.holders.forEach((holder, h) => {
    const hp = `${at}.reserves.holders[${h}]`;
    needChain(`${hp}.chainId`, holder.chainId);
    if (holderKeys.has(`${holder.chainId}:${holder.address.toLowerCase()}`))
      add(`${hp}.address`, "this holder is listed twice on this chain");
    holder.holdings.forEach((holding, k) => {
      needAsset(`${hp}.holdings[${k}].asset`, holding.asset);
    });
  });

  if (issuer.relayer) {
    needChain(`${at}.relayer.chainId`, issuer.relayer.chainId);
    relayerTimingIssues(issuer, at, add);
  }

  const dupCustodians = duplicates(issuer.reserves.custodians.map((c) => c.id));
  issuer.reserves.custodians.forEach((custodian, c) => {
    const cp = `${at}.reserves.custodians[${c}]`;
    if (dupCustodians.has(custodian.id)) add(`${cp}.id`, `custodian "${custodian.id}" is listed twice`);
    custodian.accounts.forEach((account, k) => {
      needAsset(`${cp}.accounts[${k}].asset`, account.asset);
    });
  });
}

/**
 * The relayer must be able to keep the on-chain copy valid: it replaces the
 * copy `margin` (tick + relay time) before expiry, so the margin, and the
 * heartbeat on top of it, must fit inside the attestation's TTL.
 */
/**
 * A private ledger's options: minDepth and unitDecimals apply only to
 * `scheme: "private"`; each unitDecimals entry names a ledger asset and keeps
 * at most that asset's decimals.
 */
function privateLedgerIssues(issuer: IssuerConfig, at: string, add: (path: string, message: string) => void): void {
  const ledger = issuer.liabilities.ledger;
  if (!ledger) return;
  const p = `${at}.liabilities.ledger`;
  const isPrivate = ledgerScheme(ledger) === "private";
  if (!isPrivate) {
    for (const field of ["minDepth", "unitDecimals"] as const) {
      if (ledger[field] !== undefined)
        add(`${p}.${field}`, `applies only to a private ledger (set ${p}.scheme to "private" or remove ${field})`);
    }
    return;
  }
  for (const [asset, kept] of Object.entries(ledger.unitDecimals ?? {})) {
    const up = `${p}.unitDecimals.${asset}`;
    if (!ledger.assets.includes(asset)) {
      add(up, `"${asset}" is not one of the ledger's assets (${ledger.assets.join(", ")})`);
      continue;
    }
    const decimals = issuer.assets.find((a) => a.id === asset)?.decimals;
    if (decimals !== undefined && kept > decimals)
      add(up, `keeps ${kept} decimals but ${asset} has only ${decimals}; use 0 to ${decimals}`);
  }
}

function relayerTimingIssues(issuer: IssuerConfig, at: string, add: (path: string, message: string) => void): void {
  const { tickSeconds, relaySeconds, heartbeatSeconds } = issuer.relayer!;
  const ttl = issuer.policy.ttlSeconds;
  const margin = relayMarginSeconds({ tickSeconds, relaySeconds });
  if (margin >= ttl) {
    add(
      `${at}.relayer.tickSeconds`,
      `tickSeconds ${tickSeconds} + relaySeconds ${relaySeconds} = ${margin} s is not below policy.ttlSeconds ${ttl}: ` +
        `an attestation would expire on-chain before the next one can replace it; raise policy.ttlSeconds above ${margin} or tick more often`,
    );
  } else if (heartbeatSeconds !== undefined && heartbeatSeconds + margin >= ttl) {
    add(
      `${at}.relayer.heartbeatSeconds`,
      `heartbeatSeconds ${heartbeatSeconds} + the expiry margin ${margin} s (tickSeconds + relaySeconds) is not below policy.ttlSeconds ${ttl}: ` +
        `the heartbeat would never fire before the copy expires; set heartbeatSeconds below ${ttl - margin}, raise policy.ttlSeconds above ${heartbeatSeconds + margin}, or leave heartbeatSeconds out`,
    );
  }
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The issuer of this deployment whose liability token is `token` on `chainId`, if any. */
function tokenIssuer(config: SolventConfig, chainId: number, token: string): IssuerConfig | undefined {
  return config.issuers.find((x) =>
    x.liabilities.supply?.tokens.some((t) => t.chainId === chainId && sameAddress(t.token, token)),
  );
}

/**
 * Look-through references: a local issuer must exist and `token` must be its
 * liability token on the holder's chain; a token that is another local
 * issuer's liability must be declared as a look-through of that issuer, so
 * it is never valued at a market price alone. (The issuer's own token may be
 * listed without one: it counts zero and raises CIRCULAR_RESERVES.)
 */
function lookThroughIssues(
  config: SolventConfig,
  issuer: IssuerConfig,
  at: string,
  add: (path: string, message: string) => void,
): void {
  issuer.reserves.holders.forEach((holder, h) => {
    holder.holdings.forEach((holding, k) => {
      if (holding.type !== "erc20") return;
      const hp = `${at}.reserves.holders[${h}].holdings[${k}]`;
      const owner = tokenIssuer(config, holder.chainId, holding.token);
      const look = holding.lookThrough;
      if (!look) {
        if (owner && owner.id !== issuer.id) {
          add(
            `${hp}.token`,
            `is the liability token of issuer "${owner.id}"; declare lookThrough: { issuer: "${owner.id}" } so it counts at most at that issuer's ratio`,
          );
        }
        return;
      }
      if (look.url !== undefined) {
        if (owner)
          add(
            `${hp}.lookThrough`,
            `the token is the liability of issuer "${owner.id}" of this deployment; refer to it as { issuer: "${owner.id}" }`,
          );
        return;
      }
      const target = config.issuers.find((x) => x.id === look.issuer);
      if (!target) add(`${hp}.lookThrough.issuer`, `issuer "${look.issuer}" is not configured in this deployment`);
      else if (!target.liabilities.supply)
        add(`${hp}.lookThrough.issuer`, `issuer "${look.issuer}" has no liability token (liabilities.supply)`);
      else if (owner?.id !== target.id) {
        add(`${hp}.token`, `is not a liability token of issuer "${look.issuer}" on chain ${holder.chainId}`);
      }
    });
  });
}
