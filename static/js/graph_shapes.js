// How each kind of node is drawn: op circles with their symbol, input boxes with an
// editable value and their gradient, constants, group boxes, the output's end label.

import { s } from "./dom.js";
import { formatValue, isTensor } from "./format.js";
import { constTitle, EDGE_DIGITS, leafTitle } from "./layout.js";

/** Draw `node` into `group` (already translated to the node's centre). */
export function drawNode(group, node, box) {
  const draw = {
    op: drawOp,
    group: drawGroup,
    input: drawInput,
    const: drawConst,
    terminal: drawTerminal,
  }[node.kind];
  draw(group, node, box);
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

function drawGroup(group, node, box) {
  const width = box.width;
  const height = box.boxHeight;
  group.append(
    s("rect", {
      class: "focus-ring",
      x: -width / 2 - 6,
      y: -height / 2 - 6,
      width: width + 12,
      height: height + 12,
      rx: 14,
    }),
    s("rect", { class: "node-shape", x: -width / 2, y: -height / 2, width, height, rx: 10 }),
    s("text", { class: "node-symbol group-symbol", y: 1, text: node.symbol }),
    s("text", { class: "node-name", y: height / 2 + 17, text: `${node.name} block` }),
    warningBadge(width / 2 - 4, -height / 2 + 4),
  );
}

function drawInput(group, node, box) {
  const { width, height } = box;
  group.append(
    s("rect", {
      class: "focus-ring",
      x: -width / 2 - 6,
      y: -height / 2 - 6,
      width: width + 12,
      height: height + 12,
      rx: 14,
    }),
    s("rect", { class: "node-shape", x: -width / 2, y: -height / 2, width, height, rx: 10 }),
    s("text", { class: "node-title", y: -5 }, [
      s("tspan", { class: "node-title-name", text: `${node.name} = ` }),
      s("tspan", {
        class: isTensor(node.value) ? "node-title-value" : "node-title-value value-edit",
        text: formatValue(node.value, EDGE_DIGITS),
      }),
    ]),
    s("text", { class: "node-grad", y: 17, text: `∇ ${formatValue(node.grad, EDGE_DIGITS)}` }),
    s("title", { text: `${leafTitle(node)} (click the number to change it)` }),
    warningBadge(width / 2 - 2, -height / 2 + 2),
  );
}

function drawConst(group, node, box) {
  const { width, height } = box;
  group.append(
    s("rect", {
      class: "focus-ring",
      x: -width / 2 - 6,
      y: -height / 2 - 6,
      width: width + 12,
      height: height + 12,
      rx: 12,
    }),
    s("rect", { class: "node-shape", x: -width / 2, y: -height / 2, width, height, rx: 8 }),
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
        markerWidth: 7,
        markerHeight: 7,
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

