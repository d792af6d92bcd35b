// The kernel lab's traffic with the server: the photos, uploads, and the convolution of the
// current photo with the current kernel (POST /api/evaluate for the values, POST /api/layers
// for the rows and columns the window never visits). Results go into the state as events.

import {
  ApiError,
  describeLayers,
  evaluate,
  fetchImage,
  latestOnly,
  listImages,
  uploadImage,
} from "./api.js";
import { mapOf } from "./heatmap.js";

/** The photo size the lab asks for: longest side in pixels. */
export const IMAGE_SIZE = 128;

export class Lab {
  /** @param {import('./state.js').CnnState} state */
  constructor(state) {
    this.state = state;
    this.convolve = latestOnly((image, kernel, window) => convolve(image, kernel, window));
    state.on("imageLoaded", () => this.evaluate());
    state.on("kernelChanged", () => this.evaluate());
    state.on("windowChanged", () => this.evaluate());
  }

  /** List the samples and open the first one (or `wanted`). */
  async start(wanted) {
    try {
      const images = await listImages();
      this.state.setImages(images);
      const first = images.find((image) => image.name === wanted) || images[0];
      if (first) await this.openSample(first.name);
    } catch (error) {
      this.state.raiseError(messageOf(error));
    }
  }

  /** Fetch a shipped photo's grey tensor. */
  async openSample(name) {
    try {
      const answer = await fetchImage(name, IMAGE_SIZE);
      this.state.setImage(name, answer);
    } catch (error) {
      this.state.failImage(messageOf(error));
    }
  }

  /**
   * Send a file to the API to decode; its own error sentence is shown when it refuses.
   * @param {File} file
   */
  async upload(file) {
    try {
      const answer = await uploadImage(file, IMAGE_SIZE);
      this.state.setImage(file.name || "uploaded image", answer);
    } catch (error) {
      this.state.failImage(messageOf(error));
    }
  }

  async evaluate() {
    const { image, kernel, window } = this.state;
    if (!image) return;
    try {
      const outcome = await this.convolve(image, kernel, window);
      if (outcome.stale) return;
      this.state.clearError();
      this.state.setConv(outcome.answer);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) this.state.raiseError(error.message);
      this.state.failConv(messageOf(error), error.details || {});
    }
  }
}

/** The expression the lab sends; its numbers are the controls' values. */
export function convExpression(window) {
  const { stride, padding, dilation } = window;
  return `y = conv2d(img, k, stride=${stride}, padding=${padding}, dilation=${dilation})`;
}

/** The conv layer the lab's window describes, for /api/layers. */
export function convLayer(kernelSize, window, outChannels = 1) {
  return { op: "conv2d", out_channels: outChannels, kernel_size: kernelSize, ...window };
}

async function convolve(image, kernel, window) {
  const kernelSize = kernel.value.length;
  const [answer, table] = await Promise.all([
    evaluate({
      expression: convExpression(window),
      inputs: { img: image.value, k: [[kernel.value]] },
    }),
    describeLayers(image.shape, [convLayer(kernelSize, window)]),
  ]);
  const output = answer.nodes[answer.output];
  return {
    output: mapOf(output.value[0]),
    input: image.maps[0],
    shape: output.shape,
    unvisited: table.layers[0].unvisited || { rows: [], cols: [] },
    kernel,
    window,
    warnings: answer.warnings || [],
    firstNonfinite: answer.first_nonfinite ?? null,
  };
}

/** The sentence to show for an error. */
export function messageOf(error) {
  return error && error.message ? error.message : String(error);
}
