// Editing the picture on the teacher's page. With the mouse: drag a node to move it, drag from
// a node's output port (right) onto an input port (left) of another node to connect them.
// With the keyboard: arrow keys move the focused node, C starts a connection from it and Enter
// on another node ends it, Delete removes the selected node or edge, L lays the graph out
// again, I adds an input. Each change is one command of the session, so Undo takes it back.

import { isTyping, s } from "./dom.js";
import { TERMINAL_ID } from "./view_model.js";

const DRAG_THRESHOLD = 4;
const KEY_STEP = 20;
const FINE_STEP = 5;
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export class CanvasEditor {
  /**
   * @param {import('./graph_view.js').GraphView} view  the canvas this editor works on
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   */
  constructor(view, state, session) {
    this.view = view;
    this.state = state;
    this.session = session;
    this.drag = null;
    this.link = null;
    this.clickSwallowed = false;

    const svg = view.svg;
    svg.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    svg.addEventListener("pointermove", (event) => this.onPointerMove(event));
    svg.addEventListener("pointerup", (event) => this.onPointerUp(event));
    svg.addEventListener("pointercancel", () => this.cancel());
    document.addEventListener("keydown", (event) => this.onShortcut(event));
  }

  /** True once after a drag, so the click that ends it selects nothing. */
  swallowClick() {
    const swallowed = this.clickSwallowed;
    this.clickSwallowed = false;
    return swallowed;
  }

  onPointerDown(event) {
    if (!this.view.editing || event.button !== 0 || !this.view.layout) return;
    const target = /** @type {Element} */ (event.target);
    const port = target.closest(".port-out");
    if (port) {
      event.preventDefault();
      this.startLink(port.dataset.nodeId, event);
      return;
    }
    const node = target.closest(".node");
    if (!node || target.closest(".value-edit, .port")) return;
    if (node.dataset.kind === "terminal" || node.dataset.kind === "group") return;
    this.drag = {
      id: node.dataset.nodeId,
      pointerId: event.pointerId,
      start: this.view.toLayout(event.clientX, event.clientY),
      base: this.savedPositions(),
      offset: { ...this.view.layout.offset },
      positions: null,
    };
  }

  onPointerMove(event) {
    if (this.link) {
      this.drawLink(this.view.toLayout(event.clientX, event.clientY));
      return;
    }
    const drag = this.drag;
    if (!drag) return;
    const at = this.view.toLayout(event.clientX, event.clientY);
    const dx = at.x - drag.start.x;
    const dy = at.y - drag.start.y;
    if (!drag.positions && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
    if (!drag.positions) this.view.svg.setPointerCapture(drag.pointerId);
    const from = drag.base.get(drag.id);
    drag.positions = new Map(drag.base);
    drag.positions.set(drag.id, { x: from.x + dx, y: from.y + dy });
    this.view.render({ moved: drag.positions, offset: drag.offset });
  }

  onPointerUp(event) {
    if (this.link) {
      this.finishLink(event);
      return;
    }
    const drag = this.drag;
    this.drag = null;
    if (!drag || !drag.positions) return;
    this.clickSwallowed = true;
    this.release(drag.pointerId);
    this.session.moveNodes(drag.positions, `move ${drag.id}`);
  }

  cancel() {
    if (this.link) this.link.line.remove();
    const dragged = this.drag?.positions;
    this.link = null;
    this.drag = null;
    if (dragged) this.view.render();
  }

  release(pointerId) {
    if (this.view.svg.hasPointerCapture(pointerId)) {
      this.view.svg.releasePointerCapture(pointerId);
    }
  }

  /** Where every node is now, in the graph's own units (layout minus its shift). */
  savedPositions() {
    const layout = this.view.layout;
    const positions = new Map();
    for (const [id, box] of layout.nodes) {
      if (id === TERMINAL_ID || id.startsWith("group:")) continue;
      positions.set(id, { x: box.x - layout.offset.x, y: box.y - layout.offset.y });
    }
    return positions;
  }

  // ---- connecting by dragging ------------------------------------------------------------

  startLink(from, event) {
    const box = this.view.layout.nodes.get(from);
    const start = { x: box.x + (box.radius ?? box.width / 2), y: box.y };
    const line = s("path", { class: "link-preview" });
    this.view.overlay.append(line);
    this.link = { from, start, line, pointerId: event.pointerId };
    this.view.svg.setPointerCapture(event.pointerId);
    this.drawLink(start);
  }

  drawLink(end) {
    const { start, line } = this.link;
    const reach = Math.max(30, Math.abs(end.x - start.x) / 2);
    line.setAttribute(
      "d",
      `M${start.x},${start.y} C${start.x + reach},${start.y} ${end.x - reach},${end.y} ` +
        `${end.x},${end.y}`,
    );
  }

  finishLink(event) {
    const { from, line, pointerId } = this.link;
    this.link = null;
    line.remove();
    this.release(pointerId);
    this.clickSwallowed = true;
    const under = document.elementFromPoint(event.clientX, event.clientY);
    const port = under?.closest(".port-in");
    const node = under?.closest(".node");
    if (port) {
      this.session.connect(from, port.dataset.nodeId, Number(port.dataset.index));
    } else if (node && node.dataset.nodeId !== from && node.dataset.kind !== "terminal") {
      this.session.connect(from, node.dataset.nodeId, null);
    }
  }

  // ---- keyboard ------------------------------------------------------------------------

  /**
   * A key pressed on a focused node: Enter ends a connection, arrows move the node.
   * @returns {boolean} whether the key was used
   */
  onNodeKey(event) {
    const node = /** @type {Element} */ (event.target).closest?.(".node");
    if (!node || !this.view.editing) return false;
    const id = node.dataset.nodeId;
    const from = this.state.connectFrom;
    if (from !== null && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      this.state.endConnect();
      if (id !== from && id !== TERMINAL_ID) this.session.connect(from, id, null);
      return true;
    }
    const arrow = ARROWS[event.key];
    if (!arrow || event.ctrlKey || event.metaKey || event.altKey) return false;
    if (id === TERMINAL_ID || id.startsWith("group:")) return false;
    event.preventDefault();
    const step = event.shiftKey ? FINE_STEP : KEY_STEP;
    const positions = this.savedPositions();
    const at = positions.get(id);
    positions.set(id, { x: at.x + arrow[0] * step, y: at.y + arrow[1] * step });
    this.session.moveNodes(positions, `move ${id}`);
    return true;
  }

  /** Shortcuts anywhere on the page, except while typing in a field. */
  onShortcut(event) {
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!this.view.editing) return;
    const action = {
      Delete: () => this.deleteSelection(),
      Backspace: () => this.deleteSelection(),
      Escape: () => this.state.endConnect(),
      c: () => this.startConnectFromFocus(),
      l: () => this.session.autoLayout(),
      i: () => this.session.addNode("input"),
    }[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  startConnectFromFocus() {
    const focused = document.activeElement?.closest?.(".node");
    const id = focused?.dataset.nodeId || this.state.selectedId;
    if (!id || id === TERMINAL_ID || id.startsWith("group:")) {
      this.state.notify("Select or focus the node to connect from, then press C.");
      return;
    }
    this.state.startConnect(id);
  }

  deleteSelection() {
    const edge = this.state.selectedEdge;
    if (edge && !edge.target.startsWith("group:") && edge.target !== TERMINAL_ID) {
      this.session.disconnect(edge.target, edge.inputIndex);
      return;
    }
    const id = this.state.selectedId;
    if (id && id !== TERMINAL_ID && !id.startsWith("group:")) this.session.removeNode(id);
  }
}
