// The arithmetic of one step in words and numbers: "−2 + 5 = 3" on the way forward,
// "upstream × local = downstream" on the way back. Used by the callout beside the current
// node and by the screen-reader narration.

import { formatValue, isTensor } from "./format.js";
import { incomingEdges, outgoingEdges, TAIL_KEY } from "./view_model.js";

/** @typedef {import('./view_model.js').View} View */
/** @typedef {import('./types.js').Step} Step */

/**
 * A line is a list of parts; `role` picks the colour and style of each part
 * ("value", "grad", "local", "label" or "" for plain text).
 * @typedef {{text: string, role: string}} Part
 * @typedef {{title: string, lines: Part[][]}} Explanation
 */

const INFIX = new Set(["+", "−", "-", "×", "÷"]);

const part = (text, role = "") => ({ text, role });

/**
 * @param {View} view
 * @param {Step} step
 * @returns {Explanation}
 */
export function explainStep(view, step) {
  const node = view.nodes.get(step.node);
  if (step.phase === "forward") return explainForward(view, node);
  return explainBackward(view, node);
}

function explainForward(view, node) {
  const title = `forward · ${node.name}`;
  if (node.kind === "input") {
    return { title, lines: [[part(`${node.name} = `), part(formatValue(node.value), "value")]] };
  }
  if (node.kind === "const") {
    return { title, lines: [[part("constant "), part(formatValue(node.value), "value")]] };
  }
  const inputs = incomingEdges(view, node.id).map((edge) => view.nodes.get(edge.source));
  const operands = inputs.map((input) => formatValue(input.value));
  const names = inputs.map((input) => input.name);
  return {
    title,
    lines: [
      [part(`${node.name} = ${applied(node.symbol, names)}`)],
      [
        part(`= ${applied(node.symbol, operands)} = `),
        part(formatValue(node.value), "value"),
      ],
    ],
  };
}

/** "a + b" for infix symbols, "exp(a)" for functions, "−a" for negation. */
function applied(symbol, args) {
  if (args.length === 2 && INFIX.has(symbol)) return `${args[0]} ${symbol} ${args[1]}`;
  if (symbol === "xʸ" && args.length === 2) return `${args[0]}^${args[1]}`;
  if (symbol === "−x" && args.length === 1) return `−(${args[0]})`;
  if (symbol === "1/x" && args.length === 1) return `1/(${args[0]})`;
  return `${symbol || "f"}(${args.join(", ")})`;
}

function explainBackward(view, node) {
  const title = `backward · ${node.name}`;
  const lines = [];
  if (node.id === view.output) {
    lines.push([part(`start: ∇${node.name} = `), part(formatValue(node.grad), "grad")]);
  }
  if (node.kind === "input") {
    lines.push(sumLine(view, node));
    return { title, lines };
  }
  const edges = incomingEdges(view, node.id);
  if (edges.length > 0) lines.push([part("upstream × local = downstream", "label")]);
  for (const edge of edges) lines.push(productLine(view, edge));
  return { title, lines };
}

/** One edge's chain rule: "x: −4 × 1 = −4". */
export function productLine(view, edge) {
  const source = view.nodes.get(edge.source).name;
  if (edge.downstream === null || edge.downstream === undefined) {
    return [part(`${source}: `), part("no gradient (constant)", "label")];
  }
  const local = edge.local === null ? "J" : localText(edge.local);
  return [
    part(`${source}: `),
    part(formatValue(edge.upstream), "grad"),
    part(" × "),
    part(local, "local"),
    part(" = "),
    part(formatValue(edge.downstream), "grad"),
  ];
}

function localText(local) {
  return isTensor(local) ? `J ${formatValue(local)}` : formatValue(local);
}

/** A leaf's grad as the sum of its outgoing edges' downstream gradients. */
function sumLine(view, node) {
  const pieces = outgoingEdges(view, node.id)
    .filter((edge) => edge.key !== TAIL_KEY && edge.downstream !== null)
    .map((edge) => formatValue(edge.downstream));
  const terms = pieces.map((text, i) => (i > 0 && text.startsWith("\u2212") ? `(${text})` : text));
  const sum = pieces.length > 1 ? `${terms.join(" + ")} = ` : "";
  return [part(`∇${node.name} = ${sum}`), part(formatValue(node.grad), "grad")];
}

/** The explanation as one sentence-like string for a live region. */
export function explanationText(explanation) {
  const lines = explanation.lines.map((line) => line.map((p) => p.text).join(""));
  return `${explanation.title}: ${lines.join("; ")}`;
}
