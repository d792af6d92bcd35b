// The teacher's "Save and share" panel: title and description (Markdown), Save (a new graph,
// or a new revision of one this browser holds the edit token of), the student link /g/{id},
// the embed snippet with its options, and a field to paste a token from another machine.

import { ApiError, createGraph, updateGraph } from "./api.js";
import { clear, h } from "./dom.js";
import { rememberToken, tokenFor } from "./tokens.js";

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
