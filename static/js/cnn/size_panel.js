// The output size of the kernel lab's convolution: the formula with this photo's numbers
// filled in, the size the API computed, and the rows and columns the window never visits.

import { clear, h } from "../dom.js";
import { formatShape } from "../format.js";
import { mathElement } from "../math.js";

const GENERAL = String.raw`\left\lfloor \frac{W + 2P - D(K - 1) - 1}{S} \right\rfloor + 1`;

export class SizePanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{size: HTMLElement, formula: HTMLElement, unvisited: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    state.on("convEvaluated", ({ result }) => this.showResult(result));
    state.on("convFailed", () => this.showFailure());
  }

  showResult(result) {
    const [channels, height, width] = result.shape;
    const size = this.elements.size;
    size.dataset.height = String(height);
    size.dataset.width = String(width);
    size.dataset.state = "ready";
    clear(size).append(
      h("span", { class: "size-label", text: "Output " }),
      h("strong", { class: "num", text: `${height} × ${width}` }),
      ` (H′ × W′; the tensor is ${formatShape([channels, height, width])}, C′×H′×W′)`,
    );
    this.showFormula(result.kernel.value.length, result.window, [height, width]);
    this.showUnvisited(result.unvisited, result.window.stride);
  }

  /** The API refused: both axes get their size from the formula, the too small ones marked. */
  showFailure() {
    const size = this.elements.size;
    size.dataset.state = "failed";
    delete size.dataset.height;
    delete size.dataset.width;
    clear(size).append(h("span", { class: "size-label", text: "Output: none (see the error)" }));
    const { image, kernel, window } = this.state;
    if (!image) return;
    // The API names the first axis that fails; the student needs both lines finished.
    const [, height, width] = image.shape;
    const outSize = [height, width].map((n) => outputSize(n, kernel.value.length, window));
    this.showFormula(kernel.value.length, window, outSize);
    clear(this.elements.unvisited);
  }

  /** Both axes with the numbers in, each ending in its size (marked when below 1). */
  showFormula(kernelSize, window, outSize) {
    const image = this.state.image;
    if (!image) return;
    const [, height, width] = image.shape;
    const lines = [
      ["H", height, outSize[0]],
      ["W", width, outSize[1]],
    ].map(([letter, size, out]) => axisLine(letter, size, kernelSize, window, out));
    const tex = String.raw`\begin{aligned}${lines.join(String.raw`\\[4pt]`)}\end{aligned}`;
    clear(this.elements.formula).append(
      mathElement(String.raw`W' = ${GENERAL}`, { display: true, className: "math general" }),
      mathElement(tex, { display: true }),
      h("p", {
        class: "help",
        text:
          "With dilation D = 1 this is the course's W′ = (W − K + 2P)/S + 1, rounded down " +
          "when S does not divide W − K + 2P.",
      }),
    );
  }

  showUnvisited(unvisited, stride) {
    const box = clear(this.elements.unvisited);
    const rows = unvisited.rows || [];
    const cols = unvisited.cols || [];
    box.dataset.rows = rows.join(",");
    box.dataset.cols = cols.join(",");
    if (rows.length === 0 && cols.length === 0) {
      box.textContent = `The window visits every row and column of the input (stride ${stride}).`;
      return;
    }
    box.append(
      h("strong", { text: "Never visited: " }),
      listText("row", rows),
      rows.length && cols.length ? "; " : "",
      listText("column", cols),
      `. Stride ${stride} does not tile the input, so the window stops before reaching them ` +
        "(shaded pink on the input).",
    );
  }
}

function axisLine(letter, size, kernelSize, window, out) {
  const { padding, stride, dilation } = window;
  const top = String.raw`${size} + 2\cdot ${padding} - ${dilation}\cdot(${kernelSize} - 1) - 1`;
  const numbers = String.raw`\left\lfloor \frac{${top}}{${stride}} \right\rfloor + 1`;
  const result = ` = ${out}${out < 1 ? " < 1" : ""}`;
  return String.raw`${letter}' &= ${numbers}${result}`;
}

/** ⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1 along one axis; below 1 when the kernel does not fit. */
function outputSize(size, kernelSize, window) {
  const { padding, stride, dilation } = window;
  return Math.floor((size + 2 * padding - dilation * (kernelSize - 1) - 1) / stride) + 1;
}

function listText(word, indices) {
  if (indices.length === 0) return "";
  const shown = indices.length > 12 ? `${indices.slice(0, 12).join(", ")}, …` : indices.join(", ");
  return `${word}${indices.length > 1 ? "s" : ""} ${shown}`;
}
