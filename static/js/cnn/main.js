// Entry point of the CNN lab: build the state, the lab and the panels, wire them to the page's
// elements, and open the photo named in ?image= (or the first sample).

import { Banner } from "../banner.js";
import { BankPanel } from "./bank_panel.js";
import { BatchNormPanel } from "./batchnorm_panel.js";
import { ConvView } from "./conv_view.js";
import { ImagePanel } from "./image_panel.js";
import { KernelPanel } from "./kernel_panel.js";
import { Lab } from "./lab.js";
import { LenetPanel } from "./lenet_panel.js";
import { SizePanel } from "./size_panel.js";
import { StackPanel } from "./stack_panel.js";
import { CnnState } from "./state.js";

const byId = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no element #${id}`);
  return element;
};

function start() {
  const state = new CnnState();
  const lab = new Lab(state);

  new Banner(state, { error: byId("error-banner"), warning: byId("warning-banner") });
  new ImagePanel(state, lab, {
    select: byId("image-select"),
    file: byId("image-upload"),
    drop: byId("drop-zone"),
    error: byId("image-error"),
    info: byId("image-info"),
    credit: byId("image-credit"),
  });
  new KernelPanel(state, {
    select: byId("kernel-select"),
    size: byId("kernel-size"),
    grid: byId("kernel-grid"),
    tex: byId("kernel-tex"),
    padding: byId("padding-input"),
    stride: byId("stride-input"),
    dilation: byId("dilation-input"),
    same: byId("same-padding"),
    note: byId("window-note"),
    windowError: byId("window-error"),
  });
  new SizePanel(state, {
    size: byId("output-size"),
    formula: byId("size-formula"),
    unvisited: byId("unvisited-note"),
  });
  new ConvView(state, {
    input: byId("conv-input"),
    output: byId("conv-output"),
    inputLegend: byId("conv-input-legend"),
    outputLegend: byId("conv-output-legend"),
    outputCaption: byId("conv-output-caption"),
    play: byId("play-button"),
    step: byId("step-button"),
    speed: byId("speed-input"),
    where: byId("window-position"),
    dot: byId("dot-product"),
    error: byId("conv-error"),
    warning: byId("conv-warning"),
  });
  new BankPanel(state, {
    choices: byId("bank-choices"),
    shape: byId("bank-shape"),
    maps: byId("bank-maps"),
    detail: byId("bank-detail"),
    error: byId("bank-error"),
    scale: byId("bank-scale"),
  });
  new StackPanel(state, {
    list: byId("stack-layers"),
    addOp: byId("add-layer-op"),
    add: byId("add-layer"),
    limit: byId("add-layer-limit"),
    table: byId("stack-table-body"),
    maps: byId("stack-maps"),
    readout: byId("rf-readout"),
    error: byId("stack-error"),
    scale: byId("stack-scale"),
    legend: byId("stack-legend"),
  });
  const lenet = new LenetPanel(state, {
    digits: byId("digit-choices"),
    forward: byId("lenet-forward"),
    backward: byId("lenet-backward"),
    table: byId("lenet-table-body"),
    total: byId("lenet-total"),
    input: byId("lenet-input"),
    inputLegend: byId("lenet-input-legend"),
    maps: byId("lenet-maps"),
    detail: byId("lenet-detail"),
    grads: byId("lenet-grads"),
    gradDetail: byId("lenet-grad-detail"),
    probabilities: byId("lenet-probabilities"),
    status: byId("lenet-status"),
    error: byId("lenet-error"),
    scale: byId("lenet-scale"),
    phase: byId("lenet"),
  });
  const batchNorm = new BatchNormPanel(state, {
    batch: byId("bn-batch"),
    batchError: byId("bn-batch-error"),
    params: byId("bn-params"),
    modes: byId("bn-modes"),
    step: byId("bn-step"),
    reset: byId("bn-reset"),
    stats: byId("bn-stats"),
    output: byId("bn-output"),
    legend: byId("bn-legend"),
    status: byId("bn-status"),
    error: byId("bn-error"),
    program: byId("bn-program"),
  });

  if (!window.katex) state.raiseError("The math library did not load; formulas show as text.");
  const wanted = new URLSearchParams(window.location.search).get("image");
  lab.start(wanted);
  lenet.start();
  batchNorm.start();
}

start();
