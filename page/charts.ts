/**
 * Hand-written SVG charts. Values arrive as bigints (usd18, bps) and become
 * numbers only as pixel positions; every label is formatted from a bigint.
 * Each chart is drawn at its container's real pixel width, so its text keeps
 * its size on a phone, and each comes with a table as its text alternative.
 */
import { type Child, h, svg, uid } from "./dom.js";

export interface Slice {
  label: string;
  value: bigint;
  /** CSS class that sets the colour (see styles.css .c-*). */
  cls: string;
}

/** Share of `part` in `whole` as a number of percent, for geometry only. */
function percent(part: bigint, whole: bigint): number {
  return whole === 0n ? 0 : Number((part * 1_000_000n) / whole) / 10_000;
}

/** A donut of slices (e.g. on-chain / off-chain / not counted), with the centre text given. */
export function donut(options: {
  label: string;
  slices: Slice[];
  centre: string;
  centreSub: string;
  centreNote?: string;
}): SVGElement {
  const total = options.slices.reduce((a, s) => a + s.value, 0n);
  const titleId = uid("donut-title");
  const ring = svg("circle", { cx: 21, cy: 21, r: 15.915, fill: "none", class: "donut-track", "stroke-width": 6 });
  let offset = 25; // start at 12 o'clock
  const arcs = options.slices
    .filter((s) => s.value > 0n)
    .map((s) => {
      const p = percent(s.value, total);
      const arc = svg("circle", {
        cx: 21,
        cy: 21,
        r: 15.915,
        fill: "none",
        class: `donut-arc ${s.cls}`,
        "stroke-width": 6,
        "stroke-dasharray": `${p.toFixed(3)} ${(100 - p).toFixed(3)}`,
        "stroke-dashoffset": offset.toFixed(3),
      });
      offset = (offset - p + 100) % 100;
      return arc;
    });
  return svg(
    "svg",
    { viewBox: "0 0 42 42", class: "donut", role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId }, options.label),
    ring,
    ...arcs,
    svg(
      "text",
      { x: 21, y: options.centreNote ? 20 : 21, class: "donut-centre", "text-anchor": "middle" },
      options.centre,
    ),
    svg(
      "text",
      { x: 21, y: options.centreNote ? 24.5 : 26, class: "donut-sub", "text-anchor": "middle" },
      options.centreSub,
    ),
    options.centreNote
      ? svg("text", { x: 21, y: 28.5, class: "donut-note", "text-anchor": "middle" }, options.centreNote)
      : null,
  );
}

export interface Series {
  name: string;
  cls: string;
  points: { t: number; v: bigint }[];
}

export interface LineChartOptions {
  label: string;
  series: Series[];
  formatY: (v: bigint) => string;
  /** A horizontal reference line, e.g. 100 % for the ratio. */
  reference?: { v: bigint; label: string };
}

/** Smallest 1/2/5×10^k step so that `steps` of them reach `max`. */
function niceStep(max: bigint, steps: bigint): bigint {
  const raw = max <= 0n ? 1n : (max + steps - 1n) / steps;
  let magnitude = 1n;
  while (magnitude * 10n <= raw) magnitude *= 10n;
  for (const m of [1n, 2n, 5n, 10n]) if (m * magnitude >= raw) return m * magnitude;
  return 10n * magnitude;
}

function timeLabel(t: number, span: number): string {
  const iso = new Date(t * 1000).toISOString();
  if (span > 2 * 86400) return iso.slice(5, 10);
  return span > 3600 ? `${iso.slice(11, 16)} UTC` : `${iso.slice(11, 19)} UTC`;
}

function drawLineChart(width: number, options: LineChartOptions): SVGElement {
  const height = width < 520 ? 170 : 240; // a phone gets a shorter chart, same text size
  const pad = { top: 14, right: 14, bottom: 30, left: 64 };
  const plotW = Math.max(40, width - pad.left - pad.right);
  const plotH = height - pad.top - pad.bottom;
  const points = options.series.flatMap((s) => s.points);
  const times = points.map((p) => p.t);
  const tMin = Math.min(...times);
  const tMax = Math.max(...times);
  const span = tMax - tMin;
  let vMax = points.reduce((a, p) => (p.v > a ? p.v : a), 0n);
  if (options.reference && options.reference.v > vMax) vMax = options.reference.v;
  const step = niceStep(vMax, 4n);
  const yMax = step * 4n;
  // Points share one time only when published within a second; then spread them by order instead.
  const count = Math.max(...options.series.map((s) => s.points.length));
  const x = (t: number, index = 0) =>
    pad.left + (span === 0 ? (count > 1 ? (index / (count - 1)) * plotW : plotW / 2) : ((t - tMin) / span) * plotW);
  const y = (v: bigint) => pad.top + plotH - (Number((v * 1_000_000n) / yMax) / 1_000_000) * plotH;
  const titleId = uid("chart-title");

  const grid: Child[] = [];
  for (let i = 0n; i <= 4n; i++) {
    const v = step * i;
    grid.push(
      svg("line", { x1: pad.left, x2: pad.left + plotW, y1: y(v), y2: y(v), class: i === 0n ? "axis" : "grid" }),
      svg("text", { x: pad.left - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, options.formatY(v)),
    );
  }
  const xTicks = span === 0 ? [tMin] : span < 4 ? [tMin, tMax] : [tMin, tMin + span / 2, tMax];
  xTicks.forEach((t, i) => {
    grid.push(
      svg("line", { x1: x(t), x2: x(t), y1: pad.top + plotH, y2: pad.top + plotH + 4, class: "axis" }),
      svg(
        "text",
        {
          x: x(t),
          y: height - 8,
          class: "tick",
          "text-anchor":
            xTicks.length === 1 ? "middle" : i === 0 ? "start" : i === xTicks.length - 1 ? "end" : "middle",
        },
        timeLabel(t, span),
      ),
    );
  });
  if (options.reference) {
    const ry = y(options.reference.v);
    grid.push(
      svg("line", { x1: pad.left, x2: pad.left + plotW, y1: ry, y2: ry, class: "reference" }),
      svg("text", { x: pad.left + plotW - 4, y: ry - 4, class: "tick", "text-anchor": "end" }, options.reference.label),
    );
  }
  const lines = options.series.map((s) => {
    const sorted = [...s.points].sort((a, b) => a.t - b.t);
    const d = sorted.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t, i).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    const dots =
      sorted.length <= 40
        ? sorted.map((p, i) => svg("circle", { cx: x(p.t, i), cy: y(p.v), r: 3, class: `dot ${s.cls}` }))
        : [];
    return svg("g", {}, svg("path", { d, class: `line ${s.cls}` }), ...dots);
  });
  return svg(
    "svg",
    { width, height, viewBox: `0 0 ${width} ${height}`, class: "line-chart", role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId }, options.label),
    ...grid,
    ...lines,
  );
}

/** A line chart that redraws itself when its box changes width. */
export function lineChart(options: LineChartOptions): HTMLElement {
  const box = h("div", { class: "chart-box" });
  const legend = h(
    "ul",
    { class: "legend", "aria-hidden": "true" },
    ...options.series.map((s) => h("li", {}, h("span", { class: `swatch ${s.cls}` }), s.name)),
  );
  let drawnWidth = 0;
  const draw = () => {
    const width = Math.floor(box.clientWidth);
    if (width <= 0 || width === drawnWidth) return;
    drawnWidth = width;
    box.replaceChildren(drawLineChart(width, options));
  };
  new ResizeObserver(draw).observe(box);
  requestAnimationFrame(draw);
  return h("div", {}, options.series.length > 1 ? legend : null, box);
}

/**
 * A small inline line of values (e.g. the ratio over the recent attestations),
 * for a table cell; `label` describes it for screen readers.
 */
export function sparkline(values: bigint[], label: string, options: { reference?: bigint } = {}): SVGElement {
  const width = 96;
  const height = 24;
  const all = options.reference === undefined ? values : [...values, options.reference];
  const lo = all.reduce((a, v) => (v < a ? v : a), all[0] ?? 0n);
  const hi = all.reduce((a, v) => (v > a ? v : a), all[0] ?? 0n);
  const span = hi - lo === 0n ? 1n : hi - lo;
  const x = (i: number) => (values.length <= 1 ? width / 2 : 2 + (i / (values.length - 1)) * (width - 4));
  const y = (v: bigint) => 2 + (1 - Number(((v - lo) * 1000n) / span) / 1000) * (height - 4);
  const titleId = uid("spark-title");
  const d = values.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, class: "sparkline", role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId }, label),
    options.reference !== undefined
      ? svg("line", { x1: 0, x2: width, y1: y(options.reference), y2: y(options.reference), class: "reference" })
      : null,
    values.length > 1 ? svg("path", { d, class: "line c-ratio" }) : null,
    values.length > 0
      ? svg("circle", { cx: x(values.length - 1), cy: y(values.at(-1)!), r: 2.5, class: "dot c-ratio" })
      : null,
  );
}
