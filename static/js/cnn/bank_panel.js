// A bank of kernels: several 3×3 kernels applied to the photo at once, one activation map per
// kernel, and the output volume's shape C′×H′×W′ as the API computed it. The window (padding,
// stride, dilation) is the kernel lab's.

import { clear, h } from "../dom.js";
import { formatShape } from "../format.js";
import { ApiError, evaluate, latestOnly } from "./api.js";
import { mapsOf } from "./heatmap.js";
import { convExpression, messageOf, tooLargeMessageOf } from "./lab.js";
import { BANK_DEFAULT, KERNELS } from "./kernels.js";
import { MapGrid, listenToScale } from "./map_grid.js";

export class BankPanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{choices: HTMLElement, shape: HTMLElement, maps: HTMLElement, detail: HTMLElement,
   *   error: HTMLElement, scale: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    this.chosen = new Set(BANK_DEFAULT);
    this.grid = new MapGrid(elements.maps, {
      detail: elements.detail,
      thumbSize: 260,
      detailSize: 380,
      caption: "activation",
    });
    this.convolve = latestOnly((image, names, window) => convolveBank(image, names, window));
    this.groups = [];
    this.drawChoices();
    listenToScale(elements.scale, (mode) => state.setScaleMode("bank", mode));

    state.on("imageLoaded", () => this.evaluate());
    state.on("windowChanged", () => this.evaluate());
    state.on("scaleModeChanged", ({ view }) => view === "bank" && this.redraw());
  }

  drawChoices() {
    const boxes = KERNELS.map((kernel) => {
      const input = h("input", { type: "checkbox", value: kernel.name });
      input.checked = this.chosen.has(kernel.name);
      input.addEventListener("change", () => this.toggle(kernel.name, input.checked));
      return h("label", { class: "toggle" }, [input, h("span", { text: kernel.title })]);
    });
    clear(this.elements.choices).append(...boxes);
  }

  toggle(name, on) {
    if (on) this.chosen.add(name);
    else this.chosen.delete(name);
    this.evaluate();
  }

  async evaluate() {
    const image = this.state.image;
    if (!image) return;
    const names = KERNELS.map((kernel) => kernel.name).filter((name) => this.chosen.has(name));
    if (names.length === 0) {
      this.showError("Choose at least one kernel for the bank.");
      return;
    }
    try {
      const outcome = await this.convolve(image, names, this.state.window);
      if (outcome.stale) return;
      this.show(outcome.answer);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) this.state.raiseError(error.message);
      const advice = "Turn down the padding P in the kernel lab, or tick fewer kernels.";
      this.showError(tooLargeMessageOf(error, advice) || messageOf(error));
    }
  }

  show(answer) {
    this.hideError();
    const [channels, height, width] = answer.shape;
    const shape = this.elements.shape;
    shape.dataset.shape = answer.shape.join(",");
    clear(shape).append(
      "Output volume ",
      h("strong", { class: "num", text: formatShape(answer.shape) }),
      ` (C′ × H′ × W′: ${channels} kernels, each a ${height} × ${width} map)`,
    );
    this.groups = [
      {
        title: `Bank of ${channels} kernels`,
        key: "bank",
        maps: answer.maps.map((map, index) => ({ title: answer.titles[index], map })),
      },
    ];
    this.redraw();
  }

  redraw() {
    if (this.groups.length) this.grid.show(this.groups, this.state.scaleModes.bank);
  }

  // Maps of an earlier window would answer a question the student no longer asks.
  showError(message) {
    this.elements.error.hidden = false;
    this.elements.error.textContent = message;
    this.elements.shape.textContent = "";
    this.groups = [];
    clear(this.elements.maps);
    clear(this.elements.detail);
  }

  hideError() {
    this.elements.error.hidden = true;
    this.elements.error.textContent = "";
  }
}

async function convolveBank(image, names, window) {
  const kernels = names.map((name) => KERNELS.find((kernel) => kernel.name === name));
  const answer = await evaluate({
    expression: convExpression(window),
    inputs: { img: image.value, k: kernels.map((kernel) => [kernel.value]) },
  });
  const output = answer.nodes[answer.output];
  return {
    shape: output.shape,
    maps: mapsOf(output.value),
    titles: kernels.map((kernel) => kernel.title),
  };
}
