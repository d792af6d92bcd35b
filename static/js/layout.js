// Positions from the dagre layered layout, left to right: leaves on the left, the output on
// the right. Edges get a label slot (dagre places it) so their two numbers never overlap. A
// graph whose nodes carry saved positions (a teacher moved them) is drawn where they say, with
// each edge's numbers half way along it.

import { formatValue, sizeOf } from "./format.js";
import { edgeMapSize } from "./heatmap.js";
import { TERMINAL_ID } from "./view_model.js";

/** @typedef {import('./view_model.js').View} View */

// Fonts as the stylesheet draws them, so measured widths match the drawing.
export const FAMILY = "system-ui, 'Segoe UI', Roboto, 'Liberation Sans', sans-serif";
export const EDGE_FONT = `600 15px ${FAMILY}`;
export const NODE_FONT = `600 16px ${FAMILY}`;
export const TERMINAL_FONT = `800 17px ${FAMILY}`;
export const SYMBOL_FONT = `700 19px ${FAMILY}`;

/** Gaps of the layered layout, in layout units (pixels at scale 1). */
const SPACING = { rankdir: "LR", nodesep: 22, edgesep: 14, ranksep: 14, marginx: 14, marginy: 14 };

/** Significant digits of the numbers on edges; the inspector shows more. */
export const EDGE_DIGITS = 3;

/** Gap between the edge line and its numbers; the label slot holds both lines. */
const LABEL_HEIGHT = 46;
const NAME_ROOM = 18;
/** Heat maps of a tensor edge sit this far from the line (beyond its text). */
export const MAP_OFFSET = { above: 22, below: 27 };
const MARGIN = 14;
const TERMINAL_GAP = 70;
const PARALLEL_GAP = 44;

let measureContext = null;

/** Width of `text` in pixels for a CSS font shorthand. */
export function textWidth(text, font) {
  measureContext ??= document.createElement("canvas").getContext("2d");
  measureContext.font = font;
  return measureContext.measureText(text).width;
}

/** Radius of an op circle big enough for its symbol. */
export function circleRadius(symbol) {
  return Math.max(23, textWidth(symbol, SYMBOL_FONT) / 2 + 10);
}

/** Size and shape of a display node. */
function nodeBox(node) {
  if (node.kind === "op") {
    const radius = circleRadius(node.symbol);
    return { shape: "circle", radius, width: radius * 2, height: radius * 2 + NAME_ROOM * 2 };
  }
  if (node.kind === "group") {
    const width = Math.max(70, textWidth(node.symbol, SYMBOL_FONT) + 36);
    return { shape: "box", width, height: 56 + NAME_ROOM * 2, boxHeight: 56 };
  }
  if (node.kind === "terminal") {
    return { shape: "text", width: textWidth(node.name, TERMINAL_FONT) + 12, height: 30 };
  }
  const title = node.kind === "const" ? constTitle(node) : leafTitle(node);
  const grad = node.kind === "input" ? `∇ ${formatValue(node.grad, EDGE_DIGITS)}` : "";
  const width = Math.max(textWidth(title, NODE_FONT), textWidth(grad, EDGE_FONT)) + 26;
  return { shape: "pill", width: Math.max(width, 44), height: node.kind === "input" ? 52 : 32 };
}

/** A constant shows its label ("onehot(0, 3)") or else its value. */
export function constTitle(node) {
  return node.label || formatValue(node.value, EDGE_DIGITS);
}

/** "x = −2": what an input's box reads. */
export function leafTitle(node) {
  return `${node.name} = ${formatValue(node.value, EDGE_DIGITS)}`;
}

/** The heat map size of an edge's tensor (zero for a scalar edge). */
export function edgeMap(edge) {
  if (!edge.shape || !edge.shape.length || sizeOf(edge.shape) === 0) {
    return { width: 0, height: 0 };
  }
  return edgeMapSize(edge.shape);
}

function labelSize(edge) {
  const value = textWidth(formatValue(edge.value, EDGE_DIGITS), EDGE_FONT);
  const grad = textWidth(`∇ ${formatValue(edge.downstream, EDGE_DIGITS)}`, EDGE_FONT);
  const map = edgeMap(edge);
  const height = map.height ? 2 * (MAP_OFFSET.below + map.height + 3) : LABEL_HEIGHT;
  return { width: Math.max(value, grad, map.width, 24) + 12, height };
}

/** True when the drawing should follow the positions saved in the graph. */
export function followsPositions(view) {
  if (view.collapsed) return false;
  for (const node of view.nodes.values()) if (node.position) return true;
  return false;
}

/**
 * @typedef {Object} Layout
 * @property {number} width
 * @property {number} height
 * @property {Map<string, Object>} nodes  display id → box with its centre x, y
 * @property {Map<string, {points: Array<{x: number, y: number}>, x: number, y: number}>} edges
 * @property {{x: number, y: number}} offset  layout = saved position + offset
 * @property {boolean} manual  drawn from saved positions
 */

/**
 * @param {View} view
 * @param {{moved?: Map<string, {x: number, y: number}>, offset?: {x: number, y: number}}} [drag]
 *   positions that override the saved ones, and a fixed shift (the drawing holds still while a
 *   node is dragged)
 * @returns {Layout}
 */
export function layoutView(view, drag = {}) {
  const layered = layeredLayout(view);
  const moved = drag.moved || new Map();
  if (!followsPositions(view) && !moved.size) return layered;
  return positionedLayout(view, layered, moved, drag.offset);
}

/** Every node at its saved (or just moved) position; the rest where dagre put them. */
function positionedLayout(view, layered, moved, offset) {
  const nodes = new Map();
  for (const [id, box] of layered.nodes) {
    if (id === TERMINAL_ID) continue;
    const node = view.nodes.get(id);
    const at = moved.get(id) || node.position || { x: box.x, y: box.y };
    nodes.set(id, { ...box, x: at.x, y: at.y });
  }
  if (view.output !== null && layered.nodes.has(TERMINAL_ID)) {
    const out = nodes.get(view.output);
    const box = layered.nodes.get(TERMINAL_ID);
    const x = out.x + out.width / 2 + TERMINAL_GAP + box.width / 2;
    nodes.set(TERMINAL_ID, { ...box, x, y: out.y });
  }
  const edges = straightEdges(view, nodes);
  return framed(nodes, edges, offset);
}

// One label point half way between the two ends; parallel edges (x * x) spread apart.
function straightEdges(view, nodes) {
  const counts = new Map();
  const seen = new Map();
  for (const edge of view.edges) {
    const pair = `${edge.source}->${edge.target}`;
    counts.set(pair, (counts.get(pair) || 0) + 1);
  }
  const edges = new Map();
  for (const edge of view.edges) {
    const pair = `${edge.source}->${edge.target}`;
    const rank = seen.get(pair) || 0;
    seen.set(pair, rank + 1);
    const from = nodes.get(edge.source);
    const to = nodes.get(edge.target);
    const spread = (rank - (counts.get(pair) - 1) / 2) * PARALLEL_GAP;
    const x = (from.x + from.width / 2 + to.x - to.width / 2) / 2;
    const y = (from.y + to.y) / 2 + spread;
    const start = { x: from.x, y: from.y };
    const end = { x: to.x, y: to.y };
    edges.set(edge.key, { points: [start, { x, y }, end], x, y, ...labelSize(edge) });
  }
  return edges;
}

// Shift everything so the drawing starts at the margin; remember the shift to save positions.
function framed(nodes, edges, fixed) {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  const grow = (x, y, width, height) => {
    left = Math.min(left, x - width / 2);
    right = Math.max(right, x + width / 2);
    top = Math.min(top, y - height / 2);
    bottom = Math.max(bottom, y + height / 2);
  };
  for (const box of nodes.values()) grow(box.x, box.y, box.width, box.height);
  for (const edge of edges.values()) grow(edge.x, edge.y, edge.width, edge.height);
  if (!Number.isFinite(left)) return emptyLayout();

  const dx = fixed ? fixed.x : MARGIN - left;
  const dy = fixed ? fixed.y : MARGIN - top;
  for (const box of nodes.values()) Object.assign(box, { x: box.x + dx, y: box.y + dy });
  for (const edge of edges.values()) {
    edge.x += dx;
    edge.y += dy;
    edge.points = edge.points.map((point) => ({ x: point.x + dx, y: point.y + dy }));
  }
  const width = right + dx + MARGIN;
  const height = bottom + dy + MARGIN;
  return { width, height, nodes, edges, offset: { x: dx, y: dy }, manual: true };
}

function emptyLayout() {
  return { width: 400, height: 120, nodes: new Map(), edges: new Map(), offset: { x: 0, y: 0 } };
}

/** The dagre layered layout, left to right. */
function layeredLayout(view) {
  const graph = new window.dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph(SPACING);
  graph.setDefaultEdgeLabel(() => ({}));

  const boxes = new Map();
  for (const node of view.nodes.values()) {
    const box = nodeBox(node);
    boxes.set(node.id, box);
    graph.setNode(node.id, { width: box.width, height: box.height });
  }
  const depth = depths(view);
  const pairs = new Map();
  for (const edge of view.edges) {
    const pair = `${edge.source}->${edge.target}`;
    pairs.set(pair, (pairs.get(pair) || 0) + 1);
  }
  for (const edge of view.edges) {
    // Two edges between the same nodes (x * x) curve apart; give their numbers more room.
    const parallel = pairs.get(`${edge.source}->${edge.target}`) > 1 ? 36 : 0;
    const size = labelSize(edge);
    const label = { width: size.width + parallel, height: size.height, labelpos: "c" };
    // An input's edge is as long as the longest path into its target, so every input
    // starts in the first column, as in the course's figures.
    const isInput = view.nodes.get(edge.source).kind === "input";
    label.minlen = isInput ? Math.max(1, depth.get(edge.target)) : 1;
    graph.setEdge(edge.source, edge.target, label, edge.key);
  }
  window.dagre.layout(graph);

  const nodes = new Map();
  for (const [id, box] of boxes) {
    const placed = graph.node(id);
    nodes.set(id, { ...box, x: placed.x, y: placed.y });
  }
  const edges = new Map();
  for (const edge of view.edges) {
    const placed = graph.edge(edge.source, edge.target, edge.key);
    const size = labelSize(edge);
    edges.set(edge.key, { points: placed.points, x: placed.x, y: placed.y, ...size });
  }
  const size = graph.graph();
  const offset = { x: 0, y: 0 };
  return { width: size.width, height: size.height, nodes, edges, offset, manual: false };
}

/** Longest path (in edges) from any leaf to each node; view.nodes is in forward order. */
function depths(view) {
  const sources = new Map();
  for (const edge of view.edges) {
    sources.set(edge.target, [...(sources.get(edge.target) || []), edge.source]);
  }
  const depth = new Map();
  for (const id of view.nodes.keys()) {
    const before = (sources.get(id) || []).map((source) => depth.get(source) ?? 0);
    depth.set(id, before.length ? Math.max(...before) + 1 : 0);
  }
  return depth;
}

/**
 * Where an edge leaves its source and enters its target, and the path between.
 * @param {{x: number, y: number, dx: number, dy: number}} [entry]  a fixed end (an input port)
 */
export function edgePath(layout, edge, entry) {
  const placed = layout.edges.get(edge.key);
  const from = layout.nodes.get(edge.source);
  const to = layout.nodes.get(edge.target);
  const inner = placed.points.slice(1, -1);
  const first = inner[0] || { x: placed.x, y: placed.y };
  const last = inner.at(-1) || first;

  const start = exitPoint(from, first);
  const end = entry || entryPoint(to, last, edge.target === TERMINAL_ID);
  return smoothPath([start, ...inner, end]);
}

function exitPoint(box, toward) {
  if (box.shape === "circle") return onCircle(box, toward);
  return { x: box.x + box.width / 2, y: box.y, dx: 1, dy: 0 };
}

function entryPoint(box, from, isTerminal) {
  if (box.shape === "circle") return onCircle(box, from);
  if (isTerminal || box.shape === "pill") {
    return { x: box.x - box.width / 2 - 2, y: box.y, dx: -1, dy: 0 };
  }
  const height = box.boxHeight || box.height;
  const y = Math.max(box.y - height / 2 + 8, Math.min(box.y + height / 2 - 8, from.y));
  return { x: box.x - box.width / 2 - 2, y, dx: -1, dy: 0 };
}

// A point on the circle facing `other`, with the outward direction for the curve's tangent.
function onCircle(box, other) {
  const dx = other.x - box.x;
  const dy = other.y - box.y;
  const length = Math.hypot(dx, dy) || 1;
  const radius = box.radius + 2;
  return {
    x: box.x + (dx / length) * radius,
    y: box.y + (dy / length) * radius,
    dx: dx / length,
    dy: dy / length,
  };
}

// Cubic pieces through the points, level at every inner point (where the numbers sit) and
// along the given direction at the two ends.
function smoothPath(points) {
  let path = `M${round(points[0].x)},${round(points[0].y)}`;
  for (let i = 1; i < points.length; i += 1) {
    const a = points[i - 1];
    const b = points[i];
    const reach = Math.max(Math.abs(b.x - a.x) * 0.5, 12);
    const c1 = i === 1 && a.dx !== undefined ? along(a, reach) : { x: a.x + reach, y: a.y };
    const last = i === points.length - 1 && b.dx !== undefined;
    const c2 = last ? along(b, reach) : { x: b.x - reach, y: b.y };
    path += ` C${round(c1.x)},${round(c1.y)} ${round(c2.x)},${round(c2.y)} `;
    path += `${round(b.x)},${round(b.y)}`;
  }
  return path;
}

function along(point, reach) {
  return { x: point.x + point.dx * reach, y: point.y + point.dy * reach };
}

function round(number) {
  return Math.round(number * 10) / 10;
}
