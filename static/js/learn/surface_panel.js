// The loss surface of a 2-parameter linear regression: four panels side by side, one per
// optimizer (gradient descent, SGD, minibatch, Newton), each path from the same start drawn
// over the same contours.

import { clear, h, s } from "../dom.js";
import { fetchSurface } from "./api.js";
import { contourLevels, contourSegments } from "./contours.js";
import {
  hideError,
  markStale,
  requiredNumber,
  requiredWholeNumber,
  showError,
  withStaleNote,
} from "./errors.js";
import { clipTo, drawAxes, linePath, scale } from "./plot.js";

const WIDTH = 300;
const HEIGHT = 290;
const AREA = { left: 44, right: WIDTH - 8, top: 8, bottom: HEIGHT - 40 };
const PATH_COLOURS = { gd: "#0072b2", sgd: "#d55e00", minibatch: "#009e73", newton: "#cc79a7" };
const TITLES = { gd: "Gradient descent", sgd: "SGD", minibatch: "Minibatch", newton: "Newton" };

export class SurfacePanel {
  /** @param {Document} page */
  constructor(page) {
    this.form = page.getElementById("surface-form");
    this.panels = page.getElementById("surface-panels");
    this.error = page.getElementById("surface-error");
    this.x = scale([0, 1], [AREA.left, AREA.right]);
    this.y = scale([0, 1], [AREA.bottom, AREA.top]);

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
  }

  /** The request the form describes; throws an Error naming a field left without a number. */
  body() {
    const field = (name) => this.form.elements[name].value.trim();
    const rate = Number(field("learning_rate"));
    return {
      learning_rate:
        field("learning_rate") !== "" && Number.isFinite(rate) ? rate : field("learning_rate"),
      batch_size: requiredWholeNumber(this.form, "batch_size", "Minibatch size"),
      steps: requiredWholeNumber(this.form, "steps", "Steps"),
      start: [
        requiredNumber(this.form, "start_w", "Start w"),
        requiredNumber(this.form, "start_b", "Start b"),
      ],
    };
  }

  async load() {
    hideError(this.error);
    try {
      this.draw(await fetchSurface(this.body()));
      markStale([this.panels], false);
    } catch (error) {
      const drawn = this.panels.childElementCount > 0;
      showError(this.error, drawn ? withStaleNote(error.message) : error.message);
      markStale([this.panels], drawn);
    }
  }

  /** Clicking a panel moves the start to that (w, b) and draws the paths again. */
  moveStart(svg, event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const local = point.matrixTransform(svg.getScreenCTM().inverse());
    if (local.x < AREA.left || local.x > AREA.right) return;
    if (local.y < AREA.top || local.y > AREA.bottom) return;
    this.form.elements.start_w.value = this.x.invert(local.x).toFixed(2);
    this.form.elements.start_b.value = this.y.invert(local.y).toFixed(2);
    this.load();
  }

  draw(surface) {
    const [w0, w1, b0, b1] = surface.bounds;
    this.x = scale([w0, w1], [AREA.left, AREA.right]);
    this.y = scale([b0, b1], [AREA.bottom, AREA.top]);
    const contours = this.contourPaths(surface);
    clear(this.panels);
    for (const [name, path] of Object.entries(surface.paths)) {
      this.panels.append(this.panel(name, path, surface.minimum, contours));
    }
    const newtonSteps = stepsToMinimum(surface.paths.newton, surface.minimum);
    this.panels.dataset.newtonSteps = String(newtonSteps);
  }

  /** One SVG path per contour level, computed once and copied into every panel. */
  contourPaths(surface) {
    const columns = surface.w.length - 1;
    const rows = surface.b.length - 1;
    const gx = (c) => this.x(surface.w[0] + (c / columns) * (surface.w[columns] - surface.w[0]));
    const gy = (r) => this.y(surface.b[0] + (r / rows) * (surface.b[rows] - surface.b[0]));
    return contourLevels(surface.losses).map((level) => {
      const pieces = contourSegments(surface.losses, level).map(
        ([c1, r1, c2, r2]) =>
          `M${gx(c1).toFixed(1)},${gy(r1).toFixed(1)}L${gx(c2).toFixed(1)},${gy(r2).toFixed(1)}`,
      );
      return { level, d: pieces.join("") };
    });
  }

  panel(name, path, minimum, contours) {
    const { x, y } = this;
    const colour = PATH_COLOURS[name] || "#17202e";
    const svg = s("svg", { class: "plot surface-plot", viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img", "aria-label": `${path.label}: its path over the loss contours` });
    drawAxes(svg, x, y, { x: "slope w", y: "intercept b" });
    const clip = clipTo(svg, `surface-clip-${name}`, x, y);
    svg.append(
      s("g", { class: "contours", "clip-path": clip }, contours.map(({ level, d }) =>
        s("path", { d }, [s("title", { text: `loss ${level.toPrecision(3)}` })]))),
    );

    const trail = s("g", { class: "optimizer-path", "data-optimizer": name, "clip-path": clip });
    trail.append(s("path", { d: linePath(path.points, x, y), stroke: colour }));
    for (const [w, b] of path.points) {
      if (Number.isFinite(x(w)) && Number.isFinite(y(b))) {
        trail.append(s("circle", { cx: x(w), cy: y(b), r: 2.4, fill: colour }));
      }
    }
    const [startW, startB] = path.points[0];
    svg.append(
      trail,
      s("circle", { class: "start-mark", cx: x(startW), cy: y(startB), r: 6 }),
      s("path", { class: "minimum-mark", d: crossAt(x(minimum[0]), y(minimum[1])) }),
    );
    svg.addEventListener("click", (event) => this.moveStart(svg, event));

    const last = path.losses[path.losses.length - 1];
    const lossText = typeof last === "number" ? last.toFixed(4) : String(last);
    return h("figure", { class: "surface-figure", "data-optimizer": name }, [
      svg,
      h("figcaption", {}, [
        h("strong", { style: `color:${colour}`, text: TITLES[name] || name }),
        ` · loss ${lossText} after ${path.points.length - 1} steps`,
      ]),
    ]);
  }
}

function crossAt(px, py) {
  return `M${px - 6},${py - 6}L${px + 6},${py + 6}M${px - 6},${py + 6}L${px + 6},${py - 6}`;
}

/** The first step at which a path sits on the minimum (for a quadratic, Newton's is 1). */
function stepsToMinimum(path, minimum) {
  const size = 1 + Math.hypot(...minimum);
  const near = ([w, b]) => Math.hypot(w - minimum[0], b - minimum[1]) < 1e-9 * size;
  return path.points.findIndex(near);
}
