// Turns what a student or teacher does (pick a preset, type, edit a value, edit the picture,
// undo) into API calls and state changes. Every change of what the page shows is a command in
// the history. Only the answer to the latest request is shown; older ones are dropped.

import {
  ApiError,
  evaluate,
  fetchGraph,
  fetchOps,
  fetchPreset,
  fetchPresets,
  parseExpression,
} from "./api.js";
import { rewriteDefinition } from "./expression_text.js";
import * as edit from "./graph_edit.js";
import { graphToText, literal } from "./graph_text.js";
import { ChangeSourceCommand } from "./history.js";

/** @typedef {import('./types.js').Source} Source */

export class Session {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./history.js').History} history
   */
  constructor(state, history) {
    this.state = state;
    this.history = history;
    this.latest = 0;
    /** @type {AbortController|null} */
    this.inFlight = null;
    /** What the drawn answer was computed from, to skip asking again for the same thing. */
    this.drawnKey = null;
    this.drawnShapeKey = null;
    /** The latest text committed from the box, so a slower parse of older text is dropped. */
    this.typed = null;
  }

  /**
   * Load ops (needed to draw hand-built graphs) and presets, then open a saved graph or the
   * wanted preset.
   * @param {{preset?: string, graphId?: string|null}} wanted
   */
  async start(wanted) {
    const opsLoaded = fetchOps()
      .then((ops) => this.state.setOps(ops))
      .catch(() => {}); // without descriptions the inspector is plainer, nothing breaks
    if (wanted.graphId) {
      await opsLoaded;
      if (this.state.mode === "edit") this.loadPresets();
      await this.openSaved(wanted.graphId);
      return;
    }
    try {
      const presets = await fetchPresets();
      this.state.setPresets(presets);
      const names = presets.map((preset) => preset.name);
      const name = names.includes(wanted.preset) ? wanted.preset : names[0];
      await opsLoaded;
      if (name) await this.choosePreset(name);
    } catch (error) {
      this.report(error);
    }
  }

  async loadPresets() {
    try {
      this.state.setPresets(await fetchPresets());
    } catch (error) {
      this.report(error);
    }
  }

  /** Open a saved graph by id; a missing one is reported on the document. */
  async openSaved(id) {
    let saved;
    try {
      saved = await fetchGraph(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.state.setDocument({ id, missing: true });
        if (this.state.mode === "edit") {
          this.state.raiseError(`No saved graph has the id ${id}; build a new one here.`);
        }
        return;
      }
      this.report(error);
      return;
    }
    this.state.setDocument({
      id: saved.id,
      title: saved.title || "",
      description: saved.description || "",
      revision: saved.revision,
      savedAt: saved.saved_at,
      missing: false,
    });
    const graph = { schema_version: 1, nodes: saved.nodes, output: saved.output };
    const after = {
      expression: "",
      graph,
      presetName: null,
      hidden: saved.hidden || [],
      locked: saved.locked || [],
    };
    after.expression = this.textOf(graph, after.hidden);
    this.change(`open ${saved.title || id}`, after, "open");
  }

  /** Open a preset: its expression in the box, its graph (authoritative) evaluated. */
  async choosePreset(name) {
    let preset;
    try {
      preset = await fetchPreset(name);
    } catch (error) {
      this.report(error);
      return;
    }
    const after = {
      expression: preset.expression || "",
      graph: preset.graph,
      presetName: name,
      hidden: [],
      locked: [],
    };
    this.change(`open preset ${preset.title || name}`, after, "preset");
  }

  /**
   * The text in the expression box changed (already debounced by the panel). When the graph
   * was built, moved or labelled by hand, the nodes the new text keeps (same id, same op)
   * keep their position, label and group instead of being drawn afresh.
   */
  async commitExpression(text) {
    const source = this.state.source;
    if (text === source.expression) return;
    this.typed = text;

    let graph = null;
    if (source.graph && carriesMoreThanText(source.graph)) {
      graph = await this.keepHandWork(text, source.graph);
      if (this.typed !== text || this.state.source !== source) return; // overtaken
    }
    const after = { ...source, expression: text, graph, presetName: null };
    this.change("edit the expression", after, "typed");
  }

  /** The graph `text` makes, carrying over what `before` had that text cannot say. */
  async keepHandWork(text, before) {
    let parsed;
    try {
      parsed = await parseExpression(text);
    } catch {
      return null; // evaluating the text as text reports the error under the box
    }
    const old = new Map(before.nodes.map((node) => [node.id, node]));
    const nodes = parsed.nodes.map((node) => {
      const kept = old.get(node.id);
      if (!kept || kept.op !== node.op) return node;
      const extras = {};
      for (const key of ["position", "label", "group"]) {
        if (kept[key] !== undefined && kept[key] !== null) extras[key] = kept[key];
      }
      return { ...node, ...extras };
    });
    return { schema_version: 1, nodes, output: parsed.output };
  }

  /**
   * Give an input a new value (a number, or nested lists for a tensor): rewrite its definition
   * line in the box and evaluate the text again. A graph that carries what text cannot
   * (groups, labels, positions), or whose text has no such line, is posted as graph JSON.
   * @param {string} id
   * @param {number|Array<any>} value
   */
  editInputValue(id, value) {
    if (!this.state.canChangeValue(id)) {
      this.state.notify("The teacher locked this input.");
      return;
    }
    const source = this.state.source;
    const name = this.state.evaluation?.nodes[id]?.label || id;
    const isNumber = typeof value === "number";
    const rewritten = !isNumber
      ? null
      : (rewriteDefinition(source.expression, id, value) ??
        (name !== id ? rewriteDefinition(source.expression, name, value) : null));
    const label = `set ${name} = ${literal(value)}`;

    // Text stays the source for typed text and plain presets; a graph built, saved or
    // imported stays the source itself (its text may hold lines that are not connected yet).
    const textIsSource =
      source.graph === null || (source.presetName !== null && !carriesMoreThanText(source.graph));
    if (rewritten !== null && textIsSource) {
      this.change(label, { ...source, expression: rewritten, graph: null }, "value");
      return;
    }
    const graph = edit.setValue(this.workingGraph(), id, value);
    const expression = rewritten ?? this.textOf(graph, source.hidden);
    this.change(label, { ...source, expression, graph, presetName: null }, "value");
  }

  // ---- editing the picture (the teacher's page) -------------------------------------------

  /** The graph JSON the picture shows, as a copy to edit. */
  workingGraph() {
    const source = this.state.source;
    if (source.graph) return edit.copyGraph(source.graph);
    if (this.state.evaluation?.graph) return edit.copyGraph(this.state.evaluation.graph);
    return edit.emptyGraph();
  }

  /**
   * Apply one edit of the graph as a command; the text is rewritten from the graph.
   * @param {string} label  what the undo button says, e.g. "connect a → add1"
   * @param {(graph: Object) => Object} change  returns the new graph, or throws EditError
   * @param {(id: string) => string} [renamed]  maps old ids to new ones (for hidden/locked)
   * @returns {boolean} whether the edit was made
   */
  editGraph(label, change, renamed = (id) => id) {
    let graph;
    try {
      graph = change(this.workingGraph());
    } catch (error) {
      if (!(error instanceof edit.EditError)) throw error;
      this.state.notify(error.message);
      return false;
    }
    const source = this.state.source;
    const ids = new Set(graph.nodes.map((node) => node.id));
    const keep = (list) => (list || []).map(renamed).filter((id) => ids.has(id));
    const hidden = keep(source.hidden);
    const after = {
      expression: this.textOf(graph, hidden),
      graph,
      presetName: null,
      hidden,
      locked: keep(source.locked),
    };
    this.change(label, after, "edit");
    return true;
  }

  /** Add a node from the palette and select it. */
  addNode(op, position = null) {
    let id = null;
    const made = this.editGraph(`add ${op}`, (graph) => {
      const result = edit.addNode(graph, op, position || this.freePosition(graph));
      id = result.id;
      return result.graph;
    });
    if (made) this.state.selectNode(id);
    return made ? id : null;
  }

  /** Where a new node goes when the others were placed by hand: right of the rest. */
  freePosition(graph) {
    const placed = graph.nodes.filter((node) => node.position);
    if (!placed.length) return null;
    const right = Math.max(...placed.map((node) => node.position.x));
    const top = Math.min(...placed.map((node) => node.position.y));
    return { x: right + 140, y: top };
  }

  removeNode(id) {
    const made = this.editGraph(`delete ${id}`, (graph) => edit.removeNode(graph, id));
    if (made && this.state.selectedId === id) this.state.selectNode(null);
  }

  connect(source, target, index = null) {
    const ops = this.state.ops;
    return this.editGraph(`connect ${source} → ${target}`, (graph) =>
      edit.connect(graph, source, target, index, ops),
    );
  }

  disconnect(target, index) {
    this.editGraph(`disconnect input ${index + 1} of ${target}`, (graph) =>
      edit.disconnect(graph, target, index),
    );
    this.state.selectEdge(null);
  }

  rename(id, newId) {
    const made = this.editGraph(
      `rename ${id} to ${newId}`,
      (graph) => edit.renameNode(graph, id, newId),
      (old) => (old === id ? newId : old),
    );
    if (made) this.state.selectNode(newId);
    return made;
  }

  setLabel(id, label) {
    this.editGraph(`label ${id}`, (graph) => edit.setLabel(graph, id, label));
  }

  setAttr(id, name, value) {
    this.editGraph(`set ${id}.${name}`, (graph) => edit.setAttr(graph, id, name, value));
  }

  setOutput(id) {
    this.editGraph(`make ${id} the output`, (graph) => edit.setOutput(graph, id));
  }

  /** @param {Map<string, {x: number, y: number}>} positions */
  moveNodes(positions, label = "move") {
    this.editGraph(label, (graph) => edit.withPositions(graph, positions));
  }

  autoLayout() {
    this.editGraph("auto-layout", (graph) => edit.withoutPositions(graph));
  }

  newGraph() {
    this.editGraph("new graph", () => edit.emptyGraph());
    this.state.selectNode(null);
  }

  /**
   * Replace the graph by an imported one (a file or pasted JSON).
   * @param {Object} graph  {nodes, output}
   * @param {{hidden?: string[], locked?: string[]}} options
   */
  importGraph(graph, options = {}) {
    const wellFormed = (node) =>
      typeof node?.id === "string" && typeof node?.op === "string";
    if (!Array.isArray(graph.nodes) || !graph.nodes.every(wellFormed)) {
      this.state.raiseError("That is not a graph: every node needs an id and an op.");
      return;
    }
    const output = typeof graph.output === "string" ? graph.output : null;
    const clean = { schema_version: 1, nodes: graph.nodes, output };
    const made = this.editGraph("import a graph", () => edit.copyGraph(clean));
    if (!made) return;
    const names = (list) =>
      Array.isArray(list) ? list.filter((id) => typeof id === "string") : [];
    const hidden = names(options.hidden);
    const locked = names(options.locked);
    if (hidden.length || locked.length) this.setTeaching({ hidden, locked }, "import options");
  }

  /** Mark a node's numbers hidden until students predict them, or show them again. */
  toggleHidden(id) {
    const hidden = new Set(this.state.source.hidden || []);
    const label = hidden.has(id) ? `show ${id} to students` : `hide ${id} from students`;
    if (hidden.has(id)) hidden.delete(id);
    else hidden.add(id);
    this.setTeaching({ hidden: [...hidden] }, label);
  }

  /** Lock an input so students cannot change it, or unlock it. */
  toggleLocked(id) {
    const locked = new Set(this.state.source.locked || []);
    const label = locked.has(id) ? `unlock ${id}` : `lock ${id}`;
    if (locked.has(id)) locked.delete(id);
    else locked.add(id);
    this.setTeaching({ locked: [...locked] }, label);
  }

  setTeaching(changes, label) {
    const after = { ...this.state.source, ...changes };
    if (after.graph) after.expression = this.textOf(after.graph, after.hidden);
    this.change(label, after, "teaching");
  }

  /** The expression text of a graph; a student's copy hides the values they must predict. */
  textOf(graph, hidden) {
    const masked = this.state.mode === "view" ? new Set(hidden || []) : new Set();
    return graphToText(graph, this.state.ops, { hidden: masked });
  }

  // ---- history and evaluation --------------------------------------------------------------

  undo() {
    this.history.undo();
  }

  redo() {
    this.history.redo();
  }

  change(label, after, reason) {
    // The first graph of the page has nothing before it to go back to.
    if (this.state.evaluation === null && !this.state.busy) {
      this.apply(after, reason);
      return;
    }
    const before = this.state.source;
    const command = new ChangeSourceCommand(label, before, after, reason, (source, why) =>
      this.apply(source, why),
    );
    this.history.execute(command);
  }

  /**
   * Make `source` current and draw it: evaluated by the API when it is complete, as a draft
   * when a hand-built graph is not; a change of positions alone redraws without asking.
   */
  apply(source, reason) {
    this.state.setSource(source, reason);
    const payload = payloadOf(source);
    const key = JSON.stringify(payload);
    const fresh = reason === "preset" || reason === "open";
    if (!fresh && key === this.drawnKey) {
      this.settle();
      this.state.rebuildView();
      return;
    }
    if (!fresh && source.graph && this.drawnShapeKey === shapeKey(payload)) {
      this.settle();
      this.drawnKey = key;
      this.state.setPositions(source.graph);
      return;
    }
    if (source.graph) {
      const problem = edit.problemOf(source.graph, this.state.ops);
      if (problem) {
        this.showDraft(source.graph, problem);
        return;
      }
    }
    this.evaluateSource(source, fresh ? "none" : "all");
  }

  /** Drop any request in flight and any error shown: what is drawn is current again. */
  settle() {
    this.latest += 1;
    this.inFlight?.abort();
    this.state.setBusy(false);
    this.state.clearExpressionError();
    this.state.clearError();
  }

  /** Draw a graph the API cannot evaluate (yet), with the reason. */
  showDraft(graph, problem) {
    this.settle();
    this.state.setEvaluation(edit.draftEvaluation(graph, this.state.ops, problem), "all");
    const payload = payloadOf({ graph });
    this.drawnKey = JSON.stringify(payload);
    this.drawnShapeKey = shapeKey(payload);
  }

  /**
   * @param {Source} source
   * @param {"none"|"all"} reveal
   */
  async evaluateSource(source, reveal) {
    const ticket = ++this.latest;
    this.inFlight?.abort();
    this.inFlight = new AbortController();
    this.state.setBusy(true);
    const payload = payloadOf(source);
    try {
      const answer = await evaluate(payload, this.inFlight.signal);
      if (ticket !== this.latest) return;
      this.state.clearExpressionError();
      this.state.clearError();
      this.drawnKey = JSON.stringify(payload);
      this.drawnShapeKey = source.graph ? shapeKey(payload) : null;
      this.state.setEvaluation(answer, reveal);
    } catch (error) {
      if (error.name === "AbortError" || ticket !== this.latest) return;
      this.state.failEvaluation(error);
      if (source.graph && error instanceof ApiError && error.status >= 400) {
        // A hand-built graph the engine refuses (shapes, a cycle): still draw what was built.
        this.showDraft(source.graph, error.message);
      }
      this.report(error, source);
    } finally {
      if (ticket === this.latest) this.state.setBusy(false);
    }
  }

  /**
   * The API's refusal of typed text (a syntax error, a shape mismatch) goes under the box;
   * every other error (the server busy or unreachable, a refused graph) goes to the banner.
   */
  report(error, source) {
    const aboutText = source && source.graph === null && error instanceof ApiError;
    if (aboutText && (error.hasPosition || (error.status >= 400 && error.status < 500))) {
      this.state.clearError();
      this.state.raiseExpressionError(error);
      return;
    }
    this.state.clearExpressionError();
    if (error instanceof ApiError) {
      this.state.raiseError(error.message);
      return;
    }
    this.state.raiseError(`Something went wrong in the page: ${error.message}`);
  }
}

/** What POST /api/evaluate receives for a source. */
export function payloadOf(source) {
  if (source.graph) {
    return { schema_version: 1, nodes: source.graph.nodes, output: source.graph.output };
  }
  return { expression: source.expression };
}

// The payload without positions: equal keys mean the same numbers, only drawn elsewhere.
function shapeKey(payload) {
  if (!payload.nodes) return null;
  const nodes = payload.nodes.map(({ position, ...rest }) => rest);
  return JSON.stringify({ ...payload, nodes });
}

/** True when a graph has groups, labels or positions that its expression cannot describe. */
function carriesMoreThanText(graph) {
  return graph.nodes.some((node) => node.group || node.label || node.position);
}
