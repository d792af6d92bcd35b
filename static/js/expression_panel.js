// The expression box: typing re-evaluates after a short pause; an error with a line and a
// column is shown under the box with the offending line and a caret, while the last good
// graph stays drawn. Undo and redo take back edits of the text and of input values.

import { clear, h } from "./dom.js";

const TYPING_PAUSE_MS = 400;
const FEWEST_ROWS = 5;
const MOST_ROWS = 16;

export class ExpressionPanel {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   * @param {{textarea: HTMLTextAreaElement, error: HTMLElement, status: HTMLElement,
   *   undo: HTMLButtonElement, redo: HTMLButtonElement}} elements
   */
  constructor(state, session, elements) {
    this.state = state;
    this.session = session;
    Object.assign(this, elements);
    this.timer = null;
    // A student's copy of a shared graph is changed through its values, not its text.
    this.textarea.readOnly = state.mode === "view";

    this.textarea.addEventListener("input", () => {
      this.fitRows();
      this.scheduleCommit();
    });
    this.undo.addEventListener("click", () => session.undo());
    this.redo.addEventListener("click", () => session.redo());
    state.on("sourceChanged", ({ source }) => this.showSource(source));
    state.on("syntaxErrorRaised", ({ error }) => this.showError(error));
    state.on("syntaxErrorCleared", () => this.hideError());
    state.on("busyChanged", ({ busy }) => this.showBusy(busy));
    state.on("evaluated", () => this.showSummary());
    state.on("historyChanged", (detail) => this.showHistory(detail));
  }

  scheduleCommit() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.session.commitExpression(this.textarea.value);
    }, TYPING_PAUSE_MS);
  }

  showSource(source) {
    // A pending commit of older text would undo what a preset or a value edit just wrote.
    clearTimeout(this.timer);
    this.timer = null;
    if (this.textarea.value !== source.expression) this.textarea.value = source.expression;
    this.fitRows();
  }

  /** Show every line of a short program without scrolling; long ones scroll. */
  fitRows() {
    const lines = this.textarea.value.split("\n").length;
    this.textarea.rows = Math.min(MOST_ROWS, Math.max(FEWEST_ROWS, lines + 1));
  }

  /** @param {import('./api.js').ApiError} error */
  showError(error) {
    const lines = this.textarea.value.split("\n");
    const text = lines[error.line - 1] ?? "";
    const column = Math.max(1, error.column || 1);
    clear(this.error).hidden = false;
    this.error.dataset.line = String(error.line);
    this.error.dataset.column = String(column);
    this.error.append(
      h("p", { class: "syntax-message" }, [
        h("strong", { text: `Line ${error.line}, column ${column}: ` }),
        error.message,
      ]),
      h("pre", { class: "syntax-line", "aria-hidden": "true" }, [
        h("code", { text: text || " " }),
        "\n",
        h("code", { class: "caret", text: `${" ".repeat(column - 1)}^` }),
      ]),
    );
    this.textarea.setAttribute("aria-invalid", "true");
    this.status.textContent = "Not evaluated: fix the error below. The last good graph stays.";
  }

  hideError() {
    clear(this.error).hidden = true;
    this.textarea.removeAttribute("aria-invalid");
  }

  showBusy(busy) {
    this.textarea.closest("section")?.classList.toggle("is-busy", busy);
    if (busy) this.status.textContent = "Evaluating…";
  }

  showSummary() {
    const evaluation = this.state.evaluation;
    const source = this.state.source;
    if (evaluation.draft) {
      this.status.textContent = `Not evaluated yet: ${evaluation.problem}`;
      return;
    }
    const count = evaluation.forward_order.length;
    let from = "from the expression";
    if (source.graph) from = source.presetName ? "from the preset's graph" : "from the graph";
    this.status.textContent = `Evaluated ${count} nodes ${from}.`;
    if (source.graph && source.presetName === null && this.state.mode === "edit") {
      this.status.textContent +=
        " The picture is the source: this text follows it, and typing here replaces it.";
    }
  }

  showHistory({ canUndo, canRedo, undoLabel, redoLabel }) {
    this.undo.disabled = !canUndo;
    this.redo.disabled = !canRedo;
    this.undo.title = canUndo ? `Undo: ${undoLabel}` : "Nothing to undo";
    this.redo.title = canRedo ? `Redo: ${redoLabel}` : "Nothing to redo";
  }
}
