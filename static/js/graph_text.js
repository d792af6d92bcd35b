// The expression text of a graph, so the box keeps describing a graph edited in the picture:
// input definitions first, then one line per op in forward order (`q = x + y`,
// `f = softmax(z, axis=0)`), the output last. Constants are written where they are used.
// An op that is not fully connected yet becomes a comment, so the text still parses.

import { topologicalOrder } from "./graph_edit.js";

const INFIX = { add: "+", sub: "-", mul: "*", div: "/", matmul: "@", pow: "**" };

/**
 * @param {Object} graph  graph JSON (inputs may hold null while it is being built)
 * @param {Map<string, Object>} ops  op name → description (for attribute defaults)
 * @param {{hidden?: Set<string>}} [options]  inputs whose value the text must not give away
 * @returns {string}
 */
export function graphToText(graph, ops, options = {}) {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const order = topologicalOrder(graph) || graph.nodes.map((node) => node.id);
  const hidden = options.hidden || new Set();
  const lines = [];

  for (const id of order) {
    const node = byId.get(id);
    if (node.op !== "input") continue;
    const value = hidden.has(id) ? "?  # predict it" : literal(node.value);
    lines.push(`${id} = ${value}`);
  }
  for (const id of order) {
    const node = byId.get(id);
    if (!isLeafOp(node.op)) lines.push(opLine(node, byId, ops));
  }

  // The last statement is the output; name it again when something else comes after it.
  const output = graph.output && byId.get(graph.output);
  if (output && output.op !== "const" && !lines.at(-1)?.startsWith(`${output.id} =`)) {
    lines.push(output.id);
  }
  return lines.join("\n");
}

function isLeafOp(op) {
  return op === "input" || op === "const";
}

function opLine(node, byId, ops) {
  const inputs = node.inputs || [];
  const description = ops.get(node.op);
  const least = description?.arity?.[0] ?? inputs.length;
  const complete = !inputs.includes(null) && inputs.length >= least;
  const operands = inputs.map((id) => (id === null ? "?" : operand(byId.get(id), id)));
  while (operands.length < least) operands.push("?");

  let right;
  if (INFIX[node.op] && operands.length === 2) {
    right = `${operands[0]} ${INFIX[node.op]} ${operands[1]}`;
  } else if (node.op === "neg" && operands.length === 1) {
    right = `-${operands[0]}`;
  } else {
    right = `${node.op}(${[...operands, ...keywords(node, description)].join(", ")})`;
  }
  const line = `${node.id} = ${right}`;
  return complete ? line : `# ${line}  (not connected yet)`;
}

/** A name, or a constant's value written in place (negative numbers in brackets). */
function operand(node, id) {
  if (!node || node.op !== "const") return id;
  const text = literal(node.value);
  return text.startsWith("-") ? `(${text})` : text;
}

function keywords(node, description) {
  const defaults = new Map((description?.attrs || []).map((attr) => [attr.name, attr.default]));
  const pairs = [];
  for (const [name, value] of Object.entries(node.attrs || {})) {
    if (defaults.has(name) && JSON.stringify(defaults.get(name)) === JSON.stringify(value)) {
      continue;
    }
    pairs.push(`${name}=${keywordValue(value)}`);
  }
  return pairs;
}

function keywordValue(value) {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (Array.isArray(value)) return `(${value.map(String).join(", ")})`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** A number or a tensor literal as the expression language writes it. */
export function literal(value) {
  if (Array.isArray(value)) return `[${value.map(literal).join(", ")}]`;
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value);
  return String(value);
}
