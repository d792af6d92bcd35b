"""The demo graphs a student can pick: the course's examples of chapter 2.

Most are expression text (what the expression box shows). The sigmoid neuron built from
primitives is a node list, because it carries the `group` that lets the page collapse the
block into one σ box, and the `reciprocal` node the course's figure draws as 1/x.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

IRIS = Path(__file__).resolve().parent / "data" / "iris.csv"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    expression: str
    graph: dict | None = None


_NEURON_INPUTS = "w0 = 2\nx0 = -1\nw1 = -3\nx1 = -2\nw2 = -3\n"


def _sigmoid_from_primitives() -> dict:
    """w0·x0 + w1·x1 + w2, then negate, exp, +1, 1/x: figure 2.6 of the course."""
    leaves = [
        {"id": name, "op": "input", "value": value}
        for name, value in (("w0", 2), ("x0", -1), ("w1", -3), ("x1", -2), ("w2", -3))
    ]
    weighted = [
        {"id": "p0", "op": "mul", "inputs": ["w0", "x0"]},
        {"id": "p1", "op": "mul", "inputs": ["w1", "x1"]},
        {"id": "s0", "op": "add", "inputs": ["p0", "p1"]},
        {"id": "s", "op": "add", "inputs": ["s0", "w2"]},
    ]
    block = [
        {"id": "n", "op": "neg", "inputs": ["s"], "group": "sigmoid"},
        {"id": "e", "op": "exp", "inputs": ["n"], "group": "sigmoid"},
        {"id": "one", "op": "const", "value": 1, "label": "1", "group": "sigmoid"},
        {"id": "d", "op": "add", "inputs": ["e", "one"], "group": "sigmoid"},
        {"id": "f", "op": "reciprocal", "inputs": ["d"], "group": "sigmoid"},
    ]
    return {"schema_version": 1, "nodes": leaves + weighted + block, "output": "f"}


def _iris_mlp() -> str:
    """A two-layer MLP on 8 real iris flowers (rows spread over the three species)."""
    with IRIS.open() as handle:
        rows = list(csv.DictReader(handle))
    batch = [rows[i] for i in (0, 20, 40, 55, 75, 95, 110, 140)]
    features = [[float(v) for k, v in row.items() if k.endswith("_cm")] for row in batch]
    labels = [int(row["label"]) for row in batch]
    return (
        "# 8 iris flowers: sepal length, sepal width, petal length, petal width (cm)\n"
        f"X = {features}\n"
        "W1 = randn(6, 4, seed=0)\nb1 = zeros(6)\n"
        "W2 = randn(3, 6, seed=1)\nb2 = zeros(3)\n"
        "h = relu(linear(X, W1, b1))\n"
        "logits = linear(h, W2, b2)\n"
        f"L = cross_entropy(logits, {labels})"
    )


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "add_mul",
            "(x+y)·z",
            "The smallest circuit: a sum feeding a product (figures 2.3 and 2.4).",
            "x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z",
        ),
        Preset(
            "sigmoid_neuron",
            "Sigmoid neuron (primitives)",
            "A two-input neuron built from ×, +, negate, exp, +1 and 1/x (figure 2.6); the "
            "last four form a block that can be collapsed into one σ.",
            _NEURON_INPUTS + "f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))",
            graph=_sigmoid_from_primitives(),
        ),
        Preset(
            "sigmoid_neuron_fused",
            "Sigmoid neuron (fused σ)",
            "The same neuron with one sigmoid node whose local gradient is σ(1 − σ): the "
            "gradients match the primitive version.",
            # The same names as the primitive version, so the two can be read side by side.
            _NEURON_INPUTS + "p0 = w0*x0\np1 = w1*x1\ns0 = p0 + p1\ns = s0 + w2\nf = sigmoid(s)",
        ),
        Preset(
            "fan_out",
            "Fan-out: x·y + x",
            "x feeds two nodes, so its gradient is the sum of the two downstream gradients.",
            "x = 3\ny = -2\nf = x * y + x",
        ),
        Preset(
            "tanh_neuron",
            "tanh neuron",
            "A neuron with a tanh activation: tanh(w0·x0 + w1·x1 + b).",
            "w0 = 0.5\nx0 = 2\nw1 = -1.5\nx1 = 0.4\nb = 0.1\nf = tanh(w0*x0 + w1*x1 + b)",
        ),
        Preset(
            "softmax_classifier",
            "L(softmax(Wx + b), y)",
            "Figure 2.2: a linear classifier with 3 classes and 4 features, its softmax, and "
            "the loss −log of the probability of the right class (class 0).",
            "W = [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]]\n"
            "x = [0.56, 2.31, 0.24, 0.02]\n"
            "b = [1.1, 3.2, -1.2]\n"
            "z = W @ x + b\n"
            "f = softmax(z)\n"
            "L = -log(sum(f * onehot(0, 3)))",
        ),
        Preset(
            "linear_layer",
            "Linear layer f = Wx",
            "The Jacobian of f = Wx with respect to x is W itself: open the edge from x.",
            "W = [[1, 2, 3], [4, 5, 6]]\nx = [0.5, -1, 2]\nf = W @ x",
        ),
        Preset(
            "iris_mlp",
            "Two-layer MLP on iris",
            "linear → relu → linear → cross-entropy on a batch of 8 real iris flowers "
            "(data: R. A. Fisher, via scikit-learn; see app/data/README.md).",
            _iris_mlp(),
        ),
    )
}
