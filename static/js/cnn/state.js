// The one place the CNN lab's shared state lives. Panels read it and listen to its past-tense
// events; they never call each other. Events (detail in brackets):
//   imagesListed {images}, imageLoaded {image}, imageFailed {message},
//   kernelChanged {kernel, typed}, windowChanged {window}, convEvaluated {result},
//   convFailed {message, details}, positionChanged {position, playing},
//   scaleModeChanged {view, mode}, errorRaised {message}, errorCleared

import { mapsOf } from "./heatmap.js";
import { kernelNamed } from "./kernels.js";

/**
 * @typedef {Object} LabImage
 * @property {string} title        "chelsea" or the uploaded file's name
 * @property {number[]} shape      [C, H, W]
 * @property {Array} value         the API's C×H×W nested list
 * @property {import('./heatmap.js').Map2D[]} maps  the same, one Map2D per channel
 * @property {number[]} originalSize  [w, h] of the file before resizing
 */

/**
 * @typedef {Object} LabKernel
 * @property {string} name      a preset's name, or "custom" once edited
 * @property {number[][]} value K×K
 */

/**
 * @typedef {Object} ConvWindow  the hyperparameters of the kernel lab's convolution
 * @property {number} padding
 * @property {number} stride
 * @property {number} dilation
 */

/**
 * @typedef {Object} ConvResult  one evaluated convolution, as the API returned it
 * @property {import('./heatmap.js').Map2D} output   y[0]
 * @property {import('./heatmap.js').Map2D} input    the photo it was computed from
 * @property {number[]} shape    [C', H', W'] of y
 * @property {{rows: number[], cols: number[]}} unvisited
 * @property {LabKernel} kernel
 * @property {ConvWindow} window
 * @property {Array<{node: string, code: string, message: string}>} warnings  the API's
 * @property {string|null} firstNonfinite  the node where a value first stopped being finite
 */

export class CnnState extends EventTarget {
  constructor() {
    super();
    /** @type {Array<{name: string, url: string, credit: string, licence: string}>} */
    this.images = [];
    /** @type {LabImage|null} */
    this.image = null;
    /** @type {LabKernel} */
    this.kernel = { name: "sobel_x", value: kernelNamed("sobel_x").value };
    /** @type {ConvWindow} */
    this.window = { padding: 0, stride: 1, dilation: 1 };
    /** @type {ConvResult|null} */
    this.conv = null;
    /** Output position of the sliding window. */
    this.position = { row: 0, col: 0 };
    this.playing = false;
    /** Colour-scale scope per view: "map", "layer" or "global". */
    this.scaleModes = { bank: "layer", stack: "map", lenet: "layer" };
  }

  /** Subscribe to one event; the callback gets the event's detail. */
  on(type, callback) {
    this.addEventListener(type, (event) => callback(event.detail || {}));
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setImages(images) {
    this.images = images;
    this.emit("imagesListed", { images });
  }

  /**
   * @param {string} title
   * @param {{shape: number[], value: Array, original_size: number[]}} answer  from the API
   */
  setImage(title, answer) {
    this.image = {
      title,
      shape: answer.shape,
      value: answer.value,
      maps: mapsOf(answer.value),
      originalSize: answer.original_size,
    };
    this.conv = null;
    this.emit("imageLoaded", { image: this.image });
  }

  failImage(message) {
    this.emit("imageFailed", { message });
  }

  /**
   * @param {LabKernel} kernel
   * @param {boolean} [typed]  an edit of one weight in the grid (the grid stays as it is)
   */
  setKernel(kernel, typed = false) {
    this.kernel = kernel;
    this.emit("kernelChanged", { kernel, typed });
  }

  /** @param {Partial<ConvWindow>} change */
  setWindow(change) {
    this.window = { ...this.window, ...change };
    this.emit("windowChanged", { window: this.window });
  }

  /** @param {ConvResult} result */
  setConv(result) {
    this.conv = result;
    const { height, width } = result.output;
    this.position = {
      row: Math.min(this.position.row, height - 1),
      col: Math.min(this.position.col, width - 1),
    };
    this.emit("convEvaluated", { result });
    this.emitPosition();
  }

  /**
   * @param {string} message  the API's sentence
   * @param {Object} [details]  the error's details (kernel_too_large: axis, output_size, ...)
   */
  failConv(message, details = {}) {
    this.conv = null;
    this.playing = false;
    this.emit("convFailed", { message, details });
  }

  /** Move the sliding window to an output position. */
  setPosition(row, col, playing = this.playing) {
    this.position = { row, col };
    this.playing = playing;
    this.emitPosition();
  }

  emitPosition() {
    this.emit("positionChanged", { position: this.position, playing: this.playing });
  }

  /**
   * @param {"bank"|"stack"|"lenet"} view
   * @param {"map"|"layer"|"global"} mode
   */
  setScaleMode(view, mode) {
    this.scaleModes = { ...this.scaleModes, [view]: mode };
    this.emit("scaleModeChanged", { view, mode });
  }

  raiseError(message) {
    this.emit("errorRaised", { message });
  }

  clearError() {
    this.emit("errorCleared");
  }
}
