// The stack builder: conv / relu / max-pool / avg-pool layers applied to the photo, the shape
// after each (POST /api/layers), every layer's map (POST /api/evaluate) and, for the output
// pixel under the pointer or the keyboard cursor, its receptive field in every earlier map and
// on the photo (POST /api/receptive-field). The table sets the API's receptive-field sizes
// beside the course's 1 + L(K − 1) for stride-1 stacks.

import { clear, h } from "../dom.js";
import { formatShape } from "../format.js";
import { ApiError, describeLayers, evaluate, fetchReceptiveField, latestOnly } from "./api.js";
import { GREY_SCALE, legendElement, scaleFor } from "./colour.js";
import { MapCanvas, mapOf } from "./heatmap.js";
import { boxKernel } from "./kernels.js";
import { messageOf } from "./lab.js";
import { listenToScale } from "./map_grid.js";

const MAX_LAYERS = 8;
const BOX_COLOUR = "#f0e442";
const EXTENT_COLOUR = "#cc79a7";
const CURSOR_COLOUR = "#111111";

/** What each op's row offers, with defaults. */
const FIELDS = {
  conv2d: [
    ["kernel_size", "K", 3, 1, 15],
    ["stride", "S", 1, 1, 8],
    ["padding", "P", 0, 0, 8],
    ["dilation", "D", 1, 1, 8],
  ],
  max_pool2d: [
    ["kernel_size", "K", 2, 1, 8],
    ["stride", "S", 2, 1, 8],
    ["padding", "P", 0, 0, 4],
  ],
  avg_pool2d: [
    ["kernel_size", "K", 2, 1, 8],
    ["stride", "S", 2, 1, 8],
    ["padding", "P", 0, 0, 4],
  ],
  relu: [],
};

const OP_TITLES = { conv2d: "conv", relu: "ReLU", max_pool2d: "max-pool", avg_pool2d: "avg-pool" };

/** A layer of `op` with its default hyperparameters. */
export function newLayer(op) {
  const layer = { op };
  for (const [name, , initial] of FIELDS[op]) layer[name] = initial;
  return layer;
}

export class StackPanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {{list: HTMLElement, addOp: HTMLSelectElement, add: HTMLButtonElement,
   *   limit: HTMLElement, table: HTMLElement, maps: HTMLElement, readout: HTMLElement,
   *   error: HTMLElement, scale: HTMLElement, legend: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.elements = elements;
    this.layers = [
      newLayer("conv2d"),
      newLayer("relu"),
      newLayer("max_pool2d"),
      newLayer("conv2d"),
    ];
    this.views = [];
    this.position = null;
    this.computed = null;
    this.compute = latestOnly((image, layers) => computeStack(image, layers));
    this.locate = latestOnly((shape, layers, position) =>
      fetchReceptiveField(shape, layers, position),
    );

    elements.add.addEventListener("click", () => this.add(elements.addOp.value));
    listenToScale(elements.scale, (mode) => state.setScaleMode("stack", mode));
    state.on("imageLoaded", () => this.refresh());
    state.on("scaleModeChanged", ({ view }) => view === "stack" && this.drawMaps());
    this.drawList();
  }

  // --- the list of layers -------------------------------------------------------------------

  add(op) {
    if (this.layers.length >= MAX_LAYERS) {
      this.showError(`A stack here has at most ${MAX_LAYERS} layers.`);
      return;
    }
    this.layers.push(newLayer(op));
    this.changed();
  }

  remove(index) {
    this.layers.splice(index, 1);
    this.changed();
    const buttons = this.elements.list.querySelectorAll(".remove-layer");
    (buttons[Math.min(index, buttons.length - 1)] || this.elements.add).focus();
  }

  changed() {
    this.drawList();
    this.refresh();
  }

  drawList() {
    const items = this.layers.map((layer, index) => this.layerItem(layer, index));
    clear(this.elements.list).append(...items);
    const full = this.layers.length >= MAX_LAYERS;
    this.elements.add.disabled = full;
    // A disabled button cannot say why by itself: the note beside it does.
    this.elements.limit.hidden = !full;
    this.elements.limit.textContent = full
      ? `The stack is full: it holds at most ${MAX_LAYERS} layers. Remove one to add another.`
      : "";
  }

  layerItem(layer, index) {
    const number = index + 1;
    const fields = FIELDS[layer.op].map(([name, letter, , low, high]) => {
      const input = h("input", {
        type: "number",
        min: low,
        max: high,
        step: 1,
        value: String(layer[name]),
        "data-field": name,
        "aria-label": `layer ${number} ${name.replace("_", " ")}`,
      });
      input.addEventListener("change", () => this.readField(input, layer, name, low, high));
      return h("label", { class: "layer-field", title: name.replace("_", " ") }, [
        h("span", { text: letter }),
        input,
      ]);
    });
    const remove = h("button", {
      type: "button",
      class: "button small remove-layer",
      text: "Remove",
      "aria-label": `Remove layer ${number} (${OP_TITLES[layer.op]})`,
    });
    remove.addEventListener("click", () => this.remove(index));
    return h("li", { class: "layer-item", "data-op": layer.op }, [
      h("span", { class: "layer-name", text: `${number}. ${OP_TITLES[layer.op]}` }),
      ...fields,
      remove,
    ]);
  }

  readField(input, layer, name, low, high) {
    const number = Number(input.value);
    const valid = Number.isInteger(number) && number >= low && number <= high;
    input.setAttribute("aria-invalid", valid ? "false" : "true");
    if (!valid) {
      this.showError(`${name.replace("_", " ")} is a whole number from ${low} to ${high}.`);
      return;
    }
    layer[name] = number;
    this.refresh();
  }

  /** The layers as /api/layers wants them (conv layers with one output channel). */
  apiLayers() {
    return this.layers.map((layer) =>
      layer.op === "conv2d" ? { ...layer, out_channels: 1 } : { ...layer },
    );
  }

  // --- computing ----------------------------------------------------------------------------

  async refresh() {
    const image = this.state.image;
    if (!image) return;
    if (this.layers.length === 0) {
      this.showEmpty();
      return;
    }
    try {
      const outcome = await this.compute(image, this.apiLayers());
      if (outcome.stale) return;
      this.hideError();
      this.computed = outcome.answer;
      this.drawTable();
      this.drawMaps();
      this.position = this.clampedPosition();
      this.locateField();
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) this.state.raiseError(error.message);
      this.showError(messageOf(error));
    }
  }

  clampedPosition() {
    const last = this.computed.maps[this.computed.maps.length - 1];
    const wanted = this.position || {
      row: Math.floor(last.height / 2),
      col: Math.floor(last.width / 2),
    };
    return {
      row: Math.min(wanted.row, last.height - 1),
      col: Math.min(wanted.col, last.width - 1),
    };
  }

  // --- the table ----------------------------------------------------------------------------

  drawTable() {
    const { table, image } = this.computed;
    const rows = [
      h("tr", {}, [
        h("th", { scope: "row", text: "input" }),
        h("td", { text: "photo" }),
        h("td", { text: formatShape(image.shape) }),
        h("td", { text: "0" }),
        h("td", { class: "num", text: "1" }),
        h("td", { text: "1" }),
        h("td", { class: "muted", text: "1" }),
      ]),
    ];
    const course = courseFields(this.layers);
    table.layers.forEach((row, index) => {
      rows.push(
        h("tr", { "data-layer": row.name }, [
          h("th", { scope: "row", text: row.name }),
          h("td", { text: describeLayer(this.layers[index]) }),
          h("td", { text: formatShape(row.output_shape) }),
          h("td", { text: String(row.params) }),
          h("td", { class: "num", "data-rf": String(row.rf), text: pairText(row.rf) }),
          h("td", { text: pairText(row.jump) }),
          h("td", { class: course[index].applies ? "" : "muted", text: course[index].text }),
        ]),
      );
    });
    clear(this.elements.table).append(...rows);
  }

  // --- the maps -----------------------------------------------------------------------------

  drawMaps() {
    if (!this.computed) return;
    const { maps, image, table } = this.computed;
    const mode = this.state.scaleModes.stack;
    const shared = mode === "global" ? scaleFor(maps) : null;
    const figures = [];
    this.views = [];

    const photo = this.mapFigure(
      image.maps[0],
      GREY_SCALE,
      `input ${image.title}`,
      formatShape(image.shape),
      null,
    );
    figures.push(photo.figure);
    this.views.push(photo.view);
    const cell = photo.view.cell;
    maps.forEach((map, index) => {
      const scale = shared || scaleFor([map]);
      const row = table.layers[index];
      const last = index === maps.length - 1;
      const made = this.mapFigure(
        map,
        scale,
        row.name,
        formatShape(row.output_shape),
        mode === "map" ? scale : null,
        last ? hoverCell(map, cell) : cell,
        last,
      );
      figures.push(made.figure);
      this.views.push(made.view);
    });
    clear(this.elements.maps).append(...figures);
    clear(this.elements.legend);
    if (shared) {
      this.elements.legend.append(legendElement(shared, "activation, one scale for all maps"));
    }
    this.drawBoxes();
  }

  /** One map with its caption; `cell` is its pixel size, the input's unless enlarged. */
  mapFigure(map, scale, name, shapeText, legendScale, cell, last = false) {
    const canvas = h("canvas", { class: "map-canvas" });
    const view = new MapCanvas(canvas, { maxSize: 256, maxCell: 8 });
    view.show(map, scale, name, cell ? { cell } : {});
    const caption = [h("strong", { text: name }), ` ${shapeText}`];
    if (last && cell > this.views[0].cell) {
      const times = Math.round(cell / this.views[0].cell);
      const text = ` (its cells drawn ${times}× larger, for hovering)`;
      caption.push(h("span", { class: "help", "data-enlarged": String(times), text }));
    }
    if (last) {
      canvas.tabIndex = 0;
      canvas.classList.add("is-interactive");
      canvas.setAttribute("aria-describedby", "rf-readout");
      canvas.setAttribute("aria-keyshortcuts", "ArrowLeft ArrowRight ArrowUp ArrowDown");
      canvas.addEventListener("mousemove", (event) => this.hover(event));
      canvas.addEventListener("keydown", (event) => this.key(event));
      caption.push(h("span", { class: "help", text: " — hover or use the arrow keys" }));
    }
    const figure = h("figure", { class: "map-figure stack-figure", "data-layer": name }, [
      canvas,
      h("figcaption", {}, caption),
      legendScale ? legendElement(legendScale) : null,
      legendScale === null && name.startsWith("input") ? legendElement(GREY_SCALE) : null,
    ]);
    return { figure, view };
  }

  hover(event) {
    const last = this.views[this.views.length - 1];
    const cell = last.cellAt(event);
    if (!cell) return;
    if (this.position && cell.row === this.position.row && cell.col === this.position.col) return;
    this.position = cell;
    this.locateField();
  }

  key(event) {
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (!(event.key in moves) || !this.computed) return;
    event.preventDefault();
    const last = this.computed.maps[this.computed.maps.length - 1];
    const [down, right] = moves[event.key];
    this.position = {
      row: Math.max(0, Math.min(last.height - 1, this.position.row + down)),
      col: Math.max(0, Math.min(last.width - 1, this.position.col + right)),
    };
    this.locateField();
  }

  async locateField() {
    if (!this.computed || !this.position) return;
    const { image } = this.computed;
    const position = [this.position.row, this.position.col];
    this.drawBoxes();
    try {
      const outcome = await this.locate(image.shape, this.computed.layers, position);
      if (outcome.stale) return;
      this.boxes = outcome.answer.boxes;
      this.drawBoxes();
      this.showReadout();
    } catch (error) {
      this.showError(messageOf(error));
    }
  }

  drawBoxes() {
    const boxes = this.boxes && this.boxes.length === this.views.length ? this.boxes : null;
    this.views.forEach((view, index) => {
      const marks = [];
      const box = boxes && boxes[index];
      if (box && box.rows) {
        const [top, bottom] = box.rows;
        const [left, right] = box.cols;
        marks.push({ top, bottom, left, right, colour: CURSOR_COLOUR, width: 1, halo: 1 });
        marks.push({
          top,
          bottom,
          left,
          right,
          colour: BOX_COLOUR,
          width: 3,
          halo: 3,
          fill: "rgb(240 228 66 / 18%)",
        });
      }
      if (box && extendsPast(box)) {
        const [top, bottom] = box.extent_rows;
        const [left, right] = box.extent_cols;
        marks.push({
          top,
          bottom,
          left,
          right,
          colour: EXTENT_COLOUR,
          width: 2,
          dashed: true,
          halo: 6,
        });
      }
      view.draw(marks);
    });
  }

  showReadout() {
    const readout = clear(this.elements.readout);
    const boxes = this.boxes;
    const input = boxes[0];
    const output = boxes[boxes.length - 1];
    const size = boxSize(input);
    readout.dataset.inputRows = input.rows ? input.rows.join(",") : "";
    readout.dataset.inputCols = input.cols ? input.cols.join(",") : "";
    readout.dataset.position = `${this.position.row},${this.position.col}`;
    readout.append(
      h("p", {}, [
        `Output pixel (row ${this.position.row}, column ${this.position.col}) of `,
        h("strong", { text: output.layer }),
        " depends on ",
        h("strong", { class: "num rf-size", text: size }),
        input.rows
          ? ` input pixels: rows ${input.rows[0]}–${input.rows[1]}, ` +
            `columns ${input.cols[0]}–${input.cols[1]}`
          : " input pixels (it reads only padding)",
        input.count !== areaOf(input) ? ` (${input.count} of them, with holes)` : "",
        ".",
      ]),
      h(
        "ul",
        { class: "rf-list" },
        boxes
          .slice(1, -1)
          .map((box) => h("li", { text: `${box.layer}: ${boxSize(box)}` + rangeText(box) })),
      ),
    );
  }

  showEmpty() {
    this.computed = null;
    this.boxes = null;
    this.views = [];
    clear(this.elements.table);
    clear(this.elements.maps);
    clear(this.elements.legend);
    const readout = clear(this.elements.readout);
    delete readout.dataset.inputRows;
    delete readout.dataset.inputCols;
    readout.textContent = "The stack is empty: add a layer to see its map and receptive field.";
  }

  showError(message) {
    this.elements.error.hidden = false;
    this.elements.error.textContent = message;
  }

  hideError() {
    this.elements.error.hidden = true;
    this.elements.error.textContent = "";
  }
}

async function computeStack(image, layers) {
  const [table, answer] = await Promise.all([
    describeLayers(image.shape, layers),
    evaluate(stackProgram(image, layers)),
  ]);
  const maps = layers.map((_, index) => mapOf(answer.nodes[`h${index + 1}`].value[0]));
  return { table, maps, image, layers };
}

/** The stack as an expression: h1 = conv2d(img, k1, ...), h2 = relu(h1), ... */
export function stackProgram(image, layers) {
  const lines = [];
  const inputs = { img: image.value };
  layers.forEach((layer, index) => {
    const source = index === 0 ? "img" : `h${index}`;
    const target = `h${index + 1}`;
    if (layer.op === "conv2d") {
      inputs[`k${index + 1}`] = [[boxKernel(layer.kernel_size)]];
      lines.push(
        `${target} = conv2d(${source}, k${index + 1}, stride=${layer.stride}, ` +
          `padding=${layer.padding}, dilation=${layer.dilation})`,
      );
    } else if (layer.op === "relu") {
      lines.push(`${target} = relu(${source})`);
    } else {
      lines.push(
        `${target} = ${layer.op}(${source}, kernel_size=${layer.kernel_size}, ` +
          `stride=${layer.stride}, padding=${layer.padding})`,
      );
    }
  });
  return { expression: lines.join("\n"), inputs };
}

/**
 * The course's receptive field 1 + L(K − 1) after each layer, where it applies: a stack of
 * stride-1, undilated convolutions of one kernel size (ReLU changes nothing).
 */
function courseFields(layers) {
  let count = 0;
  let kernel = null;
  let applies = true;
  return layers.map((layer) => {
    if (layer.op === "conv2d") {
      applies =
        applies &&
        layer.stride === 1 &&
        layer.dilation === 1 &&
        (kernel === null || kernel === layer.kernel_size);
      kernel = layer.kernel_size;
      count += 1;
    } else if (layer.op !== "relu") {
      applies = false;
    }
    if (!applies || count === 0) {
      return { applies: false, text: count === 0 ? "1" : "— (not a stride-1 conv stack)" };
    }
    const value = 1 + count * (kernel - 1);
    return { applies: true, text: `1 + ${count}·(${kernel} − 1) = ${value}` };
  });
}

function describeLayer(layer) {
  const fields = FIELDS[layer.op].map(([name, letter]) => `${letter}=${layer[name]}`);
  return [OP_TITLES[layer.op], ...fields].join(" ");
}

function pairText(value) {
  return Array.isArray(value) ? value.join(" × ") : String(value);
}

function boxSize(box) {
  if (!box.rows) return "0 × 0";
  return `${box.rows[1] - box.rows[0] + 1} × ${box.cols[1] - box.cols[0] + 1}`;
}

function areaOf(box) {
  if (!box.rows) return 0;
  return (box.rows[1] - box.rows[0] + 1) * (box.cols[1] - box.cols[0] + 1);
}

function rangeText(box) {
  if (!box.rows) return " (only padding)";
  return ` (rows ${box.rows[0]}–${box.rows[1]}, columns ${box.cols[0]}–${box.cols[1]})`;
}

// The field reaches into the padding: its full extent is drawn dashed around the real part.
function extendsPast(box) {
  if (!box.rows) return true;
  const [top, bottom] = box.extent_rows;
  const [left, right] = box.extent_cols;
  return (
    top !== box.rows[0] || bottom !== box.rows[1] || left !== box.cols[0] || right !== box.cols[1]
  );
}


// The last map is the one to hover. At the input's scale, after a few strides, it can be a few
// pixels wide, so it is enlarged until its longer side has at least this many pixels.
const HOVER_SIDE = 96;

/** The cell size of the hoverable map: the input's, or larger when that leaves it too small. */
function hoverCell(map, cell) {
  return Math.max(cell, Math.ceil(HOVER_SIDE / Math.max(map.height, map.width)));
}
