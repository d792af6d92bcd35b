// Batch normalization on a small batch (4 samples × 3 features): the per-feature mean and
// variance, the normalised output with γ and β, and the difference between training mode
// (the batch's own statistics, and a step of the running statistics) and evaluation mode (the
// running statistics). Every number comes from POST /api/evaluate; the updated running
// statistics come back in the batch_norm node's `aux`.

import { clear, h } from "../dom.js";
import { formatNumber } from "../format.js";
import { ApiError, evaluate, latestOnly } from "./api.js";
import { colourOf, legendElement, scaleFor } from "./colour.js";
import { mapOf } from "./heatmap.js";
import { messageOf } from "./lab.js";

const FEATURES = 3;
const START_BATCH = [
  [1, -2, 0.5],
  [3, 0, 2.5],
  [-1, 4, 1],
  [2, 1, -3],
];

/** The program: the batch's statistics as nodes of their own, then the layer itself. */
export function batchNormProgram(training) {
  return [
    "mu = mean(x, axis=0)",
    "centred = x - mu",
    "var = mean(centred * centred, axis=0)",
    `y = batch_norm(x, gamma, beta, running_mean, running_var, training=${
      training ? "True" : "False"
    })`,
  ].join("\n");
}

export class BatchNormPanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{batch: HTMLElement, batchError: HTMLElement, params: HTMLElement,
   *   modes: HTMLElement, step: HTMLButtonElement, reset: HTMLButtonElement,
   *   stats: HTMLElement, output: HTMLElement, legend: HTMLElement, status: HTMLElement,
   *   error: HTMLElement, program: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    this.batch = START_BATCH.map((row) => row.slice());
    this.gamma = Array(FEATURES).fill(1);
    this.beta = Array(FEATURES).fill(0);
    this.running = { mean: Array(FEATURES).fill(0), var: Array(FEATURES).fill(1) };
    this.steps = 0;
    this.training = true;
    this.stepping = false;
    this.send = latestOnly((payload) => evaluate(payload));

    this.drawBatch();
    this.drawParams();
    for (const radio of elements.modes.querySelectorAll("input[type=radio]")) {
      radio.addEventListener("change", () => radio.checked && this.setMode(radio.value));
    }
    elements.step.addEventListener("click", () => this.takeStep());
    elements.reset.addEventListener("click", () => this.resetRunning());
  }

  start() {
    return this.refresh();
  }

  drawBatch() {
    const head = h("tr", {}, [
      h("th", { scope: "col", text: "sample" }),
      ...this.gamma.map((_, j) => h("th", { scope: "col", text: `feature ${j + 1}` })),
    ]);
    const rows = this.batch.map((row, i) =>
      h("tr", {}, [
        h("th", { scope: "row", text: `x${subscript(i + 1)}` }),
        ...row.map((value, j) => h("td", {}, [this.numberInput(value, i, j)])),
      ]),
    );
    clear(this.elements.batch).append(h("thead", {}, [head]), h("tbody", {}, rows));
  }

  numberInput(value, i, j) {
    const input = h("input", {
      type: "number",
      step: "0.5",
      value: String(value),
      "aria-label": `sample ${i + 1}, feature ${j + 1}`,
    });
    input.addEventListener("input", () => this.readBatch(input, i, j));
    // Leaving a field without a number puts back the one the tables use.
    input.addEventListener("change", () => {
      if (input.getAttribute("aria-invalid") !== "true") return;
      input.value = String(this.batch[i][j]);
      this.readBatch(input, i, j);
    });
    return input;
  }

  /** Use a batch field's number; without one, say so and name the value still in use. */
  readBatch(input, i, j) {
    const number = Number(input.value);
    const valid = input.value.trim() !== "" && Number.isFinite(number);
    input.setAttribute("aria-invalid", valid ? "false" : "true");
    const message = this.elements.batchError;
    message.hidden = valid;
    message.textContent = valid
      ? ""
      : `x${subscript(i + 1)}, feature ${j + 1} needs a number; the tables still use ` +
        `${formatNumber(this.batch[i][j], 4)}.`;
    if (!valid || number === this.batch[i][j]) return;
    this.batch[i][j] = number;
    this.refresh();
  }

  drawParams() {
    const rows = [];
    for (const [name, symbol, values, low, high] of [
      ["gamma", "γ", this.gamma, -3, 3],
      ["beta", "β", this.beta, -3, 3],
    ]) {
      values.forEach((value, j) => {
        const id = `bn-${name}-${j + 1}`;
        const shown = h("output", { for: id, class: "num", text: formatNumber(value, 3) });
        const slider = h("input", {
          type: "range",
          id,
          min: low,
          max: high,
          step: 0.1,
          value: String(value),
        });
        slider.addEventListener("input", () => {
          values[j] = Number(slider.value);
          shown.textContent = formatNumber(values[j], 3);
          this.refresh();
        });
        rows.push(
          h("div", { class: "param-row" }, [
            h("label", { for: id, text: `${symbol}${subscript(j + 1)}` }),
            slider,
            shown,
          ]),
        );
      });
    }
    clear(this.elements.params).append(...rows);
  }

  setMode(mode) {
    this.training = mode === "train";
    this.elements.step.disabled = !this.training;
    this.refresh();
  }

  payload() {
    return {
      expression: batchNormProgram(this.training),
      inputs: {
        x: this.batch,
        gamma: this.gamma,
        beta: this.beta,
        running_mean: this.running.mean,
        running_var: this.running.var,
      },
    };
  }

  async refresh() {
    this.elements.program.textContent = batchNormProgram(this.training);
    try {
      const outcome = await this.send(this.payload());
      if (outcome.stale) return;
      this.hideError();
      this.show(outcome.answer);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) this.state.raiseError(error.message);
      this.showError(messageOf(error));
    }
  }

  /** Training step: keep the running statistics the API computed for this batch. */
  async takeStep() {
    if (!this.training || this.stepping) return;
    this.stepping = true;
    this.elements.step.disabled = true;
    try {
      const aux = auxOf(await evaluate(this.payload()));
      if (!aux) throw new Error("The API did not send the updated running statistics (aux).");
      this.running = { mean: aux.running_mean.map(Number), var: aux.running_var.map(Number) };
      this.steps += 1;
    } catch (error) {
      this.showError(messageOf(error));
    } finally {
      this.stepping = false;
      this.elements.step.disabled = !this.training;
    }
    await this.refresh();
  }

  resetRunning() {
    this.running = { mean: Array(FEATURES).fill(0), var: Array(FEATURES).fill(1) };
    this.steps = 0;
    this.refresh();
  }

  show(answer) {
    const nodes = answer.nodes;
    const aux = auxOf(answer);
    this.drawStats(nodes.mu.value, nodes.var.value, aux);
    this.drawOutput(nodes.y.value);
    const steps = `${this.steps} training step${this.steps === 1 ? "" : "s"}`;
    const used = this.training
      ? "the batch's own mean and (biased) variance"
      : `the running statistics (after ${steps})`;
    const mode = this.training ? "Training" : "Evaluation";
    this.elements.status.textContent = `${mode} mode: y is normalised with ${used}.`;
  }

  drawStats(mean, variance, aux) {
    const row = (label, values, className = "") =>
      h("tr", { class: className }, [
        h("th", { scope: "row", text: label }),
        ...values.map((value) => h("td", { class: "num", text: formatNumber(value, 4) })),
      ]);
    const steps = `${this.steps} step${this.steps === 1 ? "" : "s"}`;
    const batchUse = this.training ? "is-used" : "";
    const runningUse = this.training ? "" : "is-used";
    const rows = [
      row("batch mean μ", mean, batchUse),
      row("batch variance σ²", variance, batchUse),
      row(`running mean (${steps})`, this.running.mean, runningUse),
      row(`running variance (${steps})`, this.running.var, runningUse),
    ];
    if (this.training && aux) {
      rows.push(row("running mean after this step", aux.running_mean, "is-next"));
      rows.push(row("running variance after this step", aux.running_var, "is-next"));
    }
    const head = h("tr", {}, [
      h("th", { scope: "col", text: "per feature" }),
      ...this.gamma.map((_, j) => h("th", { scope: "col", text: `feature ${j + 1}` })),
    ]);
    clear(this.elements.stats).append(h("thead", {}, [head]), h("tbody", {}, rows));
  }

  drawOutput(value) {
    const map = mapOf(value);
    const scale = scaleFor([map]);
    const head = h("tr", {}, [
      h("th", { scope: "col", text: "sample" }),
      ...this.gamma.map((_, j) => h("th", { scope: "col", text: `y, feature ${j + 1}` })),
    ]);
    const rows = value.map((line, i) =>
      h("tr", {}, [
        h("th", { scope: "row", text: `y${subscript(i + 1)}` }),
        ...line.map((number) => heatCell(scale, Number(number))),
      ]),
    );
    clear(this.elements.output).append(h("thead", {}, [head]), h("tbody", {}, rows));
    clear(this.elements.legend).append(legendElement(scale, "y (this table)"));
  }

  showError(message) {
    this.elements.error.hidden = false;
    this.elements.error.textContent = message;
  }

  hideError() {
    this.elements.error.hidden = true;
    this.elements.error.textContent = "";
  }
}

/** The running statistics the API returned for the batch_norm node, if it sent them. */
function auxOf(answer) {
  const node = answer.nodes && answer.nodes.y;
  return (node && node.aux) || (answer.aux && answer.aux.y) || null;
}

// A cell coloured by the scale; dark colours get light text so the number stays readable.
function heatCell(scale, number) {
  const [red, green, blue] = colourOf(scale, number);
  const light = 0.299 * red + 0.587 * green + 0.114 * blue > 140;
  return h("td", {
    class: `num heat-cell${light ? "" : " on-dark"}`,
    style: `background: rgb(${red} ${green} ${blue})`,
    text: formatNumber(number, 4),
  });
}

function subscript(number) {
  return String(number).replace(/\d/g, (digit) => "₀₁₂₃₄₅₆₇₈₉"[Number(digit)]);
}
