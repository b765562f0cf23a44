/**
 * The dependency map's data: which issuer's reserves hold which issuer's
 * token, from the look-through line items of each issuer's latest report
 * (SPEC §4 `details.lookThrough`), and the cycles among them. Pure.
 */
import type { ReportJson } from "../core/report.js";

export interface MapNode {
  /** The issuer id, or `issuer@url` for one of an external publisher. */
  id: string;
  label: string;
  external: boolean;
  /** The issuer's own latest ratio in bps, when this publisher has it. */
  ratioBps: string | null;
}

export interface MapEdge {
  /** The holder: its reserves hold `to`'s token. */
  from: string;
  to: string;
  /** What the holding is worth at market (the amount read × market price), usd18. */
  marketUsd: bigint;
  /** What of it counts in `from`'s reserves (after the haircut; zero when excluded), usd18. */
  countedUsd: bigint;
  /** Line items behind the edge. */
  items: number;
  /** Reasons of excluded items (e.g. a circular path), for the description. */
  notes: string[];
}

export interface DependencyMap {
  nodes: MapNode[];
  edges: MapEdge[];
  /** Each a closed path, first node repeated at the end, e.g. ["x", "y", "x"]. */
  cycles: string[][];
}

export interface IssuerReport {
  id: string;
  name: string;
  ratioBps: string | null;
  report: ReportJson | null;
}

const COUNTED = new Set([0, 2]);

export function dependencyMap(issuers: readonly IssuerReport[]): DependencyMap {
  const nodes = new Map<string, MapNode>(
    issuers.map((i) => [i.id, { id: i.id, label: i.name, external: false, ratioBps: i.ratioBps }]),
  );
  const edges = new Map<string, MapEdge>();
  for (const { id, report } of issuers) {
    for (const item of report?.reserves.items ?? []) {
      const d = item.details;
      if (d.kind === "custodian" || !d.lookThrough) continue;
      const look = d.lookThrough;
      const to = look.url ? `${look.issuer}@${look.url}` : look.issuer;
      if (!nodes.has(to))
        nodes.set(to, {
          id: to,
          label: look.url ? `${look.issuer} (${new URL(look.url).host})` : look.issuer,
          external: look.url !== null,
          ratioBps: look.attestation?.ratioBps ?? null,
        });
      const key = `${id}\u0000${to}`;
      const edge = edges.get(key) ?? { from: id, to, marketUsd: 0n, countedUsd: 0n, items: 0, notes: [] };
      // An excluded item (e.g. circular) carries amount 0 and the amount read in `amountRead`: the exposure is what was read.
      const held = BigInt(d.amountRead ?? item.amount);
      const decimals = d.decimals === null ? null : BigInt(d.decimals);
      // A circular item is never priced (price 0, no market price): use the asset's price in the same report.
      const price = look.marketPriceUsd ?? report?.prices.find((p) => p.asset === d.asset)?.priceUsd ?? item.priceUsd;
      const market = decimals !== null ? (held * BigInt(price)) / 10n ** decimals : BigInt(item.valueUsd);
      edge.marketUsd += market;
      if (COUNTED.has(item.status)) edge.countedUsd += BigInt(item.valueUsd);
      edge.items += 1;
      if (look.circular) edge.notes.push(`circular: ${look.circular.join(" → ")}`);
      else if (d.reason) edge.notes.push(d.reason);
      edges.set(key, edge);
    }
  }
  const edgeList = [...edges.values()].sort((a, b) => (a.from + a.to).localeCompare(b.from + b.to));
  return { nodes: [...nodes.values()], edges: edgeList, cycles: simpleCycles(edgeList) };
}

/**
 * Every simple cycle, each once, started at its smallest node id (the graphs
 * are a handful of issuers; capped at 100 cycles all the same).
 */
export function simpleCycles(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const cycles: string[][] = [];
  const starts = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  for (const start of starts) {
    const walk = (node: string, path: string[]) => {
      if (cycles.length >= 100) return;
      for (const to of next.get(node) ?? []) {
        if (to === start) cycles.push([...path, start]);
        else if (to > start && !path.includes(to)) walk(to, [...path, to]);
      }
    };
    walk(start, [start]);
  }
  return cycles;
}

/** Whether the edge from → to lies on `cycle`. */
export function onCycle(cycle: readonly string[], from: string, to: string): boolean {
  for (let i = 0; i + 1 < cycle.length; i++) if (cycle[i] === from && cycle[i + 1] === to) return true;
  return false;
}
