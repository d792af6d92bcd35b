// How each kind of node is drawn: op circles with their symbol, input boxes with an
// editable value and their gradient, constants, group boxes, the output's end label.

import { s } from "./dom.js";
import { formatValue, isHidden, isTensor } from "./format.js";
import { constTitle, EDGE_DIGITS, leafTitle } from "./layout.js";

/**
 * Draw `node` into `group` (already translated to the node's centre).
 * @param {{editable?: boolean}} [options]  editable: the input's value can be clicked to edit
 */
export function drawNode(group, node, box, options = {}) {
  const draw = {
    op: drawOp,
    group: drawGroup,
    input: drawInput,
    const: drawConst,
    terminal: drawTerminal,
  }[node.kind];
  draw(group, node, box, options);
}

/** Where input slot `index` of `count` sits on a node, and the direction it faces. */
export function inputPort(box, index, count) {
  if (box.shape === "circle") {
    // Slots fan out over the left side of the circle, the first one on top.
    const spread = (Math.min(70, 24 * (count - 1)) / 180) * Math.PI;
    const share = count > 1 ? (index / (count - 1)) * 2 - 1 : 0;
    const at = Math.PI - share * spread;
    const dx = Math.cos(at);
    const dy = Math.sin(at);
    return { x: dx * box.radius, y: dy * box.radius, dx, dy };
  }
  const height = box.boxHeight || box.height;
  const y = count > 1 ? -height / 2 + ((index + 1) * height) / (count + 1) : 0;
  return { x: -box.width / 2, y, dx: -1, dy: 0 };
}

/** Where a node's output leaves it. */
export function outputPort(box) {
  const x = box.shape === "circle" ? box.radius : box.width / 2;
  return { x, y: 0 };
}

/**
 * The drag handles of the editor: one output port, and one input port per input slot.
 * @param {number} slots  input slots (0 for leaves)
 */
export function drawPorts(group, node, box, slots) {
  const out = outputPort(box);
  const ports = s("g", { class: "ports" }, [
    s("circle", {
      class: "port port-out",
      cx: out.x,
      cy: out.y,
      r: 5.5,
      "data-node-id": node.id,
    }, [s("title", { text: `Drag from here to connect ${node.name} into another node` })]),
  ]);
  for (let index = 0; index < slots; index += 1) {
    const at = inputPort(box, index, slots);
    const filled = node.inputs[index] !== undefined && node.inputs[index] !== null;
    ports.append(
      s("circle", {
        class: filled ? "port port-in is-filled" : "port port-in",
        cx: at.x,
        cy: at.y,
        r: 5.5,
        "data-node-id": node.id,
        "data-index": index,
      }, [s("title", { text: `Input ${index + 1} of ${node.name}` })]),
    );
  }
  group.append(ports);
}

/** A small mark: "?" for numbers students predict, a padlock for a locked input. */
export function drawBadges(group, box, marks) {
  const corner = box.shape === "circle" ? box.radius * 0.8 : box.width / 2 - 2;
  const top = box.shape === "circle" ? box.radius * 0.8 : (box.boxHeight || box.height) / 2 - 2;
  if (marks.hidden) {
    // On a circle the top stays clear of the edges coming in from the left.
    const at = box.shape === "circle" ? [0, -box.radius - 4] : [-corner, -top];
    group.append(
      s("g", { class: "badge badge-hidden", transform: `translate(${at[0]},${at[1]})` }, [
        s("circle", { r: 10 }),
        s("text", { y: 1, text: "?" }),
        s("title", { text: "Students predict this node's numbers before they see them" }),
      ]),
    );
  }
  if (marks.locked) {
    group.append(
      s("g", { class: "badge badge-locked", transform: `translate(${-corner},${top})` }, [
        s("circle", { r: 10 }),
        s("path", { d: "M-4,-1 v-3 a4,4 0 0 1 8,0 v3 M-5.5,-1 h11 v7 h-11 z" }),
        s("title", { text: "Locked: students cannot change this input" }),
      ]),
    );
  }
}

function drawOp(group, node, box) {
  group.append(
    s("circle", { class: "focus-ring", r: box.radius + 6 }),
    s("circle", { class: "node-shape", r: box.radius }),
    s("text", { class: "node-symbol", y: 1, text: node.symbol || node.op }),
    s("text", { class: "node-name", y: box.radius + 17, text: node.name }),
    warningBadge(box.radius * 0.75, -box.radius * 0.75),
  );
}

/**
 * A rounded box centred on the node, with the focus ring drawn around it.
 * @param {number} width
 * @param {number} height
 * @param {number} [radius] corner radius of the box; the ring's is 4 more
 */
function roundedBox(width, height, radius = 10) {
  return [
    s("rect", {
      class: "focus-ring",
      x: -width / 2 - 6,
      y: -height / 2 - 6,
      width: width + 12,
      height: height + 12,
      rx: radius + 4,
    }),
    s("rect", { class: "node-shape", x: -width / 2, y: -height / 2, width, height, rx: radius }),
  ];
}

function drawGroup(group, node, box) {
  const width = box.width;
  const height = box.boxHeight;
  group.append(
    ...roundedBox(width, height),
    s("text", { class: "node-symbol group-symbol", y: 1, text: node.symbol }),
    // The group's name as the graph gives it ("linear1", "logits"); the box shows its symbol.
    s("text", { class: "node-name", y: height / 2 + 17, text: node.name }),
    warningBadge(width / 2 - 4, -height / 2 + 4),
  );
}

function drawInput(group, node, box, options) {
  const { width, height } = box;
  const editable = options.editable !== false && !isTensor(node.value) && !isHidden(node.value);
  const hint = options.editable === false ? "" : " (click the number to change it)";
  group.append(
    ...roundedBox(width, height),
    s("text", { class: "node-title", y: -5 }, [
      s("tspan", { class: "node-title-name", text: `${node.name} = ` }),
      s("tspan", {
        class: editable ? "node-title-value value-edit" : "node-title-value",
        text: formatValue(node.value, EDGE_DIGITS),
      }),
    ]),
    s("text", { class: "node-grad", y: 17, text: `∇ ${formatValue(node.grad, EDGE_DIGITS)}` }),
    s("title", { text: `${leafTitle(node)}${editable ? hint : ""}` }),
    warningBadge(width / 2 - 2, -height / 2 + 2),
  );
}

function drawConst(group, node, box) {
  const { width, height } = box;
  group.append(
    ...roundedBox(width, height, 8),
    s("text", { class: "node-title", y: 1, text: constTitle(node) }),
  );
}

function drawTerminal(group, node, box) {
  const x = -box.width / 2 + 6;
  group.append(s("text", { class: "terminal-name", x, y: 1, text: node.name }));
}

function warningBadge(x, y) {
  return s("g", { class: "warning-badge", transform: `translate(${x},${y})` }, [
    s("circle", { r: 10 }),
    s("text", { y: 1, text: "!" }),
  ]);
}

export function arrowMarker() {
  return s("defs", {}, [
    s(
      "marker",
      {
        id: "arrow",
        viewBox: "0 0 10 10",
        refX: 9,
        refY: 5,
        // Sized in drawing units, so a thicker (selected) edge keeps the same arrow head.
        markerUnits: "userSpaceOnUse",
        markerWidth: 14,
        markerHeight: 14,
        orient: "auto-start-reverse",
      },
      [s("path", { class: "arrow-head", d: "M0,0 L10,5 L0,10 z" })],
    ),
  ]);
}

export function describeNode(node, valueShown, gradShown) {
  const kind = {
    input: "input",
    const: "constant",
    op: `${node.op} (${node.symbol})`,
    group: `${node.name} block (${node.symbol})`,
  }[node.kind];
  const value = valueShown ? `value ${formatValue(node.value, 6)}` : "value not computed yet";
  let grad = "no gradient";
  if (node.grad !== null) grad = gradShown ? `gradient ${formatValue(node.grad, 6)}` : "";
  const parts = [node.kind === "group" ? kind : `${node.name}, ${kind}`, value, grad];
  if (node.warning) parts.push(`warning: ${node.warning}`);
  return `${parts.filter(Boolean).join(", ")}. Press Enter to inspect.`;
}

