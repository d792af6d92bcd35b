// Numbers as a student reads them: short on the graph, longer in the inspector.

/** @typedef {import('./types.js').ApiNumber} ApiNumber */

const MINUS = "\u2212";

const NONFINITE_TEXT = { nan: "NaN", inf: "∞", "-inf": `${MINUS}∞` };

/** Stands for a number a teacher hid until the student predicts it ("predict before reveal"). */
export const HIDDEN = "hidden";

/** True for a number the page must not show yet. */
export function isHidden(value) {
  return value === HIDDEN;
}

/** True for a tensor value (nested lists). */
export function isTensor(value) {
  return Array.isArray(value);
}

/** The JavaScript number of an API scalar ("nan", "inf", "-inf" included). */
export function toNumber(value) {
  if (value === "nan") return NaN;
  if (value === "inf") return Infinity;
  if (value === "-inf") return -Infinity;
  return Number(value);
}

/**
 * A scalar as short text: -4 → "−4", 0.196611933 → "0.1966", "inf" → "∞".
 * @param {ApiNumber|null|undefined} value
 * @param {number} [digits] significant digits for non-integers
 */
export function formatNumber(value, digits = 4) {
  if (value === null || value === undefined) return "";
  if (value === HIDDEN) return "?";
  if (typeof value === "string" && value in NONFINITE_TEXT) return NONFINITE_TEXT[value];
  const number = toNumber(value);
  if (Number.isNaN(number)) return "NaN";
  if (!Number.isFinite(number)) return number > 0 ? "∞" : `${MINUS}∞`;
  return withMinusSign(shortText(number, digits));
}

function shortText(number, digits) {
  // Negative zero prints as "0": a student never wrote −0.
  if (number === 0) return "0";
  const size = Math.abs(number);
  if (Number.isInteger(number) && size < 1e9) return String(number);
  if (size >= 1e6 || size < 1e-3) return trimExponent(number.toExponential(digits - 1));
  return trimZeros(number.toPrecision(digits));
}

function trimZeros(text) {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

function trimExponent(text) {
  const [mantissa, exponent] = text.split("e");
  return `${trimZeros(mantissa)}e${exponent.replace("+", "")}`;
}

function withMinusSign(text) {
  return text.replace(/^-/, MINUS).replace("e-", `e${MINUS}`);
}

/** A shape as "3×4" (a scalar has the empty shape and shows as "scalar"). */
export function formatShape(shape) {
  if (!shape || shape.length === 0) return "scalar";
  return shape.join("×");
}

/** Every number of a nested list, in row-major order. */
export function flatten(value) {
  if (!isTensor(value)) return [value];
  const numbers = [];
  const pending = [value];
  while (pending.length) {
    const part = pending.pop();
    if (!isTensor(part)) numbers.push(part);
    else for (let i = part.length - 1; i >= 0; i -= 1) pending.push(part[i]);
  }
  return numbers;
}

/** The number of elements of a shape (1 for a scalar). */
export function sizeOf(shape) {
  return (shape || []).reduce((product, size) => product * size, 1);
}

/** The shape of a nested list, read from its first elements. */
export function shapeOf(value) {
  const shape = [];
  let part = value;
  while (Array.isArray(part)) {
    shape.push(part.length);
    part = part[0];
  }
  return shape;
}

/**
 * What an edge or a node shows for a value: the number, or the shape in brackets for a
 * tensor ("[3×4]", "[3]"), so a 3-vector never reads as the number 3.
 * @param {ApiNumber|null|undefined} value
 */
export function formatValue(value, digits = 4) {
  if (isTensor(value)) return `[${shapeOf(value).join("×")}]`;
  return formatNumber(value, digits);
}

/** True when a scalar value is NaN or infinite (tensors: when any element is). */
export function isNonFinite(value) {
  if (value === null || value === undefined || value === HIDDEN) return false;
  if (isTensor(value)) return value.some(isNonFinite);
  return !Number.isFinite(toNumber(value));
}

/** A value as plain text for JSON data attributes that tests and tools read. */
export function rawText(value) {
  return value === null || value === undefined ? "" : JSON.stringify(value);
}

/** "1 node", "3 nodes": a count with its noun in the right number. */
export function counted(count, word, plural = `${word}s`) {
  return `${count} ${count === 1 ? word : plural}`;
}
