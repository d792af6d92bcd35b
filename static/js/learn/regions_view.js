// Decision regions of a two-class model on 2-D data: the model's probability of class 1 on a
// grid, painted as an image, with the data points on top.

const CLASS_COLOURS = [
  [0, 114, 178],
  [213, 94, 0],
];

export class RegionsView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLElement} figure shown only when the data are 2-D
   */
  constructor(canvas, figure) {
    this.canvas = canvas;
    this.figure = figure;
    this.context = canvas.getContext("2d");
    this.points = null;
    this.grid = null;
  }

  /** The points of a new run (null when the data are not 2-D). */
  setPoints(points) {
    this.points = points;
    this.grid = null;
    this.figure.hidden = !points;
    this.draw();
  }

  /** A new grid of probabilities: {size, bounds, probabilities} from a "regions" event. */
  setRegions(grid) {
    this.grid = grid;
    this.canvas.dataset.step = String(grid.step);
    this.draw();
  }

  draw() {
    const { canvas, context } = this;
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (!this.points) return;
    const bounds = this.grid ? this.grid.bounds : boundsOf(this.points);
    if (this.grid) this.paintGrid();

    const x = (v) => ((v - bounds[0]) / (bounds[1] - bounds[0])) * canvas.width;
    const y = (v) => (1 - (v - bounds[2]) / (bounds[3] - bounds[2])) * canvas.height;
    this.paintPoints(this.points.train, x, y, true);
    this.paintPoints(this.points.test, x, y, false);
  }

  paintGrid() {
    const { size, probabilities } = this.grid;
    const image = new ImageData(size, size);
    for (let row = 0; row < size; row += 1) {
      for (let column = 0; column < size; column += 1) {
        // Row 0 of the grid is the smallest y, which belongs at the bottom of the image.
        const p = probabilities[row * size + column];
        const at = ((size - 1 - row) * size + column) * 4;
        const [r, g, b] = blend(p);
        image.data.set([r, g, b, 255], at);
      }
    }
    const tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    tile.getContext("2d").putImageData(image, 0, 0);
    this.context.imageSmoothingEnabled = true;
    this.context.drawImage(tile, 0, 0, this.canvas.width, this.canvas.height);
  }

  paintPoints(set, x, y, filled) {
    const { context } = this;
    context.lineWidth = 1.5;
    for (let i = 0; i < set.X.length; i += 1) {
      const [r, g, b] = CLASS_COLOURS[set.y[i] > 0.5 ? 1 : 0];
      context.beginPath();
      context.arc(x(set.X[i][0]), y(set.X[i][1]), filled ? 3.2 : 4, 0, 2 * Math.PI);
      if (filled) {
        context.fillStyle = `rgb(${r},${g},${b})`;
        context.fill();
        context.strokeStyle = "#fff";
      } else {
        context.strokeStyle = `rgb(${r},${g},${b})`;
      }
      context.stroke();
    }
  }
}

/** A pale colour: blue at p = 0, white at p = ½, orange at p = 1. */
function blend(p) {
  const side = p >= 0.5 ? CLASS_COLOURS[1] : CLASS_COLOURS[0];
  const strength = Math.min(1, Math.abs(p - 0.5) * 2) * 0.45;
  return side.map((c) => Math.round(255 + (c - 255) * strength));
}

function boundsOf(points) {
  const all = points.train.X.concat(points.test.X);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const pad = (low, high) => 0.1 * (high - low || 1);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return [x0 - pad(x0, x1), x1 + pad(x0, x1), y0 - pad(y0, y1), y1 + pad(y0, y1)];
}
