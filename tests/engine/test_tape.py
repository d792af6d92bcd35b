"""engine.tape: a scalar graph's passes over list positions, against evaluate and PyTorch.

The API writes a tape's numbers into an answer cut from evaluate's, so they must be evaluate's
bit for bit; PyTorch is the independent truth for the gradients themselves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.limits import Limits
from engine.numbers import ONE
from engine.tape import ScalarTape

TORCH = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "max": torch.maximum,
    "min": torch.minimum,
    "neg": torch.neg,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "abs": torch.abs,
}
UNARY = ("neg", "tanh", "sigmoid", "relu", "abs")


@st.composite
def scalar_graphs(draw) -> dict:
    """Small scalar graphs with fan-out, a node used twice, consts and nodes off the output."""
    nodes = [
        {"id": f"x{i}", "op": "input", "value": draw(st.floats(-2, 2))}
        for i in range(draw(st.integers(1, 3)))
    ]
    if draw(st.booleans()):
        nodes.append({"id": "c", "op": "const", "value": draw(st.floats(-2, 2))})
    for index in range(draw(st.integers(1, 7))):
        op = draw(st.sampled_from(sorted(TORCH)))
        arity = 1 if op in UNARY else 2
        inputs = [draw(st.sampled_from([node["id"] for node in nodes])) for _ in range(arity)]
        nodes.append({"id": f"n{index}", "op": op, "inputs": inputs})
    # The output is any op node, so the nodes after it are off its path.
    ops = [node["id"] for node in nodes if node["op"] not in ("input", "const")]
    return {"nodes": nodes, "output": draw(st.sampled_from(ops))}


def tape_and_run(spec: dict, seed=ONE, limits: Limits | None = None):
    graph = build_graph(spec)
    tape = ScalarTape.of(graph, limits or Limits())
    assert tape is not None
    leaf_values = [node.value for node in graph.nodes.values() if node.op.is_leaf]
    return graph, tape.run(leaf_values, seed)


def torch_grads(spec: dict) -> tuple[float, dict[str, float | None]]:
    """The output's value and every input's gradient, from PyTorch autograd."""
    tensors = {}
    for node in spec["nodes"]:
        if node["op"] in ("input", "const"):
            grad = node["op"] == "input"
            tensors[node["id"]] = torch.tensor(node["value"], dtype=torch.float64).requires_grad_(
                grad
            )
        else:
            tensors[node["id"]] = TORCH[node["op"]](*(tensors[i] for i in node["inputs"]))
    output = tensors[spec["output"]]
    inputs = {i: t for i, t in tensors.items() if t.requires_grad and t.is_leaf}
    if output.requires_grad:
        output.backward()
    grads = {i: (t.grad.item() if t.grad is not None else None) for i, t in inputs.items()}
    return output.item(), grads


@settings(max_examples=150, deadline=None)
@given(spec=scalar_graphs())
def test_tape_numbers_are_evaluates_bit_for_bit(spec):
    graph, run = tape_and_run(spec)
    evaluation = evaluate(graph)

    assert run is not None  # these ops on numbers in [-2, 2] stay finite
    assert run.values == [evaluation.values[i] for i in graph.order]
    assert run.grads == [evaluation.grads[i] for i in graph.order]
    recorded = [number for record in evaluation.edge_records for number in record[3:6]]
    assert run.edge_numbers == recorded


@settings(max_examples=100, deadline=None)
@given(spec=scalar_graphs())
def test_tape_grads_match_torch(spec):
    graph, run = tape_and_run(spec)
    value, grads = torch_grads(spec)

    position = {node_id: index for index, node_id in enumerate(graph.order)}
    assert math.isclose(run.values[position[spec["output"]]], value, rel_tol=1e-12)
    for node_id, truth in grads.items():
        ours = run.grads[position[node_id]]
        # PyTorch leaves the grad of an input off the output's path as None, as the tape does;
        # a path through relu at a negative number gives PyTorch's 0, and ours.
        if truth is None:
            assert ours is None
        else:
            assert math.isclose(ours, truth, rel_tol=1e-12, abs_tol=1e-300)


def test_tape_scales_every_grad_by_the_seed():
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": 3.0},
            {"id": "y", "op": "input", "value": -2.0},
            {"id": "f", "op": "mul", "inputs": ["x", "y"]},
        ],
        "output": "f",
    }
    graph, run = tape_and_run(spec, seed=np.float64(2.5))
    # d(xy)/dx = y and d(xy)/dy = x, times the seed.
    position = {node_id: index for index, node_id in enumerate(graph.order)}
    assert run.grads[position["x"]] == 2.5 * -2.0
    assert run.grads[position["y"]] == 2.5 * 3.0


NONFINITE = {
    "log of a negative number": ("log", [-3.0]),
    "division by zero": ("div", [1.0, 0.0]),
    "overflow of exp": ("exp", [1000.0]),
    "infinite local gradient": ("sqrt", [0.0]),
    "overflowing product of gradients": ("mul", [1e200, 1e200]),
}


@pytest.mark.parametrize("op, values", NONFINITE.values(), ids=NONFINITE.keys())
def test_tape_leaves_nonfinite_numbers_to_evaluate(op, values):
    ids = [f"a{i}" for i in range(len(values))]
    nodes = [{"id": i, "op": "input", "value": v} for i, v in zip(ids, values, strict=True)]
    nodes += [
        {"id": "y", "op": op, "inputs": ids},
        {"id": "big", "op": "const", "value": 1e200},
        {"id": "f", "op": "mul", "inputs": ["y", "big"]},
    ]
    graph, run = tape_and_run({"nodes": nodes, "output": "f"})

    assert run is None
    # evaluate explains it: the tape declined exactly where a student needs a warning.
    assert evaluate(graph).warnings


@pytest.mark.parametrize("seed", [np.float64("inf"), np.float64("nan")])
def test_tape_leaves_a_nonfinite_seed_to_evaluate(seed):
    spec = {"nodes": [{"id": "x", "op": "input", "value": 1.0}], "output": "x"}
    spec["nodes"].append({"id": "f", "op": "exp", "inputs": ["x"]})
    spec["output"] = "f"
    assert tape_and_run(spec, seed=seed)[1] is None


def test_tape_past_the_time_limit_leaves_the_error_to_evaluate():
    spec = {"nodes": [{"id": "x", "op": "input", "value": 1.0}], "output": "x"}
    spec["nodes"].append({"id": "f", "op": "exp", "inputs": ["x"]})
    spec["output"] = "f"
    assert tape_and_run(spec, limits=Limits(max_seconds=0.0))[1] is None


CANNOT = {
    "a tensor leaf": {
        "nodes": [
            {"id": "x", "op": "input", "value": [1.0, 2.0]},
            {"id": "f", "op": "exp", "inputs": ["x"]},
        ],
        "output": "f",
    },
    "an op with only a vector-Jacobian product": {
        "nodes": [
            {"id": "x", "op": "input", "value": 2.0},
            {"id": "f", "op": "sum", "inputs": ["x"]},
        ],
        "output": "f",
    },
    "more nodes than a tape takes": {
        "nodes": [{"id": "n0", "op": "input", "value": 0.5}]
        + [
            {"id": f"n{i}", "op": "tanh", "inputs": [f"n{i - 1}"]}
            for i in range(1, ScalarTape.MAX_NODES + 1)
        ],
        "output": f"n{ScalarTape.MAX_NODES}",
    },
}


@pytest.mark.parametrize("spec", CANNOT.values(), ids=CANNOT.keys())
def test_tape_is_not_made_for_graphs_it_cannot_run(spec):
    assert ScalarTape.of(build_graph(spec)) is None
