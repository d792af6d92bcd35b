// The learning page: each section is its own panel; they share nothing but the page.

import { GradcheckPanel } from "./gradcheck_panel.js";
import { SurfacePanel } from "./surface_panel.js";
import { SwellPanel } from "./swell_panel.js";
import { TrainPanel } from "./train_panel.js";

new TrainPanel(document);
const surface = new SurfacePanel(document);
const gradcheck = new GradcheckPanel(document);
const swell = new SwellPanel(document);

// The three lower sections show their first result without a click.
surface.load();
gradcheck.load();
swell.load();
document.body.dataset.ready = "true";
