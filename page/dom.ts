/**
 * A tiny DOM builder. Text always goes in as text nodes, never as HTML, so
 * labels and reasons from a report cannot inject markup into the page.
 */
export type Child = Node | string | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

function apply(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.replace(/^on/, ""), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Text only screen readers get (e.g. "passed" next to a ✓). */
export function srOnly(text: string): HTMLSpanElement {
  return h("span", { class: "sr-only" }, text);
}

let idCounter = 0;
/** A page-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * A table inside a focusable, labelled region that scrolls sideways on its
 * own, so the page never does. With `stack`, phones show each row as a card
 * (styles.css); the explicit roles keep it a table for screen readers, which
 * some browsers forget once CSS changes a table's display.
 */
export function scrollTable(
  label: string,
  head: string[],
  rows: Child[][],
  options: { caption?: string; numeric?: number[]; stack?: boolean } = {},
): HTMLElement {
  const numeric = new Set(options.numeric ?? []);
  const table = h(
    "table",
    { role: "table" },
    options.caption ? h("caption", {}, options.caption) : null,
    h(
      "thead",
      { role: "rowgroup" },
      h(
        "tr",
        { role: "row" },
        ...head.map((title, i) =>
          h("th", { scope: "col", role: "columnheader", class: numeric.has(i) ? "num" : null }, title),
        ),
      ),
    ),
    h(
      "tbody",
      { role: "rowgroup" },
      ...rows.map((cells) =>
        h(
          "tr",
          { role: "row" },
          ...cells.map((cell, i) =>
            h("td", { role: "cell", class: numeric.has(i) ? "num" : null, "data-label": head[i] ?? "" }, cell),
          ),
        ),
      ),
    ),
  );
  return h(
    "div",
    { class: `table-scroll${options.stack ? " stack" : ""}`, role: "region", "aria-label": label, tabindex: 0 },
    table,
  );
}

/** A small disclosure holding the codes behind plain words (see plainWords.ts). */
export function codes(summary: string, ...children: Child[]): HTMLElement {
  return h("details", { class: "codes" }, h("summary", {}, summary), h("div", { class: "codes-body" }, ...children));
}
