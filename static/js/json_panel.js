// The current graph as JSON (the contract's form), with Copy; on the teacher's page the text
// can be edited and applied, which redraws the picture and rewrites the expression.

export class JsonPanel {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session|null} session  null where the JSON is read-only
   * @param {{output: HTMLTextAreaElement, copy: HTMLButtonElement, apply?: HTMLButtonElement,
   *   status: HTMLElement}} elements
   */
  constructor(state, session, elements) {
    this.state = state;
    this.session = session;
    Object.assign(this, elements);
    this.edited = false;
    for (const event of ["evaluated", "viewRebuilt"]) state.on(event, () => this.render());
    this.copy.addEventListener("click", () => this.copyText());
    this.output.addEventListener("input", () => {
      this.edited = true;
      this.status.textContent = "Edited: Apply to draw it.";
    });
    if (this.apply) this.apply.addEventListener("click", () => this.applyText());
  }

  /** The graph as the picture shows it (a hand-built one as built, positions included). */
  graph() {
    const graph = this.state.source.graph || this.state.evaluation?.graph;
    if (!graph) return null;
    return { schema_version: 1, nodes: graph.nodes, output: graph.output };
  }

  render() {
    // Never overwrite what the teacher is typing.
    if (this.edited && document.activeElement === this.output) return;
    this.edited = false;
    const graph = this.graph();
    this.output.value = graph ? JSON.stringify(graph, null, 2) : "";
  }

  applyText() {
    let graph;
    try {
      graph = JSON.parse(this.output.value);
    } catch (error) {
      this.status.textContent = `Not valid JSON: ${error.message}`;
      return;
    }
    if (!graph || !Array.isArray(graph.nodes)) {
      this.status.textContent = 'A graph is an object with a "nodes" list and an "output".';
      return;
    }
    this.edited = false;
    this.status.textContent = "Applied.";
    this.session.importGraph(graph, { hidden: graph.hidden, locked: graph.locked });
  }

  async copyText() {
    try {
      await navigator.clipboard.writeText(this.output.value);
      this.status.textContent = "Copied.";
    } catch {
      // Clipboard access needs a secure context; selecting the text lets Ctrl+C do it.
      this.output.select();
      this.status.textContent = "Selected: press Ctrl+C to copy.";
    }
  }
}
