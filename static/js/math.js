// Rendered math through the vendored KaTeX (loaded as a classic script before the modules).

import { h } from "./dom.js";

/**
 * An element showing `tex` as math; the raw LaTeX stays readable if KaTeX is missing or
 * the formula does not parse.
 * @param {string} tex
 * @param {{display?: boolean, className?: string, wrap?: boolean}} [options]
 *   wrap: a display formula that may break across lines (after = or an operator) to fit a
 *   narrow box; KaTeX breaks lines only in inline mode, so it is set inline at display size
 */
export function mathElement(tex, options = {}) {
  const element = h(options.display ? "div" : "span", { class: options.className || "math" });
  const katex = window.katex;
  if (!katex) {
    element.textContent = tex;
    return element;
  }
  try {
    const wrapped = Boolean(options.display && options.wrap);
    katex.render(wrapped ? `\\displaystyle ${tex}` : tex, element, {
      displayMode: Boolean(options.display) && !wrapped,
      throwOnError: false,
      output: "htmlAndMathml",
    });
  } catch {
    element.textContent = tex;
  }
  return element;
}
