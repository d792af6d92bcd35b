"""LeNet-5 (figure 5.13 of the course) on a shipped handwritten digit, as one engine graph.

The weights are a seeded initialisation, not trained ones: the page shows how the maps and
gradients flow, not a good classifier. The layout is the modern reading of LeNet-5: full C3
connectivity, parameter-free average pooling, tanh activations, biases counted: 61,706
parameters.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from app.errors import ApiError
from app.serialize import tensor
from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.layers import describe_stack, output_shape
from engine.limits import Limits

DIGITS = Path(__file__).resolve().parent.parent / "static" / "images" / "digits"

# (name, op, attrs); conv and linear layers get weights "<name>_W" and biases "<name>_b".
LENET5 = [
    {"name": "C1", "op": "conv2d", "out_channels": 6, "kernel_size": 5},
    {"name": "C1 tanh", "op": "tanh"},
    {"name": "S2", "op": "avg_pool2d", "kernel_size": 2},
    {"name": "C3", "op": "conv2d", "out_channels": 16, "kernel_size": 5},
    {"name": "C3 tanh", "op": "tanh"},
    {"name": "S4", "op": "avg_pool2d", "kernel_size": 2},
    {"name": "C5", "op": "conv2d", "out_channels": 120, "kernel_size": 5},
    {"name": "C5 tanh", "op": "tanh"},
    {"name": "flatten", "op": "flatten"},
    {"name": "F6", "op": "linear", "out_features": 84},
    {"name": "F6 tanh", "op": "tanh"},
    {"name": "OUT", "op": "linear", "out_features": 10},
]
INPUT_SHAPE = (1, 32, 32)


def digit_image(label: int) -> np.ndarray:
    """The shipped 32×32 digit of one class, as a 1×32×32 array in [0, 1]."""
    index = json.loads((DIGITS / "index.json").read_text())
    entry = next((d for d in index["digits"] if d["label"] == label), None)
    if entry is None:
        raise ApiError(422, "unknown_digit", "digit must be a whole number from 0 to 9")
    pixels = np.asarray(Image.open(DIGITS / entry["file"]).convert("L"), dtype=np.float64)
    return (pixels / 255.0)[None]


def lenet5_spec(image: np.ndarray, label: int, seed: int = 5) -> dict:
    """The graph: image → LeNet-5 → cross-entropy with the digit's label."""
    rng = np.random.default_rng(seed)
    nodes = [{"id": "image", "op": "input", "value": image},
             {"id": "label", "op": "const", "value": float(label)}]  # fmt: skip
    shape, previous = INPUT_SHAPE, "image"
    for layer in LENET5:
        node_id = layer["name"].replace(" ", "_")
        op = layer["op"]
        if op in ("conv2d", "linear"):
            nodes += _weights(rng, node_id, layer, shape)
        if op == "conv2d":
            nodes.append({"id": node_id, "op": "conv2d",
                          "inputs": [previous, f"{node_id}_W", f"{node_id}_b"]})  # fmt: skip
        elif op == "linear":
            nodes.append({"id": f"{node_id}_Wx", "op": "matmul",
                          "inputs": [f"{node_id}_W", previous]})  # fmt: skip
            nodes.append({"id": node_id, "op": "add", "inputs": [f"{node_id}_Wx", f"{node_id}_b"]})
        elif op == "avg_pool2d":
            nodes.append({"id": node_id, "op": op, "inputs": [previous],
                          "attrs": {"kernel_size": layer["kernel_size"]}})  # fmt: skip
        else:
            nodes.append({"id": node_id, "op": op, "inputs": [previous]})
        shape = tuple(output_shape(layer, shape))
        previous = node_id
    nodes.append({"id": "probabilities", "op": "softmax", "inputs": [previous]})
    nodes.append({"id": "loss", "op": "cross_entropy", "inputs": [previous, "label"]})
    return {"nodes": nodes, "output": "loss"}


def _weights(rng, node_id: str, layer: dict, shape: tuple) -> list[dict]:
    """PyTorch's default initialisation: uniform in ±1/√fan_in."""
    if layer["op"] == "conv2d":
        k = layer["kernel_size"]
        weight_shape = (layer["out_channels"], shape[0], k, k)
    else:
        weight_shape = (layer["out_features"], int(np.prod(shape)))
    bound = 1 / np.sqrt(np.prod(weight_shape[1:]))
    return [
        {"id": f"{node_id}_W", "op": "input", "value": rng.uniform(-bound, bound, weight_shape)},
        {"id": f"{node_id}_b", "op": "input",
         "value": rng.uniform(-bound, bound, weight_shape[0])},
    ]  # fmt: skip


def run_lenet5(label: int, limits: Limits) -> dict:
    """Forward and backward of LeNet-5 on the digit; every layer's maps and gradients."""
    image = digit_image(label)
    evaluation = evaluate(build_graph(lenet5_spec(image, label), limits), limits=limits,
                          with_local=False)  # fmt: skip
    values, grads = evaluation.values, evaluation.grads
    table = describe_stack(LENET5, INPUT_SHAPE)

    layers = []
    for layer, row in zip(LENET5, table["layers"], strict=True):
        node_id = layer["name"].replace(" ", "_")
        layers.append({
            "name": layer["name"], "op": layer["op"], "shape": list(np.shape(values[node_id])),
            "params": row["params"], "value": tensor(values[node_id]),
            "grad": tensor(grads[node_id]),
        })  # fmt: skip
    probabilities = values["probabilities"]
    return {
        "label": label,
        "weights": "untrained: a seeded initialisation (uniform in ±1/√fan_in, as PyTorch)",
        "input": {"value": tensor(image), "grad": tensor(grads["image"])},
        "layers": layers,
        "kernels": {"C1": {"value": tensor(values["C1_W"]), "grad": tensor(grads["C1_W"])}},
        "probabilities": tensor(probabilities),
        "prediction": int(np.argmax(probabilities)),
        "loss": tensor(values["loss"]),
        "total_params": table["total_params"],
    }
