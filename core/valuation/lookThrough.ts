import type { IssuerConfig, LookThroughConfig } from "../config/schema.js";
import type { AttestedTokenReading } from "./readings.js";

/**
 * Look-through of attested reserve tokens (docs/flags.md, CIRCULAR_RESERVES):
 * the configuration graph of which issuer holds which issuer's token, and the
 * haircut of a held token to its issuer's ratio. Pure: the readers fetch the
 * attestations, these functions only decide.
 */

/** The share of a price that counts: min(ratioBps, 10000). */
export function haircutBps(ratioBps: number): number {
  return Math.min(ratioBps, 10000);
}

/** price × min(1, ratioBps / 10000), floored. */
export function haircutPrice(priceUsd: bigint, ratioBps: number): bigint {
  return (priceUsd * BigInt(haircutBps(ratioBps))) / 10000n;
}

/** How a look-through reference is written in reasons: `y` or `y@https://other.example`. */
export function lookThroughName(look: { issuer: string; url?: string | null }): string {
  return look.url ? `${look.issuer}@${look.url}` : look.issuer;
}

/** The reading for one configured reference (issuer + url identify it). */
export function findAttested(
  readings: readonly AttestedTokenReading[],
  look: LookThroughConfig,
): AttestedTokenReading | undefined {
  const url = look.url ?? null;
  return readings.find((r) => r.issuer === look.issuer && r.url === url);
}

/** The local issuers each issuer's reserves look through to, from configuration. */
export function lookThroughGraph(issuers: readonly IssuerConfig[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const issuer of issuers) {
    const targets = new Set<string>();
    for (const holder of issuer.reserves.holders) {
      for (const h of holder.holdings)
        if (h.type === "erc20" && h.lookThrough && h.lookThrough.url === undefined) targets.add(h.lookThrough.issuer);
    }
    graph.set(issuer.id, [...targets].sort());
  }
  return graph;
}

/**
 * The path by which `holder`'s holding of `target`'s token leads back to
 * `holder` (e.g. ["x", "y", "x"], or ["x", "x"] for its own token), breadth
 * first so the shortest path is named; null when it does not.
 */
export function circularPath(
  graph: ReadonlyMap<string, readonly string[]>,
  holder: string,
  target: string,
): string[] | null {
  if (target === holder) return [holder, holder];
  const cameFrom = new Map<string, string>([[target, holder]]);
  const queue = [target];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (next === holder) {
        const path = [holder];
        for (let at: string | undefined = node; at !== undefined && at !== holder; at = cameFrom.get(at)) path.push(at);
        path.push(holder);
        // path is [holder, node, …, target, holder] reversed between the ends
        return [holder, ...path.slice(1, -1).reverse(), holder];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return null;
}

/** True when `token` on `chainId` is one of the issuer's own liability tokens. */
export function isOwnLiabilityToken(issuer: IssuerConfig, chainId: number, token: string): boolean {
  const t = token.toLowerCase();
  return issuer.liabilities.supply?.tokens.some((s) => s.chainId === chainId && s.token.toLowerCase() === t) ?? false;
}
