// The side panel: everything about one node. Its formula, its input values, and for each
// input edge the chain rule with numbers (upstream × local = downstream) and the local
// derivative's formula; for a node used several times, its grad as the sum of downstreams.

import { clear, h } from "./dom.js";
import { parseNumber } from "./expression_text.js";
import { formatShape, formatValue, isTensor, rawText, shapeOf } from "./format.js";
import { mathElement } from "./math.js";
import { incomingEdges, outgoingEdges, TAIL_KEY } from "./view_model.js";

const GROUP_DOC = {
  doc:
    "A block of primitives drawn as one box. Its local gradient (block output over block " +
    "input) comes from the engine, so the chain rule works on the box as on any node.",
};

/** Tensors larger than this many rows or columns are cut with an ellipsis. */
const TABLE_LIMIT = 8;

export class InspectorPanel {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   * @param {HTMLElement} root
   */
  constructor(state, session, root) {
    this.state = state;
    this.session = session;
    this.root = root;
    for (const event of ["nodeSelected", "evaluated", "collapseToggled", "opsLoaded"]) {
      state.on(event, () => this.render());
    }
    this.render();
  }

  render() {
    clear(this.root);
    const view = this.state.view;
    const node = view && this.state.selectedId && view.nodes.get(this.state.selectedId);
    this.root.dataset.nodeId = node ? node.id : "";
    if (!node) {
      this.root.append(
        h("p", { class: "hint" }, [
          "Click a node, or Tab to it and press Enter, to see how its numbers are computed.",
        ]),
      );
      return;
    }
    this.root.append(this.header(node), ...this.body(node));
  }

  header(node) {
    const op = node.kind === "group" ? GROUP_DOC : this.state.ops.get(node.op);
    const tag = node.kind === "group" ? `block ${node.symbol}` : opTag(node);
    return h("header", { class: "inspector-head" }, [
      h("h3", { class: "inspector-title" }, [
        h("span", { class: "inspector-name", text: node.name }),
        h("span", { class: "op-tag", text: tag }),
      ]),
      op && op.doc ? h("p", { class: "op-doc", text: op.doc }) : null,
    ]);
  }

  body(node) {
    const parts = [];
    if (node.formula) {
      parts.push(mathElement(node.formula, { display: true, className: "formula" }));
    }
    parts.push(numbersList(node));
    if (node.warning) {
      parts.push(h("p", { class: "inspector-warning", text: `⚠ ${node.warning}` }));
    }
    if (node.kind === "input" && !isTensor(node.value)) parts.push(this.valueForm(node));
    if (node.kind === "group") parts.push(this.groupMembers(node));
    const incoming = incomingEdges(this.state.view, node.id);
    if (incoming.length) parts.push(this.incomingSection(node, incoming));
    if (node.kind !== "const") parts.push(this.gradSection(node));
    return parts;
  }

  valueForm(node) {
    const input = h("input", {
      id: "inspector-value",
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      value: String(node.value),
    });
    const message = h("p", { class: "field-error", role: "alert" });
    const form = h("form", { class: "value-form" }, [
      h("label", { for: "inspector-value", text: `Change ${node.name}` }),
      input,
      h("button", { type: "submit", class: "button small", text: "Set" }),
      message,
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = parseNumber(input.value);
      if (value === null) {
        message.textContent = "Type a number, for example -2 or 0.5.";
        return;
      }
      message.textContent = "";
      this.session.editInputValue(node.id, value);
    });
    return form;
  }

  groupMembers(node) {
    const evaluation = this.state.evaluation;
    const names = node.members.map((id) => {
      const member = evaluation.nodes[id];
      return member.symbol ? `${member.label || id} (${member.symbol})` : member.label || id;
    });
    return h("div", { class: "group-members" }, [
      h("p", { text: `One box for ${node.members.length} primitives: ${names.join(", ")}.` }),
      actionButton("Show the primitives", () => this.state.setCollapsed(false)),
    ]);
  }

  incomingSection(node, edges) {
    const items = edges.map((edge) => this.edgeCard(edge));
    return h("section", { class: "inspector-section" }, [
      h("h4", { text: "Backward through this node, edge by edge" }),
      h("ol", { class: "edge-cards" }, items),
    ]);
  }

  edgeCard(edge) {
    const source = this.state.view.nodes.get(edge.source);
    const card = h("li", {
      class: "edge-card",
      "data-source": edge.source,
      "data-input-index": edge.inputIndex,
    });
    card.append(
      h("p", { class: "edge-card-head" }, [
        "from ",
        h("b", { text: source.name }),
        ` (input ${edge.inputIndex + 1}), value `,
        h("span", { class: "num value-num", text: formatValue(source.value, 6) }),
      ]),
    );
    if (edge.localFormula) {
      card.append(mathElement(edge.localFormula, { display: true, className: "local-formula" }));
    }
    if (edge.downstream === null) {
      card.append(h("p", { class: "muted", text: `${source.name} is a constant: no gradient.` }));
      return card;
    }
    card.append(productRow(edge));
    if (edge.localOmitted) card.append(h("p", { class: "muted", text: edge.localOmitted }));
    appendTensors(card, edge);
    return card;
  }

  gradSection(node) {
    const view = this.state.view;
    const outgoing = outgoingEdges(view, node.id).filter((edge) => edge.key !== TAIL_KEY);
    const isOutput = node.id === view.output;
    const heading = isOutput ? "Its gradient" : "Its gradient: the sum over the edges leaving it";
    const section = h("section", { class: "inspector-section grad-sum" }, [
      h("h4", { text: heading }),
    ]);
    if (node.grad === null) {
      section.append(
        h("p", { class: "muted", text: "No gradient reaches it: the output does not use it." }),
      );
      return section;
    }
    if (isOutput) {
      section.append(
        h("p", {}, [
          "This is the output: the backward pass starts here with ",
          h("span", { class: "num grad-num", text: `∇ ${formatValue(node.grad, 6)}` }),
          ".",
        ]),
      );
      return section;
    }
    const items = outgoing.map((edge) =>
      h("li", { "data-target": edge.target }, [
        `to ${view.nodes.get(edge.target).name} (input ${edge.inputIndex + 1}): downstream `,
        h("span", { class: "num grad-num", text: `∇ ${formatValue(edge.downstream, 6)}` }),
      ]),
    );
    section.append(h("ul", { class: "outgoing" }, items), sumRow(node, outgoing));
    return section;
  }
}

function opTag(node) {
  if (node.kind === "input") return "input";
  if (node.kind === "const") return "constant";
  return node.symbol && node.symbol !== node.op ? `${node.op} ${node.symbol}` : node.op;
}

function numbersList(node) {
  const rows = [
    ["value", formatValue(node.value, 6), "value-num"],
    ["grad", node.grad === null ? "none" : `∇ ${formatValue(node.grad, 6)}`, "grad-num"],
  ];
  if (node.shape.length) rows.push(["shape", formatShape(node.shape), ""]);
  const list = h("dl", { class: "numbers" });
  for (const [term, text, kind] of rows) {
    list.append(h("dt", { text: term }), h("dd", { class: `num ${kind}`, text }));
  }
  const tables = [];
  if (isTensor(node.value)) tables.push(tensorFigure("value", node.value));
  if (isTensor(node.grad)) tables.push(tensorFigure("grad", node.grad));
  return tables.length ? h("div", {}, [list, ...tables]) : list;
}

// The chain rule for one edge, each number captioned with its role as in the course figure.
function productRow(edge) {
  const term = (kind, caption, value) =>
    h("span", { class: `term ${kind}` }, [
      h("span", { class: "num", text: formatValue(value, 4) }),
      h("span", { class: "caption", text: caption }),
    ]);
  const local = edge.local === null ? "omitted" : edge.local;
  return h(
    "p",
    {
      class: "product",
      "data-upstream": rawText(edge.upstream),
      "data-local": rawText(edge.local),
      "data-downstream": rawText(edge.downstream),
      "aria-label":
        `upstream ${formatValue(edge.upstream, 4)} times local ${formatValue(local, 4)} ` +
        `equals downstream ${formatValue(edge.downstream, 4)}`,
    },
    [
      term("upstream", "upstream", edge.upstream),
      h("span", { class: "operator", text: "×" }),
      term("local", "local", local),
      h("span", { class: "operator", text: "=" }),
      term("downstream", "downstream", edge.downstream),
    ],
  );
}

function sumRow(node, outgoing) {
  const pieces = outgoing
    .filter((edge) => edge.downstream !== null)
    .map((edge, index) => {
      const text = formatValue(edge.downstream, 6);
      return index > 0 && text.startsWith("\u2212") ? `(${text})` : text;
    });
  const text =
    pieces.length > 1
      ? `grad = sum of downstream = ${pieces.join(" + ")} = `
      : "grad = downstream of its one edge = ";
  return h("p", { class: "sum", "data-grad": rawText(node.grad) }, [
    text,
    h("span", { class: "num grad-num", text: `∇ ${formatValue(node.grad, 6)}` }),
  ]);
}

function appendTensors(card, edge) {
  for (const [name, value] of [
    ["upstream", edge.upstream],
    ["local", edge.local],
    ["downstream", edge.downstream],
  ]) {
    if (isTensor(value)) card.append(tensorFigure(name, value));
  }
}

/** A small table of a tensor's numbers (1-D and 2-D; deeper ones show their first slices). */
function tensorFigure(name, value) {
  const shape = shapeOf(value);
  let matrix = value;
  while (shapeOf(matrix).length > 2) matrix = matrix[0];
  if (shapeOf(matrix).length === 1) matrix = [matrix];
  const rows = matrix.slice(0, TABLE_LIMIT).map((row) => {
    const cells = row.slice(0, TABLE_LIMIT).map((cell) =>
      h("td", { text: formatValue(cell, 4) }),
    );
    if (row.length > TABLE_LIMIT) cells.push(h("td", { text: "…" }));
    return h("tr", {}, cells);
  });
  if (matrix.length > TABLE_LIMIT) rows.push(h("tr", {}, [h("td", { text: "⋮" })]));
  const note = shape.length > 2 ? " (first 2-D slice)" : "";
  return h("figure", { class: "tensor" }, [
    h("figcaption", { text: `${name}, shape ${formatShape(shape)}${note}` }),
    h("table", { class: "tensor-table" }, [h("tbody", {}, rows)]),
  ]);
}

function actionButton(text, onClick) {
  const button = h("button", { type: "button", class: "button small", text });
  button.addEventListener("click", onClick);
  return button;
}
