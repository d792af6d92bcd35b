// Forward, Backward, Step and Reset: move the reveal position through the sequence of steps,
// one node after another with a short delay (at once when the student prefers less motion).

const STEP_DELAY_MS = 380;

export class Playback {
  /** @param {import('./state.js').GraphState} state */
  constructor(state) {
    this.state = state;
    this.timer = null;
    this.motion = window.matchMedia("(prefers-reduced-motion: reduce)");
    // A new drawing (edit, preset, collapse) ends any animation of the old one.
    state.on("evaluated", () => this.cancel());
    state.on("collapseToggled", () => this.cancel());
  }

  /** A drawn answer with steps to show (a draft of an unfinished graph has none). */
  get ready() {
    return this.state.view !== null && !this.state.view.draft;
  }

  /** Values appear in forward order. */
  forward() {
    if (!this.ready) return;
    this.cancel();
    this.play(0, this.state.view.forwardCount);
  }

  /** Gradients appear in backward order (values first shown at once if missing). */
  backward() {
    if (!this.ready) return;
    this.cancel();
    this.play(this.state.view.forwardCount, this.state.view.sequence.length);
  }

  /**
   * One node at a time: forward in topological order, then backward in reverse. Each press
   * shows exactly one more step; a running animation stops at the node it reached first, so
   * no node is skipped. After the last step it says so instead of starting over (Reset does).
   */
  step() {
    if (!this.ready) return;
    this.cancel();
    const total = this.state.view.sequence.length;
    const from = this.state.position;
    if (from >= total) {
      this.state.setPosition(total, -1, false);
      this.state.notify("Both passes are done. Press Reset (R) to start over.");
      return;
    }
    this.state.setPosition(from + 1, from, false);
  }

  /** Hide every number again. */
  reset() {
    if (!this.ready) return;
    this.cancel();
    this.state.setPosition(0, -1, false);
  }

  cancel() {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.state.setPosition(this.state.position, -1, false);
  }

  play(from, to) {
    if (this.motion.matches || to <= from) {
      this.state.setPosition(to, -1, false);
      return;
    }
    const tick = (position) => {
      if (position >= to) {
        this.timer = null;
        this.state.setPosition(to, -1, false);
        return;
      }
      this.state.setPosition(position + 1, position, true);
      this.timer = setTimeout(() => tick(position + 1), STEP_DELAY_MS);
    };
    this.state.setPosition(from, -1, true);
    tick(from);
  }
}
