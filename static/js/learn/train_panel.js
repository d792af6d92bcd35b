// The training section: the settings form, Start and Stop, the progress bar, and the views
// the run's events feed (loss curve, accuracy, decision regions).

import { followRun, startRun, stopRun } from "./api.js";
import {
  hideError,
  markStale,
  refuseField,
  requiredNumber,
  requiredWholeNumber,
  showError,
  withStaleNote,
} from "./errors.js";
import { LossChart } from "./loss_chart.js";
import { RegionsView } from "./regions_view.js";

// Settings that suit each data set, applied when it is picked.
const DATASET_DEFAULTS = {
  line: { model: "linear", loss: "mse", optimizer: "gd", learning_rate: "0.1", noise: "0.5" },
  digits: { model: "cnn", hidden: "32", activation: "relu", loss: "cross_entropy",
    optimizer: "momentum", learning_rate: "0.05", batch_size: "32", steps: "800" },
  blobs: { model: "linear", loss: "logistic", optimizer: "newton", noise: "0.8",
    steps: "20" },
  moons: { model: "mlp", hidden: "16, 16", activation: "tanh", loss: "cross_entropy",
    optimizer: "momentum", learning_rate: "0.1", noise: "0.15", steps: "1500" },
  circles: { model: "mlp", hidden: "16, 16", activation: "tanh", loss: "cross_entropy",
    optimizer: "momentum", learning_rate: "0.1", noise: "0.1", steps: "1500" },
  // tanh units sit on a plateau for a long time on the spirals; relu ones do not.
  spirals: { model: "mlp", hidden: "32, 32", activation: "relu", loss: "cross_entropy",
    optimizer: "momentum", learning_rate: "0.1", noise: "0.05", steps: "4000" },
};

// What the server says when Newton's method meets a model too big for its full Hessian.
const TOO_MANY_PARAMETERS = "too_many_parameters";
// What it says when every training slot is taken, by anyone's runs.
const TOO_MANY_RUNS = "too_many_runs";

export class TrainPanel {
  /** @param {Document} page */
  constructor(page) {
    this.form = page.getElementById("train-form");
    this.startButton = page.getElementById("start-button");
    this.stopButton = page.getElementById("stop-button");
    this.error = page.getElementById("train-error");
    this.note = page.getElementById("train-note");
    this.progress = page.getElementById("train-progress");
    this.status = page.getElementById("run-status");
    this.lossReadout = page.getElementById("loss-readout");
    this.accuracyReadout = page.getElementById("accuracy-readout");
    this.views = page.getElementById("train-views");
    this.chart = new LossChart(page.getElementById("loss-chart"));
    this.regions = new RegionsView(
      page.getElementById("regions-canvas"),
      page.getElementById("regions-figure"),
    );
    this.run = null;
    this.unfollow = null;

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    this.stopButton.addEventListener("click", () => this.stop());
    this.form.elements.optimizer.addEventListener("change", () => {
      this.showOptimizerFields();
      this.fitModelToNewton();
    });
    this.form.elements.dataset.addEventListener("change", () => this.applyDefaults());
    this.showOptimizerFields();
  }

  /** Show only the fields the chosen optimizer uses. */
  showOptimizerFields() {
    const optimizer = this.form.elements.optimizer.value;
    for (const label of this.form.querySelectorAll("label[data-for]")) {
      label.hidden = !label.dataset.for.split(" ").includes(optimizer);
    }
  }

  applyDefaults() {
    const defaults = DATASET_DEFAULTS[this.form.elements.dataset.value] || {};
    for (const [name, value] of Object.entries(defaults)) this.form.elements[name].value = value;
    this.note.hidden = true;
    this.showOptimizerFields();
    this.fitModelToNewton();
  }

  /**
   * Newton's method needs the full Hessian, which the server computes for small models only
   * (a few hundred parameters): picking it switches to a linear model, and says so.
   */
  fitModelToNewton() {
    const fields = this.form.elements;
    if (fields.optimizer.value !== "newton" || fields.model.value === "linear") return;
    let switched;
    if (fields.dataset.value === "digits") {
      // Even a linear model of the 8×8 digits has 650 parameters: take the blobs instead.
      fields.dataset.value = "blobs";
      this.applyDefaults();
      switched = "the blobs data set with a linear model and logistic loss (3 parameters)";
    } else {
      fields.model.value = "linear";
      const regression = fields.dataset.value === "line";
      fields.loss.value = regression ? "mse" : "logistic";
      switched = regression
        ? "a linear model (2 parameters)"
        : "a linear model with logistic loss, that is logistic regression (3 parameters)";
    }
    this.note.hidden = false;
    this.note.textContent =
      "Newton's method divides by the full Hessian, which is computed for small models " +
      `only, so the form switched to ${switched}. An MLP with few hidden units fits too.`;
  }

  /** The request body the form describes; throws an Error naming a field it cannot send. */
  body() {
    const field = (name) => this.form.elements[name].value.trim();
    const number = (name, label) => requiredNumber(this.form, name, label);
    const count = (name, label) => requiredWholeNumber(this.form, name, label);
    // Only the first bad field is named: the marks of an earlier attempt must not linger.
    for (const input of this.form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
    }

    const optimizer = field("optimizer");
    const usesBatch = optimizer === "minibatch" || optimizer === "momentum";
    return {
      dataset: {
        name: field("dataset"),
        samples: count("samples", "Samples"),
        noise: number("noise", "Noise"),
        seed: count("seed", "Seed"),
      },
      model: {
        kind: field("model"),
        hidden: this.hiddenWidths(),
        activation: field("activation"),
      },
      loss: field("loss"),
      optimizer: {
        name: optimizer,
        learning_rate: this.learningRate(),
        batch_size: usesBatch ? count("batch_size", "Batch size") : null,
        // The method's unused fields are hidden; left out, they take the server's defaults.
        momentum: optimizer === "momentum" ? number("momentum", "Momentum") : undefined,
        damping: optimizer === "newton" ? number("damping", "Damping") : undefined,
      },
      steps: count("steps", "Steps"),
      max_seconds: number("max_seconds", "Time limit"),
      step_delay_ms: number("step_delay_ms", "Slow motion"),
    };
  }

  /** Whole numbers separated by commas; none at all only for the linear model. */
  hiddenWidths() {
    const input = this.form.elements.hidden;
    const widths = input.value.split(/[\s,]+/).filter(Boolean).map(Number);
    const needed = this.form.elements.model.value !== "linear";
    const whole = widths.every(Number.isInteger);
    input.setAttribute("aria-invalid", String(!whole || (needed && !widths.length)));
    if (!whole) {
      refuseField(input, "Hidden widths are whole numbers separated by commas, such as 16, 16.");
    }
    if (needed && !widths.length) refuseField(input, "Hidden widths needs a number.");
    return widths;
  }

  /** A blank rate is refused here; other text goes as typed, for the server to refuse. */
  learningRate() {
    const text = this.form.elements.learning_rate.value.trim();
    // "nan" or "abc" must reach the server and come back as its error.
    return text === ""
      ? requiredNumber(this.form, "learning_rate", "Learning rate")
      : numberOrText(text);
  }

  async start() {
    hideError(this.error);
    let body;
    try {
      body = this.body();
    } catch (error) {
      this.refuse(error.message);
      return;
    }
    this.startButton.disabled = true;
    try {
      this.run = await startRun(body);
    } catch (error) {
      this.startButton.disabled = false;
      this.refuse(withAdvice(error));
      return;
    }
    this.begin(this.run);
  }

  /**
   * No run started with the form's settings: say why, and grey out what the last run left
   * on screen, since it belongs to other settings.
   */
  refuse(message) {
    const shown = this.run !== null;
    showError(this.error, shown ? withStaleNote(message) : message);
    this.setStatus("idle", shown ? "Not started; the views below are from the last run." :
      "Not started.");
    markStale([this.views, this.progress], shown);
  }

  begin(run) {
    markStale([this.views, this.progress], false);
    this.lossReadout.textContent = "loss –";
    this.accuracyReadout.textContent = "accuracy –";
    for (const readout of [this.lossReadout, this.accuracyReadout]) {
      for (const key of Object.keys(readout.dataset)) delete readout.dataset[key];
    }
    this.chart.reset(run.steps);
    this.regions.setPoints(run.points || null);
    this.progress.value = 0;
    this.stopButton.disabled = false;
    this.setStatus("running", `Training: ${run.optimizer_title}, ${run.parameters} parameters, ` +
      `batch of ${run.batch_size} of ${run.train_rows} rows (${run.steps_per_epoch} steps ` +
      "per epoch).");
    this.unfollow = followRun(run.events_url, {
      steps: (event) => this.onSteps(event),
      epoch: (event) => this.onEpoch(event),
      regions: (event) => this.regions.setRegions(event),
      done: (event) => this.onDone(event),
      lost: () => this.onLost(),
    });
  }

  onSteps(event) {
    this.chart.addSteps(event.steps, event.losses);
    this.progress.value = event.progress;
    const step = event.steps[event.steps.length - 1];
    const loss = event.losses[event.losses.length - 1];
    this.lossReadout.dataset.loss = String(loss);
    this.lossReadout.dataset.step = String(step);
    this.lossReadout.textContent = `step ${step}: batch loss ${format(loss)}`;
    this.setStatus("running", `Step ${step} of ${this.run.steps} · about ` +
      `${Math.ceil(event.time_left)} s left`);
  }

  onEpoch(event) {
    this.chart.addEpoch(event.step, event.train_loss);
    this.lossReadout.dataset.epochLoss = String(event.train_loss);
    const parts = [`epoch ${event.epoch}: training loss ${format(event.train_loss)}`];
    if (event.train_accuracy !== null) {
      parts.push(`accuracy ${percent(event.train_accuracy)} train, ` +
        `${percent(event.test_accuracy)} held out`);
    }
    this.accuracyReadout.textContent = parts.join(" · ");
    this.accuracyReadout.dataset.trainAccuracy = String(event.train_accuracy);
    this.accuracyReadout.dataset.testAccuracy = String(event.test_accuracy);
  }

  onDone(event) {
    this.finish();
    if (event.reason !== "stopped" && event.reason !== "finished") this.progress.value = 0;
    else if (event.reason === "finished") this.progress.value = 1;
    const words = {
      finished: "Finished",
      stopped: "Stopped",
      time_limit: "Stopped at the time limit",
      diverged: "Diverged",
      failed: "Failed",
    };
    const tail = event.message ? `: ${event.message}` : "";
    const took = typeof event.seconds === "number" ? ` in ${event.seconds.toFixed(1)} s` : "";
    this.setStatus(event.reason, `${words[event.reason] || event.reason} after ` +
      `${event.steps ?? "?"} steps${took}${tail}`);
    if (event.reason === "diverged" || event.reason === "failed") {
      showError(this.error, event.message);
    }
  }

  onLost() {
    this.finish();
    this.setStatus("lost", "The connection to the run was lost.");
    showError(this.error, "Lost the connection to the training run; is the server running?");
  }

  async stop() {
    if (!this.run) return;
    this.stopButton.disabled = true;
    try {
      await stopRun(this.run.run_id);
    } catch (error) {
      showError(this.error, error.message);
    }
  }

  finish() {
    if (this.unfollow) this.unfollow();
    this.unfollow = null;
    this.startButton.disabled = false;
    this.stopButton.disabled = true;
  }

  setStatus(status, text) {
    this.status.dataset.status = status;
    this.status.textContent = text;
  }
}

function numberOrText(text) {
  const value = Number(text);
  return text !== "" && Number.isFinite(value) ? value : text;
}

function format(value) {
  if (typeof value !== "number") return String(value);
  return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3)
    ? value.toExponential(2)
    : value.toFixed(4);
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${(100 * value).toFixed(1)}%`;
}

/** The server's sentence, and what to do about it when the page knows. */
function withAdvice(error) {
  if (error.code === TOO_MANY_RUNS || error.status === 429) return busyMessage(error);
  if (error.code !== TOO_MANY_PARAMETERS) return error.message;
  const sentence = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
  return `${sentence} Pick the linear model, or fewer hidden units, for Newton's method.`;
}

/**
 * Every training slot is taken. The runs are other people's (a page cannot stop them), so the
 * advice is to wait: as long as the Retry-After header or the server's sentence says.
 */
function busyMessage(error) {
  const stated = /(\d+)\s*(?:s|seconds?)\b/.exec(error.message);
  const seconds = error.retryAfter ?? (stated ? Number(stated[1]) : null);
  const when = seconds === null ? "shortly" : `in about ${seconds} s`;
  return "Other people's training runs are using every slot this server has, so this run " +
    `did not start. Try again ${when}.`;
}
