/**
 * Take-away: any chart as a standalone SVG (its colours and fonts written
 * into it, since the page's stylesheet does not travel) or as a PNG drawn
 * from that SVG on a canvas, in the browser.
 */
import { h } from "./dom.js";

const STYLE_PROPS = [
  "fill",
  "stroke",
  "stroke-width",
  "stroke-dasharray",
  "stroke-dashoffset",
  "opacity",
  "font-size",
  "font-weight",
  "font-family",
  "text-anchor",
];

/** A copy of `chart` with every element's computed style inlined and a background. */
export function standaloneSvg(chart: SVGSVGElement): string {
  const copy = chart.cloneNode(true) as SVGSVGElement;
  const originals = [chart, ...chart.querySelectorAll("*")];
  const copies = [copy, ...copy.querySelectorAll("*")];
  originals.forEach((el, i) => {
    const style = getComputedStyle(el);
    const target = copies[i] as SVGElement;
    target.setAttribute("style", STYLE_PROPS.map((p) => `${p}:${style.getPropertyValue(p)}`).join(";"));
    target.removeAttribute("class");
    target.removeAttribute("tabindex");
  });
  const box = chart.viewBox.baseVal;
  const width = box?.width ? box.width : chart.clientWidth;
  const height = box?.height ? box.height : chart.clientHeight;
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  copy.setAttribute("width", String(chart.clientWidth || width));
  copy.setAttribute("height", String(chart.clientHeight || height));
  const background = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  for (const [k, v] of Object.entries({
    x: box?.x ?? 0,
    y: box?.y ?? 0,
    width,
    height,
    fill: getComputedStyle(document.body).backgroundColor || "#fff",
  }))
    background.setAttribute(k, String(v));
  copy.insertBefore(background, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

export function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The PNG of an SVG text at twice its size (sharp on high-density screens). */
export async function svgToPng(svgText: string, width: number, height: number): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * 2);
    canvas.height = Math.round(height * 2);
    const context = canvas.getContext("2d")!;
    context.scale(2, 2);
    context.drawImage(image, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the browser could not draw the PNG"))), "image/png"),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** "Download SVG" and "Download PNG" buttons for the chart `find` returns when clicked. */
export function chartDownloads(find: () => SVGSVGElement | null, filename: string, what: string): HTMLElement {
  const svgButton = h(
    "button",
    {
      type: "button",
      class: "secondary small-button",
      "data-download": "svg",
      "aria-label": `Download ${what} as SVG`,
    },
    "SVG",
  );
  const pngButton = h(
    "button",
    {
      type: "button",
      class: "secondary small-button",
      "data-download": "png",
      "aria-label": `Download ${what} as PNG`,
    },
    "PNG",
  );
  svgButton.addEventListener("click", () => {
    const chart = find();
    if (chart) save(new Blob([standaloneSvg(chart)], { type: "image/svg+xml" }), `${filename}.svg`);
  });
  pngButton.addEventListener("click", async () => {
    const chart = find();
    if (!chart) return;
    const text = standaloneSvg(chart);
    save(await svgToPng(text, chart.clientWidth, chart.clientHeight), `${filename}.png`);
  });
  return h("span", { class: "downloads" }, h("span", { class: "muted small" }, "Download "), svgButton, " ", pngButton);
}
