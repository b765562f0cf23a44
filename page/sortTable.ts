/**
 * A table whose column headers are buttons that sort it (aria-sort says how),
 * usable by keyboard; on phones its rows stack as cards (styles.css `.stack`).
 */
import { type Child, h } from "./dom.js";

export interface SortColumn<R> {
  title: string;
  cell: (row: R) => Child;
  /** Compares two rows, ascending; absent: the column does not sort. */
  compare?: (a: R, b: R) => number;
  numeric?: boolean;
}

export function sortableTable<R>(options: {
  label: string;
  columns: SortColumn<R>[];
  rows: R[];
  initial: { column: number; direction: "ascending" | "descending" };
  rowAttrs?: (row: R) => Record<string, string>;
}): HTMLElement {
  const { columns, rows } = options;
  let sort = options.initial;
  const tbody = h("tbody", { role: "rowgroup" });
  const headers = columns.map((col, i) => {
    const th = h("th", { scope: "col", role: "columnheader", class: col.numeric ? "num" : null });
    if (col.compare) {
      const button = h(
        "button",
        { type: "button", class: "sort-button" },
        col.title,
        h("span", { class: "sort-mark", "aria-hidden": "true" }),
      );
      button.addEventListener("click", () => {
        sort = {
          column: i,
          direction: sort.column === i && sort.direction === "ascending" ? "descending" : "ascending",
        };
        draw();
      });
      th.append(button);
    } else th.append(col.title);
    return th;
  });
  const draw = () => {
    const compare = columns[sort.column]?.compare ?? (() => 0);
    const sorted = [...rows].sort((a, b) => (sort.direction === "ascending" ? compare(a, b) : compare(b, a)));
    headers.forEach((th, i) => {
      if (i === sort.column) th.setAttribute("aria-sort", sort.direction);
      else th.removeAttribute("aria-sort");
      const mark = th.querySelector(".sort-mark");
      if (mark) mark.textContent = i === sort.column ? (sort.direction === "ascending" ? " ▲" : " ▼") : "";
    });
    tbody.replaceChildren(
      ...sorted.map((row) =>
        h(
          "tr",
          { role: "row", ...(options.rowAttrs?.(row) ?? {}) },
          ...columns.map((col) =>
            h("td", { role: "cell", class: col.numeric ? "num" : null, "data-label": col.title }, col.cell(row)),
          ),
        ),
      ),
    );
  };
  draw();
  const table = h(
    "table",
    { role: "table" },
    h("thead", { role: "rowgroup" }, h("tr", { role: "row" }, ...headers)),
    tbody,
  );
  return h(
    "div",
    { class: "table-scroll stack watch-list", role: "region", "aria-label": options.label, tabindex: 0 },
    table,
  );
}
