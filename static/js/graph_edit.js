// Edits of a graph in its JSON form (schema_version 1), as pure functions: each takes a graph
// and returns a new one, or throws an EditError with a sentence for the page. While a teacher
// builds a graph by hand it may be incomplete: an op's `inputs` can hold null where nothing is
// connected yet. Such a graph is drawn (as a draft) but never sent to the API.

import { counted, shapeOf } from "./format.js";

/** An edit that cannot be made, with the reason in words. */
export class EditError extends Error {}

export const ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const LEAVES = new Set(["input", "const"]);
const INPUT_NAMES = "abcdefghijklmnopqrstuvwxyz";

/** A graph with nothing in it. */
export function emptyGraph() {
  return { schema_version: 1, nodes: [], output: null };
}

/** A deep copy (graphs are plain JSON). */
export function copyGraph(graph) {
  return JSON.parse(JSON.stringify(graph));
}

export function isLeaf(node) {
  return LEAVES.has(node.op);
}

function nodeOf(graph, id) {
  const node = graph.nodes.find((candidate) => candidate.id === id);
  if (!node) throw new EditError(`There is no node ${id}.`);
  return node;
}

/** An id not used yet: inputs get a, b, c, …; ops their name and a number (add1, add2). */
export function freshId(graph, op) {
  const taken = new Set(graph.nodes.map((node) => node.id));
  if (op === "input") {
    const letter = [...INPUT_NAMES].find((name) => !taken.has(name));
    if (letter) return letter;
  }
  const base = op === "input" ? "x" : op;
  for (let n = 1; ; n += 1) {
    if (!taken.has(`${base}${n}`)) return `${base}${n}`;
  }
}

/**
 * Add a node; a new op becomes the output when the graph has none.
 * @returns {{graph: Object, id: string}}
 */
export function addNode(graph, op, position = null) {
  const next = copyGraph(graph);
  const id = freshId(next, op);
  const node = { id, op };
  if (LEAVES.has(op)) node.value = 1;
  else node.inputs = [];
  if (position) node.position = { x: round(position.x), y: round(position.y) };
  next.nodes.push(node);
  if (!next.output && !LEAVES.has(op)) next.output = id;
  return { graph: next, id };
}

/** Remove a node; its consumers keep an empty slot where it was connected. */
export function removeNode(graph, id) {
  nodeOf(graph, id);
  const next = copyGraph(graph);
  next.nodes = next.nodes.filter((node) => node.id !== id);
  for (const node of next.nodes) {
    if (!node.inputs) continue;
    node.inputs = trimmed(node.inputs.map((input) => (input === id ? null : input)));
  }
  if (next.output === id) next.output = sinkOf(next);
  return next;
}

/** The last op that feeds nothing (the natural output), else the last node, else null. */
function sinkOf(graph) {
  const used = new Set(graph.nodes.flatMap((node) => node.inputs || []));
  const sinks = graph.nodes.filter((node) => !used.has(node.id));
  const op = sinks.filter((node) => !LEAVES.has(node.op)).at(-1);
  return (op || sinks.at(-1) || graph.nodes.at(-1) || { id: null }).id;
}

/**
 * Connect `source` into input slot `index` of `target` (the first free slot when index is
 * null). The output moves along when it gets a consumer.
 * @param {Map<string, Object>} ops  op name → description (arity)
 */
export function connect(graph, source, target, index, ops) {
  if (source === target) throw new EditError("A node cannot be its own input.");
  nodeOf(graph, source);
  const into = nodeOf(graph, target);
  if (LEAVES.has(into.op)) {
    const kind = into.op === "input" ? "an input" : "a constant";
    throw new EditError(`${target} is ${kind}: it takes no inputs.`);
  }
  if (dependsOn(graph, source, target)) {
    throw new EditError(`Connecting ${source} into ${target} would make a cycle.`);
  }
  const most = ops?.get(into.op)?.arity?.[1] ?? Infinity;
  const inputs = [...(into.inputs || [])];
  let slot = index;
  if (slot === null || slot === undefined) {
    slot = inputs.indexOf(null);
    if (slot === -1) slot = inputs.length;
  }
  if (slot >= most) {
    throw new EditError(
      `${target} (${into.op}) takes at most ${counted(most, "input")}; disconnect one first.`,
    );
  }
  while (inputs.length < slot) inputs.push(null);
  inputs[slot] = source;

  const next = copyGraph(graph);
  nodeOf(next, target).inputs = inputs;
  if (next.output === source || !next.output) next.output = target;
  return next;
}

/** True when `node` is `ancestor` or is computed from it. */
function dependsOn(graph, node, ancestor) {
  const byId = new Map(graph.nodes.map((entry) => [entry.id, entry]));
  const pending = [node];
  const seen = new Set();
  while (pending.length) {
    const id = pending.pop();
    if (id === ancestor) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const input of byId.get(id)?.inputs || []) if (input) pending.push(input);
  }
  return false;
}

/** Empty input slot `index` of `target`. */
export function disconnect(graph, target, index) {
  nodeOf(graph, target);
  const next = copyGraph(graph);
  const node = nodeOf(next, target);
  const inputs = [...(node.inputs || [])];
  if (index < inputs.length) inputs[index] = null;
  node.inputs = trimmed(inputs);
  return next;
}

function trimmed(inputs) {
  const result = [...inputs];
  while (result.length && result.at(-1) === null) result.pop();
  return result;
}

/** Give a node a new id; every reference follows. */
export function renameNode(graph, id, newId) {
  nodeOf(graph, id);
  if (newId === id) return graph;
  if (!ID_PATTERN.test(newId)) {
    throw new EditError(
      "A name starts with a letter or _, then letters, digits or _ (at most 64), e.g. q or h_1.",
    );
  }
  if (graph.nodes.some((node) => node.id === newId)) {
    throw new EditError(`There is already a node called ${newId}.`);
  }
  const next = copyGraph(graph);
  for (const node of next.nodes) {
    if (node.id === id) node.id = newId;
    if (node.inputs) node.inputs = node.inputs.map((input) => (input === id ? newId : input));
  }
  if (next.output === id) next.output = newId;
  return next;
}

/** Set or clear (empty text) a node's display label. */
export function setLabel(graph, id, label) {
  const next = copyGraph(graph);
  const node = nodeOf(next, id);
  if (label) node.label = label;
  else delete node.label;
  return next;
}

/** A leaf's value: a number or nested lists. */
export function setValue(graph, id, value) {
  const next = copyGraph(graph);
  nodeOf(next, id).value = value;
  return next;
}

/** One attribute of an op; undefined removes it (the op's default applies). */
export function setAttr(graph, id, name, value) {
  const next = copyGraph(graph);
  const node = nodeOf(next, id);
  const attrs = { ...(node.attrs || {}) };
  if (value === undefined) delete attrs[name];
  else attrs[name] = value;
  if (Object.keys(attrs).length) node.attrs = attrs;
  else delete node.attrs;
  return next;
}

export function setOutput(graph, id) {
  nodeOf(graph, id);
  return { ...copyGraph(graph), output: id };
}

/**
 * Positions for some nodes (layout units); the others keep theirs.
 * @param {Map<string, {x: number, y: number}>} positions
 */
export function withPositions(graph, positions) {
  const next = copyGraph(graph);
  for (const node of next.nodes) {
    const at = positions.get(node.id);
    if (at) node.position = { x: round(at.x), y: round(at.y) };
  }
  return next;
}

/** The graph with no saved positions: it is laid out automatically again. */
export function withoutPositions(graph) {
  const next = copyGraph(graph);
  for (const node of next.nodes) delete node.position;
  return next;
}

function round(number) {
  return Math.round(number * 10) / 10;
}

/** Node ids with every node after its inputs, or null when the graph has a cycle. */
export function topologicalOrder(graph) {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const order = [];
  const state = new Map();
  for (const start of graph.nodes) {
    const stack = [[start.id, 0]];
    while (stack.length) {
      const [id, next] = stack.at(-1);
      if (next === 0) {
        if (state.get(id) === "done") {
          stack.pop();
          continue;
        }
        state.set(id, "open");
      }
      const inputs = (byId.get(id)?.inputs || []).filter((input) => byId.has(input));
      if (next < inputs.length) {
        stack.at(-1)[1] = next + 1;
        const input = inputs[next];
        if (state.get(input) === "open") return null;
        if (state.get(input) !== "done") stack.push([input, 0]);
        continue;
      }
      stack.pop();
      state.set(id, "done");
      order.push(id);
    }
  }
  return order;
}

/**
 * Why the graph cannot be evaluated yet, in words, or null when it can be sent to the API.
 * @param {Map<string, Object>} ops
 */
export function problemOf(graph, ops) {
  if (!graph.nodes.length) return "The graph is empty: add an input and an op from the palette.";
  const ids = new Set(graph.nodes.map((node) => node.id));
  for (const node of graph.nodes) {
    if (LEAVES.has(node.op)) {
      if (node.value === null || node.value === undefined) return `${node.id} has no value yet.`;
      continue;
    }
    const inputs = node.inputs || [];
    const [least, most] = ops.get(node.op)?.arity || [inputs.length, inputs.length];
    const connected = inputs.filter((input) => input !== null).length;
    if (inputs.includes(null) || connected < least) {
      const needed = counted(least, "input");
      const wanted = least === most ? needed : `at least ${needed}`;
      return `${node.id} (${node.op}) needs ${wanted}; ${connected} connected.`;
    }
    if (connected > most) {
      return `${node.id} (${node.op}) takes at most ${counted(most, "input")}.`;
    }
    const missing = inputs.find((input) => !ids.has(input));
    if (missing) return `${node.id} uses ${missing}, which is not in the graph.`;
  }
  if (!graph.output || !ids.has(graph.output)) return "Choose the output node.";
  if (topologicalOrder(graph) === null) return "The graph has a cycle.";
  return null;
}

/**
 * An answer-shaped object for a graph the API cannot evaluate yet, so the page can draw it:
 * the structure with the leaves' values, and no other numbers.
 * @param {Map<string, Object>} ops
 * @param {string} problem  why it is a draft
 */
export function draftEvaluation(graph, ops, problem) {
  const order = topologicalOrder(graph) || graph.nodes.map((node) => node.id);
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const nodes = {};
  const edges = [];
  for (const id of order) {
    const node = byId.get(id);
    const leaf = LEAVES.has(node.op);
    nodes[id] = {
      op: node.op,
      inputs: node.inputs || [],
      label: node.label ?? null,
      symbol: leaf ? "" : ops.get(node.op)?.symbol || node.op,
      group: node.group ?? null,
      shape: leaf ? shapeOf(node.value) : [],
      value: leaf ? node.value : null,
      grad: null,
      warning: null,
      formula: null,
      position: node.position || null,
    };
    (node.inputs || []).forEach((source, index) => {
      if (source === null || !byId.has(source)) return;
      edges.push({
        source,
        target: id,
        input_index: index,
        upstream: null,
        local: null,
        downstream: null,
        local_formula: null,
        local_omitted: null,
      });
    });
  }
  return {
    schema_version: 1,
    draft: true,
    problem,
    output: graph.output && byId.has(graph.output) ? graph.output : null,
    graph,
    forward_order: order,
    backward_order: [],
    nodes,
    edges,
    groups: {},
    warnings: [],
    first_nonfinite: null,
    notes: [],
  };
}

/**
 * How many input slots the editor draws for an op: what its arity needs, plus one free slot
 * while more inputs are allowed (conv2d's optional bias).
 * @param {Array<string|null>} inputs
 * @param {[number, number]|undefined} arity
 */
export function slotCount(inputs, arity) {
  const [least, most] = arity || [inputs.length, inputs.length];
  const filled = inputs.length;
  const wanted = inputs.includes(null) || filled >= most ? filled : filled + 1;
  return Math.max(least, Math.min(most, wanted));
}
