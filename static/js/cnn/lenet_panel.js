// LeNet-5 on a real handwritten digit: every layer's shape and parameter count, the feature
// maps of the forward pass, then the gradients of the backward pass with respect to the input
// and the first-layer kernels (and every layer's output). One call to POST /api/cnn/lenet5
// computes both passes; the page reveals them one after the other.

import { clear, h } from "../dom.js";
import { formatNumber, formatShape } from "../format.js";
import { ApiError, latestOnly, listDigits, runLenet } from "./api.js";
import { GREY_SCALE, legendElement } from "./colour.js";
import { MapCanvas, mapOf, mapsOf, rowMapOf } from "./heatmap.js";
import { messageOf } from "./lab.js";
import { MapGrid, listenToScale } from "./map_grid.js";

const GROUPING = new Intl.NumberFormat("en-US");

export class LenetPanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{digits: HTMLElement, forward: HTMLButtonElement, backward: HTMLButtonElement,
   *   table: HTMLElement, total: HTMLElement, input: HTMLCanvasElement,
   *   inputLegend: HTMLElement, maps: HTMLElement, detail: HTMLElement, grads: HTMLElement,
   *   gradDetail: HTMLElement, probabilities: HTMLElement, status: HTMLElement,
   *   error: HTMLElement, scale: HTMLElement, phase: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    this.digit = 0;
    this.answer = null;
    /** What is revealed: "none", "forward" or "backward". */
    this.phase = "none";
    this.run = latestOnly((digit) => runLenet(digit));
    this.valueGrid = new MapGrid(elements.maps, {
      detail: elements.detail,
      thumbSize: 64,
      detailSize: 280,
      caption: "activation",
    });
    this.gradGrid = new MapGrid(elements.grads, {
      detail: elements.gradDetail,
      thumbSize: 64,
      detailSize: 280,
      caption: "gradient ∂L/∂·",
    });
    this.inputView = new MapCanvas(elements.input, { maxSize: 160 });

    elements.forward.addEventListener("click", () => this.reveal("forward"));
    elements.backward.addEventListener("click", () => this.reveal("backward"));
    listenToScale(elements.scale, (mode) => state.setScaleMode("lenet", mode));
    state.on("scaleModeChanged", ({ view }) => view === "lenet" && this.drawMaps());
  }

  /** List the digits and fetch the first one's passes (shapes and counts show at once). */
  async start() {
    try {
      this.drawDigits(await listDigits());
    } catch (error) {
      this.showError(messageOf(error));
      return;
    }
    await this.load();
  }

  drawDigits(digits) {
    const choices = digits.map((entry) => {
      const radio = h("input", { type: "radio", name: "digit", value: entry.label });
      radio.checked = entry.label === this.digit;
      radio.addEventListener("change", () => radio.checked && this.pick(entry.label));
      return h("label", { class: "digit-choice" }, [
        radio,
        h("img", {
          src: `/static/images/digits/${entry.file}`,
          alt: `handwritten ${entry.label}`,
          width: 32,
          height: 32,
        }),
        h("span", { text: String(entry.label) }),
      ]);
    });
    clear(this.elements.digits).append(...choices);
  }

  pick(digit) {
    this.digit = digit;
    this.load();
  }

  async load() {
    this.elements.status.textContent = `Running LeNet-5 on the digit ${this.digit}…`;
    try {
      const outcome = await this.run(this.digit);
      if (outcome.stale) return;
      this.hideError();
      this.answer = outcome.answer;
      this.drawTable();
      this.drawAll();
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) this.state.raiseError(error.message);
      this.showError(messageOf(error));
    }
  }

  reveal(phase) {
    if (phase === "backward" && this.phase === "none") return;
    this.phase = phase;
    this.drawAll();
    const target = phase === "forward" ? this.elements.maps : this.elements.grads;
    target.closest(".lenet-pass")?.scrollIntoView({ block: "nearest" });
  }

  drawAll() {
    const answer = this.answer;
    if (!answer) return;
    this.elements.backward.disabled = this.phase === "none";
    this.elements.phase.dataset.phase = this.phase;
    this.elements.status.textContent = statusText(answer, this.phase);
    const [digit] = mapsOf(answer.input.value);
    this.inputView.show(digit, GREY_SCALE, `Input digit ${answer.label}, 32×32`);
    clear(this.elements.inputLegend).append(legendElement(GREY_SCALE, "ink"));
    this.drawMaps();
    this.drawProbabilities();
  }

  drawTable() {
    const answer = this.answer;
    const rows = answer.layers.map((layer) =>
      h("tr", { "data-layer": layer.name }, [
        h("th", { scope: "row", text: layer.name }),
        h("td", { text: layer.op }),
        h("td", { text: formatShape(layer.shape) }),
        h("td", { class: "num", text: GROUPING.format(layer.params) }),
      ]),
    );
    rows.unshift(
      h("tr", {}, [
        h("th", { scope: "row", text: "input" }),
        h("td", { text: "digit" }),
        h("td", { text: formatShape(answer.input_shape || [1, 32, 32]) }),
        h("td", { class: "num", text: "0" }),
      ]),
    );
    clear(this.elements.table).append(...rows);
    const total = this.elements.total;
    total.dataset.total = String(answer.total_params);
    total.textContent = GROUPING.format(answer.total_params);
  }

  drawMaps() {
    const answer = this.answer;
    if (!answer) return;
    const mode = this.state.scaleModes.lenet;
    const showValues = this.phase !== "none";
    const showGrads = this.phase === "backward";
    this.elements.maps.closest(".lenet-pass").hidden = !showValues;
    this.elements.grads.closest(".lenet-pass").hidden = !showGrads;
    if (showValues) this.valueGrid.show(valueGroups(answer), mode);
    if (showGrads) this.gradGrid.show(gradGroups(answer), mode);
  }

  drawProbabilities() {
    const answer = this.answer;
    const box = clear(this.elements.probabilities);
    if (this.phase === "none") return;
    const bars = answer.probabilities.map((p, digit) => {
      const marks = [];
      if (digit === answer.prediction) marks.push("prediction");
      if (digit === answer.label) marks.push("true label");
      return h("li", { class: marks.length ? "is-marked" : null }, [
        h("span", { class: "prob-digit", text: String(digit) }),
        h("span", { class: "prob-bar", "aria-hidden": "true" }, [
          h("span", { class: "prob-fill", style: `width: ${(100 * p).toFixed(1)}%` }),
        ]),
        // One fixed format, so 0.100 and 0.097 line up and compare at a glance.
        h("span", { class: "num", text: Number(p).toFixed(3) }),
        marks.length ? h("span", { class: "prob-mark", text: marks.join(", ") }) : null,
      ]);
    });
    box.append(
      h("h4", { text: "Softmax probabilities" }),
      h("ol", { class: "prob-list", start: 0 }, bars),
    );
  }

  showError(message) {
    this.elements.error.hidden = false;
    this.elements.error.textContent = message;
    this.elements.status.textContent = "";
  }

  hideError() {
    this.elements.error.hidden = true;
    this.elements.error.textContent = "";
  }
}

function statusText(answer, phase) {
  const loss = answer.loss !== undefined ? `, loss ${formatNumber(answer.loss, 4)}` : "";
  if (phase === "none") return `Digit ${answer.label} loaded. Run the forward pass.`;
  const guess = `predicts ${answer.prediction} for a ${answer.label}${loss}`;
  if (phase === "forward") return `Forward pass done: the network ${guess}.`;
  return `Backward pass done: gradients of the loss reach the input and the C1 kernels.`;
}

/** Every layer's output as map groups: C×H×W maps, or one row for a vector (or C×1×1). */
function layerGroups(answer, field) {
  return answer.layers.map((layer, index) => ({
    title: `${layer.name} · ${formatShape(layer.shape)}`,
    key: `layer${index}`,
    maps: mapsOfLayer(layer[field], layer.shape),
  }));
}

function mapsOfLayer(value, shape) {
  const flat = shape.length === 1 || (shape.length === 3 && shape[1] === 1 && shape[2] === 1);
  if (flat) {
    const vector = shape.length === 1 ? value : value.map((channel) => channel[0][0]);
    return [{ title: `${vector.length} values`, map: rowMapOf(vector) }];
  }
  return value.map((channel, index) => ({ title: `map ${index + 1}`, map: mapOf(channel) }));
}

function kernelGroup(kernels, field, title) {
  return {
    title,
    key: `kernels-${field}`,
    caption: field === "value" ? "weight" : "gradient ∂L/∂weight",
    maps: kernels[field].map((kernel, index) => ({
      title: `kernel ${index + 1}`,
      map: mapOf(kernel[0]),
    })),
  };
}

function valueGroups(answer) {
  const kernels = answer.kernels.C1;
  return [
    kernelGroup(kernels, "value", "C1 kernels (seeded, untrained) · 6×1×5×5"),
    ...layerGroups(answer, "value"),
  ];
}

function gradGroups(answer) {
  const kernels = answer.kernels.C1;
  return [
    {
      title: "∂L/∂input · 1×32×32",
      key: "input-grad",
      maps: [{ title: "input", map: mapOf(answer.input.grad[0]) }],
    },
    kernelGroup(kernels, "grad", "∂L/∂C1 kernels · 6×1×5×5"),
    ...layerGroups(answer, "grad").map((group) => ({ ...group, title: `∂L/∂${group.title}` })),
  ];
}
