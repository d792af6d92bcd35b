// The controls row: presets (on the playground), the four pass buttons, the collapse toggle;
// and the keyboard shortcuts F, B, S, R and Ctrl+Z / Ctrl+Y, which do nothing while the
// student is typing in a field.

import { clear, h, isTyping } from "./dom.js";
import { hasGroups } from "./view_model.js";

const CUSTOM = "";

export class Toolbar {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   * @param {import('./playback.js').Playback} playback
   * @param {{presets?: HTMLSelectElement, forward: HTMLButtonElement,
   *   backward: HTMLButtonElement, step: HTMLButtonElement, reset: HTMLButtonElement,
   *   collapse: HTMLInputElement, description?: HTMLElement}} elements
   */
  constructor(state, session, playback, elements) {
    this.state = state;
    Object.assign(this, elements);

    this.presets?.addEventListener("change", () => {
      if (this.presets.value !== CUSTOM) session.choosePreset(this.presets.value);
    });
    this.forward.addEventListener("click", () => playback.forward());
    this.backward.addEventListener("click", () => playback.backward());
    this.step.addEventListener("click", () => playback.step());
    this.reset.addEventListener("click", () => playback.reset());
    this.collapse.addEventListener("change", () => state.setCollapsed(this.collapse.checked));

    state.on("presetsLoaded", () => this.showPresets());
    state.on("sourceChanged", () => this.showChosenPreset());
    state.on("evaluated", () => this.showCollapse());
    state.on("collapseToggled", () => this.showCollapse());
    state.on("positionChanged", () => this.showPosition());
    state.on("viewRebuilt", () => this.showPosition());
    listenForShortcuts(playback, session);
    this.showCollapse();
    this.showPosition();
  }

  showPresets() {
    if (!this.presets) return;
    clear(this.presets);
    this.presets.append(h("option", { value: CUSTOM, text: "Your expression" }));
    for (const preset of this.state.presets) {
      this.presets.append(h("option", { value: preset.name, text: preset.title || preset.name }));
    }
    this.showChosenPreset();
  }

  showChosenPreset() {
    if (!this.presets) return;
    const name = this.state.source.presetName;
    this.presets.value = name ?? CUSTOM;
    const preset = this.state.presets.find((p) => p.name === name);
    this.description.textContent = preset ? preset.description || "" : "";
  }

  showCollapse() {
    const available = hasGroups(this.state.evaluation);
    this.collapse.disabled = !available;
    this.collapse.checked = this.state.collapsed;
    this.collapse.closest("label").title = available
      ? "Draw each block (such as the sigmoid) as one box"
      : "This graph has no blocks to collapse";
  }

  showPosition() {
    const ready = this.state.view !== null && !this.state.view.draft;
    for (const button of [this.forward, this.backward, this.step, this.reset]) {
      button.disabled = !ready;
    }
    const view = this.state.view;
    if (!view) return;
    const total = view.sequence.length;
    this.step.setAttribute(
      "aria-label",
      `Step (${Math.min(this.state.position, total)} of ${total} steps shown)`,
    );
  }
}

const SHORTCUTS = { f: "forward", b: "backward", s: "step", r: "reset" };

function listenForShortcuts(playback, session) {
  document.addEventListener("keydown", (event) => {
    if (isTyping(event.target)) return;
    if (undoShortcut(event, session)) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const action = SHORTCUTS[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    playback[action]();
  });
}

/** Ctrl+Z undoes, Ctrl+Shift+Z and Ctrl+Y redo (Cmd on a Mac); fields keep their own undo. */
function undoShortcut(event, session) {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return false;
  const key = event.key.toLowerCase();
  if (key === "z" && !event.shiftKey) session.undo();
  else if ((key === "z" && event.shiftKey) || key === "y") session.redo();
  else return false;
  event.preventDefault();
  return true;
}
