// Autodiff against forward and central differences: a table per input, and the error of
// each estimate against the step h on log-log axes (the V of truncation and round-off).

import { clear, h, s } from "../dom.js";
import { toNumber } from "../format.js";
import { checkGradients } from "./api.js";
import { hideError, showError } from "./errors.js";
import { drawAxes, linePath, scale, tickText } from "./plot.js";

const WIDTH = 560;
const HEIGHT = 360;
const AREA = { left: 60, right: WIDTH - 22, top: 14, bottom: HEIGHT - 46 };
const SERIES = [
  { key: "forward_errors", best: "forward", label: "forward difference", colour: "#0072b2" },
  { key: "central_errors", best: "central", label: "central difference", colour: "#d55e00" },
];
// Errors of exactly 0 (a linear function, h a power of two) are drawn at this floor.
const FLOOR = 1e-17;

export class GradcheckPanel {
  /** @param {Document} page */
  constructor(page) {
    this.form = page.getElementById("gradcheck-form");
    this.table = page.getElementById("gradcheck-table");
    this.svg = page.getElementById("gradcheck-plot");
    this.error = page.getElementById("gradcheck-error");
    this.note = page.getElementById("gradcheck-note");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
  }

  async load() {
    hideError(this.error);
    this.note.hidden = true;
    try {
      const result = await checkGradients({ expression: this.form.elements.expression.value });
      this.fillTable(result);
      this.drawPlot(result);
      this.showNote(result);
    } catch (error) {
      // The table and plot were for another expression: gone, so none is read as this one's.
      clear(this.table.tBodies[0]);
      clear(this.svg);
      showError(this.error, error.message);
    }
  }

  fillTable(result) {
    const body = clear(this.table.tBodies[0]);
    for (const row of result.inputs) {
      const name = row.index.length ? `${row.node}[${row.index.join(", ")}]` : row.node;
      body.append(
        h("tr", { "data-node": name }, [
          h("th", { scope: "row", text: name }),
          h("td", { text: short(row.value) }),
          h("td", { class: "exact", text: long(row.autodiff) }),
          h("td", { text: long(row.forward) }),
          h("td", { class: "error-cell", text: short(row.forward_error) }),
          h("td", { text: long(row.central) }),
          h("td", { class: "error-cell", text: short(row.central_error) }),
        ]),
      );
    }
  }

  drawPlot(result) {
    const steps = result.steps;
    const errors = SERIES.flatMap((series) => result[series.key]).map(lift);
    const x = scale([Math.min(...steps), Math.max(...steps)], [AREA.left, AREA.right], true);
    const high = Math.max(...errors.filter(Number.isFinite), 1e-2);
    const y = scale([FLOOR, 10 ** Math.ceil(Math.log10(high))], [AREA.bottom, AREA.top], true);
    clear(this.svg);
    drawAxes(this.svg, x, y, { x: "step h", y: "relative error of the gradient" });
    this.svg.append(
      s("text", { class: "region-label", x: AREA.left + 8, y: AREA.top + 16,
        text: "← round-off grows" }),
      s("text", { class: "region-label", x: AREA.right - 8, y: AREA.top + 16,
        "text-anchor": "end", text: "truncation grows →" }),
    );

    SERIES.forEach((series, index) => this.drawSeries(result, series, index, x, y));
  }

  // Points whose error is not a number (the function or its differences not finite there)
  // are left out: the line breaks at them and no best h is marked on them.
  drawSeries(result, series, index, x, y) {
    const points = result.steps.map((step, i) => [step, lift(result[series.key][i])]);
    const best = result.best_h[series.best];
    const bestError = lift(result[series.key][result.steps.indexOf(best)]);
    const label = { class: "series-label", x: AREA.left + 8, y: AREA.bottom - 28 + 16 * index,
      fill: series.colour };
    if (!Number.isFinite(bestError)) {
      this.svg.append(s("text", { ...label, text: `${series.label}: no finite error at any h` }));
      return;
    }
    this.svg.append(
      s("path", { class: "series", d: linePath(points, x, y), stroke: series.colour }),
      s("line", { class: "best-h", x1: x(best), x2: x(best), y1: AREA.top, y2: AREA.bottom,
        stroke: series.colour }),
      s("circle", { cx: x(best), cy: y(bestError), r: 5, fill: series.colour,
        "data-best-h": best }),
      s("text", { ...label, text: `${series.label}: best h = ${tickText(best, true)}, ` +
        `error ${bestError.toExponential(1)}` }),
    );
  }

  /** Say plainly when the function itself is not a finite number at the inputs. */
  showNote(result) {
    const output = toNumber(result.output);
    if (Number.isFinite(output)) return;
    this.note.hidden = false;
    this.note.textContent =
      `The function is not finite at these inputs (its value is ${nonfiniteName(output)}), ` +
      "so no difference quotient and no error is a number: there is nothing to compare or " +
      "plot. Pick inputs where it is defined (log and sqrt need positive numbers, for example).";
  }
}

/** An error ready for the log axis: exact zeros at the floor, "inf" and "nan" not finite. */
function lift(value) {
  const number = toNumber(value);
  return Number.isFinite(number) ? Math.max(number, FLOOR) : Infinity;
}

function nonfiniteName(number) {
  if (Number.isNaN(number)) return "NaN";
  return number > 0 ? "+∞" : "−∞";
}

function long(value) {
  return typeof value === "number" ? value.toPrecision(12) : String(value);
}

function short(value) {
  return typeof value === "number" ? value.toPrecision(3) : String(value);
}
