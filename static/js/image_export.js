// The drawing as a stand-alone picture for slides: an SVG file whose styles are written on
// every element (so it looks the same outside the page), on a white background, without the
// editor's handles; and a PNG of it at three times the screen size, sharp on a projector.

import { h } from "./dom.js";

const STYLED = [
  "fill",
  "fill-opacity",
  "stroke",
  "stroke-width",
  "stroke-dasharray",
  "stroke-linejoin",
  "stroke-opacity",
  "opacity",
  "display",
  "visibility",
  "font-family",
  "font-size",
  "font-weight",
  "font-style",
  "text-anchor",
  "dominant-baseline",
  "paint-order",
];
/** Parts of the canvas that are controls, not picture. */
const CHROME = ".ports, .edge-hit, .focus-ring, .callout, .editor-overlay, .empty-note";
const PADDING = 16;
const PNG_SCALE = 3;
const SANS = "Arial, Helvetica, 'Liberation Sans', sans-serif";

/**
 * The drawing as SVG text with its size in pixels.
 * @param {SVGSVGElement} svg  the live canvas
 * @returns {{text: string, width: number, height: number}}
 */
export function pictureSvg(svg) {
  const bounds = svg.getBBox();
  const clone = /** @type {SVGSVGElement} */ (svg.cloneNode(true));
  const live = svg.querySelectorAll("*");
  const copies = clone.querySelectorAll("*");
  live.forEach((element, index) => {
    // Mark the controls before the classes that name them are dropped.
    if (element.matches(CHROME)) copies[index].setAttribute("data-chrome", "");
    inlineStyle(element, copies[index]);
  });
  for (const element of clone.querySelectorAll("[data-chrome]")) element.remove();
  for (const element of clone.querySelectorAll("[tabindex]")) element.removeAttribute("tabindex");

  const x = bounds.x - PADDING;
  const y = bounds.y - PADDING;
  const width = Math.ceil(bounds.width + 2 * PADDING);
  const height = Math.ceil(bounds.height + 2 * PADDING);
  for (const name of [...clone.getAttributeNames()]) {
    if (!["viewBox", "preserveAspectRatio", "role", "aria-label"].includes(name)) {
      clone.removeAttribute(name);
    }
  }
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("viewBox", `${x} ${y} ${width} ${height}`);
  clone.setAttribute("width", String(width));
  clone.setAttribute("height", String(height));
  const paper = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  for (const [name, value] of Object.entries({ x, y, width, height, fill: "#ffffff" })) {
    paper.setAttribute(name, String(value));
  }
  clone.insertBefore(paper, clone.firstChild);
  return { text: new XMLSerializer().serializeToString(clone), width, height };
}

function inlineStyle(element, copy) {
  if (!copy || !(element instanceof SVGElement)) return;
  const computed = window.getComputedStyle(element);
  const rules = STYLED.map((name) => {
    let value = computed.getPropertyValue(name);
    if (name === "font-family") value = SANS;
    return value ? `${name}:${value}` : "";
  }).filter(Boolean);
  copy.setAttribute("style", rules.join(";"));
  copy.removeAttribute("class");
}

/**
 * The same picture as a PNG blob.
 * @param {{text: string, width: number, height: number}} picture
 * @returns {Promise<Blob>}
 */
export async function picturePng(picture) {
  const url = URL.createObjectURL(new Blob([picture.text], { type: "image/svg+xml" }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = h("canvas", {
      width: picture.width * PNG_SCALE,
      height: picture.height * PNG_SCALE,
    });
    const context = canvas.getContext("2d");
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no PNG"))), "image/png"),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Offer `blob` as a file download named `name`. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by now; the URL only needs to live a moment longer.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
