// Small SVG plotting helpers: linear and log scales, axes with ticks, and line paths.

import { s } from "../dom.js";

/**
 * A scale from a data interval to a pixel interval; log scales work in powers of ten.
 * @param {[number, number]} domain
 * @param {[number, number]} range
 * @param {boolean} [log]
 */
export function scale(domain, range, log = false) {
  const [d0, d1] = log ? domain.map(Math.log10) : domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const map = (value) => r0 + ((log ? Math.log10(value) : value) - d0) * ((r1 - r0) / span);
  map.invert = (pixel) => {
    const inner = d0 + ((pixel - r0) / (r1 - r0)) * span;
    return log ? 10 ** inner : inner;
  };
  map.domain = domain;
  map.range = range;
  map.log = log;
  map.ticks = (count = 5) => (log ? logTicks(domain) : linearTicks(domain, count));
  return map;
}

function linearTicks([low, high], count) {
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= raw) || raw;
  const ticks = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) {
    ticks.push(Math.abs(value) < step * 1e-9 ? 0 : value);
  }
  return ticks;
}

function logTicks([low, high]) {
  const first = Math.ceil(Math.log10(low));
  const last = Math.floor(Math.log10(high));
  const every = Math.max(1, Math.ceil((last - first + 1) / 8));
  const ticks = [];
  for (let power = first; power <= last; power += every) ticks.push(10 ** power);
  return ticks;
}

/** A tick label: powers of ten as 1e−5, other numbers short. */
export function tickText(value, log) {
  if (log) {
    const power = Math.round(Math.log10(value));
    return power === 0 ? "1" : `1e${power}`.replace("-", "\u2212");
  }
  const text = Math.abs(value) >= 1000 ? value.toExponential(0) : String(+value.toFixed(3));
  return text.replace("-", "\u2212");
}

/**
 * Axes, grid lines and labels for a plot area.
 * @param {SVGElement} svg
 * @param {function} x
 * @param {function} y
 * @param {{x?: string, y?: string}} labels
 */
export function drawAxes(svg, x, y, labels = {}) {
  const [left, right] = x.range;
  const [bottom, top] = y.range;
  const group = s("g", { class: "axes" });
  for (const value of x.ticks()) {
    const px = x(value);
    group.append(
      s("line", { class: "grid", x1: px, x2: px, y1: top, y2: bottom }),
      s("text", { class: "tick", x: px, y: bottom + 16, "text-anchor": "middle",
        text: tickText(value, x.log) }),
    );
  }
  for (const value of y.ticks()) {
    const py = y(value);
    group.append(
      s("line", { class: "grid", x1: left, x2: right, y1: py, y2: py }),
      s("text", { class: "tick", x: left - 6, y: py + 4, "text-anchor": "end",
        text: tickText(value, y.log) }),
    );
  }
  group.append(
    s("rect", { class: "frame", x: left, y: top, width: right - left, height: bottom - top }),
    s("text", { class: "axis-label", x: (left + right) / 2, y: bottom + 34,
      "text-anchor": "middle", text: labels.x || "" }),
    s("text", { class: "axis-label", x: 14, y: (top + bottom) / 2, "text-anchor": "middle",
      transform: `rotate(-90 14 ${(top + bottom) / 2})`, text: labels.y || "" }),
  );
  svg.append(group);
  return group;
}

/** An SVG path through the points, broken where a point is not finite. */
export function linePath(points, x, y) {
  let d = "";
  let pen = "M";
  for (const [a, b] of points) {
    const px = x(a);
    const py = y(b);
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      pen = "M";
      continue;
    }
    d += `${pen}${px.toFixed(1)},${py.toFixed(1)}`;
    pen = "L";
  }
  return d;
}

/** A clip path the size of the plot area, so lines leaving it are cut at the frame. */
export function clipTo(svg, id, x, y) {
  const [left, right] = x.range;
  const [bottom, top] = y.range;
  svg.append(
    s("defs", {}, [
      s("clipPath", { id }, [
        s("rect", { x: left, y: top, width: right - left, height: bottom - top }),
      ]),
    ]),
  );
  return `url(#${id})`;
}
