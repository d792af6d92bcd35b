// The side panel: everything about one node or one edge. For a node: its formula, its values,
// for each input edge the chain rule with numbers (upstream × local = downstream; for tensors
// the three as heat-mapped matrices and downstream = upstream · J in rendered math), and its
// grad as the sum of downstreams. On the teacher's page it also edits the node; on a student's
// page it asks for predictions of the numbers the teacher hid.

import { clear, h } from "./dom.js";
import { parseNumber } from "./expression_text.js";
import {
  formatShape,
  formatValue,
  isHidden,
  isTensor,
  rawText,
  sizeOf,
  toNumber,
} from "./format.js";
import { slotCount } from "./graph_edit.js";
import { literal } from "./graph_text.js";
import { heatTable, indexText } from "./heatmap.js";
import { mathElement } from "./math.js";
import { isClose, parseGuess, TOLERANCE } from "./predict.js";
import { incomingEdges, outgoingEdges, TAIL_KEY, TERMINAL_ID } from "./view_model.js";

const GROUP_DOC = {
  doc:
    "A block of primitives drawn as one box. Its local gradient (block output over block " +
    "input) comes from the engine, so the chain rule works on the box as on any node.",
};

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
    /** The last verdict on a prediction, kept across redraws: {key, text, right}. */
    this.verdict = null;
    const events = ["nodeSelected", "edgeSelected", "evaluated", "collapseToggled", "opsLoaded"];
    for (const event of [...events, "viewRebuilt"]) state.on(event, () => this.render());
    this.render();
  }

  render() {
    // Rebuilding replaces the focused field as well: put the focus back on its successor, so
    // a keyboard user who has just set a value is still in the inspector, not at the page top.
    const active = document.activeElement;
    const focusedId = active && this.root.contains(active) ? active.id : "";
    this.build();
    const successor = focusedId && document.getElementById(focusedId);
    if (successor && this.root.contains(successor)) successor.focus();
  }

  build() {
    clear(this.root);
    const view = this.state.view;
    const edge = this.state.selectedEdge;
    const node = view && this.state.selectedId && view.nodes.get(this.state.selectedId);
    this.root.dataset.nodeId = node ? node.id : "";
    this.root.dataset.edgeKey = edge ? edge.key : "";
    if (edge) {
      this.root.append(...this.edgeView(edge));
      return;
    }
    if (!node) {
      this.root.append(
        h("p", { class: "hint" }, [
          "Click a node or an edge, or Tab to a node and press Enter, to see how its numbers " +
            "are computed.",
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
      parts.push(mathElement(node.formula, { display: true, wrap: true, className: "formula" }));
    }
    parts.push(numbersList(node));
    if (node.warning) {
      parts.push(h("p", { class: "inspector-warning", text: `⚠ ${node.warning}` }));
    }
    if (this.state.mode === "view") parts.push(...this.predictions(node));
    if (node.kind === "input") parts.push(this.valueArea(node));
    if (node.kind === "const" && this.state.mode === "edit") parts.push(this.valueArea(node));
    if (node.kind === "group") parts.push(this.groupMembers(node));
    if (this.canEdit(node)) parts.push(this.editSection(node));
    const incoming = incomingEdges(this.state.view, node.id);
    if (incoming.length) parts.push(this.incomingSection(node, incoming));
    if (node.kind !== "const" && !this.state.view.draft) parts.push(this.gradSection(node));
    return parts;
  }

  canEdit(node) {
    return this.state.mode === "edit" && !this.state.collapsed && node.kind !== "group";
  }

  // ---- values ----------------------------------------------------------------------------

  valueArea(node) {
    if (!this.state.canChangeValue(node.id)) {
      return h("p", { class: "muted locked-note", text: "🔒 The teacher locked this input." });
    }
    if (isHidden(node.value)) return h("p", { class: "muted", text: "Predict it first." });
    return isTensor(node.value) ? this.tensorForm(node) : this.valueForm(node);
  }

  valueForm(node) {
    const input = h("input", {
      id: "inspector-value",
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      value: String(node.value ?? ""),
    });
    const message = h("p", { class: "field-error", role: "alert" });
    const form = h("form", { class: "value-form" }, [
      h("label", { for: "inspector-value", text: `Change ${node.name}` }),
      input,
      h("button", {
        type: "submit",
        id: "inspector-value-set",
        class: "button small",
        text: "Set",
      }),
      message,
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = parseNumber(input.value);
      if (value === null) {
        message.textContent = "Type a finite number, for example -2 or 0.5.";
        return;
      }
      message.textContent = "";
      this.setValue(node, value);
    });
    return form;
  }

  /** A tensor's numbers as a literal to edit, e.g. [[1, 2], [3, 4]]. */
  tensorForm(node) {
    const area = h("textarea", {
      id: "inspector-tensor",
      rows: 3,
      spellcheck: "false",
      text: literal(node.value),
    });
    const message = h("p", { class: "field-error", role: "alert" });
    const form = h("form", { class: "value-form tensor-form" }, [
      h("label", { for: "inspector-tensor", text: `Change ${node.name} (nested lists)` }),
      area,
      h("button", { type: "submit", class: "button small", text: "Set" }),
      message,
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = parseTensor(area.value);
      if (value === null) {
        message.textContent = "Type numbers in brackets, for example [[1, 2], [3, 4]].";
        return;
      }
      message.textContent = "";
      this.setValue(node, value);
    });
    return form;
  }

  setValue(node, value) {
    if (node.kind === "const") {
      this.session.editGraph(`set ${node.id}`, (graph) => {
        graph.nodes.find((entry) => entry.id === node.id).value = value;
        return graph;
      });
      return;
    }
    this.session.editInputValue(node.id, value);
  }

  // ---- predictions (student's page) -----------------------------------------------------

  predictions(node) {
    const forms = [];
    for (const part of ["value", "grad"]) {
      const shown = part === "value" ? node.value : node.grad;
      const key = `${node.id}:${part}`;
      if (isHidden(shown)) forms.push(this.predictForm(node, part));
      else if (this.verdict && this.verdict.key === key) forms.push(verdictLine(this.verdict));
    }
    return forms;
  }

  predictForm(node, part) {
    const truth = this.trueNumber(node.id, part);
    const what = part === "value" ? `the value of ${node.name}` : `∇${node.name}, its gradient`;
    const id = `predict-${part}`;
    const input = h("input", { id, type: "text", inputmode: "decimal", autocomplete: "off" });
    const feedback = h("p", { class: "predict-feedback", "aria-live": "polite" });
    const reveal = h("button", { type: "button", class: "button small", text: "Reveal" });
    const form = h("form", { class: "predict-form", "data-part": part }, [
      h("label", { for: id, text: `Predict ${what}` }),
      h("div", { class: "predict-row" }, [
        input,
        h("button", { type: "submit", class: "button small primary", text: "Check" }),
        reveal,
      ]),
      h("p", {
        class: "help",
        text:
          "Write -0.25, -0,25 or -1/4. Right means within " +
          `${TOLERANCE.relative * 100}% (or ${TOLERANCE.absolute}).`,
      }),
      feedback,
    ]);
    if (isTensor(truth)) {
      input.disabled = true;
      input.placeholder = "a tensor: reveal it";
    }
    const key = `${node.id}:${part}`;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const guess = parseGuess(input.value);
      if (guess === null || isTensor(truth)) {
        feedback.textContent = "Type a number, for example -0.25, -0,25 or -1/4.";
        return;
      }
      const shown = formatValue(truth, 6);
      if (!isClose(guess, toNumber(truth))) {
        feedback.dataset.verdict = "wrong";
        feedback.textContent = `Not quite: ${formatValue(guess, 6)} is off. Try again or reveal.`;
        return;
      }
      this.verdict = { key, right: true, text: `Right: ${what} is ${shown}.` };
      this.state.revealNumber(node.id, part);
    });
    reveal.addEventListener("click", () => {
      this.verdict = { key, right: false, text: `Revealed: ${what} is ${formatValue(truth, 6)}.` };
      this.state.revealNumber(node.id, part);
    });
    return form;
  }

  /** The unmasked number behind a hidden one (the API's answer itself). */
  trueNumber(id, part) {
    const node = this.state.evaluation.nodes[id];
    return part === "value" ? node.value : node.grad;
  }

  // ---- editing (teacher's page) ----------------------------------------------------------

  editSection(node) {
    const section = h("section", { class: "inspector-section edit-section" }, [
      h("h4", { text: "Edit" }),
      this.nameForm(node),
    ]);
    if (node.kind === "op") {
      section.append(this.inputsForm(node));
      const attrs = this.state.ops.get(node.op)?.attrs || [];
      if (attrs.length) section.append(this.attrsForm(node, attrs));
    }
    section.append(this.teachingForm(node), this.nodeActions(node));
    return section;
  }

  nameForm(node) {
    const name = h("input", {
      id: "inspector-name",
      type: "text",
      value: node.id,
      autocomplete: "off",
      spellcheck: "false",
    });
    const label = h("input", {
      id: "inspector-label",
      type: "text",
      value: node.label || "",
      autocomplete: "off",
      placeholder: "optional",
    });
    const form = h("form", { class: "name-form" }, [
      h("label", { for: "inspector-name", text: "Name (id)" }),
      name,
      h("label", { for: "inspector-label", text: "Label shown" }),
      label,
      h("button", { type: "submit", class: "button small", text: "Rename" }),
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const id = name.value.trim();
      const text = label.value.trim();
      let current = node.id;
      if (id && id !== node.id && this.session.rename(node.id, id)) current = id;
      if (text !== (node.label || "")) this.session.setLabel(current, text);
    });
    return form;
  }

  /** One select per input slot: the keyboard way to connect nodes. */
  inputsForm(node) {
    const op = this.state.ops.get(node.op);
    const slots = slotCount(node.inputs, op?.arity);
    const others = [...this.state.view.nodes.values()].filter(
      (other) => other.id !== node.id && other.kind !== "terminal",
    );
    const rows = [];
    for (let index = 0; index < slots; index += 1) {
      const id = `inspector-input-${index}`;
      const current = node.inputs[index] ?? "";
      const select = h("select", { id, "data-index": index }, [
        h("option", { value: "", text: "— not connected —" }),
        ...others.map((other) =>
          h("option", { value: other.id, text: other.id, selected: other.id === current }),
        ),
      ]);
      select.addEventListener("change", () => {
        if (!select.value) this.session.disconnect(node.id, index);
        // A refused connection (a cycle) leaves the graph as it was: so must the select.
        else if (!this.session.connect(select.value, node.id, index)) select.value = current;
      });
      const argName = op?.input_names?.[index] ?? op?.arg_names?.[index];
      const text = `Input ${index + 1}${argName ? ` (${argName})` : ""}`;
      rows.push(h("label", { for: id, text }), select);
    }
    return h("div", { class: "inputs-form" }, rows);
  }

  attrsForm(node, attrs) {
    const rows = [];
    for (const attr of attrs) {
      const id = `inspector-attr-${attr.name}`;
      const value = this.attrValue(node.id, attr.name);
      const field = h("input", {
        id,
        type: "text",
        autocomplete: "off",
        placeholder: `default ${keywordText(attr.default)}`,
        value: value === undefined ? "" : keywordText(value),
        title: attr.doc || "",
      });
      field.addEventListener("change", () => {
        this.session.setAttr(node.id, attr.name, parseKeyword(field.value));
      });
      rows.push(h("label", { for: id, text: attr.name }), field);
    }
    return h("div", { class: "attrs-form" }, [
      h("p", { class: "muted", text: "Attributes (empty means the default):" }),
      h("div", { class: "attrs-grid" }, rows),
    ]);
  }

  attrValue(id, name) {
    const graph = this.state.source.graph || this.state.evaluation.graph;
    return graph?.nodes.find((node) => node.id === id)?.attrs?.[name];
  }

  teachingForm(node) {
    const source = this.state.source;
    const boxes = [
      checkbox(
        "inspector-hidden",
        "Students predict its numbers before they see them",
        (source.hidden || []).includes(node.id),
        () => this.session.toggleHidden(node.id),
      ),
    ];
    if (node.kind === "input") {
      boxes.push(
        checkbox(
          "inspector-locked",
          "Locked: students cannot change it",
          (source.locked || []).includes(node.id),
          () => this.session.toggleLocked(node.id),
        ),
      );
    }
    return h("div", { class: "teaching-form" }, boxes);
  }

  nodeActions(node) {
    const actions = [];
    if (this.state.view.output !== node.id) {
      actions.push(actionButton("Make it the output", () => this.session.setOutput(node.id)));
    }
    const remove = actionButton("Delete node", () => this.session.removeNode(node.id));
    remove.classList.add("danger");
    actions.push(remove);
    return h("div", { class: "node-actions" }, actions);
  }

  // ---- edges -----------------------------------------------------------------------------

  /** The inspector for one selected edge. */
  edgeView(edge) {
    const view = this.state.view;
    const source = view.nodes.get(edge.source);
    const target = view.nodes.get(edge.target);
    const parts = [
      h("header", { class: "inspector-head" }, [
        h("h3", { class: "inspector-title" }, [
          h("span", { class: "inspector-name", text: `${source.name} → ${target.name}` }),
          h("span", { class: "op-tag", text: `edge, input ${edge.inputIndex + 1}` }),
        ]),
        h("p", {
          class: "op-doc",
          text:
            `Carries ${source.name} (${shapeWords(edge.shape)}) into ${target.name} ` +
            `(${shapeWords(edge.targetShape)}).`,
        }),
      ]),
      h("ol", { class: "edge-cards" }, [this.edgeCard(edge)]),
    ];
    const actions = [actionButton(`Inspect ${target.name}`, () => this.selectNode(target.id))];
    if (this.state.mode === "edit" && !this.state.collapsed) {
      const cut = actionButton("Disconnect", () =>
        this.session.disconnect(edge.target, edge.inputIndex),
      );
      cut.classList.add("danger");
      actions.push(cut);
    }
    parts.push(h("div", { class: "node-actions" }, actions));
    return parts;
  }

  selectNode(id) {
    this.state.selectNode(id === TERMINAL_ID ? this.state.view.output : id);
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
      "data-edge-key": edge.key,
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
      const options = { display: true, wrap: true, className: "local-formula" };
      card.append(mathElement(edge.localFormula, options));
    }
    if (this.state.view.draft) {
      card.append(h("p", { class: "muted", text: "Numbers appear once the graph is complete." }));
      return card;
    }
    if (edge.downstream === null) {
      card.append(h("p", { class: "muted", text: `${source.name} is a constant: no gradient.` }));
      return card;
    }
    if (isTensorEdge(edge)) {
      this.appendTensorChain(card, edge);
      return card;
    }
    card.append(productRow(edge));
    if (edge.localOmitted) card.append(h("p", { class: "muted", text: edge.localOmitted }));
    const note = infinityNote(edge);
    if (note) card.append(h("p", { class: `muted ${note.kind}`, text: note.text }));
    return card;
  }

  /** downstream = upstream · J, in math and as three heat-mapped matrices. */
  appendTensorChain(card, edge) {
    const view = this.state.view;
    const names = {
      output: view.output ? view.nodes.get(view.output).name : "L",
      target: view.nodes.get(edge.target).name,
      source: view.nodes.get(edge.source).name,
    };
    const rows = sizeOf(edge.targetShape);
    const cols = sizeOf(edge.shape);
    card.append(
      mathElement(identityTex(names, rows, cols), {
        display: true,
        wrap: true,
        className: "identity",
      }),
      h("p", {
        class: "muted small",
        text:
          "Each tensor read as one row of numbers (row-major). J has a row per entry of " +
          `${names.target} and a column per entry of ${names.source}: ` +
          "downstream[j] = Σᵢ upstream[i] · J[i, j].",
      }),
    );
    const upstream = `upstream ∂${names.output}/∂${names.target}`;
    card.append(this.tensorPart("upstream", upstream, edge));
    if (edge.localOmitted) {
      card.append(h("p", { class: "local-omitted muted", text: edge.localOmitted }));
    } else if (edge.local !== null) {
      card.append(this.jacobianPart(edge, names, rows, cols));
    }
    const downstream = `downstream ∂${names.output}/∂${names.source}`;
    card.append(this.tensorPart("downstream", downstream, edge));
  }

  tensorPart(role, caption, edge) {
    const value = edge[role];
    if (isHidden(value)) return hiddenNote(caption);
    const shape = role === "upstream" ? edge.targetShape : edge.shape;
    return heatTable(value, { role, caption: `${caption}, shape ${formatShape(shape)}` });
  }

  jacobianPart(edge, names, rows, cols) {
    const caption = `local J = ∂${names.target}/∂${names.source}`;
    if (isHidden(edge.local)) return hiddenNote(caption);
    const cellName = (flat) => {
      const row = indexText(Math.floor(flat / cols), edge.targetShape);
      const col = indexText(flat % cols, edge.shape);
      return `∂${names.target}[${row}]/∂${names.source}[${col}]`;
    };
    return heatTable(edge.local, {
      role: "local",
      caption: `${caption}, ${rows}×${cols}`,
      columns: cols,
      shape: [rows, cols],
      cellName,
    });
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
    ["value", node.value === null ? "not yet" : formatValue(node.value, 6), "value-num"],
    ["grad", node.grad === null ? "none" : `∇ ${formatValue(node.grad, 6)}`, "grad-num"],
  ];
  if (node.shape.length) rows.push(["shape", formatShape(node.shape), ""]);
  const list = h("dl", { class: "numbers" });
  for (const [term, text, kind] of rows) {
    list.append(h("dt", { text: term }), h("dd", { class: `num ${kind}`, text }));
  }
  const tables = [];
  const shape = formatShape(node.shape);
  if (isTensor(node.value)) {
    tables.push(heatTable(node.value, { role: "value", caption: `value, shape ${shape}` }));
  }
  if (isTensor(node.grad)) {
    tables.push(heatTable(node.grad, { role: "grad", caption: `grad, shape ${shape}` }));
  }
  return tables.length ? h("div", {}, [list, ...tables]) : list;
}

function shapeWords(shape) {
  return shape.length ? `shape ${formatShape(shape)}` : "a scalar";
}

function isTensorEdge(edge) {
  return [edge.value, edge.upstream, edge.local, edge.downstream].some(isTensor);
}

/** ∂L/∂x = ∂L/∂f · ∂f/∂x with the sizes of the flattened factors under each one. */
function identityTex(names, rows, cols) {
  const [out, target, source] = [names.output, names.target, names.source].map(texName);
  const d = (top, bottom) => `\\frac{\\partial ${top}}{\\partial ${bottom}}`;
  return (
    `\\underbrace{${d(out, source)}}_{\\text{downstream}\\;1\\times ${cols}}` +
    ` = \\underbrace{${d(out, target)}}_{\\text{upstream}\\;1\\times ${rows}}` +
    `\\,\\cdot\\,\\underbrace{${d(target, source)}}_{J\\;${rows}\\times ${cols}}`
  );
}

/** A name safe inside KaTeX: letters, digits and escaped underscores only. */
function texName(name) {
  const safe = String(name).replace(/[^A-Za-z0-9_]/g, "") || "v";
  return `\\mathrm{${safe.replace(/_/g, "\\_")}}`;
}

function hiddenNote(caption) {
  return h("p", { class: "muted", text: `${caption}: hidden until you predict it.` });
}

function verdictLine(verdict) {
  return h("p", {
    class: `predict-verdict ${verdict.right ? "is-right" : "is-revealed"}`,
    role: "status",
    text: verdict.text,
  });
}

// Where an op selects its input (relu below 0, the smaller side of max), the engine passes no
// gradient at all, as PyTorch does, though ∞ × 0 on its own would be NaN.
const MASKED_NOTE =
  "This input did not make the value (the op selects, so its local gradient is 0), and no " +
  "gradient passes, whatever the upstream: the downstream is 0, though ∞ × 0 alone would " +
  "be NaN. PyTorch does the same.";
const ZERO_TIMES_INFINITY_NOTE =
  "Zero times infinity has no value, so this gradient is NaN, in PyTorch too. The infinite " +
  "number comes from one that overflowed earlier in the graph: its warning says where.";

/** Why an edge's product of a 0 and an infinity came out as it did, or null. */
function infinityNote(edge) {
  const parts = [edge.upstream, edge.local, edge.downstream];
  if (parts.some((part) => part === null || isHidden(part))) return null;
  const [upstream, local, downstream] = parts.map(toNumber);
  const infinite = (value) => Math.abs(value) === Infinity;
  if (!Number.isFinite(upstream) && local === 0 && downstream === 0) {
    return { kind: "masked-note", text: MASKED_NOTE };
  }
  const zeroAndInfinity =
    (upstream === 0 && infinite(local)) || (local === 0 && infinite(upstream));
  if (zeroAndInfinity && Number.isNaN(downstream)) {
    return { kind: "nan-note", text: ZERO_TIMES_INFINITY_NOTE };
  }
  return null;
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

/** Nested lists of numbers from text such as [[1, 2], [3, 4]], or null. */
function parseTensor(text) {
  let value;
  try {
    value = JSON.parse(text.replace(/\u2212/g, "-"));
  } catch {
    return null;
  }
  const numbersOnly = (part) =>
    Array.isArray(part) ? part.length > 0 && part.every(numbersOnly) : Number.isFinite(part);
  return Array.isArray(value) && numbersOnly(value) ? value : null;
}

/** An attribute typed as the expression language writes keywords: 2, (1, 2), None, True. */
function parseKeyword(text) {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const json = trimmed
    .replace(/^\((.*)\)$/s, "[$1]")
    .replace(/\bNone\b/g, "null")
    .replace(/\bTrue\b/g, "true")
    .replace(/\bFalse\b/g, "false")
    .replace(/'/g, '"');
  try {
    return JSON.parse(json);
  } catch {
    return trimmed.replace(/^["']|["']$/g, "");
  }
}

function keywordText(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (Array.isArray(value)) return `(${value.join(", ")})`;
  return String(value);
}

function checkbox(id, text, checked, onChange) {
  const box = h("input", { id, type: "checkbox", checked });
  box.addEventListener("change", onChange);
  return h("label", { class: "toggle", for: id }, [box, h("span", { text })]);
}

function actionButton(text, onClick) {
  const button = h("button", { type: "button", class: "button small", text });
  button.addEventListener("click", onClick);
  return button;
}
