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
