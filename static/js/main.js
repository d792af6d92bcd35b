// Entry point of the playground (/) and of a shared graph's page (/g/{id}): build the state,
// the panels and the controllers, wire them to the page's elements, and open what the address
// names. The body's data-mode says which page this is: "edit" (the teacher's editor; opens
// ?graph=<id> or ?preset=<name>) or "view" (a student's read-only copy of /g/<id>).
//
// A shared page also takes options in its query string, for embedding in an iframe:
//   embed=1        just the graph and its controls (no site header, description, table)
//   inspector=0    without the inspector        expression=0   without the expression box
//   title=0        without the title            table=1        with the values table

import { Banner } from "./banner.js";
import { DocPanel } from "./doc_panel.js";
import { ExportPanel } from "./export_panel.js";
import { ExpressionPanel } from "./expression_panel.js";
import { GraphView } from "./graph_view.js";
import { History } from "./history.js";
import { InspectorPanel } from "./inspector_panel.js";
import { JsonPanel } from "./json_panel.js";
import { Palette } from "./palette.js";
import { Playback } from "./playback.js";
import { Session } from "./session.js";
import { SharePanel } from "./share_panel.js";
import { GraphState } from "./state.js";
import { Toolbar } from "./toolbar.js";
import { ValuesTable } from "./values_table.js";

const byId = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no element #${id}`);
  return element;
};

const maybe = (id) => document.getElementById(id) || undefined;

function start() {
  const mode = document.body.dataset.mode === "view" ? "view" : "edit";
  const params = new URLSearchParams(window.location.search);
  if (mode === "view") applyEmbedOptions(params);

  const state = new GraphState(mode);
  const history = new History(state);
  const session = new Session(state, history);
  const playback = new Playback(state);

  new Banner(state, {
    error: byId("error-banner"),
    warning: byId("warning-banner"),
    notice: byId("notice-banner"),
  });
  new Toolbar(state, session, playback, {
    presets: maybe("preset-select"),
    description: maybe("preset-description"),
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
  new ExportPanel(state, session, {
    svg: byId("graph-canvas"),
    png: byId("export-png"),
    svgButton: byId("export-svg"),
    json: byId("export-json"),
    dot: byId("export-dot"),
    pytorch: byId("pytorch-button"),
    dialog: byId("export-dialog"),
    dialogTitle: byId("export-dialog-title"),
    dialogText: byId("export-text"),
    dialogCopy: byId("export-copy"),
    dialogDownload: byId("export-download"),
    dialogStatus: byId("export-status"),
    file: mode === "edit" ? byId("import-file") : undefined,
    importButton: mode === "edit" ? byId("import-button") : undefined,
  });
  if (mode === "edit") startEditor(state, session);
  else startViewer(state);

  history.changed();
  if (!window.dagre) {
    state.raiseError("The layout library did not load; the graph cannot be drawn.");
  }
  const graphId = mode === "view" ? graphIdOfPath() : params.get("graph");
  session.start({ preset: params.get("preset") || "add_mul", graphId });
}

function startEditor(state, session) {
  new Palette(state, session, byId("palette"));
  new JsonPanel(state, session, {
    output: byId("json-output"),
    copy: byId("copy-json"),
    apply: byId("apply-json"),
    status: byId("copy-status"),
  });
  new SharePanel(state, {
    title: byId("share-title"),
    description: byId("share-description"),
    save: byId("save-button"),
    saveNew: byId("save-new-button"),
    status: byId("save-status"),
    link: byId("share-link"),
    token: byId("token-input"),
    useToken: byId("token-button"),
  });
}

function startViewer(state) {
  new DocPanel(state, {
    title: byId("doc-title"),
    description: byId("doc-description"),
    meta: byId("doc-meta"),
    copy: byId("copy-button"),
    status: byId("copy-graph-status"),
  });
}

/** The id in /g/<id>. */
function graphIdOfPath() {
  const match = /^\/g\/([^/]+)\/?$/.exec(window.location.pathname);
  return match ? decodeURIComponent(match[1]) : null;
}

/** Classes on the body for the embed options; the stylesheet hides what they name. */
function applyEmbedOptions(params) {
  const classes = document.body.classList;
  if (params.get("embed") === "1") classes.add("is-embed");
  if (params.get("inspector") === "0") classes.add("no-inspector");
  if (params.get("expression") === "0") classes.add("no-expression");
  if (params.get("title") === "0") classes.add("no-title");
  if (params.get("table") === "1") classes.add("with-table");
}

start();
