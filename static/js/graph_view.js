// The canvas panel: draws the current view as SVG, shows numbers as the passes reach them
// (tensors as small heat maps beside their shape), highlights the current node with its
// arithmetic beside it, and lets a student select a node or an edge (click, Enter) or edit an
// input's value in place. On the teacher's page a CanvasEditor adds ports and dragging.

import { Callout } from "./callout.js";
import { CanvasEditor } from "./canvas_editor.js";
import { clear, h, s } from "./dom.js";
import { explainStep, explanationText } from "./explain.js";
import { parseNumber } from "./expression_text.js";
import { counted, formatValue, isHidden, isNonFinite, isTensor, rawText } from "./format.js";
import { slotCount } from "./graph_edit.js";
import {
  arrowMarker,
  describeNode,
  drawBadges,
  drawNode,
  drawPorts,
  inputPort,
} from "./graph_shapes.js";
import { edgeHeatmap } from "./heatmap.js";
import { EDGE_DIGITS, edgeMap, edgePath, layoutView, MAP_OFFSET } from "./layout.js";
import { TAIL_KEY, TERMINAL_ID } from "./view_model.js";

/** The graph never grows past this many screen pixels per layout unit. */
const MAX_SCALE = 2;
/**
 * Nor shrinks below this many: at 0.6 the 15 px edge numbers are still 9 px on screen. A
 * graph that would need less keeps this scale and the frame scrolls (or is panned) instead.
 */
const MIN_SCALE = 0.6;
const EMPTY_NOTE = "Pick a preset or type an expression";
const EMPTY_EDIT_NOTE = "Add nodes from the palette above, or type an expression";
/** Screen pixels kept free above and below the drawing for the step callout. */
const CALLOUT_ROOM = 70;
const MIN_FRAME = 300;
const PLAYING_FORWARD =
  "Forward pass running: each node computes its value from its inputs, in topological order.";
const PLAYING_BACKWARD =
  "Backward pass running: each node multiplies the upstream gradient by its local " +
  "gradients and sends the products back along its edges.";

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
    /** The view the elements in the SVG were drawn from. */
    this.drawnView = null;
    this.editor = null;
    /** @type {CanvasEditor|null} */
    this.canvasEditor = state.mode === "edit" ? new CanvasEditor(this, state, session) : null;

    state.on("evaluated", () => this.render());
    state.on("collapseToggled", () => this.render());
    state.on("viewRebuilt", () => this.render(undefined, true));
    state.on("positionChanged", () => this.showProgress());
    state.on("nodeSelected", () => this.showSelection());
    state.on("edgeSelected", () => this.showSelection());
    state.on("connectStarted", ({ from }) => {
      this.showSelection();
      // The keyboard path goes on from the node itself: Tab moves to the next one.
      if (!this.svg.contains(document.activeElement)) this.nodeElement(from)?.focus();
    });
    state.on("connectEnded", () => this.showSelection());
    state.on("expressionErrorRaised", () => this.showErrorNodes());
    state.on("expressionErrorCleared", () => this.showErrorNodes());
    new ResizeObserver(() => this.fit()).observe(this.frame);
    this.svg.addEventListener("click", (event) => this.onClick(event));
    this.svg.addEventListener("keydown", (event) => this.onKey(event));
    this.showEmpty();
  }

  /** True when the picture can be edited (the teacher's page, blocks not collapsed). */
  get editing() {
    return this.canvasEditor !== null && !this.state.collapsed;
  }

  showEmpty() {
    this.layout = null;
    this.drawnView = null;
    this.setScrolling(false);
    this.callout = null;
    clear(this.svg).setAttribute("viewBox", "0 0 400 120");
    const note = this.state.mode === "edit" ? EMPTY_EDIT_NOTE : EMPTY_NOTE;
    this.svg.append(s("text", { x: 200, y: 64, class: "empty-note", text: note }));
    this.svg.dataset.revision = String(Number(this.svg.dataset.revision || 0) + 1);
    this.narrate(null);
  }

  /**
   * Draw the current view. While a node is dragged, `drag` holds the moved positions and the
   * drawing keeps its frame.
   * @param {{moved: Map<string, {x: number, y: number}>, offset: {x: number, y: number}}} [drag]
   * @param {boolean} [steady]  keep the frame still if the drawing still fits (after a move)
   */
  render(drag, steady = false) {
    const view = this.state.view;
    this.closeEditor();
    if (!view || view.nodes.size === 0) return this.showEmpty();
    const before = steady && this.layout && this.viewBox ? this.layout : null;
    this.layout = layoutView(view, drag);
    this.drawnView = view;
    // A redraw replaces the elements; keyboard focus stays on the same node.
    const active = document.activeElement;
    const focused = this.svg.contains(active) ? active.closest(".node")?.dataset.nodeId : null;

    clear(this.svg);
    this.svg.append(arrowMarker());
    // Screen readers get the nodes, the table and the inspector; the edges are for the eye.
    const edges = s("g", { class: "edges", "aria-hidden": "true" });
    const labels = s("g", { class: "edge-labels", "aria-hidden": "true" });
    for (const edge of view.edges) {
      edges.append(...this.drawEdge(edge));
      labels.append(this.drawEdgeLabel(edge));
    }
    const nodes = s("g", { class: "nodes" });
    for (const node of view.nodes.values()) nodes.append(this.drawNode(node));
    // The leader line runs under the nodes, the box above everything.
    const leader = s("g", { class: "callout", "aria-hidden": "true" });
    const box = s("g", { class: "callout", "aria-hidden": "true" });
    this.callout = new Callout(leader, box);
    const overlay = s("g", { class: "editor-overlay", "aria-hidden": "true" });
    this.svg.append(edges, labels, leader, nodes, box, overlay);
    this.overlay = overlay;

    const count = [...view.nodes.keys()].filter((id) => id !== TERMINAL_ID).length;
    this.svg.setAttribute("aria-label", `Computational graph of ${counted(count, "node")}`);
    this.svg.classList.toggle("is-editing", this.editing);
    this.svg.classList.toggle("is-draft", view.draft);
    // Tools and tests can wait for a new drawing by watching this number change.
    this.svg.dataset.revision = String(Number(this.svg.dataset.revision || 0) + 1);
    if (!drag && !(before && this.holdFrame(before))) this.fit();
    this.showProgress();
    this.showSelection();
    this.showErrorNodes();
    if (focused) this.nodeElement(focused)?.focus();
  }

  /** The edge line, and a wider invisible twin that is easy to click. */
  drawEdge(edge) {
    const d = edgePath(this.layout, edge, this.portEntry(edge));
    const data = {
      "data-edge-key": edge.key,
      "data-source": edge.source,
      "data-target": edge.target,
      "data-input-index": edge.inputIndex,
    };
    const line = s("path", {
      class: edge.key === TAIL_KEY ? "edge-line edge-tail" : "edge-line",
      d,
      "marker-end": "url(#arrow)",
      ...data,
    });
    if (edge.key === TAIL_KEY) return [line];
    const name = `${this.nodeName(edge.source)} → ${this.nodeName(edge.target)}`;
    const hit = s("path", { class: "edge-hit", d, ...data }, [
      s("title", { text: `Edge ${name}: click to inspect` }),
    ]);
    return [line, hit];
  }

  /** In the editor an edge ends at its input port, so a teacher sees which slot it fills. */
  portEntry(edge) {
    if (!this.editing || edge.key === TAIL_KEY) return undefined;
    const node = this.state.view.nodes.get(edge.target);
    const box = this.layout.nodes.get(edge.target);
    if (node.kind !== "op") return undefined;
    const slots = this.slotsOf(node);
    const at = inputPort(box, edge.inputIndex, slots);
    return { x: box.x + at.x, y: box.y + at.y, dx: at.dx, dy: at.dy };
  }

  slotsOf(node) {
    const arity = this.state.ops.get(node.op)?.arity;
    return slotCount(node.inputs, arity);
  }

  nodeName(id) {
    return this.state.view.nodes.get(id)?.name || id;
  }

  drawEdgeLabel(edge) {
    const { x, y } = this.layout.edges.get(edge.key);
    const map = edgeMap(edge);
    const tensor = map.height ? " is-tensor" : "";
    const group = s(
      "g",
      {
        class: `edge-label${tensor}`,
        "data-edge-key": edge.key,
        "data-shape": edge.shape.join(","),
        transform: `translate(${round(x)},${round(y)})`,
      },
      [
        s("text", {
          class: "edge-value",
          x: 0,
          y: -8,
          text: formatValue(edge.value, EDGE_DIGITS),
        }),
        s("text", {
          class: "edge-grad",
          x: 0,
          y: 19,
          text: `∇ ${formatValue(edge.downstream, EDGE_DIGITS)}`,
        }),
      ],
    );
    if (map.height) this.drawEdgeMaps(group, edge, map);
    return group;
  }

  // The value's map above the line, the gradient's below, each scaled to its own range.
  drawEdgeMaps(group, edge, map) {
    const name = this.nodeName(edge.source);
    if (isTensor(edge.value)) {
      const top = -MAP_OFFSET.above - map.height;
      group.append(edgeHeatmap(edge.value, { x: -map.width / 2, y: top, name, role: "value" }));
    }
    if (isTensor(edge.downstream)) {
      const where = { x: -map.width / 2, y: MAP_OFFSET.below, name: `∇${name}`, role: "grad" };
      group.append(edgeHeatmap(edge.downstream, where));
    }
  }

  drawNode(node) {
    const box = this.layout.nodes.get(node.id);
    const group = s("g", {
      class: `node node-${node.kind}`,
      transform: `translate(${round(box.x)},${round(box.y)})`,
      "data-node-id": node.id,
      "data-kind": node.kind,
    });
    if (node.kind !== "terminal") {
      group.setAttribute("tabindex", "0");
      group.setAttribute("role", "button");
    }
    const editable = node.kind === "input" && this.state.canChangeValue(node.id);
    drawNode(group, node, box, { editable });
    if (node.kind === "terminal") return group;

    const source = this.state.source;
    const marks = {
      hidden: (source.hidden || []).includes(node.id),
      locked: node.kind === "input" && (source.locked || []).includes(node.id),
    };
    if (marks.hidden || marks.locked) drawBadges(group, box, marks);
    if (this.editing && node.kind !== "group") {
      drawPorts(group, node, box, node.kind === "op" ? this.slotsOf(node) : 0);
    }
    return group;
  }

  /**
   * Fit the drawing into the frame, never enlarging it past MAX_SCALE; a drawing that would
   * need less than MIN_SCALE keeps that scale and scrolls inside the frame.
   */
  fit() {
    if (!this.layout) return;
    const { width, height } = this.layout;
    this.fitHeight();
    const room = { width: this.frame.clientWidth, height: this.frame.clientHeight };
    if (room.width < 10 || room.height < 10) {
      this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      return;
    }
    const fitted = Math.min(room.width / width, room.height / height, MAX_SCALE);
    const scale = Math.max(fitted, MIN_SCALE);
    this.scale = scale;
    const viewWidth = Math.max(room.width / scale, width);
    const viewHeight = Math.max(room.height / scale, height);
    const box = [(width - viewWidth) / 2, (height - viewHeight) / 2, viewWidth, viewHeight];
    this.viewBox = box;
    this.svg.setAttribute("viewBox", box.map((n) => Math.round(n * 10) / 10).join(" "));
    const scrolls = fitted < MIN_SCALE;
    // The axis that overflows gets its pixels rounded up (never a scale just under the
    // minimum), the other one exactly the frame's (no scroll bar it does not need).
    const pixels = (units, fits) => (units * scale > fits + 0.5 ? Math.ceil(units * scale) : fits);
    this.setScrolling(scrolls, pixels(viewWidth, room.width), pixels(viewHeight, room.height));
    this.placeCallout();
  }

  /** Give the SVG its own size in pixels, larger than the frame, which then scrolls. */
  setScrolling(scrolls, width = 0, height = 0) {
    this.svg.style.width = scrolls ? `${width}px` : "";
    this.svg.style.height = scrolls ? `${height}px` : "";
    this.frame.classList.toggle("is-scrolling", scrolls);
  }

  /** In a scrolling frame, bring the current node into sight (the page itself stays put). */
  scrollToNode(element) {
    if (!this.frame.classList.contains("is-scrolling") || !element) return;
    const frame = this.frame.getBoundingClientRect();
    const node = element.getBoundingClientRect();
    const margin = 40;
    if (node.left < frame.left + margin || node.right > frame.right - margin) {
      this.frame.scrollLeft += node.left + node.width / 2 - (frame.left + frame.width / 2);
    }
    if (node.top < frame.top + margin || node.bottom > frame.bottom - margin) {
      this.frame.scrollTop += node.top + node.height / 2 - (frame.top + frame.height / 2);
    }
  }

  /**
   * Keep what stayed in place where it was on screen: shift the view box by how far a node
   * that did not move shifted in layout units. False when the drawing would not fit.
   */
  holdFrame(before) {
    const still = [...this.layout.nodes.keys()].find((id) => {
      const old = before.nodes.get(id);
      const now = this.layout.nodes.get(id);
      if (!old || id === TERMINAL_ID) return false;
      const movedX = now.x - this.layout.offset.x - (old.x - before.offset.x);
      const movedY = now.y - this.layout.offset.y - (old.y - before.offset.y);
      return Math.abs(movedX) < 0.5 && Math.abs(movedY) < 0.5;
    });
    if (!still) return false;
    const shiftX = this.layout.nodes.get(still).x - before.nodes.get(still).x;
    const shiftY = this.layout.nodes.get(still).y - before.nodes.get(still).y;
    const [left, top, width, height] = this.viewBox;
    const box = [left + shiftX, top + shiftY, width, height];
    const fits =
      box[0] <= 0 && box[1] <= 0 && box[0] + width >= this.layout.width &&
      box[1] + height >= this.layout.height;
    if (!fits) return false;
    this.viewBox = box;
    this.svg.setAttribute("viewBox", box.map((n) => Math.round(n * 10) / 10).join(" "));
    this.placeCallout();
    return true;
  }

  /** A wide, flat graph gets a shorter frame, so the page wastes no space around it. */
  fitHeight() {
    const width = this.frame.clientWidth;
    if (width < 10) return;
    const scale = Math.max(MIN_SCALE, width / this.layout.width);
    const wanted = scale * this.layout.height + 2 * CALLOUT_ROOM;
    const most = Math.max(MIN_FRAME, window.innerHeight * 0.58);
    const height = Math.round(Math.max(MIN_FRAME, Math.min(wanted, most)));
    if (Math.abs(this.frame.clientHeight - height) > 2) this.frame.style.height = `${height}px`;
  }

  /** Show the numbers the passes have reached, and the current step. */
  showProgress() {
    const view = this.state.view;
    // A new answer is announced to every panel in turn: until this one has drawn it, the
    // elements on screen belong to the old view and must not be looked up in the new one.
    if (!view || !this.layout || this.drawnView !== view) return;
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
    if (step) {
      const element = this.nodeElement(step.node);
      element?.classList.add("is-current");
      this.scrollToNode(element);
    }
    this.placeCallout();
    this.narrate(step);
  }

  narrate(step) {
    const view = this.state.view;
    if (this.state.playing) {
      // One announcement per pass, not one per node; the result follows at the end.
      const backward = step ? step.phase === "backward" : this.state.position >= view.forwardCount;
      const text = backward ? PLAYING_BACKWARD : PLAYING_FORWARD;
      if (this.narration.textContent !== text) this.narration.textContent = text;
      return;
    }
    if (this.state.connectFrom !== null) {
      this.narration.textContent =
        `Connecting from ${this.state.connectFrom}: Tab to the node it feeds and press Enter ` +
        "(Escape cancels).";
    } else if (!view || view.nodes.size === 0) {
      this.narration.textContent = "";
    } else if (view.draft) {
      this.narration.textContent = `Not evaluated yet. ${this.state.evaluation.problem || ""}`;
    } else if (step) {
      this.narration.textContent = explanationText(explainStep(view, step));
    } else if (this.state.position >= view.sequence.length) {
      const out = view.nodes.get(view.output);
      this.narration.textContent =
        `Both passes done: ${out.name} = ${formatValue(out.value)}. ` +
        "Every edge shows its value above and its gradient below. Reset (R) starts over.";
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
    for (const element of this.svg.querySelectorAll(".is-selected, .is-connect-source")) {
      element.classList.remove("is-selected", "is-connect-source");
    }
    const id = this.state.selectedId;
    if (id) this.nodeElement(id)?.classList.add("is-selected");
    const key = this.state.selectedEdgeKey;
    if (key) {
      const selector = `[data-edge-key="${CSS.escape(key)}"]`;
      for (const element of this.svg.querySelectorAll(selector)) {
        element.classList.add("is-selected");
      }
    }
    const from = this.state.connectFrom;
    if (from) this.nodeElement(from)?.classList.add("is-connect-source");
    if (this.layout) this.narrate(this.state.currentStep);
  }

  /** Mark the nodes the expression's error names (a shape mismatch), where they are drawn. */
  showErrorNodes() {
    for (const element of this.svg.querySelectorAll(".node.is-error")) {
      element.classList.remove("is-error");
    }
    const error = this.state.expressionError;
    const view = this.state.view;
    if (!error || !view || this.drawnView !== view) return;
    for (const id of error.nodeIds) {
      const shown = view.displayOf.get(id);
      if (shown) this.nodeElement(shown)?.classList.add("is-error");
    }
  }

  nodeElement(id) {
    return this.svg.querySelector(`.node[data-node-id="${CSS.escape(id)}"]`);
  }

  onClick(event) {
    if (this.canvasEditor?.swallowClick()) return;
    const target = /** @type {Element} */ (event.target);
    const edgeElement = target.closest(".edge-hit, .edge-label");
    if (edgeElement && edgeElement.dataset.edgeKey !== TAIL_KEY) {
      this.state.selectEdge(edgeElement.dataset.edgeKey);
      return;
    }
    const nodeElement = target.closest(".node");
    if (!nodeElement || target.closest(".port")) return;
    const id = nodeElement.dataset.nodeId;
    if (target.closest(".value-edit")) {
      this.openEditor(id, target.closest(".value-edit"));
      return;
    }
    this.state.selectNode(id === TERMINAL_ID ? this.state.view.output : id);
  }

  onKey(event) {
    if (this.canvasEditor?.onNodeKey(event)) return;
    const nodeElement = /** @type {Element} */ (event.target).closest?.(".node");
    if (!nodeElement || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    this.state.selectNode(nodeElement.dataset.nodeId);
  }

  /** An input box over the value on the node; Enter sets it, Escape cancels. */
  openEditor(id, anchor) {
    this.closeEditor();
    const node = this.state.view.nodes.get(id);
    if (isTensor(node.value) || isHidden(node.value) || !this.state.canChangeValue(id)) {
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
    // Placed in the frame's scrolled content, so it moves with the drawing.
    input.style.left = `${spot.left - frame.left + this.frame.scrollLeft - 6}px`;
    input.style.top = `${spot.top - frame.top + this.frame.scrollTop - 4}px`;
    input.style.width = `${Math.max(spot.width + 40, 72)}px`;
    this.frame.append(input);
    this.editor = input;
    input.focus();
    input.select();

    const apply = (value) => {
      this.closeEditor();
      if (value !== node.value) this.session.editInputValue(id, value);
    };
    const commit = () => {
      const value = parseNumber(input.value);
      if (value === null) {
        input.setCustomValidity("Type a finite number, for example -2 or 0.5");
        input.reportValidity();
        return;
      }
      apply(value);
    };
    input.addEventListener("keydown", (event) => {
      event.stopPropagation(); // letters typed here are not shortcuts
      if (event.key === "Enter") commit();
      if (event.key === "Escape") this.closeEditor();
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
    // Clicking away keeps a number typed, as a spreadsheet cell does; other text is dropped.
    input.addEventListener("blur", () => {
      if (this.editor !== input) return; // closed already (Enter, Escape)
      const value = parseNumber(input.value);
      if (value === null) this.closeEditor();
      else apply(value);
    });
  }

  closeEditor() {
    if (!this.editor) return;
    const editor = this.editor;
    this.editor = null;
    editor.remove();
  }

  /** A point of the page (client pixels) in layout units. */
  toLayout(clientX, clientY) {
    const matrix = this.svg.getScreenCTM();
    if (!matrix) return { x: 0, y: 0 };
    const point = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    return { x: point.x, y: point.y };
  }
}

function setData(element, key, text) {
  if (text === null) delete element.dataset[key];
  else element.dataset[key] = text;
}

function round(number) {
  return Math.round(number * 10) / 10;
}
