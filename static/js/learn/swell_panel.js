// Expression swell: for each family of graphs, the written-out size of the symbolic
// derivative, its size with shared subexpressions, and the nodes autodiff needs, by depth.

import { clear, h, s } from "../dom.js";
import { fetchSwell } from "./api.js";
import { hideError, showError } from "./errors.js";
import { drawAxes, linePath, scale } from "./plot.js";

const WIDTH = 420;
const HEIGHT = 300;
const AREA = { left: 60, right: WIDTH - 12, top: 12, bottom: HEIGHT - 44 };
const SERIES = [
  { key: "symbolic_size", label: "symbolic, written out", colour: "#d55e00" },
  { key: "symbolic_shared", label: "symbolic, shared", colour: "#cc79a7" },
  { key: "autodiff_nodes", label: "autodiff (forward + backward nodes)", colour: "#0072b2" },
];

export class SwellPanel {
  /** @param {Document} page */
  constructor(page) {
    this.views = page.getElementById("swell-views");
    this.error = page.getElementById("swell-error");
  }

  async load() {
    hideError(this.error);
    try {
      const swell = await fetchSwell();
      clear(this.views);
      for (const family of swell.families) this.views.append(this.familyView(family));
    } catch (error) {
      showError(this.error, error.message);
    }
  }

  familyView(family) {
    const rows = family.rows;
    const sizes = rows.flatMap((row) => SERIES.map((series) => row[series.key]));
    const x = scale([1, rows.length], [AREA.left, AREA.right]);
    const top = 10 ** Math.ceil(Math.log10(Math.max(...sizes)));
    const y = scale([1, top], [AREA.bottom, AREA.top], true);
    const svg = s("svg", { class: "plot", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img",
      "aria-label": `Sizes by depth for ${family.title}` });
    drawAxes(svg, x, y, { x: "depth k", y: "nodes (log scale)" });
    SERIES.forEach((series, index) => {
      const points = rows.map((row) => [row.depth, row[series.key]]);
      svg.append(
        s("path", { class: "series", d: linePath(points, x, y), stroke: series.colour }),
        s("text", { class: "series-label", x: AREA.left + 8, y: AREA.top + 14 + 15 * index,
          fill: series.colour, text: series.label }),
      );
    });

    const last = rows[rows.length - 1];
    const sample = rows.find((row) => row.depth === 2) || rows[0];
    return h("figure", { class: "swell-figure", "data-family": family.name }, [
      svg,
      h("figcaption", {}, [
        h("strong", { text: family.title }),
        `. At depth ${last.depth}: ${last.symbolic_size.toLocaleString("en")} nodes written ` +
          `out, ${last.symbolic_shared} shared, ${last.autodiff_nodes} for autodiff.`,
        h("span", { class: "derivative-sample" }, [
          `Derivative at depth ${sample.depth}: `,
          h("code", { text: sample.derivative_text || "" }),
        ]),
      ]),
    ]);
  }
}
