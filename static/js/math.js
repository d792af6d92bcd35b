// Rendered math through the vendored KaTeX (loaded as a classic script before the modules).

import { h } from "./dom.js";

/**
 * An element showing `tex` as math; the raw LaTeX stays readable if KaTeX is missing or
 * the formula does not parse.
 * @param {string} tex
 * @param {{display?: boolean, className?: string}} [options]
 */
export function mathElement(tex, options = {}) {
  const element = h(options.display ? "div" : "span", { class: options.className || "math" });
  const katex = window.katex;
  if (!katex) {
    element.textContent = tex;
    return element;
  }
  try {
    katex.render(tex, element, {
      displayMode: Boolean(options.display),
      throwOnError: false,
      output: "htmlAndMathml",
    });
  } catch {
    element.textContent = tex;
  }
  return element;
}
