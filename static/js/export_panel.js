// Export and import: the picture as PNG or SVG for slides, the graph as JSON, as Graphviz DOT
// and as a PyTorch program (both from the API, shown in a dialog with Copy and Download); and,
// on the teacher's page, a JSON file chosen or dropped anywhere on the page as the new graph.

import { ApiError, exportDot, exportPytorch } from "./api.js";
import { download, picturePng, pictureSvg } from "./image_export.js";
import { payloadOf } from "./session.js";

/**
 * @typedef {Object} ExportElements
 * @property {SVGSVGElement} svg
 * @property {HTMLButtonElement} png
 * @property {HTMLButtonElement} svgButton
 * @property {HTMLButtonElement} json
 * @property {HTMLButtonElement} dot
 * @property {HTMLButtonElement} pytorch
 * @property {HTMLDialogElement} dialog
 * @property {HTMLElement} dialogTitle
 * @property {HTMLElement} dialogText
 * @property {HTMLButtonElement} dialogCopy
 * @property {HTMLButtonElement} dialogDownload
 * @property {HTMLElement} dialogStatus
 * @property {HTMLInputElement} [file]  the teacher's page only
 * @property {HTMLButtonElement} [importButton]
 */

export class ExportPanel {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   * @param {ExportElements} elements
   */
  constructor(state, session, elements) {
    this.state = state;
    this.session = session;
    Object.assign(this, elements);
    this.png.addEventListener("click", () => this.savePicture("png"));
    this.svgButton.addEventListener("click", () => this.savePicture("svg"));
    this.json.addEventListener("click", () => this.saveJson());
    this.dot.addEventListener("click", () => this.showProgram("dot"));
    this.pytorch.addEventListener("click", () => this.showProgram("pytorch"));
    this.dialogCopy.addEventListener("click", () => this.copyProgram());
    this.dialogDownload.addEventListener("click", () => this.downloadProgram());
    if (this.file) this.listenForImports();
  }

  /** A file name from the title: "Sigmoid neuron" → "sigmoid-neuron". */
  baseName() {
    const title = this.state.document.title || this.state.source.presetName || "graph";
    return title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "graph";
  }

  async savePicture(kind) {
    if (!this.state.view || !this.state.view.nodes.size) {
      this.state.notify("There is no picture to export yet.");
      return;
    }
    try {
      const picture = pictureSvg(this.svg);
      if (kind === "svg") {
        download(new Blob([picture.text], { type: "image/svg+xml" }), `${this.baseName()}.svg`);
      } else {
        download(await picturePng(picture), `${this.baseName()}.png`);
      }
    } catch (error) {
      this.state.raiseError(`The picture could not be exported: ${error.message}`);
    }
  }

  /**
   * True, after saying why, while a student still has hidden numbers to predict: the graph's
   * JSON holds a hidden input's value, and a program prints every value and gradient.
   * Pictures are drawn from the masked view, so they stay allowed.
   */
  wouldGiveAway() {
    const masks = this.state.masks();
    if (!masks.value.size && !masks.grad.size && !masks.local.size) return false;
    this.state.notify(
      "Predict or reveal the hidden numbers first: this export would show them.",
    );
    return true;
  }

  /** The graph with its title, description and teaching options (importable again). */
  saveJson() {
    const graph = this.state.source.graph || this.state.evaluation?.graph;
    if (!graph || this.wouldGiveAway()) return;
    const doc = this.state.document;
    const body = {
      schema_version: 1,
      title: doc.title || "",
      description: doc.description || "",
      nodes: graph.nodes,
      output: graph.output,
      hidden: this.state.source.hidden || [],
      locked: this.state.source.locked || [],
    };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    download(new Blob([text], { type: "application/json" }), `${this.baseName()}.json`);
  }

  async showProgram(kind) {
    if (this.wouldGiveAway()) return;
    if (this.state.evaluation?.draft) {
      this.state.notify(`Complete the graph first: ${this.state.evaluation.problem}`);
      return;
    }
    const payload = payloadOf(this.state.source);
    const title = kind === "dot" ? "Graphviz DOT" : "PyTorch program";
    this.program = { kind, text: "" };
    this.dialogTitle.textContent = title;
    this.dialogText.textContent = "Asking the server…";
    this.dialogStatus.textContent = "";
    this.dialog.dataset.kind = kind;
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const text = kind === "dot" ? await exportDot(payload) : await exportPytorch(payload);
      this.program.text = text;
      this.dialogText.textContent = text;
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      this.dialogText.textContent = "";
      this.dialogStatus.textContent = `The server could not export this graph: ${message}`;
    }
  }

  async copyProgram() {
    try {
      await navigator.clipboard.writeText(this.program?.text || "");
      this.dialogStatus.textContent = "Copied.";
    } catch {
      window.getSelection().selectAllChildren(this.dialogText);
      this.dialogStatus.textContent = "Selected: press Ctrl+C to copy.";
    }
  }

  downloadProgram() {
    if (!this.program?.text) return;
    const extension = this.program.kind === "dot" ? "dot" : "py";
    const blob = new Blob([this.program.text], { type: "text/plain" });
    download(blob, `${this.baseName()}.${extension}`);
  }

  // ---- import --------------------------------------------------------------------------

  listenForImports() {
    this.importButton.addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => {
      const chosen = this.file.files?.[0];
      if (chosen) this.importFile(chosen);
      this.file.value = "";
    });
    document.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      document.body.classList.add("is-dropping");
    });
    document.addEventListener("dragleave", (event) => {
      if (event.relatedTarget === null) document.body.classList.remove("is-dropping");
    });
    document.addEventListener("drop", (event) => {
      document.body.classList.remove("is-dropping");
      if (!hasFiles(event)) return;
      event.preventDefault();
      const dropped = event.dataTransfer.files[0];
      if (dropped) this.importFile(dropped);
    });
  }

  /** Read a graph JSON file (a bare graph, or one exported with its title) and open it. */
  async importFile(file) {
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch {
      this.state.raiseError(`${file.name} is not a JSON file.`);
      return;
    }
    if (data && typeof data.expression === "string" && !Array.isArray(data.nodes)) {
      this.session.commitExpression(data.expression);
      return;
    }
    if (!data || !Array.isArray(data.nodes)) {
      this.state.raiseError(`${file.name} holds no graph: a graph has a "nodes" list.`);
      return;
    }
    // An imported graph is a new one: Save makes a new link instead of overwriting.
    window.history.replaceState(null, "", "/");
    this.state.setDocument({
      id: null,
      title: typeof data.title === "string" ? data.title : "",
      description: typeof data.description === "string" ? data.description : "",
      revision: null,
      savedAt: null,
      missing: false,
    });
    this.session.importGraph(data, { hidden: data.hidden, locked: data.locked });
    this.state.notify(`Opened ${file.name}.`);
  }
}

function hasFiles(event) {
  return Boolean(event.dataTransfer && [...event.dataTransfer.types].includes("Files"));
}
