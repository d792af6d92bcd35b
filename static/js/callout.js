// The box beside the current node that shows the arithmetic of the step being taken
// ("−2 + 5 = 3", or "upstream × local = downstream" with numbers). It goes where it covers
// the fewest other nodes and numbers, and keeps about the same size on screen.

import { s, clear } from "./dom.js";
import { explainStep } from "./explain.js";
import { FAMILY, textWidth } from "./layout.js";

const LINE = 21;
const FONT = `600 15px ${FAMILY}`;
/** The box is drawn at most this much larger than its natural size. */
const SCREEN_SCALE = 1.25;
const GAP = 14;

export class Callout {
  /**
   * @param {SVGGElement} leader  drawn under the nodes
   * @param {SVGGElement} box     drawn above everything
   */
  constructor(leader, box) {
    this.leader = leader;
    this.box = box;
  }

  hide() {
    clear(this.leader);
    clear(this.box);
  }

  /**
   * @param {import('./view_model.js').View} view
   * @param {Object} layout
   * @param {import('./types.js').Step} step
   * @param {number[]} viewBox  [left, top, width, height] currently visible
   * @param {number} scale      screen pixels per layout unit
   */
  show(view, layout, step, viewBox, scale) {
    this.hide();
    const node = layout.nodes.get(step.node);
    const explanation = explainStep(view, step);
    const lines = [[{ text: explanation.title, role: "title" }], ...explanation.lines];
    const shrink = Math.min(1, SCREEN_SCALE / (scale || 1));
    const naturalWidth = Math.max(...lines.map(lineWidth)) + 24;
    const naturalHeight = lines.length * LINE + 14;
    const width = naturalWidth * shrink;
    const height = naturalHeight * shrink;
    const { x, y } = bestSpot(layout, node, width, height, viewBox);

    this.leader.append(
      s("line", {
        class: "callout-leader",
        x1: node.x,
        y1: node.y,
        x2: clamp(node.x, x + 8, x + width - 8),
        y2: clamp(node.y, y, y + height),
      }),
    );
    const content = s("g", { transform: `translate(${x},${y}) scale(${shrink})` }, [
      s("rect", { class: "callout-box", width: naturalWidth, height: naturalHeight, rx: 8 }),
    ]);
    lines.forEach((line, row) => {
      const text = s("text", { x: 12, y: 7 + LINE * (row + 0.78) });
      for (const piece of line) {
        text.append(s("tspan", { class: `callout-${piece.role || "plain"}`, text: piece.text }));
      }
      content.append(text);
    });
    this.box.append(content);
  }
}

/** Of six spots around the node, the one covering the least of other nodes and labels. */
function bestSpot(layout, node, width, height, viewBox) {
  const [left, top, viewWidth, viewHeight] = viewBox;
  const halfWidth = node.width / 2;
  const drawnHeight = node.shape === "circle" ? node.radius * 2 : node.boxHeight || node.height;
  const halfHeight = drawnHeight / 2;
  const spots = [
    { x: node.x - width / 2, y: node.y - halfHeight - GAP - height },
    { x: node.x - width / 2, y: node.y + halfHeight + GAP + 16 },
    { x: node.x + halfWidth + GAP, y: node.y - height - 8 },
    { x: node.x + halfWidth + GAP, y: node.y + 8 },
    { x: node.x - halfWidth - GAP - width, y: node.y - height - 8 },
    { x: node.x - halfWidth - GAP - width, y: node.y + 8 },
  ].map((spot) => ({
    x: clamp(spot.x, left + 4, left + viewWidth - width - 4),
    y: clamp(spot.y, top + 4, top + viewHeight - height - 4),
  }));

  const obstacles = obstaclesOf(layout);
  let best = spots[0];
  let bestCover = Infinity;
  for (const spot of spots) {
    const cover = obstacles.reduce((sum, rect) => sum + overlap(spot, width, height, rect), 0);
    // Only a clearly better spot wins, so the box does not jump between near-equal ones.
    if (cover < bestCover - 1) {
      best = spot;
      bestCover = cover;
    }
  }
  return best;
}

/** Rectangles of every node (the current one included) and every edge label. */
function obstaclesOf(layout) {
  const rects = [];
  for (const box of layout.nodes.values()) rects.push(rectOf(box));
  for (const edge of layout.edges.values()) {
    rects.push({ x: edge.x - 40, y: edge.y - 24, width: 80, height: 48 });
  }
  return rects;
}

function rectOf(box) {
  const { width, height } = box;
  return { x: box.x - width / 2, y: box.y - height / 2, width, height };
}

function overlap(spot, width, height, rect) {
  const across = Math.min(spot.x + width, rect.x + rect.width) - Math.max(spot.x, rect.x);
  const down = Math.min(spot.y + height, rect.y + rect.height) - Math.max(spot.y, rect.y);
  return across > 0 && down > 0 ? across * down : 0;
}

function lineWidth(line) {
  return line.reduce((sum, piece) => sum + textWidth(piece.text, FONT), 0);
}

function clamp(value, low, high) {
  return Math.max(low, Math.min(high, value));
}
