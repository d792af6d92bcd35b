"""Gradients at the edges of float64, against PyTorch autograd.

Three kinds of fault a differential tester found: a local derivative computed in a form that
overflows sooner than the quotient (div's b²), inf · 0 = nan where PyTorch's backward selects
(relu, max, min, pow), and finite gradients whose sum overflows without a word.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.evaluate import evaluate
from engine.graph import build_graph

TORCH = {
    "div": torch.div,
    "relu": torch.relu,
    "max": torch.maximum,
    "min": torch.minimum,
    "pow": torch.pow,
    "add": torch.add,
}


def ours(op: str, values: list, grad_output=None):
    """The op applied to input leaves: its evaluation, and each input's grad as a float array."""
    ids = [f"a{i}" for i in range(len(values))]
    nodes = [{"id": i, "op": "input", "value": v} for i, v in zip(ids, values, strict=True)]
    nodes.append({"id": "f", "op": op, "inputs": ids})
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "f"}), grad_output=grad_output)
    return evaluation, [np.asarray(evaluation.grads[i], dtype=float) for i in ids]


def torch_grads(op: str, values: list, grad_output=None) -> list[np.ndarray]:
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out = TORCH[op](*tensors)
    seed = torch.ones_like(out) if grad_output is None else torch.tensor(grad_output).double()
    out.backward(seed)
    return [t.grad.numpy() for t in tensors]


def assert_same(grads: list[np.ndarray], truth: list[np.ndarray]) -> None:
    for mine, theirs in zip(grads, truth, strict=True):
        # Equal where finite (to rounding), the same inf or nan elsewhere.
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize(
    "a, b",
    [(1e300, 1e200), (1e-300, 1e-200), (1e-170, 1e-160), (-2.0, 1e160), (7.0, -3.0)],
)
def test_div_denominator_grad_where_its_square_overflows(a, b):
    evaluation, grads = ours("div", [a, b])

    assert_same(grads, torch_grads("div", [a, b]))
    # d(a/b)/db = -a/b², finite in all these cases though b² is not.
    assert math.isfinite(grads[1]) and not evaluation.warnings


MASKED = {
    "relu below 0": ("relu", [-1.0]),
    "relu at 0": ("relu", [0.0]),
    "the smaller side of max": ("max", [1.0, 2.0]),
    "the larger side of min": ("min", [3.0, -2.0]),
    "pow with exponent 0": ("pow", [5.0, 0.0]),
}


@pytest.mark.parametrize("op, values", MASKED.values(), ids=MASKED.keys())
@pytest.mark.parametrize("upstream", [math.inf, -math.inf, math.nan])
def test_masked_input_gets_zero_grad_whatever_the_upstream(op, values, upstream):
    evaluation, grads = ours(op, values, grad_output=upstream)

    assert_same(grads, torch_grads(op, values, grad_output=upstream))
    # The only warning is about the seed itself, not about the masked edge.
    assert {w.code for w in evaluation.warnings} == {"nonfinite_grad_output"}


@pytest.mark.parametrize("op", ["max", "min", "pow"])
def test_masks_agree_between_scalars_and_tensors(op):
    a, b = [-1.0, 2.0, 0.0, 4.0], [1.0, 2.0, 0.0, 3.0]
    tensor_eval, tensor_grads = ours(op, [a, b], grad_output=[math.inf] * 4)
    truth = torch_grads(op, [a, b], grad_output=[math.inf] * 4)

    assert_same(tensor_grads, truth)
    for k in range(4):
        _, scalar_grads = ours(op, [a[k], b[k]], grad_output=math.inf)
        assert_same(scalar_grads, [t[k] for t in truth])


@pytest.mark.parametrize("values", [1.0, [1.0, -2.0]], ids=["scalar", "tensor"])
def test_finite_grads_whose_sum_overflows_are_named(values):
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": values},
            {"id": "f", "op": "add", "inputs": ["x", "x"]},
        ],
        "output": "f",
    }
    seed = 1e308 if isinstance(values, float) else [1e308, 1e308]
    evaluation = evaluate(build_graph(spec), grad_output=seed)

    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (x + x).backward(torch.tensor(seed, dtype=torch.float64))
    np.testing.assert_array_equal(np.asarray(evaluation.grads["x"], dtype=float), x.grad.numpy())
    assert [(w.node, w.code) for w in evaluation.warnings] == [("x", "nonfinite_grad")]
    assert "sum" in evaluation.warnings[0].message
