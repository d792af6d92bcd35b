// The canvas panel: draws the current view as SVG, shows numbers as the passes reach them,
// highlights the current node with its arithmetic beside it, and lets a student select a
// node (click, Enter) or edit an input's value in place.

import { Callout } from "./callout.js";
import { clear, h, s } from "./dom.js";
import { explainStep, explanationText } from "./explain.js";
import { parseNumber } from "./expression_text.js";
import { formatValue, isNonFinite, isTensor, rawText } from "./format.js";
import { arrowMarker, describeNode, drawNode } from "./graph_shapes.js";
import { EDGE_DIGITS, edgePath, layoutView } from "./layout.js";
import { TAIL_KEY, TERMINAL_ID } from "./view_model.js";

/** The graph never grows past this many screen pixels per layout unit. */
const MAX_SCALE = 2;
const EMPTY_NOTE = "Pick a preset or type an expression";
/** Screen pixels kept free above and below the drawing for the step callout. */
const CALLOUT_ROOM = 70;
const MIN_FRAME = 300;

export class GraphView {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   * @param {{svg: SVGSVGElement, frame: HTMLElement, narration: HTMLElement}} elements
   */
  constructor(state, session, elements) {
    this.state = state;
    this.session = session;
    this.svg = elements.svg;
    this.frame = elements.frame;
    this.narration = elements.narration;
    this.layout = null;
    this.editor = null;

    state.on("evaluated", () => this.render());
    state.on("collapseToggled", () => this.render());
    state.on("positionChanged", () => this.showProgress());
    state.on("nodeSelected", () => this.showSelection());
    new ResizeObserver(() => this.fit()).observe(this.frame);
    this.svg.addEventListener("click", (event) => this.onClick(event));
    this.svg.addEventListener("keydown", (event) => this.onKey(event));
    this.showEmpty();
  }

  showEmpty() {
    clear(this.svg).setAttribute("viewBox", "0 0 400 120");
    this.svg.append(s("text", { x: 200, y: 64, class: "empty-note", text: EMPTY_NOTE }));
  }

  render() {
    const view = this.state.view;
    this.closeEditor();
    if (!view) return this.showEmpty();
    this.layout = layoutView(view);

    clear(this.svg);
    this.svg.append(arrowMarker());
    const edges = s("g", { class: "edges", "aria-hidden": "true" });
    const labels = s("g", { class: "edge-labels", "aria-hidden": "true" });
    for (const edge of view.edges) {
      edges.append(this.drawEdge(edge));
      labels.append(this.drawEdgeLabel(edge));
    }
    const nodes = s("g", { class: "nodes" });
    for (const node of view.nodes.values()) nodes.append(this.drawNode(node));
    // The leader line runs under the nodes, the box above everything.
    const leader = s("g", { class: "callout", "aria-hidden": "true" });
    const box = s("g", { class: "callout", "aria-hidden": "true" });
    this.callout = new Callout(leader, box);
    this.svg.append(edges, labels, leader, nodes, box);

    this.svg.setAttribute("aria-label", `Computational graph of ${view.nodes.size - 1} nodes`);
    // Tools and tests can wait for a new drawing by watching this number change.
    this.svg.dataset.revision = String(Number(this.svg.dataset.revision || 0) + 1);
    this.fit();
    this.showProgress();
    this.showSelection();
  }

  drawEdge(edge) {
    return s("path", {
      class: edge.key === TAIL_KEY ? "edge-line edge-tail" : "edge-line",
      d: edgePath(this.layout, edge),
      "marker-end": "url(#arrow)",
      "data-edge-key": edge.key,
      "data-source": edge.source,
      "data-target": edge.target,
      "data-input-index": edge.inputIndex,
    });
  }

  drawEdgeLabel(edge) {
    const { x, y } = this.layout.edges.get(edge.key);
    const tensor = isTensor(edge.value) ? " is-tensor" : "";
    return s("g", { class: `edge-label${tensor}`, "data-edge-key": edge.key }, [
      s("text", { class: "edge-value", x, y: y - 8, text: formatValue(edge.value, EDGE_DIGITS) }),
      s("text", {
        class: "edge-grad",
        x,
        y: y + 19,
        text: `∇ ${formatValue(edge.downstream, EDGE_DIGITS)}`,
      }),
    ]);
  }

  drawNode(node) {
    const box = this.layout.nodes.get(node.id);
    const group = s("g", {
      class: `node node-${node.kind}`,
      transform: `translate(${box.x},${box.y})`,
      "data-node-id": node.id,
      "data-kind": node.kind,
    });
    if (node.kind !== "terminal") {
      group.setAttribute("tabindex", "0");
      group.setAttribute("role", "button");
    }
    drawNode(group, node, box);
    return group;
  }

  /** Fit the drawing into the frame, never enlarging it past MAX_SCALE. */
  fit() {
    if (!this.layout) return;
    const { width, height } = this.layout;
    this.fitHeight();
    const frame = this.svg.getBoundingClientRect();
    if (frame.width < 10 || frame.height < 10) {
      this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      return;
    }
    const scale = Math.min(frame.width / width, frame.height / height, MAX_SCALE);
    this.scale = scale;
    const viewWidth = frame.width / scale;
    const viewHeight = frame.height / scale;
    const box = [(width - viewWidth) / 2, (height - viewHeight) / 2, viewWidth, viewHeight];
    this.viewBox = box;
    this.svg.setAttribute("viewBox", box.map((n) => Math.round(n * 10) / 10).join(" "));
    this.placeCallout();
  }

  /** A wide, flat graph gets a shorter frame, so the page wastes no space around it. */
  fitHeight() {
    const width = this.frame.clientWidth;
    if (width < 10) return;
    const wanted = (width / this.layout.width) * this.layout.height + 2 * CALLOUT_ROOM;
    const most = Math.max(MIN_FRAME, window.innerHeight * 0.58);
    const height = Math.round(Math.max(MIN_FRAME, Math.min(wanted, most)));
    if (Math.abs(this.frame.clientHeight - height) > 2) this.frame.style.height = `${height}px`;
  }

  /** Show the numbers the passes have reached, and the current step. */
  showProgress() {
    const view = this.state.view;
    if (!view || !this.layout) return;
    const reveal = this.state.reveal;
    for (const element of this.svg.querySelectorAll(".node")) {
      const node = view.nodes.get(element.dataset.nodeId);
      this.showNodeNumbers(element, node, reveal);
    }
    for (const element of this.svg.querySelectorAll(".edge-label")) {
      const edge = view.edges.find((e) => e.key === element.dataset.edgeKey);
      element.classList.toggle("value-shown", reveal.valueShown(edge.source));
      element.classList.toggle("grad-shown", reveal.edgeGradShown(edge));
      element.classList.toggle("no-grad", edge.downstream === null);
    }
    this.showCurrent();
  }

  showNodeNumbers(element, node, reveal) {
    const isLeaf = node.kind === "input" || node.kind === "const";
    const valueShown = isLeaf || reveal.valueShown(node.id);
    const gradShown = node.grad !== null && reveal.gradShown(node.id);
    element.classList.toggle("value-shown", valueShown);
    element.classList.toggle("grad-shown", gradShown);
    setData(element, "value", valueShown ? rawText(node.value) : null);
    setData(element, "grad", gradShown ? rawText(node.grad) : null);
    const first = this.state.evaluation.first_nonfinite;
    const isFirst = first !== null && this.state.view.displayOf.get(first) === node.id;
    element.classList.toggle("is-nonfinite", isFirst);
    element.classList.toggle("has-warning", Boolean(node.warning) || isNonFinite(node.value));
    if (node.kind !== "terminal") {
      element.setAttribute("aria-label", describeNode(node, valueShown, gradShown));
    }
  }

  showCurrent() {
    const step = this.state.currentStep;
    for (const element of this.svg.querySelectorAll(".node.is-current")) {
      element.classList.remove("is-current");
    }
    this.svg.dataset.current = step ? step.node : "";
    this.svg.dataset.phase = step ? step.phase : "";
    this.frame.dataset.playing = String(this.state.playing);
    this.frame.dataset.position = String(this.state.position);
    if (step) this.nodeElement(step.node)?.classList.add("is-current");
    this.placeCallout();
    this.narrate(step);
  }

  narrate(step) {
    if (this.state.playing) return; // one announcement at the end, not one per node
    const view = this.state.view;
    if (step) {
      this.narration.textContent = explanationText(explainStep(view, step));
    } else if (this.state.position >= view.sequence.length) {
      const out = view.nodes.get(view.output);
      this.narration.textContent =
        `Both passes done: ${out.name} = ${formatValue(out.value)}. ` +
        "Every edge shows its value above and its gradient below.";
    } else if (this.state.position >= view.forwardCount) {
      const out = view.nodes.get(view.output);
      this.narration.textContent = `Forward pass done: ${out.name} = ${formatValue(out.value)}.`;
    } else {
      this.narration.textContent = "Press Forward (F) or Step (S) to start.";
    }
  }

  /** The current step's arithmetic beside its node, inside the visible part. */
  placeCallout() {
    if (!this.callout) return;
    const step = this.state.currentStep;
    if (!step || !this.layout) {
      this.callout.hide();
      return;
    }
    const viewBox = this.viewBox || [0, 0, this.layout.width, this.layout.height];
    this.callout.show(this.state.view, this.layout, step, viewBox, this.scale);
  }

  showSelection() {
    for (const element of this.svg.querySelectorAll(".node.is-selected")) {
      element.classList.remove("is-selected");
    }
    const id = this.state.selectedId;
    if (id) this.nodeElement(id)?.classList.add("is-selected");
  }

  nodeElement(id) {
    return this.svg.querySelector(`.node[data-node-id="${CSS.escape(id)}"]`);
  }

  onClick(event) {
    const target = /** @type {Element} */ (event.target);
    const nodeElement = target.closest(".node");
    if (!nodeElement) return;
    const id = nodeElement.dataset.nodeId;
    if (target.closest(".value-edit")) {
      this.openEditor(id, target.closest(".value-edit"));
      return;
    }
    this.state.selectNode(id === TERMINAL_ID ? this.state.view.output : id);
  }

  onKey(event) {
    const nodeElement = /** @type {Element} */ (event.target).closest?.(".node");
    if (!nodeElement || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    this.state.selectNode(nodeElement.dataset.nodeId);
  }

  /** An input box over the value on the node; Enter sets it, Escape cancels. */
  openEditor(id, anchor) {
    this.closeEditor();
    const node = this.state.view.nodes.get(id);
    if (isTensor(node.value)) {
      this.state.selectNode(id);
      return;
    }
    const frame = this.frame.getBoundingClientRect();
    const spot = anchor.getBoundingClientRect();
    const input = h("input", {
      class: "inline-editor",
      type: "text",
      inputmode: "decimal",
      value: String(node.value),
      "aria-label": `New value for ${node.name}`,
    });
    input.style.left = `${spot.left - frame.left - 6}px`;
    input.style.top = `${spot.top - frame.top - 4}px`;
    input.style.width = `${Math.max(spot.width + 40, 72)}px`;
    this.frame.append(input);
    this.editor = input;
    input.focus();
    input.select();

    const commit = () => {
      const value = parseNumber(input.value);
      if (value === null) {
        input.setCustomValidity("Type a number, for example -2 or 0.5");
        input.reportValidity();
        return;
      }
      this.closeEditor();
      if (value !== node.value) this.session.editInputValue(id, value);
    };
    input.addEventListener("keydown", (event) => {
      event.stopPropagation(); // letters typed here are not shortcuts
      if (event.key === "Enter") commit();
      if (event.key === "Escape") this.closeEditor();
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
    input.addEventListener("blur", () => this.editor === input && this.closeEditor());
  }

  closeEditor() {
    if (!this.editor) return;
    const editor = this.editor;
    this.editor = null;
    editor.remove();
  }
}

function setData(element, key, text) {
  if (text === null) delete element.dataset[key];
  else element.dataset[key] = text;
}




