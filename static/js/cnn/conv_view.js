// The kernel lab's picture: the photo (with its zero padding), the activation map beside it,
// the window sliding over the photo and the output pixel it produces, and the dot product at
// that position written out. The numbers are the API's: the photo tensor it decoded and the
// output value it computed; the page only multiplies the shown numbers pairwise as text.

import { clear, h } from "../dom.js";
import { formatNumber } from "../format.js";
import { GREY_SCALE, legendElement, scaleFor } from "./colour.js";
import { MapCanvas, valueAt } from "./heatmap.js";

const WINDOW_COLOUR = "#f0e442";
const TAP_COLOUR = "#111111";
const UNVISITED_FILL = "rgb(204 121 167 / 55%)";
const NOT_YET_FILL = "rgb(255 255 255 / 70%)";
// The photo's zero border is drawn up to this many cells; more would shrink the photo to dots.
const FRAME_LIMIT = 24;

export class ConvView {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{input: HTMLCanvasElement, output: HTMLCanvasElement, inputLegend: HTMLElement,
   *   outputLegend: HTMLElement, play: HTMLButtonElement, step: HTMLButtonElement,
   *   speed: HTMLInputElement, where: HTMLElement, dot: HTMLElement, error: HTMLElement,
   *   warning: HTMLElement, outputCaption: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    this.input = new MapCanvas(elements.input, { maxSize: 400 });
    this.output = new MapCanvas(elements.output, { maxSize: 400 });
    this.timer = null;

    state.on("imageLoaded", ({ image }) => this.showImage(image));
    state.on("convEvaluated", ({ result }) => this.showResult(result));
    state.on("convFailed", ({ message }) => this.showFailure(message));
    state.on("positionChanged", () => this.drawPosition());
    this.listen();
  }

  listen() {
    const { output, play, step } = this.elements;
    play.addEventListener("click", () => (this.timer ? this.pause() : this.play()));
    step.addEventListener("click", () => {
      this.pause();
      this.advance();
    });
    this.elements.speed.addEventListener("input", () => {
      // A new speed takes effect at once while the window is moving.
      if (!this.timer) return;
      this.pause();
      this.play();
    });
    output.addEventListener("mousemove", (event) => this.hover(event));
    output.addEventListener("click", (event) => this.hover(event, true));
    output.addEventListener("keydown", (event) => this.key(event));
  }

  showImage(image) {
    this.pause();
    this.input.show(image.maps[0], GREY_SCALE, `Input photo ${image.title}, grey`, { frame: 0 });
    clear(this.elements.inputLegend).append(legendElement(GREY_SCALE, "input pixel"));
  }

  showResult(result) {
    const image = this.state.image;
    this.hideError();
    const frame = Math.min(result.window.padding, FRAME_LIMIT);
    this.input.show(
      image.maps[0],
      GREY_SCALE,
      `Input photo ${image.title}, grey, padding ${frame}`,
      { frame },
    );
    const scale = scaleFor([result.output]);
    this.output.show(result.output, scale, "Activation map (output of the convolution)");
    this.elements.output.tabIndex = 0;
    const { height, width } = result.output;
    this.elements.outputCaption.textContent = `Activation map, ${height} × ${width}`;
    clear(this.elements.outputLegend).append(legendElement(scale, "activation (this map)"));
    this.showWarnings(result);
    this.elements.play.disabled = false;
    this.elements.step.disabled = false;
  }

  showFailure(message) {
    this.pause();
    const image = this.state.image;
    if (image) {
      // The photo stays, with the padding asked for and no window: there is no output pixel.
      const frame = Math.min(this.state.window.padding, FRAME_LIMIT);
      this.input.show(image.maps[0], GREY_SCALE, `Input photo ${image.title}, grey`, { frame });
    }
    const error = this.elements.error;
    error.hidden = false;
    error.textContent = message;
    clear(this.elements.warning).hidden = true;
    this.elements.play.disabled = true;
    this.elements.step.disabled = true;
    this.elements.output.tabIndex = -1;
    const context = this.elements.output.getContext("2d");
    context.clearRect(0, 0, this.elements.output.width, this.elements.output.height);
    this.elements.output.setAttribute("aria-label", "No activation map: the API refused it");
    this.elements.outputCaption.textContent = "No activation map";
    clear(this.elements.outputLegend);
    clear(this.elements.dot);
    this.elements.where.textContent = "";
  }

  hideError() {
    this.elements.error.hidden = true;
    this.elements.error.textContent = "";
  }

  /**
   * A map with NaN or ±∞ in it would otherwise just look flat (all one colour): say how many
   * activations are not finite and what the API found, node by node.
   * @param {import('./state.js').ConvResult} result
   */
  showWarnings(result) {
    const box = this.elements.warning;
    const count = result.output.data.filter((number) => !Number.isFinite(number)).length;
    const warnings = result.warnings || [];
    box.hidden = count === 0 && result.firstNonfinite === null;
    if (box.hidden) {
      clear(box);
      return;
    }
    const total = result.output.data.length;
    const head = count
      ? `⚠ ${count} of ${total} activations are not finite. `
      : "⚠ The map is finite, but not everything behind it is. ";
    const drawn = count
      ? "They are drawn at the ends of the colour scale (NaN in grey). "
      : "";
    const advice = "Smaller kernel weights keep every product and sum finite.";
    clear(box).append(
      h("strong", { text: head }),
      drawn,
      advice,
      warnings.length
        ? h(
            "ul",
            { class: "api-warnings" },
            warnings.map((warning) => h("li", { text: `${warning.node}: ${warning.message}` })),
          )
        : "",
    );
  }

  // --- the sliding window -------------------------------------------------------------------

  play() {
    const result = this.state.conv;
    if (!result) return;
    const { row, col } = this.state.position;
    const atEnd = row === result.output.height - 1 && col === result.output.width - 1;
    if (atEnd) this.state.setPosition(0, 0, true);
    this.elements.play.textContent = "Pause";
    const perSecond = Number(this.elements.speed.value) || 20;
    this.timer = window.setInterval(() => this.tick(), 1000 / perSecond);
    this.state.setPosition(this.state.position.row, this.state.position.col, true);
  }

  pause() {
    if (this.timer) window.clearInterval(this.timer);
    this.timer = null;
    this.elements.play.textContent = "Play";
    if (this.state.playing) {
      const { row, col } = this.state.position;
      this.state.setPosition(row, col, false);
    }
  }

  tick() {
    if (!this.advance()) this.pause();
  }

  /** Move one output pixel along the row, then to the next row; false at the end. */
  advance() {
    const result = this.state.conv;
    if (!result) return false;
    const { height, width } = result.output;
    let { row, col } = this.state.position;
    col += 1;
    if (col >= width) {
      col = 0;
      row += 1;
    }
    if (row >= height) return false;
    this.state.setPosition(row, col);
    return true;
  }

  hover(event, pin = false) {
    if (this.timer && !pin) return;
    const cell = this.output.cellAt(event);
    if (!cell) return;
    if (pin) this.pause();
    this.state.setPosition(cell.row, cell.col);
  }

  key(event) {
    const result = this.state.conv;
    if (!result) return;
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const { height, width } = result.output;
    let { row, col } = this.state.position;
    if (event.key in moves) {
      row = clamp(row + moves[event.key][0], height);
      col = clamp(col + moves[event.key][1], width);
    } else if (event.key === "Home") {
      row = 0;
      col = 0;
    } else if (event.key === "End") {
      row = height - 1;
      col = width - 1;
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      if (this.timer) this.pause();
      else this.play();
      return;
    } else {
      return;
    }
    event.preventDefault();
    this.pause();
    this.state.setPosition(row, col);
  }

  drawPosition() {
    const result = this.state.conv;
    if (!result || !this.state.image) return;
    const { row, col } = this.state.position;
    const taps = windowTaps(result, row, col);
    this.input.draw([...unvisitedBoxes(result, this.input.map), ...tapBoxes(result, taps)]);
    const outputBoxes = this.state.playing ? notYetBoxes(result.output, row, col) : [];
    outputBoxes.push({
      top: row,
      left: col,
      bottom: row,
      right: col,
      colour: TAP_COLOUR,
      width: 2,
      halo: 1,
    });
    outputBoxes.push({
      top: row,
      left: col,
      bottom: row,
      right: col,
      colour: WINDOW_COLOUR,
      width: 3,
      halo: 3,
    });
    this.output.draw(outputBoxes);
    this.showWhere(result, row, col);
    this.showDotProduct(result, taps, valueAt(result.output, row, col));
  }

  showWhere(result, row, col) {
    const where = this.elements.where;
    where.setAttribute("aria-live", this.state.playing ? "off" : "polite");
    where.dataset.row = String(row);
    where.dataset.col = String(col);
    where.textContent =
      `Output pixel row ${row}, column ${col} of ${result.output.height} × ` +
      `${result.output.width}; its window starts at input row ${
        row * result.window.stride - result.window.padding
      }, column ${col * result.window.stride - result.window.padding}.`;
  }

  showDotProduct(result, taps, value) {
    const kernel = result.kernel.value;
    const patch = taps.map((line) => line.map((tap) => tap.value));
    const products = [];
    taps.forEach((line, i) =>
      line.forEach((tap, j) =>
        products.push(`${factorText(tap.value)}·${factorText(kernel[i][j])}`),
      ),
    );
    clear(this.elements.dot).append(
      h("div", { class: "dot-row" }, [
        matrixTable(patch, "input window (0 in the padding)", taps),
        h("span", { class: "dot-operator", text: "⊙", "aria-label": "times, element-wise" }),
        matrixTable(kernel, "kernel"),
        h("span", { class: "dot-operator", text: "→ Σ =" }),
        h("span", { class: "dot-value num", "data-value": String(value) }, [
          formatNumber(value, 4),
        ]),
      ]),
      h("p", { class: "dot-terms" }, [
        products.join(" + "),
        " = ",
        h("strong", {
          text: formatNumber(value, 4),
        }),
      ]),
    );
  }
}

/** The K×K taps of the window at output (row, col): input position and the API's value. */
function windowTaps(result, row, col) {
  const { stride, padding, dilation } = result.window;
  const map = result.input;
  return result.kernel.value.map((line, i) =>
    line.map((_, j) => {
      const r = row * stride - padding + i * dilation;
      const c = col * stride - padding + j * dilation;
      const outside = r < 0 || c < 0 || r >= map.height || c >= map.width;
      return { row: r, col: c, outside, value: outside ? 0 : valueAt(map, r, c) };
    }),
  );
}

function tapBoxes(result, taps) {
  const first = taps[0][0];
  const last = taps[taps.length - 1][taps.length - 1];
  const boxes = [];
  if (result.window.dilation > 1) {
    for (const tap of taps.flat()) {
      boxes.push({
        top: tap.row,
        left: tap.col,
        bottom: tap.row,
        right: tap.col,
        colour: TAP_COLOUR,
        width: 1,
      });
    }
  }
  boxes.push({
    top: first.row,
    left: first.col,
    bottom: last.row,
    right: last.col,
    colour: TAP_COLOUR,
    width: 1,
    halo: 1,
  });
  boxes.push({
    top: first.row,
    left: first.col,
    bottom: last.row,
    right: last.col,
    colour: WINDOW_COLOUR,
    width: 3,
    halo: 3,
  });
  return boxes;
}

function unvisitedBoxes(result, map) {
  const rows = result.unvisited.rows.map((r) => ({
    top: r,
    bottom: r,
    left: 0,
    right: map.width - 1,
    colour: null,
    fill: UNVISITED_FILL,
  }));
  const cols = result.unvisited.cols.map((c) => ({
    top: 0,
    bottom: map.height - 1,
    left: c,
    right: c,
    colour: null,
    fill: UNVISITED_FILL,
  }));
  return [...rows, ...cols];
}

// While the window sweeps, the pixels it has not produced yet are faded.
function notYetBoxes(map, row, col) {
  const boxes = [];
  if (col + 1 < map.width) {
    boxes.push({
      top: row,
      bottom: row,
      left: col + 1,
      right: map.width - 1,
      colour: null,
      fill: NOT_YET_FILL,
    });
  }
  if (row + 1 < map.height) {
    boxes.push({
      top: row + 1,
      bottom: map.height - 1,
      left: 0,
      right: map.width - 1,
      colour: null,
      fill: NOT_YET_FILL,
    });
  }
  return boxes;
}

function matrixTable(matrix, caption, taps = null) {
  const rows = matrix.map((line, i) =>
    h(
      "tr",
      {},
      line.map((number, j) =>
        h("td", {
          class: taps && isPadding(taps[i][j]) ? "padding-cell" : null,
          text: formatNumber(number, 3),
        }),
      ),
    ),
  );
  return h("table", { class: "matrix" }, [h("caption", { text: caption }), h("tbody", {}, rows)]);
}

function isPadding(tap) {
  return tap.outside === true;
}

// A negative factor in a written-out product reads better in brackets: 0.5·(−1).
function factorText(number) {
  const text = formatNumber(number, 3);
  return number < 0 ? `(${text})` : text;
}

function clamp(index, size) {
  return Math.max(0, Math.min(size - 1, index));
}
