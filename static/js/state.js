// The one place the page's state lives. Panels read it and listen to its past-tense events;
// they never call each other. Events (detail in brackets):
//   presetsLoaded, opsLoaded, sourceChanged {source, reason}, evaluated, collapseToggled,
//   positionChanged {position, current, playing}, nodeSelected {id}, busyChanged {busy},
//   syntaxErrorRaised {error}, syntaxErrorCleared, errorRaised {message}, errorCleared,
//   historyChanged {canUndo, canRedo}

import { buildView, hasGroups, revealAt } from "./view_model.js";

/** @typedef {import('./types.js').Evaluation} Evaluation */
/** @typedef {import('./types.js').Source} Source */
/** @typedef {import('./view_model.js').View} View */

export class GraphState extends EventTarget {
  constructor() {
    super();
    /** @type {Array<{name: string, title: string, description: string}>} */
    this.presets = [];
    /** @type {Map<string, Object>} op name → op description from GET /api/ops */
    this.ops = new Map();
    /** @type {Source} */
    this.source = { expression: "", graph: null, presetName: null };
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
    this.view = buildView(evaluation, this.collapsed);
    if (this.selectedId !== null && !this.view.nodes.has(this.selectedId)) {
      this.selectedId = null;
    }
    this.position = reveal === "all" ? this.view.sequence.length : 0;
    this.current = -1;
    this.emit("evaluated");
    this.emitPosition();
  }

  setCollapsed(collapsed) {
    if (!this.evaluation || collapsed === this.collapsed) return;
    const before = this.view;
    this.collapsed = collapsed && hasGroups(this.evaluation);
    this.view = buildView(this.evaluation, this.collapsed);
    this.position = samePhase(before, this.view, this.position);
    this.current = -1;
    this.selectedId = this.selectedId && this.mapSelection(this.selectedId);
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
    this.emit("nodeSelected", { id });
  }

  setBusy(busy) {
    this.busy = busy;
    this.emit("busyChanged", { busy });
  }

  raiseSyntaxError(error) {
    this.emit("syntaxErrorRaised", { error });
  }

  clearSyntaxError() {
    this.emit("syntaxErrorCleared");
  }

  raiseError(message) {
    this.emit("errorRaised", { message });
  }

  clearError() {
    this.emit("errorCleared");
  }
}

// Keep the phase a student reached when the drawing changes under them.
function samePhase(before, after, position) {
  if (position >= before.sequence.length) return after.sequence.length;
  if (position >= before.forwardCount) return after.forwardCount;
  return 0;
}
