"""Every elementwise op against PyTorch autograd and central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.ops import OPS

TORCH = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "pow": torch.pow,
    "max": torch.maximum,
    "min": torch.minimum,
    "neg": torch.neg,
    "reciprocal": torch.reciprocal,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}

# Where each op is smooth enough for finite differences and defined for real numbers.
POSITIVE = st.floats(0.2, 5.0)
ANY = st.floats(-5.0, 5.0).filter(lambda v: abs(v) > 1e-3)
DOMAIN = {"log": POSITIVE, "sqrt": POSITIVE, "reciprocal": ANY, "div": ANY}
BASE_DOMAIN = {"pow": POSITIVE}


def run_op(name: str, values: list) -> tuple:
    """Evaluate `name` applied to input leaves; return (value, grads of every input)."""
    ids = [f"a{i}" for i in range(len(values))]
    nodes = [{"id": i, "op": "input", "value": v} for i, v in zip(ids, values, strict=True)]
    nodes.append({"id": "out", "op": name, "inputs": ids})
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "out"}))
    return evaluation.values["out"], [evaluation.grads[i] for i in ids]


def torch_op(name: str, values: list) -> tuple:
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out = TORCH[name](*tensors)
    out.sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def central_difference(name: str, values: list, index: int, h: float = 1e-6) -> float:
    plus = list(values)
    minus = list(values)
    plus[index] += h
    minus[index] -= h
    return (run_op(name, plus)[0] - run_op(name, minus)[0]) / (2 * h)


def test_every_elementwise_op_has_a_torch_reference():
    elementwise = {name for name, op in OPS.items() if op.is_elementwise}
    assert elementwise <= set(TORCH), elementwise - set(TORCH)


@pytest.mark.parametrize("name", sorted(TORCH))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_scalar_op_matches_torch_and_finite_differences(name, data):
    arity = OPS[name].arity[1]
    first = data.draw(BASE_DOMAIN.get(name, DOMAIN.get(name, ANY)) if arity == 2 else
                      DOMAIN.get(name, ANY))  # fmt: skip
    values = [first] + [data.draw(DOMAIN.get(name, ANY)) for _ in range(arity - 1)]

    value, grads = run_op(name, values)
    expected_value, expected_grads = torch_op(name, values)

    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-12)
    for index, grad in enumerate(grads):
        np.testing.assert_allclose(grad, expected_grads[index], rtol=1e-10, atol=1e-12)
        if name in ("max", "min") and values[0] == values[1]:
            continue  # not differentiable at a tie; PyTorch's split is checked elsewhere
        if name in ("abs", "relu") and abs(values[0]) < 1e-5:
            continue
        np.testing.assert_allclose(
            grad, central_difference(name, values, index), rtol=1e-5, atol=1e-6
        )


SHAPES = st.sampled_from(
    [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((1,), (2, 2)), ((), (2, 3)), ((0, 3), (3,))]
)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "max", "min"])
@settings(max_examples=15, deadline=None)
@given(shapes=SHAPES, seed=st.integers(0, 10_000))
def test_binary_op_broadcasts_and_sums_grads_back(name, shapes, seed):
    rng = np.random.default_rng(seed)
    low = 0.5 if name in ("pow", "div") else -2.0
    values = [rng.uniform(low, 2.0, size=shape) for shape in shapes]
    if name in ("max", "min"):
        values = [np.round(v) for v in values]  # integers, so ties happen

    value, grads = run_op(name, values)
    expected_value, expected_grads = torch_op(name, values)

    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    for grad, expected, original in zip(grads, expected_grads, values, strict=True):
        assert np.shape(grad) == original.shape
        np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt"])
def test_unary_op_local_jacobian_is_diagonal_of_torch_jacobian(name):
    x = np.array([0.3, 1.7, 2.2])
    nodes = [{"id": "x", "op": "input", "value": x.tolist()},
             {"id": "y", "op": name, "inputs": ["x"]}]  # fmt: skip
    edge = evaluate(build_graph({"nodes": nodes, "output": "y"})).edges[0]

    expected = torch.autograd.functional.jacobian(TORCH[name], torch.tensor(x)).numpy()
    np.testing.assert_allclose(edge.local, expected, rtol=1e-12)


def test_sigmoid_is_finite_for_large_inputs():
    for x in (-1000.0, -40.0, 40.0, 1000.0):
        value, (grad,) = run_op("sigmoid", [x])
        expected_value, (expected_grad,) = torch_op("sigmoid", [x])
        assert np.isfinite(value) and np.isfinite(grad)
        np.testing.assert_allclose(value, expected_value, atol=1e-12)
        np.testing.assert_allclose(grad, expected_grad, atol=1e-12)


def test_pow_at_zero_base_matches_torch_conventions():
    for base, exponent in ((0.0, 0.0), (0.0, 2.0), (0.0, 1.0), (0.0, 0.5)):
        _, grads = run_op("pow", [base, exponent])
        _, expected = torch_op("pow", [base, exponent])
        np.testing.assert_allclose(grads, expected, atol=1e-12)
