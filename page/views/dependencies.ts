/**
 * `#/dependencies`: which issuers' reserves hold which issuers' tokens (the
 * look-through line items of each latest report), as a picture usable by
 * keyboard and as tables; cycles are highlighted with their path.
 */
import { latestAttestation, listIssuers, parseReport, reportBytes } from "../api.js";
import { type DependencyMap, dependencyMap, type IssuerReport, type MapEdge, onCycle } from "../dependencyGraph.js";
import { h, scrollTable, svg, uid } from "../dom.js";
import { chartDownloads } from "../downloads.js";
import { ratio, usd, usdCompact } from "../format.js";

function edgeText(e: MapEdge, name: (id: string) => string): string {
  return `${name(e.from)} holds ${usd(e.marketUsd)} of ${name(e.to)}'s token at market; ${usd(e.countedUsd)} of it counts in ${name(e.from)}'s reserves${e.notes.length ? ` (${e.notes[0]})` : ""}`;
}

/** Nodes on a circle, edges as curves (so x→y and y→x do not overlap), arrowheads at the target. */
function drawMap(map: DependencyMap, name: (id: string) => string): SVGSVGElement {
  const size = 560;
  const centre = size / 2;
  // Unlinked issuers stand in a row; linked ones on a circle, so every arrow has room.
  const row = map.edges.length === 0;
  const height = row ? 150 : size;
  const radius = map.nodes.length <= 1 ? 0 : size / 2 - 90;
  const at = new Map(
    map.nodes.map((n, i) => [
      n.id,
      row
        ? { x: ((i + 0.5) * size) / map.nodes.length, y: 60 }
        : {
            x: centre + radius * Math.sin((2 * Math.PI * i) / map.nodes.length),
            y: centre - radius * Math.cos((2 * Math.PI * i) / map.nodes.length),
          },
    ]),
  );
  const titleId = uid("map-title");
  const markerId = uid("arrow");
  const cycleMarkerId = uid("arrow-cycle");
  const maxUsd = map.edges.reduce((a, e) => (e.marketUsd > a ? e.marketUsd : a), 1n);
  const edges = map.edges.map((e) => {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const inCycle = map.cycles.some((c) => onCycle(c, e.from, e.to));
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const length = Math.hypot(dx, dy) || 1;
    // Bend to the right of the direction of travel; stop short of the target's circle.
    const mx = (a.x + b.x) / 2 + (dy / length) * 40;
    const my = (a.y + b.y) / 2 - (dx / length) * 40;
    const ex = b.x - ((b.x - mx) / Math.hypot(b.x - mx, b.y - my)) * 40;
    const ey = b.y - ((b.y - my) / Math.hypot(b.x - mx, b.y - my)) * 40;
    const width = 1.5 + 5 * (Number((e.marketUsd * 1000n) / maxUsd) / 1000);
    const label = edgeText(e, name);
    return svg(
      "g",
      {
        class: `map-edge${inCycle ? " in-cycle" : ""}`,
        tabindex: 0,
        role: "img",
        "aria-label": label,
        "data-edge": `${e.from}>${e.to}`,
      },
      svg("title", {}, label),
      e.from === e.to
        ? svg("circle", { cx: a.x, cy: a.y - 40, r: 18, class: "edge-line", fill: "none", "stroke-width": width })
        : svg("path", {
            d: `M${a.x.toFixed(1)},${a.y.toFixed(1)} Q${mx.toFixed(1)},${my.toFixed(1)} ${ex.toFixed(1)},${ey.toFixed(1)}`,
            class: "edge-line",
            fill: "none",
            "stroke-width": width,
            "marker-end": `url(#${inCycle ? cycleMarkerId : markerId})`,
          }),
      svg("text", { x: mx, y: my, class: "edge-label", "text-anchor": "middle" }, usdCompact(e.marketUsd)),
    );
  });
  const nodes = map.nodes.map((n) => {
    const p = at.get(n.id)!;
    const inCycle = map.cycles.some((c) => c.includes(n.id));
    const label = `${n.label}${n.external ? ", at another publisher" : ""}${n.ratioBps ? `, ratio ${ratio(n.ratioBps)}` : ""}${inCycle ? ", on a cycle" : ""}`;
    const shown = n.label.length > 30 ? `${n.label.slice(0, 29)}…` : n.label;
    // A local issuer is a link to its page (focusable as such); an external one is focusable on its own.
    const body = svg(
      "g",
      {
        class: `map-node${n.external ? " external" : ""}${inCycle ? " in-cycle" : ""}`,
        ...(n.external ? { tabindex: 0, role: "img", "aria-label": label } : {}),
        "data-node": n.id,
      },
      svg("title", {}, label),
      svg("circle", { cx: p.x, cy: p.y, r: 36 }),
      svg(
        "text",
        { x: p.x, y: p.y + 4, class: "node-ratio", "text-anchor": "middle" },
        n.ratioBps ? ratio(n.ratioBps).replace(" %", "%") : "?",
      ),
      svg(
        "text",
        { x: p.x, y: !row && p.y < centre ? p.y - 46 : p.y + 54, class: "node-label", "text-anchor": "middle" },
        shown,
      ),
    );
    return n.external
      ? body
      : svg(
          "a",
          { href: `#/issuer/${encodeURIComponent(n.id)}`, "aria-label": `${label}: open its page`, class: "map-link" },
          body,
        );
  });
  const marker = (id: string, cls: string) =>
    svg(
      "marker",
      {
        id,
        viewBox: "0 0 10 10",
        refX: 9,
        refY: 5,
        markerWidth: 12,
        markerHeight: 12,
        markerUnits: "userSpaceOnUse",
        orient: "auto-start-reverse",
      },
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: cls }),
    );
  return svg(
    "svg",
    { viewBox: `0 0 ${size} ${height}`, class: "dependency-map", role: "group", "aria-labelledby": titleId },
    svg(
      "title",
      { id: titleId },
      `Dependency map: ${map.nodes.length} issuers, ${map.edges.length} holdings of another issuer's token, ${map.cycles.length} cycles`,
    ),
    svg("defs", {}, marker(markerId, "arrow"), marker(cycleMarkerId, "arrow in-cycle")),
    ...edges,
    ...nodes,
  ) as SVGSVGElement;
}

export async function renderDependencies(main: HTMLElement): Promise<void> {
  const issuers = await listIssuers();
  const reports: IssuerReport[] = await Promise.all(
    issuers.map(async (i) => {
      const latest = i.sequence === null ? null : await latestAttestation(i.id);
      const report = latest ? parseReport(await reportBytes(i.id, latest.attestation.sequence)) : null;
      return { id: i.id, name: i.name, ratioBps: i.ratioBps, report };
    }),
  );
  const map = dependencyMap(reports);
  const names = new Map(map.nodes.map((n) => [n.id, n.label]));
  const name = (id: string) => names.get(id) ?? id;
  const picture = drawMap(map, name);
  const figure = h("figure", { class: "chart map-figure" });
  figure.append(
    h(
      "figcaption",
      {},
      h("span", {}, "Who holds whose token"),
      chartDownloads(
        () => figure.querySelector<SVGSVGElement>("svg.dependency-map"),
        "dependency-map",
        "the dependency map",
      ),
    ),
    picture,
    h(
      "p",
      { class: "muted small" },
      "Arrows point from the issuer holding a token to the issuer behind it; their width and label are the holding's market value. Red marks a cycle. Tab through the issuers and arrows to hear each one.",
    ),
  );
  const edgeRows = map.edges.map((e) => [
    name(e.from),
    name(e.to),
    usd(e.marketUsd),
    usd(e.countedUsd),
    map.cycles.some((c) => onCycle(c, e.from, e.to)) ? h("span", { class: "bad" }, "on a cycle") : (e.notes[0] ?? ""),
  ]);
  main.replaceChildren(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "All issuers")),
    h("h1", { tabindex: -1 }, "Dependency map"),
    h(
      "p",
      { class: "lede" },
      "An issuer whose reserves hold another issuer's token is only as good as that issuer: its holding is valued at most at the other's ratio, and nothing at all when it leads back to itself. ",
      "Drawn from the look-through line items of each issuer's latest report on this publisher, including issuers of other publishers they hold.",
    ),
    h(
      "section",
      { id: "cycles", "aria-labelledby": "cycles-h" },
      h("h2", { id: "cycles-h" }, "Cycles"),
      map.cycles.length === 0
        ? h("p", { class: "ok", "data-testid": "no-cycles" }, "No cycles: no issuer's reserves lead back to itself.")
        : h(
            "ul",
            { class: "flags" },
            ...map.cycles.map((c) =>
              h(
                "li",
                { "data-cycle": c.join(">") },
                h("strong", {}, c.map(name).join(" → ")),
                h("p", {}, "Each holds the next one's token; a loss at any of them reaches all of them."),
              ),
            ),
          ),
    ),
    figure,
    h(
      "section",
      { id: "edges", "aria-labelledby": "edges-h" },
      h("h2", { id: "edges-h" }, "Holdings of another issuer's token"),
      map.edges.length === 0
        ? h(
            "p",
            { "data-testid": "no-edges" },
            `None: none of the ${issuers.length} issuers here holds a token another issuer attests. Each stands on its own reserves.`,
          )
        : scrollTable(
            "Holdings of another issuer's token",
            ["Holder", "Token of", "At market", "Counted", "Note"],
            edgeRows,
            { numeric: [2, 3], stack: true },
          ),
    ),
  );
}
