// The controls row: presets, the four pass buttons, the collapse toggle; and the keyboard
// shortcuts F, B, S, R, which do nothing while the student is typing in a field.

import { clear, h } from "./dom.js";
import { hasGroups } from "./view_model.js";

const CUSTOM = "";

export class Toolbar {
  /**
   * @param {import('./state.js').GraphState} state
   * @param {import('./session.js').Session} session
   * @param {import('./playback.js').Playback} playback
   * @param {{presets: HTMLSelectElement, forward: HTMLButtonElement,
   *   backward: HTMLButtonElement, step: HTMLButtonElement, reset: HTMLButtonElement,
   *   collapse: HTMLInputElement, description: HTMLElement}} elements
   */
  constructor(state, session, playback, elements) {
    this.state = state;
    Object.assign(this, elements);

    this.presets.addEventListener("change", () => {
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
    listenForShortcuts(playback);
    this.showCollapse();
    this.showPosition();
  }

  showPresets() {
    clear(this.presets);
    this.presets.append(h("option", { value: CUSTOM, text: "Your expression" }));
    for (const preset of this.state.presets) {
      this.presets.append(h("option", { value: preset.name, text: preset.title || preset.name }));
    }
    this.showChosenPreset();
  }

  showChosenPreset() {
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
    const ready = this.state.view !== null;
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

function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  return tag === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(target.type);
}

function listenForShortcuts(playback) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (isTyping(event.target)) return;
    const action = SHORTCUTS[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    playback[action]();
  });
}
