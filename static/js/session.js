// Turns what a student does (pick a preset, type, edit a value, undo) into API calls and
// state changes. Only the answer to the latest request is shown; older ones are dropped.

import { ApiError, evaluate, fetchOps, fetchPreset, fetchPresets } from "./api.js";
import { numberText, rewriteDefinition } from "./expression_text.js";
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
  }

  /** Load ops and presets, then open the wanted preset (or the first one). */
  async start(wanted) {
    fetchOps()
      .then((ops) => this.state.setOps(ops))
      .catch(() => {}); // op descriptions only enrich the inspector
    try {
      const presets = await fetchPresets();
      this.state.setPresets(presets);
      const names = presets.map((preset) => preset.name);
      const name = names.includes(wanted) ? wanted : names[0];
      if (name) await this.choosePreset(name);
    } catch (error) {
      this.report(error);
    }
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
    const after = { expression: preset.expression || "", graph: preset.graph, presetName: name };
    this.change(`open preset ${preset.title || name}`, after, "preset");
  }

  /** The text in the expression box changed (already debounced by the panel). */
  commitExpression(text) {
    if (text === this.state.source.expression) return;
    const after = { expression: text, graph: null, presetName: null };
    this.change("edit the expression", after, "typed");
  }

  /**
   * Give an input a new value: rewrite its definition line in the box and evaluate the
   * text again. A preset graph that carries what text cannot (groups, labels), or whose text
   * has no such line, is posted as graph JSON with the new value instead.
   * @param {string} id
   * @param {number} value
   */
  editInputValue(id, value) {
    const source = this.state.source;
    const name = this.state.evaluation?.nodes[id]?.label || id;
    const rewritten =
      rewriteDefinition(source.expression, id, value) ??
      (name !== id ? rewriteDefinition(source.expression, name, value) : null);
    const label = `set ${name} = ${numberText(value)}`;

    if (rewritten !== null && !(source.graph && carriesMoreThanText(source.graph))) {
      this.change(label, { ...source, expression: rewritten, graph: null }, "value");
      return;
    }
    const graph = withValue(source.graph || this.state.evaluation.graph, id, value);
    this.change(label, { ...source, expression: rewritten ?? source.expression, graph }, "value");
  }

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

  /** Make `source` current and evaluate it; a picked preset starts with nothing revealed. */
  apply(source, reason) {
    this.state.setSource(source, reason);
    this.evaluateSource(source, reason === "preset" ? "none" : "all");
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
    try {
      const answer = await evaluate(payloadOf(source), this.inFlight.signal);
      if (ticket !== this.latest) return;
      this.state.clearSyntaxError();
      this.state.clearError();
      this.state.setEvaluation(answer, reveal);
    } catch (error) {
      if (error.name === "AbortError" || ticket !== this.latest) return;
      this.report(error, source);
    } finally {
      if (ticket === this.latest) this.state.setBusy(false);
    }
  }

  /** Errors in the expression go under the box; every other error goes to the banner. */
  report(error, source) {
    if (error instanceof ApiError && error.hasPosition && source && source.graph === null) {
      this.state.clearError();
      this.state.raiseSyntaxError(error);
      return;
    }
    this.state.clearSyntaxError();
    if (error instanceof ApiError) {
      this.state.raiseError(error.message);
      return;
    }
    this.state.raiseError(`Something went wrong in the page: ${error.message}`);
  }
}

function payloadOf(source) {
  if (source.graph) return { schema_version: 1, ...source.graph };
  return { expression: source.expression };
}

/** True when a graph has groups or labels that its expression text cannot describe. */
function carriesMoreThanText(graph) {
  return graph.nodes.some((node) => node.group || node.label);
}

function withValue(graph, id, value) {
  return {
    ...graph,
    nodes: graph.nodes.map((node) => (node.id === id ? { ...node, value } : node)),
  };
}
