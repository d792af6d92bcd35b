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

export class KernelPanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{select: HTMLSelectElement, size: HTMLSelectElement, grid: HTMLElement,
   *   tex: HTMLElement, padding: HTMLInputElement, stride: HTMLInputElement,
   *   dilation: HTMLInputElement, same: HTMLButtonElement, note: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    this.fillPresets();
    this.showKernel(state.kernel);
    this.showWindow(state.window);
    state.on("kernelChanged", ({ kernel, typed }) => this.showKernel(kernel, typed));
    state.on("windowChanged", ({ window }) => this.showWindow(window));

    elements.select.addEventListener("change", () => this.pickPreset());
    elements.size.addEventListener("change", () => this.resize());
    for (const name of Object.keys(LIMITS)) {
      elements[name].addEventListener("input", () => this.readWindow(name));
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

  cellInput(number, row, col) {
    const input = h("input", {
      type: "number",
      step: "any",
      inputmode: "decimal",
      value: String(roundForEdit(number)),
      "aria-label": `kernel weight, row ${row + 1}, column ${col + 1}`,
      "data-row": row,
      "data-col": col,
    });
    input.addEventListener("input", () => this.readCell(input, row, col));
    return input;
  }

  readCell(input, row, col) {
    const number = Number(input.value);
    const valid = input.value.trim() !== "" && Number.isFinite(number);
    input.setAttribute("aria-invalid", valid ? "false" : "true");
    if (!valid) return;
    const value = this.state.kernel.value.map((line) => line.slice());
    value[row][col] = number;
    this.state.setKernel({ name: "custom", value }, true);
  }

  showWindow(window) {
    for (const name of Object.keys(LIMITS)) {
      const input = this.elements[name];
      if (Number(input.value) !== window[name]) input.value = String(window[name]);
    }
  }

  readWindow(name) {
    const input = this.elements[name];
    const number = Number(input.value);
    const [low, high] = LIMITS[name];
    const valid = input.value !== "" && Number.isInteger(number) && number >= low;
    input.setAttribute("aria-invalid", valid && number <= high ? "false" : "true");
    this.elements.note.textContent = valid && number <= high ? "" : windowHint(name, low, high);
    if (valid && number <= high) this.state.setWindow({ [name]: number });
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

function windowHint(name, low, high) {
  return `The ${name} is a whole number from ${low} to ${high}.`;
}

// Presets such as 1/16 have long decimals; the grid shows a readable number.
function roundForEdit(number) {
  return Math.round(number * 1e4) / 1e4;
}
