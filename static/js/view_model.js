// What is drawn, derived from one API answer: display nodes, display edges and the steps of
// both passes. With blocks collapsed, a group's primitives become one box whose edges carry
// the numbers the API computed for the group as a whole. Numbers a teacher hid ("predict
// before reveal") are replaced by HIDDEN here, so no panel can show them by mistake.

import { HIDDEN, toNumber } from "./format.js";

/** @typedef {import('./types.js').Evaluation} Evaluation */
/** @typedef {import('./types.js').DisplayNode} DisplayNode */
/** @typedef {import('./types.js').DisplayEdge} DisplayEdge */
/** @typedef {import('./types.js').Step} Step */

/** Id of the end label drawn to the right of the output node. */
export const TERMINAL_ID = "__output__";

/** Key of the edge from the output node to its end label. */
export const TAIL_KEY = "__tail__";

const GROUP_PREFIX = "group:";

const LEAF_OPS = new Set(["input", "const"]);

/**
 * @typedef {Object} View
 * @property {Map<string, DisplayNode>} nodes  in forward order, the end label last
 * @property {DisplayEdge[]} edges             the tail edge last
 * @property {Step[]} sequence                 forward steps, then backward steps
 * @property {number} forwardCount
 * @property {Map<string, number>} forwardIndex   display id → its forward step
 * @property {Map<string, number>} backwardIndex  display id → its backward step
 * @property {Map<string, string>} displayOf      API node id → display id
 * @property {string|null} output              display id of the output node
 * @property {boolean} collapsed
 * @property {boolean} draft                    drawn from an incomplete graph: no numbers
 */

/**
 * API node ids whose value or grad students must not see yet, and the nodes whose incoming
 * edges must not show their local gradient.
 * @typedef {{value: Set<string>, grad: Set<string>, local: Set<string>}} Masks
 */

const NO_MASKS = { value: new Set(), grad: new Set(), local: new Set() };

/**
 * What a student must not see yet, from the ids a teacher hid and the numbers the student
 * predicted or revealed ("id:value", "id:grad"). A hidden number also hides every number it
 * would give away: the values computed from a hidden op's value, the local gradients that
 * read a hidden value, and the grads the backward pass computes from a hidden grad or through
 * such a local gradient. A hidden input hides its own value only, because students are meant
 * to work it out from the values it feeds. A number the student revealed shows again.
 * @param {Evaluation} evaluation
 * @param {string[]} hidden
 * @param {Set<string>} revealed
 * @returns {Masks}
 */
export function spreadMasks(evaluation, hidden, revealed) {
  if (!evaluation || hidden.length === 0) return NO_MASKS;
  const masks = { value: new Set(), grad: new Set(), local: new Set() };
  const teacher = new Set(hidden);
  const known = (id, part) => revealed.has(`${id}:${part}`);
  const inputsOf = (id) => (evaluation.nodes[id].inputs || []).filter((input) => input !== null);

  // Values computed from a hidden op's value, and the locals that read one of them.
  const spreading = new Set();
  const entangled = new Set();
  for (const id of evaluation.forward_order || []) {
    const leaf = LEAF_OPS.has(evaluation.nodes[id].op);
    const derived = inputsOf(id).some((input) => spreading.has(input));
    const masked = !known(id, "value") && (teacher.has(id) || derived);
    if (masked) masks.value.add(id);
    if (masked && !leaf) spreading.add(id);
    if (spreading.has(id) || derived) entangled.add(id);
    if (masked || inputsOf(id).some((input) => masks.value.has(input))) masks.local.add(id);
  }

  // Backward order reaches a node after every node its grad is computed from.
  const targets = new Map();
  for (const edge of evaluation.edges) {
    if (!targets.has(edge.source)) targets.set(edge.source, []);
    targets.get(edge.source).push(edge.target);
  }
  // The output's grad is where the backward pass starts (1, or the grad_output sent): it is
  // no secret, so hiding the output does not hide every other gradient behind it.
  const secret = (target) => masks.grad.has(target) && target !== evaluation.output;
  for (const id of evaluation.backward_order || []) {
    if (evaluation.nodes[id].grad === null || known(id, "grad")) continue;
    const derived = (targets.get(id) || []).some(
      (target) => secret(target) || entangled.has(target),
    );
    if (teacher.has(id) || derived) masks.grad.add(id);
  }
  return masks;
}

/** True when the answer has groups the page can draw as one box. */
export function hasGroups(evaluation) {
  return Boolean(evaluation && evaluation.groups && Object.keys(evaluation.groups).length);
}

/** Display id of a group box. */
export function groupId(name) {
  return GROUP_PREFIX + name;
}

/**
 * @param {Evaluation} evaluation
 * @param {boolean} collapsed
 * @param {Masks} [masks]
 * @returns {View}
 */
export function buildView(evaluation, collapsed, masks = NO_MASKS) {
  const groups = collapsed && hasGroups(evaluation) ? evaluation.groups : {};
  const displayOf = displayIds(evaluation, groups);
  const masked = maskedEvaluation(evaluation, masks);

  const nodes = displayNodes(masked, groups, displayOf);
  const edges = displayEdges(masked, groups, displayOf);
  const output = displayOf.get(evaluation.output) ?? null;
  if (output !== null) addTerminal(nodes, edges, masked, output);

  const draft = Boolean(evaluation.draft);
  const forward = draft ? [] : steps(evaluation.forward_order, "forward", groups, displayOf);
  const backward = draft ? [] : steps(evaluation.backward_order, "backward", groups, displayOf);
  return {
    nodes,
    edges,
    sequence: [...forward, ...backward],
    forwardCount: forward.length,
    forwardIndex: indexOf(forward, 0),
    backwardIndex: indexOf(backward, forward.length),
    displayOf,
    output,
    collapsed: Object.keys(groups).length > 0,
    draft,
  };
}

/**
 * The answer with the masked numbers replaced: a node's value (and the value its edges carry),
 * its grad (and the upstream and downstream of its incoming edges, the downstream of its
 * outgoing ones), and the local gradients `masks.local` names, because a local gradient
 * usually is another input's value.
 */
function maskedEvaluation(evaluation, masks) {
  if (!masks.value.size && !masks.grad.size && !masks.local.size) return evaluation;
  const nodes = {};
  for (const [id, node] of Object.entries(evaluation.nodes)) {
    nodes[id] = {
      ...node,
      value: masks.value.has(id) ? HIDDEN : node.value,
      grad: masks.grad.has(id) && node.grad !== null ? HIDDEN : node.grad,
    };
  }
  const hide = (value, yes) => (yes && value !== null ? HIDDEN : value);
  const edges = evaluation.edges.map((edge) => ({
    ...edge,
    upstream: hide(edge.upstream, masks.grad.has(edge.target)),
    local: hide(edge.local, masks.local.has(edge.target)),
    downstream: hide(
      edge.downstream,
      masks.grad.has(edge.source) || masks.grad.has(edge.target),
    ),
  }));
  const groups = {};
  for (const [name, group] of Object.entries(evaluation.groups || {})) {
    const entered = group.nodes.some((id) => masks.local.has(id));
    const gradHidden = masks.grad.has(group.output);
    groups[name] = {
      ...group,
      edges: (group.edges || []).map((edge) => ({
        ...edge,
        upstream: hide(edge.upstream, gradHidden),
        local: hide(edge.local, entered || masks.value.has(edge.source)),
        downstream: hide(edge.downstream, gradHidden || masks.grad.has(edge.source)),
      })),
    };
  }
  return { ...evaluation, nodes, edges, groups };
}

function displayIds(evaluation, groups) {
  const displayOf = new Map();
  for (const id of evaluation.forward_order) displayOf.set(id, id);
  for (const [name, group] of Object.entries(groups)) {
    for (const member of group.nodes) displayOf.set(member, groupId(name));
  }
  return displayOf;
}

function displayNodes(evaluation, groups, displayOf) {
  /** @type {Map<string, DisplayNode>} */
  const nodes = new Map();
  for (const id of evaluation.forward_order) {
    const shown = displayOf.get(id);
    if (shown !== id) {
      // The box takes the place of its output, where its value is known.
      const name = shown.slice(GROUP_PREFIX.length);
      if (groups[name].output === id) nodes.set(shown, groupNode(evaluation, groups, shown));
      continue;
    }
    nodes.set(id, apiNode(evaluation, id));
  }
  return nodes;
}

function apiNode(evaluation, id) {
  const node = evaluation.nodes[id];
  const kind = node.op === "input" || node.op === "const" ? node.op : "op";
  return {
    id,
    kind,
    name: node.label || id,
    label: node.label,
    symbol: node.symbol || "",
    op: node.op,
    value: node.value,
    grad: node.grad,
    shape: node.shape || [],
    warning: node.warning,
    formula: node.formula,
    position: node.position || null,
    inputs: node.inputs || [],
    members: [],
  };
}

function groupNode(evaluation, groups, shown) {
  const name = shown.slice(GROUP_PREFIX.length);
  const group = groups[name];
  const out = evaluation.nodes[group.output];
  const warnings = group.nodes.map((id) => evaluation.nodes[id].warning).filter(Boolean);
  return {
    id: shown,
    kind: "group",
    name,
    symbol: group.symbol || name,
    op: name,
    value: out.value,
    grad: out.grad,
    shape: out.shape || [],
    warning: warnings[0] || null,
    formula: null,
    position: null,
    inputs: [],
    members: [...group.nodes],
  };
}

function displayEdges(evaluation, groups, displayOf) {
  /** @type {DisplayEdge[]} */
  const edges = [];
  const enteredGroups = new Set();
  for (const edge of evaluation.edges) {
    const source = displayOf.get(edge.source);
    const target = displayOf.get(edge.target);
    if (source === target) continue;
    if (target !== edge.target) {
      addGroupEntry(edges, evaluation, groups, edge, source, target, enteredGroups);
      continue;
    }
    edges.push(fromApiEdge(evaluation, edge, source, target));
  }
  return edges;
}

function fromApiEdge(evaluation, edge, source, target) {
  const from = evaluation.nodes[edge.source];
  return {
    key: `${source}->${target}#${edge.input_index}`,
    source,
    target,
    inputIndex: edge.input_index,
    value: from.value,
    shape: from.shape || [],
    targetShape: evaluation.nodes[edge.target].shape || [],
    upstream: edge.upstream,
    local: edge.local,
    downstream: edge.downstream,
    localFormula: edge.local_formula,
    localOmitted: edge.local_omitted,
  };
}

// Several primitive edges may enter a group from one source (x used twice inside the
// block); the group's own numbers give one edge per source.
function addGroupEntry(edges, evaluation, groups, edge, source, target, entered) {
  const name = target.slice(GROUP_PREFIX.length);
  const key = `${source}->${target}`;
  if (entered.has(key)) return;
  entered.add(key);

  const group = groups[name];
  const numbers = (group.edges || []).find((e) => e.source === edge.source);
  const from = evaluation.nodes[edge.source];
  edges.push({
    key: `${key}#${entered.size - 1}`,
    source,
    target,
    inputIndex: entered.size - 1,
    value: from.value,
    shape: from.shape || [],
    targetShape: evaluation.nodes[group.output].shape || [],
    ...(numbers ? groupNumbers(numbers) : summedNumbers(evaluation, group, edge.source)),
    localFormula: null,
  });
}

function groupNumbers(numbers) {
  return {
    upstream: numbers.upstream ?? null,
    local: numbers.local ?? null,
    downstream: numbers.downstream ?? null,
    localOmitted: null,
  };
}

// The engine sums a block up only when all its values are scalars. For a tensor block the
// edge into the box still carries what is known without the block's Jacobian: upstream is the
// grad of the block's output, and downstream, the gradient the source gets through the block,
// is the sum of the downstreams of its primitive edges into the block.
function summedNumbers(evaluation, group, source) {
  const inside = new Set(group.nodes);
  const parts = evaluation.edges
    .filter((edge) => edge.source === source && inside.has(edge.target))
    .map((edge) => edge.downstream);
  const known = parts.length > 0 && parts.every((part) => part !== null && part !== undefined);
  return {
    upstream: evaluation.nodes[group.output].grad ?? null,
    local: null,
    downstream: known ? parts.reduce(addValues) : null,
    localOmitted:
      "The block's local gradient as a whole is not shown for tensors; expand the block " +
      "(untick Collapse blocks) to see each primitive's.",
  };
}

/** Two API values of one shape added element by element ("nan", "inf" and HIDDEN kept). */
function addValues(left, right) {
  if (left === HIDDEN || right === HIDDEN) return HIDDEN;
  if (Array.isArray(left)) return left.map((item, i) => addValues(item, right[i]));
  const sum = toNumber(left) + toNumber(right);
  if (Number.isNaN(sum)) return "nan";
  if (!Number.isFinite(sum)) return sum > 0 ? "inf" : "-inf";
  return sum;
}

function addTerminal(nodes, edges, evaluation, output) {
  const out = nodes.get(output);
  const apiOutput = evaluation.nodes[evaluation.output];
  const name = apiOutput.label || evaluation.output;
  nodes.set(TERMINAL_ID, {
    id: TERMINAL_ID,
    kind: "terminal",
    name: out.kind === "op" || out.kind === "group" ? name : `${name} (output)`,
    symbol: "",
    op: "output",
    value: out.value,
    grad: out.grad,
    shape: out.shape,
    warning: null,
    formula: null,
    position: null,
    inputs: [],
    members: [],
  });
  edges.push({
    key: TAIL_KEY,
    source: output,
    target: TERMINAL_ID,
    inputIndex: 0,
    value: out.value,
    shape: out.shape,
    targetShape: out.shape,
    upstream: null,
    local: null,
    downstream: out.grad,
    localFormula: null,
    localOmitted: null,
  });
}

// A group box takes its forward step where its output is computed and its backward step
// where the gradient reaches that output; the other members take no step of their own.
function steps(order, phase, groups, displayOf) {
  const result = [];
  for (const id of order) {
    const shown = displayOf.get(id);
    if (shown !== id) {
      const name = shown.slice(GROUP_PREFIX.length);
      if (groups[name].output !== id) continue;
    }
    result.push({ phase, node: shown });
  }
  return result;
}

function indexOf(list, offset) {
  const index = new Map();
  list.forEach((step, i) => index.set(step.node, offset + i));
  return index;
}

/**
 * Which numbers are visible after `position` steps of the sequence.
 * @param {View} view
 * @param {number} position
 */
export function revealAt(view, position) {
  const reached = (index) => index !== undefined && position > index;
  const valueShown = (id) =>
    reached(view.forwardIndex.get(id === TERMINAL_ID ? view.output : id));
  const gradShown = (id) =>
    reached(view.backwardIndex.get(id === TERMINAL_ID ? view.output : id));
  return {
    valueShown,
    gradShown,
    /** An edge's gradient appears when the backward pass has processed its target. */
    edgeGradShown: (edge) => gradShown(edge.key === TAIL_KEY ? view.output : edge.target),
  };
}

/** The incoming edges of a display node, by input index. */
export function incomingEdges(view, id) {
  return view.edges
    .filter((edge) => edge.target === id)
    .sort((a, b) => a.inputIndex - b.inputIndex);
}

/** The outgoing edges of a display node (the tail edge included for the output). */
export function outgoingEdges(view, id) {
  return view.edges.filter((edge) => edge.source === id);
}
