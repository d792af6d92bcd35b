"""Train the small CNN (or an MLP when the engine has no conv2d) on the shipped digits.

    python -m bench.train_digits          # prints the time and the held-out accuracy

Target (from the issue): at least 95% accuracy on the held-out quarter of the 1,797 real
handwritten digits of app/data/digits.npz. `bench_train_digits()` returns the same numbers as
rows (name, value, note) in the shape bench/run.py prints.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from app.datasets import load
from engine.datasets import split
from engine.ops import OPS
from engine.train import Data, Trainer, TrainSettings, build_model

log = logging.getLogger("bench")
TARGET_ACCURACY = 0.95


def train_digits(steps: int = 1000, seed: int = 0) -> dict:
    """One training run; the model is the CNN when conv2d and max_pool2d exist."""
    digits = load("digits", samples=0, noise=0.0, seed=seed)
    X, y, X_test, y_test = split(digits.X, digits.y, test_fraction=0.25, seed=seed)
    if "conv2d" in OPS and "max_pool2d" in OPS:
        kind, hidden, activation, rate = "cnn", (32,), "relu", 0.05
    else:
        kind, hidden, activation, rate = "mlp", (64,), "tanh", 0.1
    model = build_model(
        X, y, kind, "cross_entropy", hidden, activation, 10, seed, digits.image_shape
    )
    settings = TrainSettings("momentum", rate, batch_size=32, steps=steps, max_seconds=120)
    trainer = Trainer(model, Data(X, y, X_test, y_test), settings)

    start = time.perf_counter()
    summary = trainer.run(lambda event: None)
    return {
        "model": kind,
        "parameters": model.size,
        "steps": summary.steps,
        "epochs": summary.steps / trainer.steps_per_epoch,
        "seconds": time.perf_counter() - start,
        "train_accuracy": summary.train_accuracy,
        "test_accuracy": summary.test_accuracy,
        "reason": summary.reason,
    }


def bench_train_digits() -> list[tuple[str, float, str]]:
    """The run as rows for bench/run.py's table."""
    result = train_digits()
    met = "met" if result["test_accuracy"] >= TARGET_ACCURACY else "NOT met"
    return [
        (f"digits {result['model']} training time (s)", result["seconds"],
         f"{result['steps']} steps, {result['epochs']:.1f} epochs, {result['parameters']:,} "
         "parameters"),
        ("digits held-out accuracy (%)", 100 * result["test_accuracy"],
         f"target ≥ {100 * TARGET_ACCURACY:.0f}%: {met}"),
    ]  # fmt: skip


def main() -> None:
    """Print the time and the accuracy; exit 1 when the accuracy misses the target."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log.info("machine: %d cores, Python %s", os.cpu_count(), sys.version.split()[0])
    result = train_digits()
    log.info(
        "model %s (%d parameters), %d steps (%.1f epochs) in %.2f s",
        result["model"],
        result["parameters"],
        result["steps"],
        result["epochs"],
        result["seconds"],
    )
    log.info(
        "accuracy: %.1f%% train, %.1f%% held out (target ≥ %.0f%%)",
        100 * result["train_accuracy"],
        100 * result["test_accuracy"],
        100 * TARGET_ACCURACY,
    )
    if result["test_accuracy"] < TARGET_ACCURACY:
        sys.exit(1)


if __name__ == "__main__":
    main()
