// Entry point of the playground page: build the state, the panels and the controllers, wire
// them to the page's elements, and open the preset named in ?preset= (or the first one).

import { Banner } from "./banner.js";
import { ExpressionPanel } from "./expression_panel.js";
import { GraphView } from "./graph_view.js";
import { History } from "./history.js";
import { InspectorPanel } from "./inspector_panel.js";
import { JsonPanel } from "./json_panel.js";
import { Playback } from "./playback.js";
import { Session } from "./session.js";
import { GraphState } from "./state.js";
import { Toolbar } from "./toolbar.js";
import { ValuesTable } from "./values_table.js";

const byId = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no element #${id}`);
  return element;
};

function start() {
  const state = new GraphState();
  const history = new History(state);
  const session = new Session(state, history);
  const playback = new Playback(state);

  new Banner(state, { error: byId("error-banner"), warning: byId("warning-banner") });
  new Toolbar(state, session, playback, {
    presets: byId("preset-select"),
    description: byId("preset-description"),
    forward: byId("forward-button"),
    backward: byId("backward-button"),
    step: byId("step-button"),
    reset: byId("reset-button"),
    collapse: byId("collapse-toggle"),
  });
  new GraphView(state, session, {
    svg: byId("graph-canvas"),
    frame: byId("canvas-frame"),
    narration: byId("step-narration"),
  });
  new InspectorPanel(state, session, byId("inspector"));
  new ExpressionPanel(state, session, {
    textarea: byId("expression-input"),
    error: byId("expression-error"),
    status: byId("expression-status"),
    undo: byId("undo-button"),
    redo: byId("redo-button"),
  });
  new ValuesTable(state, byId("values-body"));
  new JsonPanel(state, {
    output: byId("json-output"),
    copy: byId("copy-json"),
    status: byId("copy-status"),
  });

  history.changed();
  if (!window.dagre) {
    state.raiseError("The layout library did not load; the graph cannot be drawn.");
  }
  const wanted = new URLSearchParams(window.location.search).get("preset") || "add_mul";
  session.start(wanted);
}

start();
