// Contour lines by marching squares: for each cell of a grid of numbers, the pieces of the
// line where the surface crosses a level, placed by linear interpolation along the edges.

// For each of the 16 corner patterns (bit 1: bottom-left, 2: bottom-right, 4: top-right,
// 8: top-left above the level), the pairs of cell edges the line joins
// (0: bottom, 1: right, 2: top, 3: left).
const SEGMENTS = [
  [], [[3, 0]], [[0, 1]], [[3, 1]], [[1, 2]], [[3, 0], [1, 2]], [[0, 2]], [[3, 2]],
  [[2, 3]], [[2, 0]], [[0, 1], [2, 3]], [[2, 1]], [[1, 3]], [[1, 0]], [[0, 3]], [],
];

/**
 * Line segments of one level, in grid coordinates (column, row), rows counted upward.
 * @param {number[][]} values values[row][column]
 * @param {number} level
 * @returns {number[][]} [[x1, y1, x2, y2], ...]
 */
export function contourSegments(values, level) {
  const segments = [];
  for (let row = 0; row + 1 < values.length; row += 1) {
    for (let column = 0; column + 1 < values[row].length; column += 1) {
      const corners = [
        values[row][column],
        values[row][column + 1],
        values[row + 1][column + 1],
        values[row + 1][column],
      ];
      let pattern = 0;
      corners.forEach((value, bit) => {
        if (value > level) pattern |= 1 << bit;
      });
      for (const [from, to] of SEGMENTS[pattern]) {
        const a = edgePoint(from, corners, level, column, row);
        const b = edgePoint(to, corners, level, column, row);
        segments.push([a[0], a[1], b[0], b[1]]);
      }
    }
  }
  return segments;
}

function edgePoint(edge, [bl, br, tr, tl], level, column, row) {
  const at = (low, high) => (high === low ? 0.5 : (level - low) / (high - low));
  if (edge === 0) return [column + at(bl, br), row];
  if (edge === 1) return [column + 1, row + at(br, tr)];
  if (edge === 2) return [column + at(tl, tr), row + 1];
  return [column, row + at(bl, tl)];
}

/** Levels packed toward the minimum: a quadratic bowl gets evenly spaced rings. */
export function contourLevels(values, count = 14) {
  const flat = values.flat().filter(Number.isFinite);
  const low = Math.min(...flat);
  const high = Math.max(...flat);
  const levels = [];
  for (let k = 1; k <= count; k += 1) levels.push(low + (high - low) * (k / (count + 1)) ** 2);
  return levels;
}
