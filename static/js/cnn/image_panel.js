// Choosing the photo: a shipped sample, or a PNG/JPEG the student uploads (file input or drag
// and drop). The API decodes the file; when it refuses one, what is wrong is shown here.

import { clear, h } from "../dom.js";
import { formatShape } from "../format.js";

export class ImagePanel {
  /**
   * @param {import('./state.js').CnnState} state
   * @param {import('./lab.js').Lab} lab
   * @param {{select: HTMLSelectElement, file: HTMLInputElement, drop: HTMLElement,
   *   error: HTMLElement, info: HTMLElement, credit: HTMLElement}} elements
   */
  constructor(state, lab, elements) {
    this.state = state;
    this.lab = lab;
    this.elements = elements;
    state.on("imagesListed", ({ images }) => this.listImages(images));
    state.on("imageLoaded", ({ image }) => this.showImage(image));
    state.on("imageFailed", ({ message }) => this.showError(message));

    elements.select.addEventListener("change", () => this.pickSample());
    elements.file.addEventListener("change", () => this.pickFile(elements.file.files));
    this.listenForDrops(elements.drop);
  }

  listImages(images) {
    const options = images.map((image) => h("option", { value: image.name, text: image.name }));
    clear(this.elements.select).append(...options);
  }

  pickSample() {
    const name = this.elements.select.value;
    if (name) this.lab.openSample(name);
  }

  pickFile(files) {
    const file = files && files[0];
    if (!file) return;
    this.elements.drop.dataset.state = "loading";
    this.lab.upload(file);
  }

  listenForDrops(zone) {
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.dataset.state = "over";
    });
    zone.addEventListener("dragleave", () => delete zone.dataset.state);
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      delete zone.dataset.state;
      this.pickFile(event.dataTransfer && event.dataTransfer.files);
    });
  }

  showImage(image) {
    delete this.elements.drop.dataset.state;
    this.hideError();
    const sample = this.state.images.find((item) => item.name === image.title);
    this.markUpload(sample ? null : image.title);
    this.elements.select.value = sample ? sample.name : "";
    const [width, height] = image.originalSize;
    this.elements.info.textContent =
      `${image.title}: tensor ${formatShape(image.shape)} (C×H×W, grey, values 0 to 1), ` +
      `from a ${width}×${height} picture`;
    this.elements.credit.textContent = sample
      ? `Photo: ${sample.credit}, ${sample.licence}.`
      : "Your photo: the server decoded it and did not keep it.";
  }

  // An upload appears in the list as a choice of its own, so the select never shows blank.
  markUpload(title) {
    const select = this.elements.select;
    const old = select.querySelector("option[value='']");
    if (old) old.remove();
    if (title) select.prepend(h("option", { value: "", text: `${title} (upload)` }));
  }

  showError(message) {
    delete this.elements.drop.dataset.state;
    const error = this.elements.error;
    error.hidden = false;
    error.textContent = `The image could not be used: ${message}`;
  }

  hideError() {
    this.elements.error.hidden = true;
    this.elements.error.textContent = "";
  }
}
