// Two messages above the canvas: an error the page could not handle (network, API), and the
// non-finite warning that names the node where a value first stopped being a real number.

import { clear, h } from "./dom.js";

export class Banner {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {{error: HTMLElement, warning: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.error = elements.error;
    this.warning = elements.warning;
    state.on("errorRaised", ({ message }) => this.showError(message));
    state.on("errorCleared", () => this.hideError());
    state.on("evaluated", () => this.showWarnings());
    state.on("collapseToggled", () => this.showWarnings());
  }

  showError(message) {
    clear(this.error).hidden = false;
    const close = h("button", { type: "button", class: "banner-close", text: "Dismiss" });
    close.addEventListener("click", () => this.hideError());
    this.error.append(h("p", { class: "banner-text", text: message }), close);
  }

  hideError() {
    clear(this.error).hidden = true;
  }

  showWarnings() {
    const evaluation = this.state.evaluation;
    const first = evaluation.first_nonfinite;
    const warnings = evaluation.warnings || [];
    clear(this.warning).hidden = warnings.length === 0;
    if (warnings.length === 0) return;

    const lead = warnings.find((w) => w.node === first) || warnings[0];
    const name = this.nameOf(lead.node);
    const show = h("button", { type: "button", class: "banner-action", text: `Inspect ${name}` });
    show.addEventListener("click", () => this.state.selectNode(this.displayId(lead.node)));
    this.warning.dataset.node = lead.node;
    this.warning.append(
      h("p", { class: "banner-text" }, [
        h("strong", { text: `Node ${name}: ` }),
        lead.message,
        warnings.length > 1 ? ` (and ${warnings.length - 1} more warning(s))` : "",
      ]),
      show,
    );
    const rest = warnings.filter((w) => w !== lead);
    if (rest.length) {
      this.warning.append(
        h(
          "ul",
          { class: "banner-more" },
          rest.map((w) => h("li", { text: `${this.nameOf(w.node)}: ${w.message}` })),
        ),
      );
    }
  }

  nameOf(id) {
    const node = this.state.evaluation.nodes[id];
    return node ? node.label || id : id;
  }

  displayId(id) {
    return this.state.view.displayOf.get(id) || id;
  }
}
