// The learning page's calls to the server; every failure becomes an ApiError with a message.

import { request } from "../api.js";

/** POST /api/train → {run_id, events_url, stop_url, steps, points?, ...} */
export function startRun(body) {
  return request("POST", "/api/train", body);
}

/** POST /api/train/{id}/stop */
export function stopRun(runId) {
  return request("POST", `/api/train/${encodeURIComponent(runId)}/stop`);
}

/** POST /api/loss-surface → {bounds, w, b, losses, minimum, paths, data} */
export function fetchSurface(body) {
  return request("POST", "/api/loss-surface", body);
}

/** POST /api/gradcheck → {steps, forward_errors, central_errors, best_h, inputs} */
export function checkGradients(body) {
  return request("POST", "/api/gradcheck", body);
}

/** GET /api/swell → {families: [{name, title, rows}]} */
export function fetchSwell() {
  return request("GET", "/api/swell");
}

const EVENT_TYPES = ["steps", "epoch", "regions", "done"];

/**
 * Follow a run's Server-Sent Events; `handlers` has one function per event type and `lost`
 * for a stream that closed before "done". Returns a function that stops following.
 * @param {string} url
 * @param {Object<string, function(Object): void>} handlers
 */
export function followRun(url, handlers) {
  const source = new EventSource(url);
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => {
      if (type === "done") source.close();
      handlers[type](JSON.parse(message.data));
    });
  }
  // EventSource reconnects on its own (the server resumes after the last event id); only a
  // closed source is a lost run.
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) handlers.lost();
  });
  return () => source.close();
}
