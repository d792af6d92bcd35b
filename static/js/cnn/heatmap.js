// Maps (2-D arrays of numbers from the API) drawn on <canvas>, one square cell per value,
// with boxes drawn over them. The canvas gets role="img" and a label with its shape and range,
// so a screen reader hears what a sighted student sees at a glance.

import { toNumber, formatNumber } from "../format.js";
import { colourOf, legendText } from "./colour.js";

/**
 * @typedef {Object} Map2D
 * @property {number} height
 * @property {number} width
 * @property {Float64Array} data  row-major
 */

/**
 * @typedef {Object} Box  a rectangle of cells, inclusive, in the map's own indices
 * @property {number} top
 * @property {number} left
 * @property {number} bottom
 * @property {number} right
 * @property {string|null} colour  the outline (null: none)
 * @property {boolean} [dashed]
 * @property {number} [width]  line width in canvas pixels
 * @property {number} [halo]   canvas pixels between the cells and the outline
 * @property {string} [fill]   a translucent fill
 */

/** A 2-D nested list (API value) as a Map2D; "nan"/"inf" strings become numbers. */
export function mapOf(rows) {
  const height = rows.length;
  const width = height ? rows[0].length : 0;
  const data = new Float64Array(height * width);
  rows.forEach((row, r) => row.forEach((value, c) => (data[r * width + c] = toNumber(value))));
  return { height, width, data };
}

/** Every channel of a C×H×W nested list as a Map2D. */
export function mapsOf(volume) {
  return volume.map(mapOf);
}

/** A vector (nested list of one axis) as a one-row Map2D. */
export function rowMapOf(vector) {
  return mapOf([vector]);
}

/** The value at (row, col). */
export function valueAt(map, row, col) {
  return map.data[row * map.width + col];
}

/** Smallest and largest finite value of a map. */
export function rangeOf(map) {
  let low = Infinity;
  let high = -Infinity;
  for (const number of map.data) {
    if (!Number.isFinite(number)) continue;
    if (number < low) low = number;
    if (number > high) high = number;
  }
  return low <= high ? [low, high] : [0, 0];
}

/** "name, 85×128, min 0.01, max 0.98; colours: …" for aria-label. */
export function describeMap(name, map, scale) {
  const [low, high] = rangeOf(map);
  return (
    `${name}, ${map.height}×${map.width}, min ${formatNumber(low)}, max ${formatNumber(high)}; ` +
    legendText(scale)
  );
}

export class MapCanvas {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{maxSize?: number, maxCell?: number, frame?: number, minHeight?: number}} [options]
   *   maxSize: longest side in CSS pixels; maxCell: largest cell; frame: cells of padding
   *   drawn around the map (a zero border, as padding adds); minHeight: cells of a flat map
   *   (a vector) grow taller than wide up to this height
   */
  constructor(canvas, options = {}) {
    this.canvas = canvas;
    this.maxSize = options.maxSize || 384;
    this.maxCell = options.maxCell || 24;
    this.frame = options.frame || 0;
    this.minHeight = options.minHeight || 0;
    this.map = null;
    this.cell = 1;
    this.cellY = 1;
    this.base = document.createElement("canvas");
    canvas.setAttribute("role", "img");
  }

  /**
   * Draw a map with a scale; `name` starts the text alternative.
   * @param {Map2D} map
   * @param {import('./colour.js').Scale} scale
   * @param {string} name
   * @param {{frame?: number, cell?: number}} [options]
   */
  show(map, scale, name, options = {}) {
    this.map = map;
    this.scale = scale;
    if (options.frame !== undefined) this.frame = options.frame;
    const cells = Math.max(map.height, map.width) + 2 * this.frame;
    const fitted = Math.max(1, Math.min(this.maxCell, Math.floor(this.maxSize / cells)));
    this.cell = options.cell || fitted;
    const rows = map.height + 2 * this.frame;
    this.cellY = Math.max(this.cell, Math.ceil(this.minHeight / rows));
    this.paintBase();
    this.canvas.setAttribute("aria-label", describeMap(name, map, scale));
    this.draw([]);
  }

  paintBase() {
    const { map, frame, cell } = this;
    const pixels = new ImageData(map.width + 2 * frame, map.height + 2 * frame);
    for (let row = 0; row < pixels.height; row += 1) {
      for (let col = 0; col < pixels.width; col += 1) {
        const inside =
          row >= frame && row < frame + map.height && col >= frame && col < frame + map.width;
        const colour = inside
          ? colourOf(this.scale, valueAt(map, row - frame, col - frame))
          : [226, 230, 237]; // the zero padding, drawn apart from the photo
        pixels.data.set([...colour, 255], (row * pixels.width + col) * 4);
      }
    }
    this.base.width = pixels.width;
    this.base.height = pixels.height;
    this.base.getContext("2d").putImageData(pixels, 0, 0);
    this.canvas.width = pixels.width * cell;
    this.canvas.height = pixels.height * this.cellY;
  }

  /**
   * Redraw the map and boxes over it (indices of the map; negative ones reach into the frame).
   * @param {Box[]} boxes
   */
  draw(boxes) {
    if (!this.map) return;
    const context = this.canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    context.drawImage(this.base, 0, 0, this.canvas.width, this.canvas.height);
    if (this.frame > 0) this.outlineMap(context);
    for (const box of boxes) this.drawBox(context, box);
  }

  outlineMap(context) {
    const { frame, cell, cellY, map } = this;
    context.save();
    context.strokeStyle = "#7d8799";
    context.setLineDash([4, 3]);
    context.lineWidth = 1;
    context.strokeRect(
      frame * cell + 0.5,
      frame * cellY + 0.5,
      map.width * cell - 1,
      map.height * cellY - 1,
    );
    context.restore();
  }

  drawBox(context, box) {
    const { cell, cellY, frame } = this;
    const x = (box.left + frame) * cell;
    const y = (box.top + frame) * cellY;
    const width = (box.right - box.left + 1) * cell;
    const height = (box.bottom - box.top + 1) * cellY;
    context.save();
    if (box.fill) {
      context.fillStyle = box.fill;
      context.fillRect(x, y, width, height);
    }
    if (box.colour) {
      // The line runs just outside the cells, so a one-cell box still shows its value.
      const line = box.width || 2;
      const gap = (box.halo || 0) + line / 2;
      if (box.dashed) context.setLineDash([5, 4]);
      const side = 2 * gap;
      const outline = () => context.strokeRect(x - gap, y - gap, width + side, height + side);
      // A thin white edge keeps the outline visible on dark and light cells alike.
      context.lineWidth = line + 2;
      context.strokeStyle = "rgb(255 255 255 / 85%)";
      outline();
      context.lineWidth = line;
      context.strokeStyle = box.colour;
      outline();
    }
    context.restore();
  }

  /** The map cell under a mouse event, or null outside the map. */
  cellAt(event) {
    if (!this.map) return null;
    const bounds = this.canvas.getBoundingClientRect();
    const ratio = this.canvas.width / bounds.width;
    const col = Math.floor(((event.clientX - bounds.left) * ratio) / this.cell) - this.frame;
    const row = Math.floor(((event.clientY - bounds.top) * ratio) / this.cellY) - this.frame;
    const inside = row >= 0 && col >= 0 && row < this.map.height && col < this.map.width;
    return inside ? { row, col } : null;
  }
}
