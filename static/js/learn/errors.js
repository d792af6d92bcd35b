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
