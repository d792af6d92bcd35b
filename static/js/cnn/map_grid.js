// A row of small maps (an overview) and one map enlarged (its detail), sharing one colour
// scale per map, per layer or for the whole view, as the student chose. The detail is drawn
// with the very scale of its thumbnail, so the two never disagree.

import { clear, h } from "../dom.js";
import { legendElement, scaleFor } from "./colour.js";
import { MapCanvas } from "./heatmap.js";

/**
 * @typedef {Object} MapGroup  the maps of one layer
 * @property {string} title   e.g. "C1 conv2d, 6×28×28"
 * @property {string} key     stable id, used in data attributes
 * @property {string} [caption]  what its colours measure, when not the grid's ("weight")
 * @property {Array<{title: string, map: import('./heatmap.js').Map2D}>} maps
 */

/**
 * The scale of every map, for a scope: each map alone, each group alone, or all together.
 * @param {MapGroup[]} groups
 * @param {"map"|"layer"|"global"} mode
 * @returns {import('./colour.js').Scale[][]}  [group][map]
 */
export function scalesFor(groups, mode) {
  if (mode === "global") {
    const scale = scaleFor(groups.flatMap((group) => group.maps.map((item) => item.map)));
    return groups.map((group) => group.maps.map(() => scale));
  }
  if (mode === "layer") {
    return groups.map((group) => {
      const scale = scaleFor(group.maps.map((item) => item.map));
      return group.maps.map(() => scale);
    });
  }
  return groups.map((group) => group.maps.map((item) => scaleFor([item.map])));
}

export class MapGrid {
  /**
   * @param {HTMLElement} container  where the groups are drawn
   * @param {{detail?: HTMLElement, thumbSize?: number, detailSize?: number,
   *   caption?: string}} [options]  caption: what the colours measure
   */
  constructor(container, options = {}) {
    this.container = container;
    this.detail = options.detail || null;
    this.thumbSize = options.thumbSize || 128;
    this.detailSize = options.detailSize || 320;
    this.caption = options.caption || "value";
    this.selected = null;
  }

  /**
   * Draw every group with the scope's scales; keeps the selected map when it still exists.
   * @param {MapGroup[]} groups
   * @param {"map"|"layer"|"global"} mode
   */
  show(groups, mode) {
    this.groups = groups;
    this.scales = scalesFor(groups, mode);
    this.mode = mode;
    clear(this.container);
    if (mode === "global" && groups.length) {
      this.container.append(
        h("div", { class: "grid-legend" }, [
          legendElement(this.scales[0][0], `${this.caption}, one scale for the whole view`),
        ]),
      );
    }
    groups.forEach((group, index) => this.container.append(this.groupElement(group, index)));
    // The detail keeps its map across redraws, and starts on the first one.
    const keep = this.selected && this.find(this.selected);
    const first = groups.length && groups[0].maps.length ? { group: 0, map: 0 } : null;
    this.select(keep ? this.selected : first);
  }

  groupElement(group, groupIndex) {
    const figures = group.maps.map((item, mapIndex) =>
      this.thumbnail(group, item, groupIndex, mapIndex),
    );
    const head = [h("h4", { text: group.title })];
    if (this.mode === "layer") {
      const caption = group.caption || this.caption;
      head.push(legendElement(this.scales[groupIndex][0], `${caption}, this layer`));
    }
    return h("section", { class: "map-group", "data-key": group.key }, [
      h("div", { class: "map-group-head" }, head),
      h("div", { class: "map-row" }, figures),
    ]);
  }

  thumbnail(group, item, groupIndex, mapIndex) {
    const canvas = h("canvas", { class: "map-canvas" });
    const scale = this.scales[groupIndex][mapIndex];
    // A vector (one row) gets more width and taller cells, or it would be a hairline.
    const flat = item.map.height === 1;
    const view = new MapCanvas(canvas, {
      maxSize: flat ? this.thumbSize * 4 : this.thumbSize,
      maxCell: 12,
      minHeight: 18,
    });
    view.show(item.map, scale, `${group.title}, ${item.title}`);
    // A button around the map: the keyboard reaches it, and its name is the map's description.
    const button = h("button", { type: "button", class: "map-button", "aria-pressed": "false" }, [
      canvas,
    ]);
    button.addEventListener("click", () => this.select({ group: groupIndex, map: mapIndex }));
    // Per-map legends fit under a few maps; with many, the detail view carries the legend.
    const legend =
      this.mode === "map" && group.maps.length <= 8
        ? legendElement(scale, "", { compact: true })
        : null;
    return h("figure", { class: "map-figure", "data-map": `${group.key}:${mapIndex}` }, [
      button,
      h("figcaption", { text: item.title }),
      legend,
    ]);
  }

  keyOf(id) {
    return `${this.groups[id.group].key}:${id.map}`;
  }

  find(id) {
    return this.groups[id.group] && this.groups[id.group].maps[id.map];
  }

  /** Enlarge one map in the detail area, with its thumbnail's scale and a legend. */
  select(id) {
    this.selected = id;
    for (const figure of this.container.querySelectorAll(".map-figure")) {
      const chosen = id !== null && figure.dataset.map === this.keyOf(id);
      figure.classList.toggle("is-selected", chosen);
      figure.querySelector(".map-button")?.setAttribute("aria-pressed", String(chosen));
    }
    if (!this.detail) return;
    clear(this.detail);
    if (!id) {
      this.detail.append(h("p", { class: "help", text: "Select a map to enlarge it here." }));
      return;
    }
    const group = this.groups[id.group];
    const item = group.maps[id.map];
    const scale = this.scales[id.group][id.map];
    const canvas = h("canvas", { class: "map-canvas detail-canvas" });
    new MapCanvas(canvas, { maxSize: this.detailSize, maxCell: 24, minHeight: 40 }).show(
      item.map,
      scale,
      `${group.title}, ${item.title}, enlarged`,
    );
    this.detail.append(
      h("h4", { text: `${group.title} · ${item.title}` }),
      canvas,
      legendElement(scale, `${group.caption || this.caption} (${scopeText(this.mode)})`),
    );
  }
}

function scopeText(mode) {
  return { map: "scale of this map", layer: "scale of its layer", global: "one scale for all" }[
    mode
  ];
}

/**
 * Wire a group of radio buttons (name="...-scale") to a callback with the chosen value.
 * @param {HTMLElement} group
 * @param {function(string): void} callback
 */
export function listenToScale(group, callback) {
  for (const radio of group.querySelectorAll("input[type=radio]")) {
    radio.addEventListener("change", () => radio.checked && callback(radio.value));
  }
}
