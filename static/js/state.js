// The one place the page's state lives. Panels read it and listen to its past-tense events;
// they never call each other. Events (detail in brackets):
//   presetsLoaded, opsLoaded, sourceChanged {source, reason}, evaluated, collapseToggled,
//   viewRebuilt (same answer, new drawing: moved nodes, a revealed prediction),
//   positionChanged {position, current, playing}, nodeSelected {id}, edgeSelected {key},
//   busyChanged {busy}, evaluationFailed {error}, expressionErrorRaised {error},
//   expressionErrorCleared, errorRaised {message}, errorCleared, historyChanged {canUndo,
//   canRedo}, documentChanged, connectStarted {from}, connectEnded, noticeRaised {message}

import { buildView, hasGroups, revealAt, spreadMasks } from "./view_model.js";

/**
 * The saved graph the page shows, if any (title and description travel with it).
 * @typedef {{id: string|null, title: string, description: string, revision: number|null,
 *   savedAt: string|null, missing: boolean}} SavedDocument
 */

/** @typedef {import('./types.js').Evaluation} Evaluation */
/** @typedef {import('./types.js').Source} Source */
/** @typedef {import('./view_model.js').View} View */

export class GraphState extends EventTarget {
  /** @param {"edit"|"view"} mode  the teacher's editor, or a student's read-only view */
  constructor(mode = "edit") {
    super();
    this.mode = mode;
    /** @type {SavedDocument} */
    this.document = {
      id: null,
      title: "",
      description: "",
      revision: null,
      savedAt: null,
      missing: false,
    };
    /** "id:value" and "id:grad" of hidden numbers a student has predicted or revealed. */
    this.revealed = new Set();
    /** @type {string|null} key of the display edge in the inspector */
    this.selectedEdgeKey = null;
    /** @type {string|null} node a keyboard connection starts from */
    this.connectFrom = null;
    /** @type {Array<{name: string, title: string, description: string}>} */
    this.presets = [];
    /** @type {Map<string, Object>} op name → op description from GET /api/ops */
    this.ops = new Map();
    /** @type {Source} */
    this.source = { expression: "", graph: null, presetName: null, hidden: [], locked: [] };
    /** @type {Evaluation|null} the last answer that evaluated; stays drawn after an error */
    this.evaluation = null;
    /** @type {View|null} */
    this.view = null;
    this.collapsed = false;
    /** Number of steps of view.sequence whose numbers are shown. */
    this.position = 0;
    /** Index of the step being shown as "current" (highlighted), or -1. */
    this.current = -1;
    this.playing = false;
    /** @type {string|null} display id of the node in the inspector */
    this.selectedId = null;
    this.busy = false;
    /**
     * The API's refusal of the typed expression (a syntax error, a shape mismatch), shown
     * under the box while the last good graph stays drawn; null when the text evaluated.
     * @type {import('./api.js').ApiError|null}
     */
    this.expressionError = null;
  }

  /** Subscribe to one event; the callback gets the event's detail. */
  on(type, callback) {
    this.addEventListener(type, (event) => callback(event.detail || {}));
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setPresets(presets) {
    this.presets = presets;
    this.emit("presetsLoaded");
  }

  setOps(ops) {
    this.ops = new Map(ops.map((op) => [op.name, op]));
    this.emit("opsLoaded");
  }

  /**
   * @param {Source} source
   * @param {string} reason  "preset", "typed", "value", "undo", "redo"
   */
  setSource(source, reason) {
    this.source = source;
    this.emit("sourceChanged", { source, reason });
  }

  /**
   * Show a new answer. `reveal` is "none" for a freshly picked preset (the student runs the
   * passes) and "all" after an edit (every number updates at once).
   * @param {Evaluation} evaluation
   * @param {"none"|"all"} reveal
   */
  setEvaluation(evaluation, reveal) {
    this.evaluation = evaluation;
    if (!hasGroups(evaluation)) this.collapsed = false;
    this.view = buildView(evaluation, this.collapsed, this.masks());
    if (this.selectedId !== null && !this.view.nodes.has(this.selectedId)) {
      this.selectedId = null;
    }
    if (this.selectedEdgeKey && !this.view.edges.some((e) => e.key === this.selectedEdgeKey)) {
      this.selectedEdgeKey = null;
    }
    this.position = reveal === "all" ? this.view.sequence.length : 0;
    this.current = -1;
    this.emit("evaluated");
    this.emitPosition();
  }

  /**
   * Numbers students must predict first, and the numbers that would give them away: only in
   * the student's view, and only until revealed.
   * @returns {import('./view_model.js').Masks}
   */
  masks() {
    const hidden = this.mode === "view" ? this.source.hidden || [] : [];
    return spreadMasks(this.evaluation, hidden, this.revealed);
  }

  /** Show a hidden number: the student predicted it, or gave up. */
  revealNumber(id, part) {
    this.revealed.add(`${id}:${part}`);
    this.rebuildView();
  }

  /** Same answer, new drawing (positions moved, hidden numbers revealed); passes stay put. */
  rebuildView() {
    if (!this.evaluation) return;
    this.view = buildView(this.evaluation, this.collapsed, this.masks());
    this.emit("viewRebuilt");
    this.emitPosition();
  }

  /**
   * New saved positions for the drawn graph, without evaluating it again.
   * @param {Object} graph  the same graph with its nodes' `position`
   */
  setPositions(graph) {
    if (!this.evaluation) return;
    const positions = new Map(graph.nodes.map((node) => [node.id, node.position || null]));
    const nodes = {};
    for (const [id, node] of Object.entries(this.evaluation.nodes)) {
      nodes[id] = { ...node, position: positions.get(id) ?? null };
    }
    this.evaluation = { ...this.evaluation, nodes, graph };
    this.rebuildView();
  }

  /** @param {Partial<SavedDocument>} changes */
  setDocument(changes) {
    this.document = { ...this.document, ...changes };
    this.emit("documentChanged");
  }

  /** True when a student may change this input (the teacher did not lock it). */
  canChangeValue(id) {
    return this.mode === "edit" || !(this.source.locked || []).includes(id);
  }

  setCollapsed(collapsed) {
    if (!this.evaluation || collapsed === this.collapsed) return;
    const before = this.view;
    this.collapsed = collapsed && hasGroups(this.evaluation);
    this.view = buildView(this.evaluation, this.collapsed, this.masks());
    this.position = samePhase(before, this.view, this.position);
    this.current = -1;
    this.selectedId = this.selectedId && this.mapSelection(this.selectedId);
    this.selectedEdgeKey = null;
    this.emit("collapseToggled", { collapsed: this.collapsed });
    this.emitPosition();
    this.emit("nodeSelected", { id: this.selectedId });
  }

  // A selected primitive inside a collapsing group selects the group box, and back.
  mapSelection(id) {
    if (this.view.nodes.has(id)) return id;
    const shown = this.view.displayOf.get(id);
    if (shown) return shown;
    const group = this.evaluation.groups?.[id.replace(/^group:/, "")];
    return group ? group.output : null;
  }

  /**
   * @param {number} position  steps shown
   * @param {number} current   highlighted step, or -1
   * @param {boolean} playing  an animation is running
   */
  setPosition(position, current, playing) {
    this.position = position;
    this.current = current;
    this.playing = playing;
    this.emitPosition();
  }

  emitPosition() {
    this.emit("positionChanged", {
      position: this.position,
      current: this.current,
      playing: this.playing,
    });
  }

  /** What is visible at the current position. */
  get reveal() {
    return revealAt(this.view, this.position);
  }

  /** The step being highlighted, or null. */
  get currentStep() {
    if (!this.view || this.current < 0) return null;
    return this.view.sequence[this.current] || null;
  }

  selectNode(id) {
    this.selectedId = id;
    if (this.selectedEdgeKey !== null && id !== null) {
      this.selectedEdgeKey = null;
      this.emit("edgeSelected", { key: null });
    }
    this.emit("nodeSelected", { id });
  }

  /** Show one edge in the inspector (its upstream, local and downstream). */
  selectEdge(key) {
    this.selectedEdgeKey = key;
    if (key !== null && this.selectedId !== null) {
      this.selectedId = null;
      this.emit("nodeSelected", { id: null });
    }
    this.emit("edgeSelected", { key });
  }

  /** The selected display edge, or null. */
  get selectedEdge() {
    if (!this.view || this.selectedEdgeKey === null) return null;
    return this.view.edges.find((edge) => edge.key === this.selectedEdgeKey) || null;
  }

  startConnect(from) {
    this.connectFrom = from;
    this.emit("connectStarted", { from });
  }

  endConnect() {
    if (this.connectFrom === null) return;
    this.connectFrom = null;
    this.emit("connectEnded");
  }

  /** A short message about something that just happened (saved, copied, not possible). */
  notify(message) {
    this.emit("noticeRaised", { message });
  }

  setBusy(busy) {
    this.busy = busy;
    this.emit("busyChanged", { busy });
  }

  /** The latest request to evaluate failed; what is drawn is the last good answer. */
  failEvaluation(error) {
    this.emit("evaluationFailed", { error });
  }

  /** @param {import('./api.js').ApiError} error  refers to the text in the expression box */
  raiseExpressionError(error) {
    this.expressionError = error;
    this.emit("expressionErrorRaised", { error });
  }

  clearExpressionError() {
    this.expressionError = null;
    this.emit("expressionErrorCleared");
  }

  raiseError(message) {
    this.emit("errorRaised", { message });
  }

  clearError() {
    this.emit("errorCleared");
  }
}

// Keep the phase a student reached when the drawing changes under them. A pass still under
// way is shown finished: its animation stops, and the two drawings do not share its steps.
function samePhase(before, after, position) {
  if (position > before.forwardCount) return after.sequence.length;
  if (position > 0) return after.forwardCount;
  return 0;
}
