// The teacher's palette above the canvas: one button per op the engine offers (GET /api/ops),
// grouped as the API groups them, and the tools that act on the whole picture: new graph,
// connect, delete, auto-layout.

import { clear, h } from "./dom.js";

const MAIN = ["leaf", "scalar"];
const CATEGORY_TITLES = {
  leaf: "Leaves",
  scalar: "Scalar",
  tensor: "Tensor",
  loss: "Loss",
  cnn: "CNN",
};

export class Palette {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   * @param {HTMLElement} root
   */
  constructor(state, session, root) {
    this.state = state;
    this.session = session;
    this.root = root;
    state.on("opsLoaded", () => this.render());
    state.on("collapseToggled", () => this.showAvailability());
    this.render();
  }

  render() {
    clear(this.root);
    const byCategory = new Map(Object.keys(CATEGORY_TITLES).map((name) => [name, []]));
    for (const op of this.state.ops.values()) {
      const category = op.category || "other";
      byCategory.set(category, [...(byCategory.get(category) || []), op]);
    }
    const main = h("div", { class: "palette-main" });
    const more = h("div", { class: "palette-more-body" });
    for (const [category, ops] of byCategory) {
      if (!ops.length) continue;
      const row = h("div", { class: "palette-group", role: "group", "aria-label": category }, [
        h("span", { class: "palette-title", text: CATEGORY_TITLES[category] || category }),
        ...ops.map((op) => this.opButton(op)),
      ]);
      (MAIN.includes(category) ? main : more).append(row);
    }
    const tools = h("div", { class: "palette-tools" }, [
      this.tool("New graph", "palette-new", () => this.session.newGraph()),
      this.tool("Connect (C)", "palette-connect", () => this.connect()),
      this.tool("Delete (Del)", "palette-delete", () => this.deleteSelection()),
      this.tool("Auto-layout (L)", "palette-layout", () => this.session.autoLayout()),
    ]);
    const details = h("details", { class: "palette-more" }, [
      h("summary", { text: "Tensor, loss and CNN ops" }),
      more,
    ]);
    this.root.append(
      h("p", { class: "palette-help", id: "palette-help" }, [
        "Click an op to add it, then drag from a node's right dot to another node's left dot ",
        "to connect them (or use the inspector's input lists). Drag nodes to move them.",
      ]),
      main,
      details,
      tools,
    );
    this.showAvailability();
  }

  opButton(op) {
    const shown = op.symbol || op.name;
    const button = h(
      "button",
      {
        type: "button",
        class: "palette-op",
        "data-op": op.name,
        title: `${op.name}${op.doc ? `: ${op.doc}` : ""}`,
        "aria-label": `Add ${op.name}`,
      },
      [
        op.is_leaf || !op.symbol ? null : h("span", { class: "op-symbol", text: shown }),
        h("span", { class: "op-name", text: op.name }),
      ],
    );
    button.addEventListener("click", () => this.session.addNode(op.name));
    return button;
  }

  tool(text, id, onClick) {
    const button = h("button", { type: "button", class: "button small", id, text });
    button.addEventListener("click", onClick);
    return button;
  }

  connect() {
    const id = this.state.selectedId;
    if (!id || id.startsWith("group:")) {
      this.state.notify("Select the node to connect from first, then press Connect.");
      return;
    }
    this.state.startConnect(id);
  }

  deleteSelection() {
    const edge = this.state.selectedEdge;
    if (edge) {
      this.session.disconnect(edge.target, edge.inputIndex);
      return;
    }
    const id = this.state.selectedId;
    if (id && !id.startsWith("group:")) this.session.removeNode(id);
    else this.state.notify("Select a node or an edge to delete.");
  }

  /** Blocks drawn as one box cannot be edited: say so instead of failing later. */
  showAvailability() {
    const collapsed = this.state.collapsed;
    for (const button of this.root.querySelectorAll("button")) {
      if (button.id !== "palette-new") button.disabled = collapsed;
    }
    this.root.dataset.disabled = String(collapsed);
  }
}
