// Colour scales for maps. Signed data uses one diverging scale centred on zero (blue below,
// white at zero, red above: ColorBrewer's RdBu, readable with the common colour-vision
// deficiencies); photographs use grey from 0 (black) to 1 (white). A scale is plain data so
// an overview and its detail view can share the very same one.

import { h } from "../dom.js";
import { formatNumber } from "../format.js";

/**
 * @typedef {Object} Scale
 * @property {"diverging"|"grey"} kind
 * @property {number} low   value drawn with the first colour (−limit for diverging)
 * @property {number} high  value drawn with the last colour (+limit for diverging)
 */

// RdBu from ColorBrewer, most negative first.
const DIVERGING_STOPS = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];

const TABLE_SIZE = 256;
const DIVERGING_TABLE = buildTable(DIVERGING_STOPS);
const GREY_TABLE = buildTable([
  [0, 0, 0],
  [255, 255, 255],
]);

function buildTable(stops) {
  const table = new Uint8ClampedArray(TABLE_SIZE * 3);
  for (let index = 0; index < TABLE_SIZE; index += 1) {
    const place = (index / (TABLE_SIZE - 1)) * (stops.length - 1);
    const left = Math.min(Math.floor(place), stops.length - 2);
    const mix = place - left;
    for (let channel = 0; channel < 3; channel += 1) {
      const from = stops[left][channel];
      table[index * 3 + channel] = from + (stops[left + 1][channel] - from) * mix;
    }
  }
  return table;
}

/** A diverging scale centred on zero reaching ±limit (a limit of 0 becomes 1). */
export function divergingScale(limit) {
  const reach = limit > 0 && Number.isFinite(limit) ? limit : 1;
  return { kind: "diverging", low: -reach, high: reach };
}

/** The grey scale of photographs: 0 black, 1 white. */
export const GREY_SCALE = { kind: "grey", low: 0, high: 1 };

/** The largest |value| of some maps (0 for none). */
export function largestMagnitude(maps) {
  let largest = 0;
  for (const map of maps) {
    for (const number of map.data) {
      const size = Math.abs(number);
      if (size > largest && Number.isFinite(size)) largest = size;
    }
  }
  return largest;
}

/** A diverging scale wide enough for every map given. */
export function scaleFor(maps) {
  return divergingScale(largestMagnitude(maps));
}

/**
 * The colour of one value as [r, g, b] (NaN is drawn mid-grey).
 * @param {Scale} scale
 * @param {number} value
 */
export function colourOf(scale, value) {
  if (Number.isNaN(value)) return [128, 128, 128];
  const table = scale.kind === "grey" ? GREY_TABLE : DIVERGING_TABLE;
  // Halves first: with limits near the largest double (1.8e308) their difference overflows.
  const share = (value / 2 - scale.low / 2) / (scale.high / 2 - scale.low / 2);
  const index = Math.round(Math.min(1, Math.max(0, share)) * (TABLE_SIZE - 1));
  return [table[index * 3], table[index * 3 + 1], table[index * 3 + 2]];
}

/** The scale as a CSS colour for a table cell's background. */
export function cssColourOf(scale, value) {
  const [red, green, blue] = colourOf(scale, value);
  return `rgb(${red} ${green} ${blue})`;
}

/**
 * A legend: the colour bar with its low end, zero (diverging only) and high end written out.
 * @param {Scale} scale
 * @param {string} [caption]  what the colours measure, e.g. "activation"
 * @param {{compact?: boolean}} [options]  compact: a short bar, to sit under a small map
 */
export function legendElement(scale, caption = "", options = {}) {
  const width = options.compact ? 96 : 160;
  const bar = h("canvas", { class: "legend-bar", width, height: 12, "aria-hidden": "true" });
  const context = bar.getContext("2d");
  for (let x = 0; x < bar.width; x += 1) {
    const along = (x + 0.5) / bar.width;
    const value = scale.low * (1 - along) + scale.high * along;
    context.fillStyle = cssColourOf(scale, value);
    context.fillRect(x, 0, 1, bar.height);
  }
  const ticks = [formatNumber(scale.low, 3), formatNumber(scale.high, 3)];
  const middle = scale.kind === "diverging" ? "0" : "";
  const className = options.compact ? "colour-legend compact" : "colour-legend";
  return h("figure", { class: className, "aria-label": legendText(scale, caption) }, [
    caption ? h("figcaption", { text: caption }) : null,
    bar,
    h("div", { class: "legend-ticks", "aria-hidden": "true" }, [
      h("span", { text: ticks[0] }),
      h("span", { text: middle }),
      h("span", { text: ticks[1] }),
    ]),
  ]);
}

/** The legend as one sentence, for screen readers. */
export function legendText(scale, caption = "") {
  const low = formatNumber(scale.low, 3);
  const high = formatNumber(scale.high, 3);
  const lead = caption ? `${caption}: ` : "";
  if (scale.kind === "grey") return `${lead}grey from ${low} (black) to ${high} (white)`;
  return `${lead}blue for ${low}, white for 0, red for ${high}`;
}
