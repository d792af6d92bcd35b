// The expression box: typing re-evaluates after a short pause; the API's refusal of the text
// is shown under the box (with the offending line and a caret when it has a line and a
// column, with the nodes it names otherwise), while the last good graph stays drawn. Undo and
// redo take back edits of the text and of input values.

import { clear, h } from "./dom.js";
import { counted } from "./format.js";

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
    /** True from "Evaluating…" until the answer, the error or a settle says how it ended. */
    this.waiting = false;
    // A student's copy of a shared graph is changed through its values, not its text.
    this.textarea.readOnly = state.mode === "view";

    this.textarea.addEventListener("input", () => {
      this.fitRows();
      this.scheduleCommit();
    });
    this.undo.addEventListener("click", () => session.undo());
    this.redo.addEventListener("click", () => session.redo());
    state.on("sourceChanged", ({ source }) => this.showSource(source));
    state.on("expressionErrorRaised", ({ error }) => this.showError(error));
    state.on("expressionErrorCleared", () => this.hideError());
    state.on("evaluationFailed", () => this.showFailure());
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
    this.waiting = false;
    clear(this.error).hidden = false;
    if (error.hasPosition) this.showPlace(error);
    else this.showNodes(error);
    this.textarea.setAttribute("aria-invalid", "true");
    this.status.textContent = "Not evaluated: fix the error below. The last good graph stays.";
  }

  /**
   * An error with a place (a syntax error, or a shape error at the operator that made the
   * node): the place once, then the line with a caret under the column.
   */
  showPlace(error) {
    const lines = this.textarea.value.split("\n");
    const text = lines[error.line - 1] ?? "";
    const column = Math.max(1, error.column || 1);
    this.error.dataset.line = String(error.line);
    this.error.dataset.column = String(column);
    if (error.nodeIds.length) this.error.dataset.nodeIds = error.nodeIds.join(" ");
    else delete this.error.dataset.nodeIds;
    this.error.append(
      h("p", { class: "syntax-message" }, [
        h("strong", { text: `Line ${error.line}, column ${column}: ` }),
        error.messageWithoutPosition,
      ]),
      h("pre", { class: "syntax-line", "aria-hidden": "true" }, [
        h("code", { text: text || " " }),
        "\n",
        h("code", { class: "caret" }, [...caretPadding(text, column), "^"]),
      ]),
    );
    this.noteMarked(error.nodeIds);
  }

  /** Say so when the nodes an error names are marked in the picture. */
  noteMarked(ids) {
    if (ids.some((id) => this.state.view?.displayOf.has(id))) {
      this.error.append(h("p", { class: "help", text: "Marked in red in the picture." }));
    }
  }

  /** An error about nodes (a shape mismatch): the nodes it names and the lines defining them. */
  showNodes(error) {
    delete this.error.dataset.line;
    delete this.error.dataset.column;
    const ids = error.nodeIds;
    this.error.dataset.nodeIds = ids.join(" ");
    const lead = ids.length
      ? `${ids.length === 1 ? "Node" : "Nodes"} ${ids.join(", ")}: `
      : "Not evaluated: ";
    // The lead names the nodes already; the API's own "node 'f': " would say it twice.
    const named = /^nodes? '[^']*'(, '[^']*')*:\s*/i;
    const message = ids.length ? error.message.replace(named, "") : error.message;
    this.error.append(
      h("p", { class: "syntax-message" }, [h("strong", { text: lead }), message]),
    );
    const lines = this.textarea.value.split("\n");
    for (const id of ids) {
      const index = lines.findIndex((line) => definesName(line, id));
      if (index < 0) continue;
      this.error.append(
        h("pre", { class: "syntax-line" }, [
          h("span", { class: "line-number", text: `line ${index + 1}  ` }),
          h("code", { text: lines[index] }),
        ]),
      );
    }
    this.noteMarked(ids);
  }

  hideError() {
    clear(this.error).hidden = true;
    this.textarea.removeAttribute("aria-invalid");
  }

  /** A failed request whose message went to the banner: the status must not stay busy. */
  showFailure() {
    this.waiting = false;
    if (this.state.expressionError) return;
    this.status.textContent =
      "Not evaluated: see the message above the picture. The last good graph stays.";
  }

  showBusy(busy) {
    this.textarea.closest("section")?.classList.toggle("is-busy", busy);
    if (busy) {
      this.waiting = true;
      this.status.textContent = "Evaluating…";
      return;
    }
    // Settled without a new answer (the text came back to what is drawn): say what is drawn.
    if (this.waiting && this.state.evaluation) this.showSummary();
    this.waiting = false;
  }

  showSummary() {
    this.waiting = false;
    const evaluation = this.state.evaluation;
    const source = this.state.source;
    if (evaluation.draft) {
      this.status.textContent = `Not evaluated yet: ${evaluation.problem}`;
      return;
    }
    const count = evaluation.forward_order.length;
    let from = "from the expression";
    if (source.graph) from = source.presetName ? "from the preset's graph" : "from the graph";
    this.status.textContent = `Evaluated ${counted(count, "node")} ${from}.`;
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

/**
 * What goes before the caret so it lands under `column` (counted in characters, as the API
 * counts): the line's own prefix, so tabs stop at the same tab stops and wide characters
 * (emoji, CJK) take their own width. Plain ASCII becomes spaces, one monospace column each
 * like the character it stands for; anything else is copied and hidden, since only the
 * character itself has its width.
 */
function caretPadding(line, column) {
  const prefix = Array.from(line).slice(0, column - 1).join("");
  // A non-ASCII run keeps the character before it, so a combining mark keeps its base.
  return prefix.split(/([\x20-\x7e]?[^\t\x20-\x7e]+)/).map((piece, index) =>
    index % 2 ? h("span", { class: "caret-pad", text: piece }) : piece.replace(/[^\t]/g, " "),
  );
}

/** True when `line` is the definition `id = …` of an expression. */
function definesName(line, id) {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\s*${escaped}\\s*=(?!=)`).test(line);
}
