// The live loss curve, drawn on a canvas: thousands of steps stay cheap to redraw.

const COLOURS = { step: "#0072b2", epoch: "#d55e00", axis: "#566175", grid: "#d9dee7" };
const MARGIN = { left: 52, right: 12, top: 12, bottom: 30 };

export class LossChart {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.reset(1);
  }

  /** Forget the curve; `totalSteps` fixes the x axis so the curve grows to the right. */
  reset(totalSteps) {
    this.totalSteps = totalSteps;
    this.steps = [];
    this.losses = [];
    this.epochs = [];
    this.pending = false;
    this.draw();
  }

  addSteps(steps, losses) {
    for (let i = 0; i < steps.length; i += 1) {
      this.steps.push(steps[i]);
      this.losses.push(typeof losses[i] === "number" ? losses[i] : NaN);
    }
    this.schedule();
  }

  addEpoch(step, loss) {
    if (typeof loss === "number") this.epochs.push([step, loss]);
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  /** The top of the y axis: the largest loss, ignoring the rare spikes of single examples. */
  top() {
    const finite = this.losses.filter(Number.isFinite).concat(this.epochs.map((e) => e[1]));
    if (finite.length === 0) return 1;
    const sorted = [...finite].sort((a, b) => a - b);
    const high = sorted[Math.floor(0.99 * (sorted.length - 1))];
    return Math.max(high, ...this.epochs.map((e) => e[1])) * 1.05 || 1;
  }

  draw() {
    const { canvas, context } = this;
    const width = canvas.width;
    const height = canvas.height;
    const plotWidth = width - MARGIN.left - MARGIN.right;
    const plotHeight = height - MARGIN.top - MARGIN.bottom;
    const top = this.top();
    const x = (step) => MARGIN.left + (step / Math.max(this.totalSteps, 1)) * plotWidth;
    const y = (loss) => MARGIN.top + plotHeight * (1 - Math.min(loss, top * 1.2) / top);

    context.clearRect(0, 0, width, height);
    this.drawAxes(x, y, top, plotWidth, plotHeight);

    context.save();
    context.beginPath();
    context.rect(MARGIN.left, MARGIN.top, plotWidth, plotHeight);
    context.clip();
    context.strokeStyle = COLOURS.step;
    context.globalAlpha = 0.55;
    context.lineWidth = 1;
    context.beginPath();
    let pen = false;
    for (let i = 0; i < this.steps.length; i += 1) {
      const loss = this.losses[i];
      if (!Number.isFinite(loss)) {
        pen = false;
        continue;
      }
      if (pen) context.lineTo(x(this.steps[i]), y(loss));
      else context.moveTo(x(this.steps[i]), y(loss));
      pen = true;
    }
    context.stroke();
    context.globalAlpha = 1;
    context.fillStyle = COLOURS.epoch;
    for (const [step, loss] of this.epochs) {
      context.beginPath();
      context.arc(x(step), y(loss), 2.5, 0, 2 * Math.PI);
      context.fill();
    }
    context.restore();
  }

  drawAxes(x, y, top, plotWidth, plotHeight) {
    const { context } = this;
    context.font = "12px system-ui, sans-serif";
    context.fillStyle = COLOURS.axis;
    context.strokeStyle = COLOURS.grid;
    context.lineWidth = 1;
    context.textAlign = "right";
    for (let k = 0; k <= 4; k += 1) {
      const value = (top * k) / 4;
      const py = y(value);
      context.beginPath();
      context.moveTo(MARGIN.left, py);
      context.lineTo(MARGIN.left + plotWidth, py);
      context.stroke();
      context.fillText(value.toPrecision(2), MARGIN.left - 6, py + 4);
    }
    context.textAlign = "center";
    for (let k = 0; k <= 4; k += 1) {
      const step = Math.round((this.totalSteps * k) / 4);
      context.fillText(String(step), x(step), MARGIN.top + plotHeight + 18);
    }
    context.strokeStyle = COLOURS.axis;
    context.strokeRect(MARGIN.left, MARGIN.top, plotWidth, plotHeight);
  }
}
