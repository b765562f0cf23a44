/**
 * Turns a scenario's issuers (symbolic names) into issuer configurations of
 * the deployment (core/config/schema.ts): addresses of the deployed world,
 * signed ownership proofs, scenario-prefixed issuer ids, and the runner's
 * webhook receiver as the alert destination.
 */
import { parseUnits } from "viem";
import type { SolventConfigInput } from "../../core/config/schema.js";
import { signOwnership } from "../../core/ownershipProof.js";
import type { ScenarioIssuer } from "./format.js";
import { accountAddress, type ScenarioWorld } from "./world.js";

type IssuerInput = SolventConfigInput["issuers"][number];

/** The Worker secret holding the HMAC key of the scenario webhooks. */
export const WEBHOOK_SECRET_NAME = "SCENARIO_WEBHOOK_SECRET";

/** The deployment's id of a scenario's issuer: `over-mint` + `x` → `over-mint-x`. */
export function issuerId(scenario: string, local: string): string {
  return `${scenario}-${local}`;
}

const usd18 = (usd: string) => parseUnits(usd, 18).toString();

export interface ConfigContext {
  chainId: number;
  /** Base URL of the runner's webhook receiver. */
  receiverUrl: string;
}

export async function issuerConfigs(world: ScenarioWorld, ctx: ConfigContext): Promise<IssuerInput[]> {
  const out: IssuerInput[] = [];
  for (const issuer of world.scenario.issuers) out.push(await issuerConfig(world, issuer, ctx));
  return out;
}

async function issuerConfig(world: ScenarioWorld, issuer: ScenarioIssuer, ctx: ConfigContext): Promise<IssuerInput> {
  const { chainId } = ctx;
  const scenario = world.scenario.name;
  const id = issuerId(scenario, issuer.id);
  const token = (symbol: string) => world.tokens.get(symbol)!;
  const priceSource = (p: ScenarioIssuer["assets"][number]["prices"][number], assetToken: string | undefined) => {
    if (p.kind === "fixed") return { kind: "fixed" as const, priceUsd: usd18(p.priceUsd) };
    if (p.kind === "chainlink")
      return { kind: "chainlink" as const, chainId, feed: world.feeds.get(p.feed)!, maxAgeSeconds: p.maxAgeSeconds };
    const pool = world.pools.get(p.pool)!;
    if (assetToken !== undefined && assetToken !== pool.base) {
      throw new Error(`${scenario}: pool "${p.pool}" prices token ${pool.base}, not ${assetToken}`);
    }
    return {
      kind: "uniswapV3" as const,
      chainId,
      pool: pool.address,
      token: token(pool.base).address,
      quoteAsset: p.quoteAsset,
    };
  };
  const supply = issuer.liabilities.supply;
  const holders = [];
  for (const h of issuer.reserves.holders) {
    const account = world.accounts.get(h.account)!;
    holders.push({
      chainId,
      address: account.address,
      ...(h.name ? { name: h.name } : {}),
      ownership:
        h.ownership === "eoa"
          ? {
              kind: "eoa" as const,
              signature: await signOwnership(account, { issuerId: id, address: account.address, chainId }),
            }
          : { kind: "none" as const },
      holdings: h.holdings.map((hd) => ({
        type: "erc20" as const,
        asset: hd.asset,
        token: token(hd.token).address,
        ...(hd.lookThrough ? { lookThrough: { issuer: issuerId(scenario, hd.lookThrough) } } : {}),
      })),
    });
  }
  return {
    id,
    name: `${issuer.name} [scenario ${scenario}]`,
    assets: issuer.assets.map((a) => ({
      id: a.id,
      decimals: a.token !== undefined ? token(a.token).decimals : a.decimals!,
      ...(a.pegCurrency ? { pegCurrency: true } : {}),
      prices: a.prices.map((p) => priceSource(p, a.token)),
    })),
    liabilities: {
      supply: {
        asset: supply.asset,
        pegUsd: usd18(supply.pegUsd),
        tokens: [
          { chainId, token: token(supply.token).address, escrows: supply.escrows.map((e) => accountAddress(world, e)) },
        ],
        marketPrices: supply.marketPrices.map((p) => {
          const source = priceSource(p, supply.token);
          if (source.kind === "fixed") throw new Error(`${scenario}: a market price cannot be fixed`);
          return source;
        }),
      },
    },
    reserves: {
      holders,
      custodians: issuer.reserves.custodians.map((c) => ({
        id: c.id,
        ...(c.name ? { name: c.name } : {}),
        signers: c.signers.map((s) => accountAddress(world, s)),
        accounts: c.accounts,
      })),
    },
    policy: { ttlSeconds: 3600, ...issuer.policy },
    ...(issuer.alerts
      ? {
          alerts: {
            destinations: [
              { kind: "webhook" as const, url: `${ctx.receiverUrl}/hook/${id}`, secret: WEBHOOK_SECRET_NAME },
            ],
            ...(issuer.alerts.events ? { events: issuer.alerts.events } : {}),
            ...(issuer.alerts.ratioThresholdsBps ? { ratioThresholdsBps: issuer.alerts.ratioThresholdsBps } : {}),
          },
        }
      : {}),
  };
}
