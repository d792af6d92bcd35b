// Errors are shown in the page, next to the section they belong to; never in a dialog.

import { clear, h } from "../dom.js";

/** Show a message in an error box, with a button to dismiss it. */
export function showError(box, message) {
  clear(box).hidden = false;
  const close = h("button", { type: "button", class: "button small", text: "Dismiss" });
  close.addEventListener("click", () => hideError(box));
  box.append(h("p", { text: message }), close);
}

/** Hide an error box. */
export function hideError(box) {
  clear(box).hidden = true;
}

/** An error message followed by a word on the results of earlier settings, greyed out. */
export function withStaleNote(message) {
  const sentence = /[.!?]$/.test(message) ? message : `${message}.`;
  return `${sentence} Greyed out: the last result, from the settings before.`;
}

/** Grey out results that no longer belong to the form's settings, or show them as current. */
export function markStale(elements, stale) {
  for (const element of elements) {
    element.classList.toggle("is-stale", stale);
    if (stale) element.dataset.stale = "true";
    else delete element.dataset.stale;
  }
}

/**
 * A field's number, marked aria-invalid when it has none. A blank field (or text a number
 * field cannot hold, which it reads as blank) throws instead of becoming 0, a valid setting
 * that nobody typed.
 */
export function requiredNumber(form, name, label) {
  const input = form.elements[name];
  const value = Number(input.value.trim());
  const valid = input.value.trim() !== "" && Number.isFinite(value);
  input.setAttribute("aria-invalid", String(!valid));
  if (!valid) refuseField(input, `${label} needs a number.`);
  return value;
}

/** Throw `message` for `input`, with the focus on it so the student can fix it at once. */
export function refuseField(input, message) {
  input.focus();
  throw new Error(message);
}

/** As requiredNumber, for a count such as steps: 1.5 is refused here, in the student's words. */
export function requiredWholeNumber(form, name, label) {
  const value = requiredNumber(form, name, label);
  const input = form.elements[name];
  const whole = Number.isInteger(value);
  input.setAttribute("aria-invalid", String(!whole));
  if (!whole) {
    refuseField(input, `${label} needs a whole number, such as ${nearestAllowed(input, value)}.`);
  }
  return value;
}

/** The whole number nearest `value` within the field's own min and max. */
function nearestAllowed(input, value) {
  const low = input.min === "" ? -Infinity : Number(input.min);
  const high = input.max === "" ? Infinity : Number(input.max);
  return Math.min(high, Math.max(low, Math.round(value)));
}
