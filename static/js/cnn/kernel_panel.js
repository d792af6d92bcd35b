// The kernel and its window: a preset or an editable 3×3 / 5×5 grid, and the padding, stride
// and dilation controls. Every edit goes into the state; the lab re-evaluates on the events.

import { clear, h } from "../dom.js";
import { mathElement } from "../math.js";
import { KERNELS, embedded, kernelNamed } from "./kernels.js";

const LIMITS = {
  padding: [0, 64],
  stride: [1, 16],
  dilation: [1, 64],
};
const LETTERS = { padding: "P", stride: "S", dilation: "D" };
const TYPING_PAUSE_MS = 400;

export class KernelPanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{select: HTMLSelectElement, size: HTMLSelectElement, grid: HTMLElement,
   *   tex: HTMLElement, padding: HTMLInputElement, stride: HTMLInputElement,
   *   dilation: HTMLInputElement, same: HTMLButtonElement, note: HTMLElement,
   *   windowError: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    /** @type {Map<string, string>} window field → why its text was not used */
    this.refused = new Map();
    /** @type {Map<string, number>} window field → its pending read after a pause in typing */
    this.timers = new Map();
    this.fillPresets();
    this.showKernel(state.kernel);
    this.showWindow(state.window);
    state.on("kernelChanged", ({ kernel, typed }) => this.showKernel(kernel, typed));
    state.on("windowChanged", ({ window }) => this.showWindow(window));

    elements.select.addEventListener("change", () => this.pickPreset());
    elements.size.addEventListener("change", () => this.resize());
    for (const name of Object.keys(LIMITS)) {
      // A half-typed number (the 6 of 64) must not be applied: a field is read after a pause
      // in typing, or at once when committed (Enter, leaving the field, the arrows).
      elements[name].addEventListener("input", () => this.scheduleRead(name));
      elements[name].addEventListener("change", () => this.readWindow(name));
    }
    elements.same.addEventListener("click", () => this.samePadding());
  }

  fillPresets() {
    const options = KERNELS.map((kernel) =>
      h("option", { value: kernel.name, text: kernel.title }),
    );
    options.push(h("option", { value: "custom", text: "Custom" }));
    clear(this.elements.select).append(...options);
  }

  pickPreset() {
    const preset = kernelNamed(this.elements.select.value);
    if (!preset) return;
    this.state.setKernel({ name: preset.name, value: preset.value });
  }

  resize() {
    const size = Number(this.elements.size.value);
    const value = embedded(this.state.kernel.value, size);
    this.state.setKernel({ name: "custom", value });
  }

  /**
   * Draw the grid of inputs for the kernel, and its formula when it is a preset. A kernel the
   * student is typing keeps its grid, so the field being edited keeps the focus.
   */
  showKernel(kernel, typed = false) {
    const size = kernel.value.length;
    this.elements.select.value = kernel.name;
    this.elements.size.value = String(size);
    const preset = kernelNamed(kernel.name);
    clear(this.elements.tex);
    if (preset) this.elements.tex.append(mathElement(preset.tex, { display: true }));
    if (typed) return;
    const grid = clear(this.elements.grid);
    grid.dataset.size = String(size);
    kernel.value.forEach((row, r) =>
      row.forEach((number, c) => grid.append(this.cellInput(number, r, c))),
    );
  }

  /** A weight's field: rounded to read at a glance, the exact number on focus and hover. */
  cellInput(number, row, col) {
    const input = h("input", {
      type: "number",
      step: "any",
      inputmode: "decimal",
      value: String(roundForEdit(number)),
      title: String(number),
      "aria-label": `kernel weight, row ${row + 1}, column ${col + 1}`,
      "data-row": row,
      "data-col": col,
    });
    input.addEventListener("input", () => this.readCell(input, row, col));
    input.addEventListener("focus", () => {
      const exact = this.state.kernel.value[row][col];
      if (Number(input.value) === roundForEdit(exact)) input.value = String(exact);
    });
    input.addEventListener("blur", () => {
      const exact = this.state.kernel.value[row][col];
      if (Number(input.value) === exact) input.value = String(roundForEdit(exact));
    });
    return input;
  }

  readCell(input, row, col) {
    const number = Number(input.value);
    const valid = input.value.trim() !== "" && Number.isFinite(number);
    input.setAttribute("aria-invalid", valid ? "false" : "true");
    if (!valid) return;
    const value = this.state.kernel.value.map((line) => line.slice());
    value[row][col] = number;
    input.title = String(number);
    this.state.setKernel({ name: "custom", value }, true);
  }

  showWindow(window) {
    for (const name of Object.keys(LIMITS)) {
      const input = this.elements[name];
      if (this.refused.has(name) && input !== document.activeElement) {
        this.refused.delete(name);
        input.setAttribute("aria-invalid", "false");
      }
      if (!this.refused.has(name) && input.value !== String(window[name])) {
        input.value = String(window[name]);
      }
    }
    this.showRefused();
  }

  scheduleRead(name) {
    clearTimeout(this.timers.get(name));
    this.timers.set(name, setTimeout(() => this.readWindow(name), TYPING_PAUSE_MS));
  }

  /**
   * Use a field's number when it is allowed; otherwise say what is allowed, right under the
   * fields, and send nothing: the map keeps the last allowed value, and says which.
   */
  readWindow(name) {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    const input = this.elements[name];
    const problem = windowProblem(name, input.value);
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    if (problem) this.refused.set(name, problem);
    else this.refused.delete(name);
    this.showRefused();
    const number = Number(input.value);
    if (!problem && number !== this.state.window[name]) this.state.setWindow({ [name]: number });
  }

  showRefused() {
    const box = this.elements.windowError;
    const lines = [...this.refused.entries()].map(
      ([name, problem]) =>
        `${problem} The map still uses ${LETTERS[name]} = ${this.state.window[name]}.`,
    );
    box.textContent = lines.join(" ");
    box.hidden = lines.length === 0;
  }

  /** Same padding, P = D(K − 1)/2 (the course's (K − 1)/2 at dilation 1). */
  samePadding() {
    // The grid offers odd sizes only (3 and 5), so D(K − 1) is even and P is whole.
    const size = this.state.kernel.value.length;
    const total = this.state.window.dilation * (size - 1);
    this.elements.note.textContent =
      this.state.window.stride === 1 ? "" : "Same padding keeps the size only at stride 1.";
    this.state.setWindow({ padding: total / 2 });
  }
}

/** Why `text` cannot be the padding, stride or dilation, or null when it can. */
export function windowProblem(name, text) {
  const [low, high] = LIMITS[name];
  const field = `${capitalised(name)} ${LETTERS[name]}`;
  const allowed = `${field} must be a whole number from ${low} to ${high}`;
  const number = Number(text);
  if (text.trim() === "") return `${allowed}.`;
  if (!Number.isInteger(number)) return `${allowed}; ${text} is not a whole number.`;
  if (number < low || number > high) return `${allowed}; ${text} is out of range.`;
  return null;
}

function capitalised(word) {
  return word[0].toUpperCase() + word.slice(1);
}

// Presets such as 1/9 have long decimals; the grid shows four significant digits (the field
// shows every digit while it has the focus). Whole numbers and huge ones stay as they are.
function roundForEdit(number) {
  if (Number.isInteger(number) || Math.abs(number) >= 1e4) return number;
  return Number(number.toPrecision(4));
}
