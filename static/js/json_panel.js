// The current graph as JSON (the contract's form), with a button to copy it.

export class JsonPanel {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {{output: HTMLElement, copy: HTMLButtonElement, status: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    Object.assign(this, elements);
    state.on("evaluated", () => this.render());
    this.copy.addEventListener("click", () => this.copyText());
  }

  render() {
    this.output.textContent = JSON.stringify(this.state.evaluation.graph, null, 2);
  }

  async copyText() {
    try {
      await navigator.clipboard.writeText(this.output.textContent);
      this.status.textContent = "Copied.";
    } catch {
      // Clipboard access needs a secure context; selecting the text lets Ctrl+C do it.
      window.getSelection().selectAllChildren(this.output);
      this.status.textContent = "Selected: press Ctrl+C to copy.";
    }
  }
}
