"""The data sets the training page offers: the engine's seeded toy sets and the real digits.

The handwritten digits are read from app/data/digits.npz (1,797 images of 8×8 pixels with
values 0–16, and their labels) when the file is there; pixels are scaled to 0–1.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.errors import ApiError
from engine import datasets

log = logging.getLogger(__name__)

DIGITS_PATH = Path(__file__).resolve().parent / "data" / "digits.npz"

TITLES = {
    "moons": "Two moons (2-D, generated)",
    "circles": "Circles (2-D, generated)",
    "spirals": "Spirals (2-D, generated)",
    "blobs": "Two blobs, linearly separable (2-D, generated)",
    "line": "Points near a line (1-D regression, generated)",
    "digits": "Handwritten digits 8×8 (real, 1,797 images)",
}


@dataclass
class Loaded:
    """Rows, labels or targets, and what kind of problem they make."""

    X: np.ndarray
    y: np.ndarray
    classes: int  # 0 for regression
    image_shape: tuple[int, int] | None = None


def available() -> list[dict]:
    """The data sets this server can load, for the page's menu and `GET /api/datasets`."""
    names = [name for name in TITLES if name != "digits" or DIGITS_PATH.exists()]
    return [{"name": name, "title": TITLES[name]} for name in names]


def load(name: str, samples: int, noise: float, seed: int) -> Loaded:
    """One data set by name; `samples`, `noise` and `seed` apply to the generated ones."""
    if name in datasets.TOY_SETS:
        X, y = datasets.TOY_SETS[name](samples, noise, seed)
        return Loaded(X, y, classes=2)
    if name == "line":
        X, y = datasets.line(samples, noise, seed)
        return Loaded(X, y, classes=0)
    if name == "digits":
        X, y = _digits()
        return Loaded(X, y, classes=10, image_shape=(8, 8))
    known = ", ".join(item["name"] for item in available())
    raise ApiError(422, "unknown_dataset", f"unknown data set {name!r}; choose one of {known}")


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    if not DIGITS_PATH.exists():
        raise ApiError(
            404, "dataset_missing", "the digits data set (app/data/digits.npz) is not installed"
        )
    with np.load(DIGITS_PATH) as archive:
        images, labels = archive["images"], archive["labels"]
    log.info("loaded %d digit images from %s", len(images), DIGITS_PATH)
    X = images.reshape(len(images), -1).astype(np.float64) / 16.0
    X.setflags(write=False)
    y = labels.astype(np.float64)
    y.setflags(write=False)
    return X, y
