// The accessible twin of the drawing: one row per node with its value and gradient, filled
// in as the passes reach them, so a screen reader (or a test) reads the same numbers.

import { clear, h } from "./dom.js";
import { formatShape, formatValue, rawText } from "./format.js";
import { TERMINAL_ID } from "./view_model.js";

export class ValuesTable {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {HTMLTableSectionElement} body
   */
  constructor(state, body) {
    this.state = state;
    this.body = body;
    state.on("evaluated", () => this.render());
    state.on("viewRebuilt", () => this.render());
    state.on("collapseToggled", () => this.render());
    state.on("positionChanged", () => this.render());
    body.addEventListener("click", (event) => {
      const row = /** @type {Element} */ (event.target).closest("tr[data-node-id]");
      if (row && event.target.closest("button")) state.selectNode(row.dataset.nodeId);
    });
  }

  render() {
    const view = this.state.view;
    clear(this.body);
    if (!view) return;
    const reveal = this.state.reveal;
    for (const node of view.nodes.values()) {
      if (node.id === TERMINAL_ID) continue;
      const leaf = node.kind === "input" || node.kind === "const";
      const valueShown = leaf || reveal.valueShown(node.id);
      const gradShown = node.grad !== null && reveal.gradShown(node.id);
      this.body.append(row(node, valueShown, gradShown));
    }
  }
}

/** A dash on screen, words for a screen reader. */
function notYet(words) {
  return [
    h("span", { "aria-hidden": "true", text: "—" }),
    h("span", { class: "visually-hidden", text: words }),
  ];
}

function row(node, valueShown, gradShown) {
  const inspect = h("button", { type: "button", class: "link-button", text: node.name });
  let grad = notYet("not reached yet");
  if (node.grad === null) grad = ["none"];
  else if (gradShown) grad = [formatValue(node.grad, 6)];
  const symbol = node.symbol !== node.op ? node.symbol : "";
  const kind = node.kind === "op" ? `${node.op} ${symbol}`.trim() : node.kind;
  return h(
    "tr",
    {
      "data-node-id": node.id,
      "data-value": valueShown ? rawText(node.value) : null,
      "data-grad": gradShown ? rawText(node.grad) : null,
    },
    [
      h("th", { scope: "row" }, [inspect]),
      h("td", { text: kind }),
      h(
        "td",
        { class: "num value-num" },
        valueShown ? [formatValue(node.value, 6)] : notYet("not computed yet"),
      ),
      h("td", { class: "num grad-num" }, grad),
      h("td", { class: "shape", text: formatShape(node.shape) }),
    ],
  );
}
