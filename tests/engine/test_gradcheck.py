"""The gradient check: finite differences against autodiff, and the V of error against h.

Truth for the shape of the error curve is exact arithmetic on f = exp: the forward difference
is e^x·(e^h − 1)/h and the central one e^x·sinh(h)/h, so while h is large enough for round-off
not to matter their relative errors (divided by the larger of estimate and truth, here the
estimate) are 1 − h/(e^h − 1) ≈ h/2 and 1 − h/sinh(h) ≈ h²/6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import EngineError, LimitError
from engine.evaluate import evaluate
from engine.gradcheck import DEFAULT_STEPS, gradcheck, relative_error
from engine.graph import build_graph
from engine.limits import Limits
from engine.ops import OPS

# A point inside every scalar op's domain, away from kinks (relu, abs, max, min) and ties.
POINT = {"a": 0.7, "b": 1.3}
SCALAR_OPS = sorted(name for name, op in OPS.items() if op.is_elementwise)


def op_graph(name: str) -> dict:
    args = ["a", "b"][: len(OPS[name].arg_names)]
    nodes = [{"id": arg, "op": "input", "value": POINT[arg]} for arg in args]
    return {"nodes": nodes + [{"id": "f", "op": name, "inputs": args}], "output": "f"}


def exp_check(x: float = 1.0):
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": x},
            {"id": "f", "op": "exp", "inputs": ["x"]},
        ],
        "output": "f",
    }
    return gradcheck(build_graph(spec))


@pytest.mark.parametrize("name", SCALAR_OPS)
def test_gradcheck_agrees_with_autodiff_at_best_h_for_every_scalar_op(name):
    result = gradcheck(build_graph(op_graph(name)))

    assert min(result.forward_errors) < 1e-6
    assert min(result.central_errors) < 1e-6
    for item in result.inputs:
        assert item.forward_error < 1e-6
        assert item.central_error < 1e-6


def test_steps_run_from_1e_minus_1_to_1e_minus_15():
    assert DEFAULT_STEPS[0] == pytest.approx(1e-1)
    assert DEFAULT_STEPS[-1] == pytest.approx(1e-15)
    assert all(
        later < earlier for earlier, later in zip(DEFAULT_STEPS, DEFAULT_STEPS[1:], strict=False)
    )


def test_forward_difference_truncation_error_falls_like_h():
    result = exp_check()

    for h in (1e-1, 1e-2, 1e-3):
        index = result.steps.index(min(result.steps, key=lambda s: abs(s - h)))
        assert result.forward_errors[index] == pytest.approx(1 - h / math.expm1(h), rel=1e-4)


def test_central_difference_truncation_error_falls_like_h_squared():
    result = exp_check()

    for h in (1e-1, 1e-2):
        index = result.steps.index(min(result.steps, key=lambda s: abs(s - h)))
        assert result.central_errors[index] == pytest.approx(1 - h / math.sinh(h), rel=1e-4)


def test_error_against_h_falls_then_rises():
    result = exp_check()
    forward, central = result.forward_errors, result.central_errors

    assert 1e-10 <= result.best_forward_h <= 1e-6
    assert 1e-7 <= result.best_central_h <= 1e-3
    # Both ends of the sweep are far worse than the bottom of the V.
    assert forward[0] > 1e4 * min(forward) and forward[-1] > 1e4 * min(forward)
    assert central[0] > 1e4 * min(central) and central[-1] > 1e4 * min(central)


def test_gradcheck_checks_every_element_of_a_tensor_input():
    spec = {
        "nodes": [
            {"id": "W", "op": "input", "value": [[1.0, -2.0], [0.5, 3.0]]},
            {"id": "x", "op": "input", "value": [0.3, -0.7]},
            {"id": "Wx", "op": "matmul", "inputs": ["W", "x"]},
            {"id": "t", "op": "tanh", "inputs": ["Wx"]},
            {"id": "f", "op": "sum", "inputs": ["t"]},
        ],
        "output": "f",
    }

    result = gradcheck(build_graph(spec))

    assert [(item.node, item.index) for item in result.inputs] == [
        ("W", (0, 0)), ("W", (0, 1)), ("W", (1, 0)), ("W", (1, 1)), ("x", (0,)), ("x", (1,)),
    ]  # fmt: skip
    # d f / d W[i, j] = (1 − tanh²((Wx)_i)) · x_j, written out by hand
    W, x = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.3, -0.7])
    expected = np.outer(1 - np.tanh(W @ x) ** 2, x).ravel()
    assert [item.autodiff for item in result.inputs[:4]] == pytest.approx(expected)
    assert all(item.central_error < 1e-8 for item in result.inputs)


def test_tensor_output_is_checked_as_its_sum():
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": [1.0, 2.0]},
            {"id": "f", "op": "exp", "inputs": ["x"]},
        ],
        "output": "f",
    }

    result = gradcheck(build_graph(spec))

    assert result.output == pytest.approx(math.e + math.e**2)
    assert [item.autodiff for item in result.inputs] == pytest.approx([math.e, math.e**2])
    assert result.notes


def test_relative_error_of_two_zeros_is_zero():
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(1.0, 0.0) == 1.0
    assert relative_error(1.1, 1.0) == pytest.approx(0.1 / 1.1)


def test_gradcheck_refuses_a_graph_without_inputs():
    spec = {"nodes": [{"id": "c", "op": "const", "value": 2.0}], "output": "c"}

    with pytest.raises(EngineError) as caught:
        gradcheck(build_graph(spec))

    assert caught.value.code == "no_inputs"


def test_gradcheck_refuses_too_many_input_numbers():
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": [0.0] * 100},
            {"id": "f", "op": "sum", "inputs": ["x"]},
        ],
        "output": "f",
    }

    with pytest.raises(LimitError, match="at most 64"):
        gradcheck(build_graph(spec))


def test_whole_sweep_has_one_time_budget():
    # Each forward pass is quick; the 2 · 8 · 29 passes of the sweep together are not.
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": [0.5] * 8},
            {"id": "m", "op": "matmul", "inputs": ["x", "x"]},
            {"id": "f", "op": "exp", "inputs": ["m"]},
        ],
        "output": "f",
    }
    graph = build_graph(spec)
    single = Limits(max_seconds=0.05)
    evaluate(graph, limits=single)  # one pass fits the budget easily

    with pytest.raises(LimitError, match="longer than the limit"):
        gradcheck(graph, limits=Limits(max_seconds=0.002))


def test_sweep_with_no_finite_error_says_no_h_is_best():
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": 0.0},
            {"id": "f", "op": "sqrt", "inputs": ["x"]},
        ],
        "output": "f",
    }

    result = gradcheck(build_graph(spec))

    assert math.isinf(result.inputs[0].autodiff)  # d√x/dx at 0
    assert any("no h is best" in note for note in result.notes)
