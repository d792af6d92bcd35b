// Messages above the canvas: an error the page could not handle (network, API), the
// non-finite warning that names the node where a value first stopped being a real number, and
// short notices about what just happened ("Connecting a into a const is not possible").

import { clear, h } from "./dom.js";
import { counted } from "./format.js";

const NOTICE_MS = 7000;

export class Banner {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {{error: HTMLElement, warning: HTMLElement, notice: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    this.error = elements.error;
    this.warning = elements.warning;
    this.notice = elements.notice;
    this.noticeTimer = null;
    /** The latest request failed: the drawn graph's warnings belong to older text. */
    this.failed = false;
    state.on("noticeRaised", ({ message }) => this.showNotice(message));
    state.on("errorRaised", ({ message }) => this.showError(message));
    state.on("errorCleared", () => this.hideError());
    state.on("evaluated", () => {
      this.failed = false;
      this.showWarnings();
    });
    state.on("collapseToggled", () => this.showWarnings());
    state.on("evaluationFailed", () => {
      this.failed = true;
      this.hideWarnings();
    });
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

  showNotice(message) {
    clearTimeout(this.noticeTimer);
    this.notice.textContent = message;
    this.notice.hidden = false;
    this.noticeTimer = setTimeout(() => {
      this.notice.hidden = true;
    }, NOTICE_MS);
  }

  hideWarnings() {
    clear(this.warning).hidden = true;
    delete this.warning.dataset.node;
  }

  showWarnings() {
    if (this.failed) return;
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
        moreText(warnings.length - 1),
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

function moreText(count) {
  if (count === 0) return "";
  return ` (and ${counted(count, "more warning", "more warnings")})`;
}
