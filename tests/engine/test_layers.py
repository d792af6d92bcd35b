"""Layer geometry: output shapes, parameter counts and receptive fields.

Truths: PyTorch modules (shapes from a real forward pass, parameters counted by numel), the
reference cases, the course's 1 + L(K − 1), and the engine's own backward pass used as an
experiment: a one-hot gradient sent back through the same layers (all-ones weights, an
all-ones input) is non-zero exactly where the output position depends on.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from engine.errors import EngineError, ShapeError
from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.layers import (
    describe_stack,
    output_shape,
    parameter_count,
    receptive_box,
    receptive_fields,
    unvisited,
)

CASES_PATH = Path(__file__).parents[3] / "shared" / "cases" / "cases.json"
CASES = json.loads(CASES_PATH.read_text())
FEW = settings(max_examples=25, deadline=None)


def cases_of_kind(kind: str) -> list:
    return [pytest.param(case, id=case["id"]) for case in CASES if case["kind"] == kind]


# --- layers as PyTorch modules (the witness) -------------------------------------------------

TORCH_NAMES = {
    "Conv2d": "conv2d",
    "MaxPool2d": "max_pool2d",
    "AvgPool2d": "avg_pool2d",
    "Flatten": "flatten",
    "Linear": "linear",
    "ReLU": "relu",
    "Tanh": "tanh",
}


def layer_from_repr(text: str) -> dict:
    """A layer dict from a PyTorch repr such as "Conv2d(1, 6, kernel_size=(5, 5))"."""
    call = ast.parse(text, mode="eval").body
    op = TORCH_NAMES[call.func.id]
    positional = [ast.literal_eval(arg) for arg in call.args]
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    if op == "conv2d":
        keywords["in_channels"], keywords["out_channels"] = positional[:2]
    if op == "flatten":
        keywords = {}
    return {"op": op, **{k: list(v) if isinstance(v, tuple) else v for k, v in keywords.items()}}


def torch_module(layer: dict, in_channels: int, in_features: int) -> nn.Module:
    """The PyTorch module a layer dict stands for (batch axis kept by the caller)."""
    op = layer["op"]
    kernel = layer.get("kernel_size", layer.get("kernel"))
    if op == "conv2d":
        return nn.Conv2d(
            in_channels,
            layer.get("out_channels", in_channels),
            kernel,
            layer.get("stride", 1),
            layer.get("padding", 0),
            layer.get("dilation", 1),
            bias=layer.get("bias", True),
        )
    if op == "max_pool2d":
        return nn.MaxPool2d(
            kernel,
            layer.get("stride"),
            layer.get("padding", 0),
            layer.get("dilation", 1),
            ceil_mode=layer.get("ceil_mode", False),
        )
    if op == "avg_pool2d":
        return nn.AvgPool2d(
            kernel,
            layer.get("stride"),
            layer.get("padding", 0),
            ceil_mode=layer.get("ceil_mode", False),
        )
    if op == "batch_norm":
        return nn.BatchNorm2d(in_channels)
    if op == "linear":
        return nn.Linear(in_features, layer["out_features"], bias=layer.get("bias", True))
    return {"relu": nn.ReLU(), "tanh": nn.Tanh(), "flatten": nn.Flatten()}[op]  # fmt: skip


def torch_shapes_and_params(layers: list, input_shape: tuple) -> list:
    """(output shape without the batch axis, parameter count) per layer, from PyTorch."""
    value = torch.zeros((2,) + tuple(input_shape), dtype=torch.float64)
    found = []
    for layer in layers:
        module = torch_module(layer, value.shape[1], value.shape[-1]).double()
        value = module(value)
        found.append((tuple(value.shape[1:]), sum(p.numel() for p in module.parameters())))
    return found


# --- output shapes and parameter counts ------------------------------------------------------


@pytest.mark.parametrize("case", cases_of_kind("conv_shape"))
def test_layers_conv_shape_cases(case):
    inputs, expected = case["inputs"], case["expected"]
    input_shape = tuple(inputs["input_shape"])
    if "layers" in inputs:
        shape = input_shape
        for layer in inputs["layers"]:
            shape = output_shape(layer, shape)
        assert list(shape) == expected["output_shape"]
        return

    named = [(row["name"], layer_from_repr(row["layer"])) for row in case["spec"]["layers"]]
    layers = [{"name": name, **layer} for name, layer in named]
    stack = describe_stack(layers, input_shape)
    got = [
        {"name": r["name"], "output_shape": list(r["output_shape"]), "params": r["params"]}
        for r in stack["layers"]
    ]
    assert got == expected["layers"]
    assert stack["total_params"] == expected["total_params"]


def test_layers_lenet5_matches_torch_modules():
    case = next(c for c in CASES if c["id"] == "anchor_lenet5_shapes")
    layers = [layer_from_repr(row["layer"]) for row in case["spec"]["layers"]]
    stack = describe_stack(layers, (1, 32, 32))
    witness = torch_shapes_and_params(layers, (1, 32, 32))
    assert [(r["output_shape"], r["params"]) for r in stack["layers"]] == witness
    assert stack["total_params"] == 61_706


@st.composite
def layer_stacks(draw):
    """Random conv / pool / pointwise stacks, sometimes ending in flatten and linear."""
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["conv2d", "max_pool2d", "avg_pool2d", "relu", "batch_norm"]))
        kernel = draw(st.integers(1, 4))
        if op == "conv2d":
            layers.append({
                "op": op, "out_channels": draw(st.integers(1, 4)), "kernel_size": kernel,
                "stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, 2)),
                "dilation": draw(st.integers(1, 2)), "bias": draw(st.booleans()),
            })  # fmt: skip
        elif op in ("max_pool2d", "avg_pool2d"):
            layer = {"op": op, "kernel_size": kernel, "padding": draw(st.integers(0, kernel // 2)),
                     "ceil_mode": draw(st.booleans())}  # fmt: skip
            if draw(st.booleans()):
                layer["stride"] = draw(st.integers(1, 3))
            layers.append(layer)
        else:
            layers.append({"op": op})
    if draw(st.booleans()):
        layers += [{"op": "flatten"}, {"op": "linear", "out_features": draw(st.integers(1, 5))}]
    shape = (draw(st.integers(1, 3)), draw(st.integers(4, 16)), draw(st.integers(4, 16)))
    return layers, shape


@FEW
@given(layer_stacks())
def test_layers_describe_stack_matches_torch_shapes_and_params(stack):
    layers, input_shape = stack
    try:
        witness = torch_shapes_and_params(layers, input_shape)
    except RuntimeError:
        with pytest.raises(EngineError) as error:
            describe_stack(layers, input_shape)
        assert error.value.code == "kernel_too_large"
        return
    rows = describe_stack(layers, input_shape)["layers"]
    assert [(r["output_shape"], r["params"]) for r in rows] == witness


def test_layers_output_shape_kernel_too_large_shows_the_formula():
    with pytest.raises(EngineError) as error:
        output_shape({"op": "conv2d", "kernel_size": 3, "dilation": 3}, (1, 6, 6))
    assert error.value.code == "kernel_too_large"
    assert "⌊(6 + 2·0 − 3·(3 − 1) − 1)/1⌋ + 1 = 0" in error.value.message


@pytest.mark.parametrize(
    ("layer", "shape", "error_type"),
    [
        ({"op": "conv3d"}, (1, 5, 5), EngineError),
        ({"op": "conv2d", "kernal_size": 3}, (1, 5, 5), EngineError),
        ({"op": "conv2d"}, (1, 5, 5), EngineError),
        ({"op": "conv2d", "kernel_size": 3, "in_channels": 2}, (1, 5, 5), ShapeError),
        ({"op": "max_pool2d", "kernel_size": 2}, (5, 5), ShapeError),
        ({"op": "max_pool2d", "kernel": 2, "kernel_size": 2}, (1, 5, 5), EngineError),
        ({"op": "linear"}, (4,), EngineError),
        ({"op": "relu"}, (1, "32", 32), ShapeError),
        ({"op": "relu"}, (1, -2, 32), ShapeError),
        ({"op": "relu"}, 32, ShapeError),
    ],
)
def test_layers_bad_descriptions_are_errors(layer, shape, error_type):
    with pytest.raises(error_type):
        output_shape(layer, shape)


def test_layers_parameter_count_refuses_a_bias_that_is_not_a_flag():
    with pytest.raises(EngineError):
        parameter_count({"op": "linear", "out_features": 2, "bias": "yes"}, (4,))


def test_layers_accept_the_kernel_alias():
    layer = {"op": "max_pool2d", "kernel": 2}
    assert output_shape(layer, (3, 25, 25)) == (3, 12, 12)
    assert parameter_count(layer, (3, 25, 25)) == 0


# --- receptive fields: the formula and the cases ---------------------------------------------


@pytest.mark.parametrize("case", cases_of_kind("receptive_field"))
def test_layers_receptive_field_cases(case):
    layers, expected = case["inputs"]["layers"], case["expected"]
    rows = receptive_fields(layers)
    assert [{"layer": r["op"], "rf": r["rf"], "jump": r["jump"]} for r in rows] == (
        expected["per_layer"]
    )
    assert rows[-1]["rf"] == expected["output"] and rows[-1]["jump"] == expected["jump"]

    check = expected.get("empirical_check")
    if check:
        size = 160  # as the case's method says: a 160×160 all-ones input
        grads = one_hot_grads(layers, (size, size), centre_of(layers, size))
        rows_hit, cols_hit, count = nonzero_region(grads[0])
        assert rows_hit[1] - rows_hit[0] + 1 == check["extent_rows"]
        assert cols_hit[1] - cols_hit[0] + 1 == check["extent_cols"]
        assert count == check["nonzero_pixels"]


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
def test_layers_receptive_field_of_stride_one_stack_is_one_plus_l_times_k_minus_one(depth, kernel):
    layers = [{"op": "conv2d", "kernel_size": kernel}] * depth
    assert receptive_fields(layers)[-1]["rf"] == 1 + depth * (kernel - 1)


def test_layers_receptive_field_ignores_padding_and_counts_dilation():
    plain = receptive_fields([{"op": "conv2d", "kernel_size": 3}] * 2)
    padded = receptive_fields([{"op": "conv2d", "kernel_size": 3, "padding": 1}] * 2)
    dilated = receptive_fields([{"op": "conv2d", "kernel_size": 3, "dilation": 2}])
    assert plain[-1]["rf"] == padded[-1]["rf"] == 5
    assert padded[-1]["start"] == 0 and plain[-1]["start"] == 2
    assert dilated[-1]["rf"] == 5


# --- receptive fields: the experiment --------------------------------------------------------


def stand_in(layer: dict) -> tuple[str, dict, tuple | None]:
    """The engine op that has the same geometry and passes gradient to every position read.

    Max pooling sends its gradient to one position only, so an average pool of the same
    window stands in; a dilated max pool (average pooling has no dilation) becomes a
    convolution with an all-ones kernel, stride, padding and dilation unchanged.
    """
    op = layer["op"]
    kernel = layer.get("kernel_size", layer.get("kernel"))
    pair = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
    if op == "max_pool2d" and layer.get("dilation", 1) != 1:
        attrs = {key: layer[key] for key in ("padding", "dilation") if key in layer}
        attrs["stride"] = layer.get("stride") or kernel
        return "conv2d", attrs, pair
    if op in ("max_pool2d", "avg_pool2d"):
        attrs = {k: v for k, v in layer.items() if k in ("stride", "padding", "ceil_mode")}
        return "avg_pool2d", {"kernel_size": kernel, **attrs}, None
    attrs = {key: layer[key] for key in ("stride", "padding", "dilation") if key in layer}
    return "conv2d", attrs, pair


def one_hot_grads(layers: list, size: tuple, position: tuple) -> list:
    """Grads of every map (input first) for a one-hot gradient at `position` of the last."""
    nodes = [{"id": "m0", "op": "input", "value": np.ones((1, 1) + tuple(size))}]
    for index, layer in enumerate(layers, start=1):
        op, attrs, kernel = stand_in(layer)
        inputs = [f"m{index - 1}"]
        if kernel is not None:
            nodes.append({"id": f"k{index}", "op": "const", "value": np.ones((1, 1) + kernel)})
            inputs.append(f"k{index}")
        nodes.append({"id": f"m{index}", "op": op, "inputs": inputs, "attrs": attrs})
    graph = build_graph({"nodes": nodes, "output": f"m{len(layers)}"})

    out_shape = output_shape_of(layers, size)
    grad_output = np.zeros((1, 1) + out_shape)
    grad_output[(0, 0) + tuple(position)] = 1.0
    evaluation = evaluate(graph, grad_output=grad_output, with_local=False)
    return [evaluation.grads[f"m{index}"][0, 0] for index in range(len(layers) + 1)]


def output_shape_of(layers: list, size: tuple) -> tuple:
    shape = (1,) + tuple(size)
    for layer in layers:
        shape = output_shape(layer, shape)
    return shape[1:]


def centre_of(layers: list, size: int) -> tuple:
    height, width = output_shape_of(layers, (size, size))
    return (height // 2, width // 2)


def nonzero_region(grad: np.ndarray) -> tuple[list | None, list | None, int]:
    """First and last row and column with a non-zero gradient, and how many are non-zero."""
    rows = np.flatnonzero(grad.any(axis=1))
    cols = np.flatnonzero(grad.any(axis=0))
    if rows.size == 0:
        return None, None, 0
    return [int(rows[0]), int(rows[-1])], [int(cols[0]), int(cols[-1])], int((grad != 0).sum())


@st.composite
def window_stacks(draw):
    """1–4 conv and pooling layers with any kernel, stride, padding and dilation."""
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["conv2d", "max_pool2d", "avg_pool2d"]))
        kernel = draw(st.one_of(st.integers(1, 4), st.lists(st.integers(1, 4), min_size=2,
                                                             max_size=2)))  # fmt: skip
        smallest = min(kernel) if isinstance(kernel, list) else kernel
        layer = {"op": op, "kernel_size": kernel}
        if op == "conv2d":
            layer["padding"] = draw(st.integers(0, 2))
            layer["dilation"] = draw(st.integers(1, 2))
        else:
            layer["padding"] = draw(st.integers(0, smallest // 2))
        if op != "conv2d" or draw(st.booleans()):
            layer["stride"] = draw(st.integers(1, 3))
        if op == "max_pool2d" and draw(st.booleans()):
            layer["dilation"] = 2  # stands in as a convolution, so no ceil_mode here
        elif op != "conv2d":
            layer["ceil_mode"] = draw(st.booleans())
        layers.append(layer)
    size = (draw(st.integers(6, 40)), draw(st.integers(6, 40)))
    return layers, size, draw(st.data())


@FEW
@given(window_stacks())
def test_layers_receptive_box_matches_backpropagated_one_hot(stack):
    layers, size, data = stack
    try:
        out_shape = output_shape_of(layers, size)
    except EngineError:
        assume(False)
    position = tuple(data.draw(st.integers(0, n - 1)) for n in out_shape)

    boxes = receptive_box(layers, position, (1,) + size)
    grads = one_hot_grads(layers, size, position)
    for box, grad in zip(boxes, grads, strict=True):
        rows, cols, count = nonzero_region(grad)
        assert (box["rows"], box["cols"], box["count"]) == (rows, cols, count)
        assert box["shape"] == grad.shape

    # The unclipped extent is the receptive field, centred where `start` and `jump` say.
    last = receptive_fields(layers)[-1]
    extents = (boxes[0]["extent_rows"], boxes[0]["extent_cols"])
    for axis, (low, high) in enumerate(extents):
        rf, jump, start = (last[key] if np.ndim(last[key]) == 0 else last[key][axis]
                           for key in ("rf", "jump", "start"))  # fmt: skip
        assert high - low + 1 == rf
        assert (low + high) / 2 == start + position[axis] * jump


@FEW
@given(
    kernel=st.integers(1, 3),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    padding=st.integers(0, 2),
    size=st.integers(5, 15),
)
def test_layers_unvisited_rows_get_no_gradient(kernel, stride, dilation, padding, size):
    layer = {"op": "conv2d", "kernel_size": kernel, "stride": stride, "dilation": dilation,
             "padding": padding}  # fmt: skip
    try:
        out_shape = output_shape_of([layer], (size, size))
    except EngineError:
        assume(False)
    nodes = [
        {"id": "x", "op": "input", "value": np.ones((1, 1, size, size))},
        {"id": "k", "op": "const", "value": np.ones((1, 1, kernel, kernel))},
        {"id": "y", "op": "conv2d", "inputs": ["x", "k"], "attrs": {k: v for k, v in
                                                                     layer.items() if k != "op"
                                                                     and k != "kernel_size"}},
    ]  # fmt: skip
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "y"}), with_local=False)
    grad = evaluation.grads["x"][0, 0]
    assert evaluation.values["y"].shape[2:] == out_shape

    found = unvisited(layer, size)
    assert found["rows"] == [int(i) for i in np.flatnonzero(~grad.any(axis=1))]
    assert found["cols"] == [int(i) for i in np.flatnonzero(~grad.any(axis=0))]


def test_layers_receptive_box_clips_to_the_input_but_keeps_the_extent():
    # A 3×3 conv at padding 1: output (0, 0) reads rows −1..1, of which 0..1 exist.
    boxes = receptive_box([{"op": "conv2d", "kernel_size": 3, "padding": 1}], (0, 0), (1, 5, 5))
    assert boxes[0]["rows"] == [0, 1] and boxes[0]["extent_rows"] == [-1, 1]
    assert boxes[0]["count"] == 4 and boxes[-1]["rows"] == [0, 0]


def test_layers_receptive_box_refuses_a_position_outside_the_output():
    with pytest.raises(EngineError):
        receptive_box([{"op": "conv2d", "kernel_size": 3}], (3, 0), (1, 5, 5))
