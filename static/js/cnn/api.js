// The CNN lab's calls to the server. Every failure becomes an ApiError carrying the API's own
// sentence, which the page shows where the student is looking.

import { ApiError, evaluate, send } from "../api.js";

export { ApiError, evaluate };

function postJson(path, body) {
  return send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** GET /api/images → [{name, url, credit, licence}] */
export async function listImages() {
  const answer = await send("/api/images", { method: "GET" });
  return answer.images;
}

/** GET /api/images/{name} → {name, shape [C,H,W], value, original_size [w,h]} */
export function fetchImage(name, size = 128) {
  const query = new URLSearchParams({ mode: "grey", size: String(size) });
  return send(`/api/images/${encodeURIComponent(name)}?${query}`, { method: "GET" });
}

/**
 * POST /api/images with the file itself as the body → {shape, value, original_size}.
 * @param {Blob} file
 */
export function uploadImage(file, size = 128) {
  const query = new URLSearchParams({ mode: "grey", size: String(size) });
  return send(`/api/images?${query}`, { method: "POST", body: file });
}

/** POST /api/layers → {input_shape, layers: [{name, op, output_shape, params, rf, ...}]} */
export function describeLayers(inputShape, layers) {
  return postJson("/api/layers", { input_shape: inputShape, layers });
}

/** POST /api/receptive-field → {layers: [...], boxes: [{layer, rows, cols, ...}]} */
export function fetchReceptiveField(inputShape, layers, position) {
  return postJson("/api/receptive-field", { input_shape: inputShape, layers, position });
}

/** POST /api/cnn/lenet5 → {label, input, layers, kernels, probabilities, prediction, ...} */
export function runLenet(digit) {
  return postJson("/api/cnn/lenet5", { digit });
}

/** The handwritten digits shipped under /static/images/digits/. */
export async function listDigits() {
  const answer = await send("/static/images/digits/index.json", { method: "GET" });
  return answer.digits;
}

/**
 * Calls where only the answer to the latest request matters (hover, typing): at most one is
 * in flight; a request made meanwhile waits and only the newest waiting one is sent.
 * @param {function(...*): Promise<*>} call
 * @returns {function(...*): Promise<{stale: boolean, answer?: *}>}
 */
export function latestOnly(call) {
  let running = null;
  let waiting = null;
  let generation = 0;

  async function run(args, ticket) {
    try {
      const answer = await call(...args);
      return { stale: ticket !== generation, answer };
    } catch (error) {
      if (ticket !== generation) return { stale: true };
      throw error;
    }
  }

  return (...args) => {
    generation += 1;
    const ticket = generation;
    if (!running) {
      running = run(args, ticket).finally(() => (running = null));
      return running;
    }
    waiting = args;
    return running.then(
      () => next(ticket),
      () => next(ticket),
    );
  };

  function next(ticket) {
    if (ticket !== generation || waiting === null) return { stale: true };
    const args = waiting;
    waiting = null;
    running = run(args, ticket).finally(() => (running = null));
    return running;
  }
}
