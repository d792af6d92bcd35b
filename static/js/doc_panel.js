// The top of a shared graph's page (/g/{id}): its title and its description (Markdown,
// rendered safely), and "Make a copy", which saves the graph as the student sees it as a new
// graph of their own and opens it in the editor. Nothing else on this page writes anything.

import { ApiError, createGraph } from "./api.js";
import { clear, h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { rememberToken } from "./tokens.js";

export class DocPanel {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {{title: HTMLElement, description: HTMLElement, meta: HTMLElement,
   *   copy: HTMLButtonElement, status: HTMLElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    Object.assign(this, elements);
    this.copy.addEventListener("click", () => this.makeCopy());
    state.on("documentChanged", () => this.render());
  }

  render() {
    const doc = this.state.document;
    document.body.classList.toggle("is-missing", Boolean(doc.missing));
    if (doc.missing) {
      this.title.textContent = "Graph not found";
      document.title = "Graph not found · gradplay";
      clear(this.description).append(
        h("p", {}, [
          "No saved graph has this address: the link may be mistyped, or its owner deleted it. ",
          h("a", { href: "/", text: "Open the playground" }),
          " to build one.",
        ]),
      );
      this.meta.textContent = "";
      this.copy.hidden = true;
      return;
    }
    const title = doc.title || "Untitled graph";
    this.title.textContent = title;
    document.title = `${title} · gradplay`;
    clear(this.description).append(...renderMarkdown(doc.description));
    this.meta.textContent = doc.savedAt
      ? `Revision ${doc.revision}, saved ${new Date(doc.savedAt).toLocaleString()}. ` +
        "Change values freely: nothing you do here is saved."
      : "";
    this.copy.hidden = false;
  }

  /** Save the graph (with any values changed here) as a new one, and edit it. */
  async makeCopy() {
    const source = this.state.source;
    const graph = source.graph || this.state.evaluation?.graph;
    if (!graph) return;
    const hidden = this.stillHidden();
    if (!this.copyAnyway && hidden.length > 0) {
      this.warnBeforeCopying(hidden);
      return;
    }
    const doc = this.state.document;
    this.copy.disabled = true;
    this.status.textContent = "Copying…";
    try {
      const answer = await createGraph({
        nodes: graph.nodes,
        output: graph.output,
        title: `Copy of ${doc.title || "a graph"}`.slice(0, 200),
        description: doc.description,
        hidden: source.hidden || [],
        locked: source.locked || [],
      });
      rememberToken(answer.id, answer.edit_token);
      window.location.assign(`/?graph=${encodeURIComponent(answer.id)}`);
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      this.status.textContent = `Could not make a copy: ${message}`;
      this.copy.disabled = false;
    }
  }

  /** Names of the nodes with a number this page still hides until the student predicts it. */
  stillHidden() {
    const masks = this.state.masks();
    const ids = new Set([...masks.value, ...masks.grad]);
    return [...ids].map((id) => this.state.view?.nodes.get(id)?.name || id);
  }

  // The copy opens in the editor, which shows every number: the teacher's exercise would be
  // given away without the student choosing to see it.
  warnBeforeCopying(hidden) {
    this.status.textContent =
      `A copy opens in the editor, which shows every number, also those this page hides ` +
      `until you predict them (${hidden.join(", ")}). Predict or reveal them first, or press ` +
      `"Copy anyway".`;
    this.copy.textContent = "Copy anyway";
    this.copyAnyway = true;
  }
}
