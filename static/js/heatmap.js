// Tensors as heat maps: a diverging colour scale centred on zero (blue below, red above, near
// white at zero), each map scaled to its own largest |entry|, so the sign and the relative size
// of every entry can be read at a glance. Small maps sit on the edges of the drawing; heat-mapped
// tables with the numbers sit in the inspector.

import { h, s } from "./dom.js";
import { flatten, formatNumber, shapeOf, sizeOf, toNumber } from "./format.js";

const NEGATIVE = [33, 102, 172];
const ZERO = [247, 247, 247];
const POSITIVE = [178, 24, 43];
const NONFINITE = "rgb(150,150,150)";

/** Edge maps fit in this many layout units; bigger tensors show every k-th row or column. */
const EDGE_MAP = { width: 84, height: 36, largestCell: 10, smallestCell: 2 };

/** Inspector tables show numbers up to this size, and coloured cells alone beyond it. */
const NUMBERS_UP_TO = { rows: 12, cols: 8 };
const TABLE_LIMIT = 64;

/**
 * A tensor laid out as a matrix: `columns` numbers per row (default: its last axis), with the
 * index of every cell in the original tensor.
 * @typedef {{rows: number, cols: number, numbers: Array<number|string>, largest: number}} Matrix
 */

/**
 * @param {any} value  a number or nested lists
 * @param {number} [columns]
 * @returns {Matrix}
 */
export function matrixOf(value, columns) {
  const numbers = flatten(value);
  const shape = shapeOf(value);
  const cols = Math.max(1, columns ?? (shape.length ? shape.at(-1) : 1));
  const rows = Math.max(1, Math.ceil(numbers.length / cols));
  return { rows, cols, numbers, largest: largestMagnitude(numbers) };
}

/** The largest finite |entry|, 0 when there is none. */
export function largestMagnitude(numbers) {
  let largest = 0;
  for (const entry of numbers) {
    const size = Math.abs(toNumber(entry));
    if (Number.isFinite(size) && size > largest) largest = size;
  }
  return largest;
}

/** The colour of `value` on a scale where ±`largest` are the two ends. */
export function heatColour(value, largest) {
  const t = scaled(value, largest);
  if (t === null) return NONFINITE;
  const end = t < 0 ? NEGATIVE : POSITIVE;
  const mix = ZERO.map((zero, i) => Math.round(zero + (end[i] - zero) * Math.abs(t)));
  return `rgb(${mix.join(",")})`;
}

/** Dark cells get light text. */
export function inkOn(value, largest) {
  const t = scaled(value, largest);
  return t !== null && Math.abs(t) > 0.55 ? "#ffffff" : "#17202e";
}

function scaled(value, largest) {
  const number = toNumber(value);
  if (Number.isNaN(number)) return null;
  if (!Number.isFinite(number)) return number > 0 ? 1 : -1;
  if (largest === 0) return 0;
  return Math.max(-1, Math.min(1, number / largest));
}

/** Multi-index of the flat position `flat` in `shape`, as "1,2". */
export function indexText(flat, shape) {
  if (!shape.length) return "";
  const index = [];
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
    index.unshift(rest % shape[axis]);
    rest = Math.floor(rest / shape[axis]);
  }
  return index.join(",");
}

// Every k-th index, so a long axis still fits (first and last always kept).
function sampled(count, most) {
  if (count <= most) return [...Array(count).keys()];
  const step = (count - 1) / (most - 1);
  return [...Array(most).keys()].map((i) => Math.round(i * step));
}

/** Rows and columns an edge map shows, and its cell size, for a tensor of `shape`. */
function edgeGrid(shape) {
  const cols = shape.length ? shape.at(-1) : 1;
  const rows = Math.max(1, sizeOf(shape) / Math.max(1, cols));
  const fit = Math.floor(Math.min(EDGE_MAP.width / cols, EDGE_MAP.height / rows));
  const cell = Math.max(EDGE_MAP.smallestCell, Math.min(EDGE_MAP.largestCell, fit));
  const rowIndex = sampled(rows, Math.floor(EDGE_MAP.height / cell));
  const colIndex = sampled(cols, Math.floor(EDGE_MAP.width / cell));
  return { rows: rowIndex, cols: colIndex, cell, fullCols: cols };
}

/** Width and height (layout units) of the edge map of a tensor of `shape`. */
export function edgeMapSize(shape) {
  if (!shape || !shape.length || sizeOf(shape) === 0) return { width: 0, height: 0 };
  const grid = edgeGrid(shape);
  return { width: grid.cols.length * grid.cell, height: grid.rows.length * grid.cell };
}

/**
 * A small SVG heat map with its top-left corner at (x, y); each cell names its entry on hover.
 * @param {any} value  nested lists
 * @param {{x: number, y: number, name: string, role: string}} where
 */
export function edgeHeatmap(value, where) {
  const shape = shapeOf(value);
  const group = s("g", { class: `heatmap heatmap-${where.role}`, "data-role": where.role });
  if (!shape.length || sizeOf(shape) === 0) return group;
  const grid = edgeGrid(shape);
  const numbers = flatten(value);
  const largest = largestMagnitude(numbers);
  grid.rows.forEach((row, r) => {
    grid.cols.forEach((col, c) => {
      const flat = row * grid.fullCols + col;
      const entry = numbers[flat];
      const title = `${where.name}[${indexText(flat, shape)}] = ${formatNumber(entry, 6)}`;
      group.append(
        s(
          "rect",
          {
            class: "heat-cell",
            x: where.x + c * grid.cell,
            y: where.y + r * grid.cell,
            width: grid.cell,
            height: grid.cell,
            fill: heatColour(entry, largest),
          },
          [s("title", { text: title })],
        ),
      );
    });
  });
  group.append(
    s("rect", {
      class: "heat-frame",
      x: where.x,
      y: where.y,
      width: grid.cols.length * grid.cell,
      height: grid.rows.length * grid.cell,
    }),
  );
  return group;
}

/**
 * A heat-mapped table of a tensor (or of a Jacobian folded to rows × columns), with its numbers
 * when it is small, a title on every cell, and a legend of its scale.
 * @param {any} value
 * @param {{role: string, caption: string, columns?: number, shape?: number[],
 *   cellName?: (flat: number) => string}} options
 */
export function heatTable(value, options) {
  const matrix = matrixOf(value, options.columns);
  const shape = options.shape || shapeOf(value);
  const showNumbers = matrix.rows <= NUMBERS_UP_TO.rows && matrix.cols <= NUMBERS_UP_TO.cols;
  const rowsShown = Math.min(matrix.rows, TABLE_LIMIT);
  const colsShown = Math.min(matrix.cols, TABLE_LIMIT);
  const cellName = options.cellName || ((flat) => `[${indexText(flat, shape)}]`);

  const body = h("tbody");
  for (let row = 0; row < rowsShown; row += 1) {
    const cells = [];
    for (let col = 0; col < colsShown; col += 1) {
      const flat = row * matrix.cols + col;
      cells.push(heatCell(matrix, flat, showNumbers, cellName(flat), indexText(flat, shape)));
    }
    if (matrix.cols > colsShown) cells.push(h("td", { class: "more", text: "…" }));
    body.append(h("tr", {}, cells));
  }
  if (matrix.rows > rowsShown) body.append(h("tr", {}, [h("td", { class: "more", text: "⋮" })]));

  const cut = matrix.rows > rowsShown || matrix.cols > colsShown;
  const caption = cut
    ? `${options.caption} (first ${rowsShown}×${colsShown} shown)`
    : options.caption;
  return h("figure", { class: "tensor", "data-role": options.role }, [
    h("figcaption", { text: caption }),
    h("div", { class: "tensor-scroll" }, [
      h("table", { class: `tensor-table${showNumbers ? "" : " compact"}` }, [body]),
    ]),
    heatLegend(matrix.largest),
  ]);
}

function heatCell(matrix, flat, showNumbers, name, index) {
  const entry = matrix.numbers[flat];
  const text = formatNumber(entry, 4);
  const cell = h("td", {
    "data-index": index,
    "data-value": JSON.stringify(entry),
    title: `${name} = ${formatNumber(entry, 8)}`,
    text: showNumbers ? text : "",
  });
  cell.style.backgroundColor = heatColour(entry, matrix.largest);
  cell.style.color = inkOn(entry, matrix.largest);
  return cell;
}

/** The scale of one map: −largest … 0 … +largest. */
export function heatLegend(largest) {
  const end = formatNumber(largest, 3);
  return h("div", { class: "heat-legend", "aria-hidden": "true" }, [
    h("span", { text: largest ? `−${end}` : "0" }),
    h("span", { class: "heat-legend-bar" }),
    h("span", { text: largest ? `+${end}` : "0" }),
  ]);
}
