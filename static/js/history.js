// Edits as commands with do, undo and a JSON form, so every change can be taken back.

/**
 * @typedef {Object} Command
 * @property {string} label
 * @property {() => void} do
 * @property {() => void} undo
 * @property {() => Object} toJSON
 */

/** A change of what the page evaluates (expression text and, if authoritative, the graph). */
export class ChangeSourceCommand {
  /**
   * @param {string} label  e.g. "set x = 3"
   * @param {import('./types.js').Source} before
   * @param {import('./types.js').Source} after
   * @param {string} reason  why it changed: "preset", "typed", "value"
   * @param {(source: Object, reason: string) => void} apply
   */
  constructor(label, before, after, reason, apply) {
    this.label = label;
    this.before = before;
    this.after = after;
    this.reason = reason;
    this.apply = apply;
  }

  do() {
    this.apply(this.after, this.reason);
  }

  undo() {
    this.apply(this.before, "undo");
  }

  toJSON() {
    return { type: "changeSource", label: this.label, before: this.before, after: this.after };
  }
}

/** The list of done and undone commands; tells the state when undo/redo availability changes. */
export class History {
  /** @param {import('./state.js').GraphState} state */
  constructor(state) {
    this.state = state;
    /** @type {Command[]} */
    this.done = [];
    /** @type {Command[]} */
    this.undone = [];
  }

  /** @param {Command} command */
  execute(command) {
    command.do();
    this.done.push(command);
    this.undone = [];
    this.changed();
  }

  undo() {
    const command = this.done.pop();
    if (!command) return;
    command.undo();
    this.undone.push(command);
    this.changed();
  }

  redo() {
    const command = this.undone.pop();
    if (!command) return;
    // Redo replays the change but must not count as a fresh preset pick or typing.
    command.apply(command.after, "redo");
    this.done.push(command);
    this.changed();
  }

  changed() {
    this.state.emit("historyChanged", {
      canUndo: this.done.length > 0,
      canRedo: this.undone.length > 0,
      undoLabel: this.done.at(-1)?.label || "",
      redoLabel: this.undone.at(-1)?.label || "",
    });
  }

  toJSON() {
    return this.done.map((command) => command.toJSON());
  }
}
