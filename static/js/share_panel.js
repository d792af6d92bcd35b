// The teacher's "Save and share" panel: title and description (Markdown), Save (a new graph,
// or a new revision of one this browser holds the edit token of), the student link /g/{id},
// the embed snippet with its options, a field to paste a token from another machine, and
// "Delete this graph", asked twice in the page, for a graph this browser holds the token of.

import { ApiError, createGraph, deleteGraph, updateGraph } from "./api.js";
import { clear, h } from "./dom.js";
import { forgetToken, rememberToken, tokenFor } from "./tokens.js";

/** Query options of an embedded graph, documented in the panel itself. */
export const EMBED_OPTIONS = [
  ["embed=1", "just the graph and its controls, for an iframe"],
  ["inspector=0", "without the inspector"],
  ["expression=0", "without the expression box"],
  ["title=0", "without the title"],
  ["table=1", "with the table of values and gradients"],
];

export class SharePanel {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {{title: HTMLInputElement, description: HTMLTextAreaElement,
   *   save: HTMLButtonElement, saveNew: HTMLButtonElement, status: HTMLElement,
   *   link: HTMLElement, token: HTMLInputElement, useToken: HTMLButtonElement}} elements
   */
  constructor(state, elements) {
    this.state = state;
    Object.assign(this, elements);
    this.title.addEventListener("input", () => this.keepText());
    this.description.addEventListener("input", () => this.keepText());
    this.save.addEventListener("click", () => this.saveGraph(false));
    this.saveNew.addEventListener("click", () => this.saveGraph(true));
    this.useToken.addEventListener("click", () => this.adoptToken());
    state.on("documentChanged", () => this.render());
    this.render();
  }

  keepText() {
    this.state.document.title = this.title.value;
    this.state.document.description = this.description.value;
  }

  render() {
    const doc = this.state.document;
    if (this.title.value !== (doc.title || "")) this.title.value = doc.title || "";
    const description = doc.description || "";
    if (this.description.value !== description) this.description.value = description;
    const owned = Boolean(doc.id && tokenFor(doc.id));
    this.save.textContent = doc.id && !owned ? "Save as a new graph" : "Save";
    this.saveNew.hidden = !owned;
    this.showLink(doc, owned);
  }

  showLink(doc, owned) {
    clear(this.link);
    if (!doc.id || doc.missing) {
      this.link.append(h("p", { class: "muted", text: "Save to get a link for students." }));
      return;
    }
    const url = new URL(`/g/${encodeURIComponent(doc.id)}`, window.location.origin).href;
    const copy = h("button", { type: "button", class: "button small", text: "Copy link" });
    copy.addEventListener("click", () => this.copy(url));
    const frame = `src="${url}?embed=1" width="900" height="560" title="gradplay"`;
    const embed = `<iframe ${frame}></iframe>`;
    this.link.append(
      h("p", { class: "share-link" }, [
        h("span", { text: "Students open " }),
        h("a", { href: url, id: "share-url", target: "_blank", rel: "noopener", text: url }),
        " ",
        copy,
      ]),
      h("p", {
        class: "muted",
        text: owned
          ? `Revision ${doc.revision ?? 1}. This browser holds the edit token, so Save ` +
            "updates this graph; students always see the latest revision."
          : "This browser does not hold the edit token: Save makes a new graph. Paste the " +
            "token below to update this one.",
      }),
      owned ? this.tokenReveal(doc.id) : null,
      owned ? this.deleteControl(doc.id) : null,
      h("details", { class: "embed-help" }, [
        h("summary", { text: "Embed in a slide or a course page" }),
        h("pre", {}, [h("code", { text: embed })]),
        h(
          "ul",
          {},
          EMBED_OPTIONS.map(([option, meaning]) =>
            h("li", {}, [h("code", { text: `&${option}` }), ` ${meaning}`]),
          ),
        ),
      ]),
    );
  }

  /** The teacher's own token, shown on request, to paste on another machine. */
  tokenReveal(id) {
    const shown = h("code", { class: "token-text" });
    const button = h("button", { type: "button", class: "button small", text: "Show it" });
    button.addEventListener("click", () => {
      shown.textContent = tokenFor(id) || "";
    });
    return h("details", { class: "token-help" }, [
      h("summary", { text: "Edit from another machine" }),
      h("p", {
        class: "muted",
        text:
          "The edit token is the password of this graph: keep it to yourself, and paste it " +
          "into the field below on the other machine after opening this graph there.",
      }),
      h("p", {}, [button, " ", shown]),
    ]);
  }

  /** "Delete this graph", then a question in the page (a dialog would block the page). */
  deleteControl(id) {
    const ask = h("button", {
      type: "button",
      class: "button small danger",
      id: "delete-button",
      text: "Delete this graph",
    });
    const yes = h("button", {
      type: "button",
      class: "button small danger",
      id: "delete-confirm",
      text: "Delete for good",
    });
    const no = h("button", {
      type: "button",
      class: "button small",
      id: "delete-cancel",
      text: "Keep it",
    });
    const question = h("p", { class: "delete-question", hidden: true }, [
      "Delete this graph and all its revisions? The student link stops working. ",
      yes,
      " ",
      no,
    ]);
    ask.addEventListener("click", () => {
      ask.hidden = true;
      question.hidden = false;
      no.focus();
    });
    no.addEventListener("click", () => {
      question.hidden = true;
      ask.hidden = false;
      ask.focus();
      this.say("Nothing was deleted.", false);
    });
    yes.addEventListener("click", () => this.deleteSaved(id, yes));
    return h("div", { class: "delete-graph" }, [ask, question]);
  }

  /** Delete the saved graph; what is on screen stays, as a graph not saved yet. */
  async deleteSaved(id, button) {
    button.disabled = true;
    this.say("Deleting…", false);
    try {
      await deleteGraph(id, tokenFor(id));
    } catch (error) {
      button.disabled = false;
      this.say(`Not deleted: ${deleteRefusal(error)}`, true);
      return;
    }
    forgetToken(id);
    window.history.replaceState(null, "", "/");
    this.state.setDocument({ id: null, revision: null, savedAt: null, missing: false });
    this.say(
      `Deleted: the link /g/${id} no longer works. The graph stays here; Save makes a new link.`,
      false,
    );
  }

  /** What is saved: the graph as the picture shows it, with the teaching options. */
  documentBody() {
    const source = this.state.source;
    const graph = source.graph || this.state.evaluation?.graph;
    if (!graph || !graph.nodes.length) return null;
    return {
      nodes: graph.nodes,
      output: graph.output,
      title: this.title.value.trim(),
      description: this.description.value,
      hidden: source.hidden || [],
      locked: source.locked || [],
    };
  }

  async saveGraph(asNew) {
    const body = this.documentBody();
    if (!body) {
      this.say("There is no graph to save yet.", true);
      return;
    }
    if (this.state.evaluation?.draft) {
      this.say(`Complete the graph before saving: ${this.state.evaluation.problem}`, true);
      return;
    }
    const doc = this.state.document;
    const token = doc.id ? tokenFor(doc.id) : null;
    this.say("Saving…", false);
    try {
      if (doc.id && token && !asNew) await this.update(doc.id, body, token);
      else await this.create(body);
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      this.say(`Not saved: ${message}`, true);
    }
  }

  async create(body) {
    const answer = await createGraph(body);
    const kept = rememberToken(answer.id, answer.edit_token);
    this.state.setDocument({
      id: answer.id,
      title: body.title,
      description: body.description,
      revision: answer.revision,
      missing: false,
    });
    // The address now names the graph, so a reload opens it again.
    window.history.replaceState(null, "", `/?graph=${encodeURIComponent(answer.id)}`);
    this.say(
      kept
        ? "Saved. The link below is for students."
        : "Saved, but this browser would not keep the edit token: copy it now. " +
            `Token: ${answer.edit_token}`,
      !kept,
    );
  }

  async update(id, body, token) {
    const answer = await updateGraph(id, body, token);
    this.state.setDocument({ revision: answer.revision, savedAt: answer.saved_at });
    this.say(`Saved revision ${answer.revision}.`, false);
  }

  /** A token pasted from another machine: remember it for the graph on screen. */
  adoptToken() {
    const doc = this.state.document;
    const token = this.token.value.trim();
    if (!doc.id) {
      this.say("Open the saved graph first (its /?graph=… address), then paste it.", true);
      return;
    }
    if (!token) {
      this.say("Paste the edit token first.", true);
      return;
    }
    rememberToken(doc.id, token);
    this.token.value = "";
    this.render();
    this.say("Token kept: Save now updates this graph (the server checks the token).", false);
  }

  async copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      this.say("Link copied.", false);
    } catch {
      this.say("Select the link and press Ctrl+C to copy it.", false);
    }
  }

  say(message, isError) {
    this.status.textContent = message;
    this.status.classList.toggle("is-error", isError);
  }
}

/** Why the server refused a delete, with what the teacher can do about it. */
function deleteRefusal(error) {
  if (!(error instanceof ApiError)) return String(error);
  if (error.status === 403) {
    return "the server did not accept this browser's edit token for the graph. Paste the " +
      "right token below and try again.";
  }
  if (error.status === 404) {
    return "the server has no graph with this id; it may have been deleted already.";
  }
  return error.message;
}
