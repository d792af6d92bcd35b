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
   * Send a file to the API to decode; a refusal says what is wrong with the file.
   * @param {File} file
   */
  async upload(file) {
    try {
      const answer = await uploadImage(file, IMAGE_SIZE);
      this.state.setImage(file.name || "uploaded image", answer);
    } catch (error) {
      this.state.failImage(uploadMessageOf(error));
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
      const tooLarge = tooLargeMessageOf(error, "Turn down the padding P.");
      this.state.failConv(tooLarge || messageOf(error), error.details || {});
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

/** The sentence to show for an error, its negative numbers with a true minus sign. */
export function messageOf(error) {
  const message = error && error.message ? error.message : String(error);
  return message.replace(/(^|[\s(=,])-(?=\d)/g, "$1\u2212");
}

/**
 * For an answer the API refused as too large (413 limit_exceeded): what that means for the
 * maps and `advice` on the control to turn down; null for any other error.
 * @param {unknown} error
 * @param {string} advice
 */
export function tooLargeMessageOf(error, advice) {
  if (!(error instanceof ApiError) || error.status !== 413 || error.code !== "limit_exceeded") {
    return null;
  }
  const count = /([\d,]+) numbers/.exec(error.message);
  const size = count ? ` (${count[1]} numbers, more than one answer may carry)` : "";
  return `These settings make the maps too large to show${size}. ${advice}`;
}

/**
 * What a refused upload means for the student, by status: the API's own sentence is written
 * for programs ("send the file itself as the request body") or names decoder internals.
 * @param {unknown} error
 */
export function uploadMessageOf(error) {
  if (!(error instanceof ApiError)) return messageOf(error);
  if (error.status === 415) {
    return "the file is not a PNG or JPEG picture. Choose a .png or .jpg photo.";
  }
  // The pixel limit's sentence reads well as it is ("the image has 8000×8000 pixels; …").
  if (error.code === "image_too_large") return `${error.message}. Choose a smaller picture.`;
  if (error.status === 413) {
    const bytes = /([\d,]+) bytes/.exec(error.message);
    const megabytes = bytes ? Number(bytes[1].replaceAll(",", "")) / 2 ** 20 : null;
    const limit = megabytes ? ` than the ${Number(megabytes.toFixed(1))} MB the lab accepts` : "";
    return `the file is larger${limit}. Choose a smaller photo.`;
  }
  if (error.status === 400) {
    return "the file is damaged or is not a picture, so it cannot be read. Try another file.";
  }
  return messageOf(error);
}
