// The only module that talks to the server; everything else gets plain data or an ApiError.

/** @typedef {import('./types.js').Evaluation} Evaluation */

/** An error the API answered with (4xx JSON body), or a network failure (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{code?: string, message?: string, line?: number, column?: number,
   *   node_ids?: string[], details?: Object}} body
   * @param {number|null} [retryAfter]  seconds the server asked to wait (its Retry-After)
   */
  constructor(status, body, retryAfter = null) {
    super(body.message || `The server answered with status ${status}.`);
    this.status = status;
    this.retryAfter = retryAfter;
    this.code = body.code || "http_error";
    this.line = body.line ?? null;
    this.column = body.column ?? null;
    this.nodeIds = body.node_ids || [];
    this.details = body.details || {};
  }

  /** True for errors that point at a place in the expression text. */
  get hasPosition() {
    return this.line !== null && this.line !== undefined;
  }

  /**
   * The message without its own "at line L, column C", for a page that shows the place
   * itself. Another place it names ("the '(' opened at line 3, column 5") stays.
   */
  get messageWithoutPosition() {
    if (!this.hasPosition) return this.message;
    const place = `at line ${this.line},? column ${this.column ?? "\\d+"}\\b`;
    return this.message.replace(new RegExp(`,?\\s*\\(?\\b${place}\\)?`, "i"), "");
  }
}

/**
 * One JSON request; resolves to the answer's body or throws an ApiError.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON when given
 * @param {AbortSignal} [signal]
 * @param {string} [token] an edit token, sent as a Bearer credential
 */
export function request(method, path, body, signal, token) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return send(path, {
    method,
    signal,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * A fetch whose failures all become ApiErrors (the body may be anything, e.g. a photo file).
 * @param {string} path
 * @param {RequestInit} init
 */
export async function send(path, init) {
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      code: "network_error",
      message: "Could not reach the gradplay server. Is it still running?",
    });
  }
  return readAnswer(response);
}

async function readAnswer(response) {
  // A delete answers 204 with no body at all: that is its success.
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // A proxy error page or an empty body: fall through to a generic message.
  }
  if (response.ok && payload !== null) return payload;
  const error = payload && payload.error ? payload.error : {};
  throw new ApiError(response.status, error, retryAfterSeconds(response.headers));
}

/** Retry-After in seconds (it may be a number of seconds or a date), or null. */
function retryAfterSeconds(headers) {
  const text = (headers.get("Retry-After") || "").trim();
  if (!text) return null;
  const seconds = /^\d+$/.test(text) ? Number(text) : (Date.parse(text) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : null;
}

/** GET /api/presets → [{name, title, description}] */
export async function fetchPresets() {
  const answer = await request("GET", "/api/presets");
  return answer.presets;
}

/** GET /api/presets/{name} → {name, title, description, expression, graph} */
export function fetchPreset(name) {
  return request("GET", `/api/presets/${encodeURIComponent(name)}`);
}

/** GET /api/ops → [{name, doc, symbol, ...}] */
export async function fetchOps() {
  const answer = await request("GET", "/api/ops");
  return answer.ops;
}

/**
 * POST /api/evaluate with a graph or {expression}.
 * @param {Object} payload
 * @param {AbortSignal} [signal]
 * @returns {Promise<Evaluation>}
 */
export function evaluate(payload, signal) {
  return request("POST", "/api/evaluate", payload, signal);
}

/**
 * POST /api/parse: the graph JSON an expression makes, without evaluating it.
 * @param {string} expression
 * @returns {Promise<{nodes: Object[], output: string}>}
 */
export async function parseExpression(expression) {
  const answer = await request("POST", "/api/parse", { expression });
  return answer.graph;
}

/**
 * POST /api/graphs: save a new graph → {id, edit_token, revision, url}.
 * @param {{nodes: Object[], output: string, title: string, description: string,
 *   hidden: string[], locked: string[]}} document
 */
export function createGraph(document) {
  return request("POST", "/api/graphs", { schema_version: 1, ...document });
}

/** PUT /api/graphs/{id} with the edit token: a new revision → {id, revision, saved_at}. */
export function updateGraph(id, document, token) {
  const path = `/api/graphs/${encodeURIComponent(id)}`;
  return request("PUT", path, { schema_version: 1, ...document }, undefined, token);
}

/** DELETE /api/graphs/{id} with the edit token: the graph and every revision go. */
export function deleteGraph(id, token) {
  return request("DELETE", `/api/graphs/${encodeURIComponent(id)}`, undefined, undefined, token);
}

/** GET /api/graphs/{id} → the latest revision (public). */
export function fetchGraph(id) {
  return request("GET", `/api/graphs/${encodeURIComponent(id)}`);
}

/** POST /api/export/pytorch → the program text. */
export async function exportPytorch(payload) {
  const answer = await request("POST", "/api/export/pytorch", payload);
  return answer.program;
}

/** POST /api/export/dot → Graphviz DOT text. */
export async function exportDot(payload) {
  const answer = await request("POST", "/api/export/dot", payload);
  return answer.dot;
}
