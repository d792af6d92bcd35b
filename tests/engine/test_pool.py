"""max_pool2d and avg_pool2d against PyTorch (float64), the course's tie case and size rules.

Truths: torch.nn.functional.max_pool2d / avg_pool2d and their autograd (the CPU kernels route
a window's gradient to its first maximum), and the reference cases computed with PyTorch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import EngineError, GraphError, ParseError
from engine.evaluate import evaluate
from engine.expr import parse
from engine.graph import build_graph
from engine.ops import OPS

CASES_PATH = Path(__file__).parents[3] / "shared" / "cases" / "cases.json"
FEW = settings(max_examples=25, deadline=None)
TORCH_POOL = {"max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d}


def load_case(case_id: str) -> dict:
    cases = json.loads(CASES_PATH.read_text())
    return next(case for case in cases if case["id"] == case_id)


def assert_close(ours, theirs, relative=1e-10):
    """Same shape, equal infinities, and every other entry within `relative` of the largest."""
    theirs = np.asarray(theirs, dtype=np.float64)
    assert np.shape(ours) == theirs.shape
    finite = np.abs(theirs[np.isfinite(theirs)])
    scale = max(1.0, float(finite.max(initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=relative * scale)


def run_pool(op, x, attrs, grad_output=None, with_local=False):
    nodes = [
        {"id": "x", "op": "input", "value": np.asarray(x, dtype=np.float64)},
        {"id": "f", "op": op, "inputs": ["x"], "attrs": attrs},
    ]
    graph = build_graph({"nodes": nodes, "output": "f"})
    return evaluate(graph, grad_output=grad_output, with_local=with_local)


def torch_pool(op, x, attrs, grad_output):
    tensor = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out = TORCH_POOL[op](tensor, **attrs)
    out.backward(torch.tensor(grad_output))
    return out.detach().numpy(), tensor.grad.numpy()


def one_or_pair(low, high):
    number = st.integers(low, high)
    return st.one_of(number, st.lists(number, min_size=2, max_size=2))


@st.composite
def pool_settings(draw, op):
    """Kernel, stride (default or not tiling), padding up to half the kernel, ceil_mode."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    attrs = {"kernel_size": list(kernel) if kernel[0] != kernel[1] else kernel[0]}
    if draw(st.booleans()):
        attrs["stride"] = draw(one_or_pair(1, 3))
    attrs["padding"] = [draw(st.integers(0, k // 2)) for k in kernel]
    attrs["ceil_mode"] = draw(st.booleans())
    if op == "max_pool2d":
        attrs["dilation"] = draw(one_or_pair(1, 2))
    else:
        attrs["count_include_pad"] = draw(st.booleans())

    batch = draw(st.sampled_from([(), (1,), (2,)]))
    shape = batch + (draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Small whole numbers make ties common, the case where libraries disagree.
    x = rng.integers(0, 3, size=shape).astype(np.float64)
    if draw(st.booleans()):
        x = rng.normal(size=shape)
    return x, attrs, rng


def check_against_torch(op, setting):
    x, attrs, rng = setting
    try:
        shape = TORCH_POOL[op](torch.tensor(x), **attrs).shape
    except RuntimeError:
        with pytest.raises(EngineError) as error:
            run_pool(op, x, attrs)
        assert error.value.code == "kernel_too_large"
        return

    grad_output = rng.normal(size=tuple(shape))
    if op == "max_pool2d" and reads_only_padding(x, attrs):
        check_all_padding_window(x, attrs, grad_output)
        return
    expected, expected_grad = torch_pool(op, x, attrs, grad_output)
    evaluation = run_pool(op, x, attrs, grad_output)
    assert_close(evaluation.values["f"], expected)
    assert_close(evaluation.grads["x"], expected_grad)


def reads_only_padding(x, attrs) -> bool:
    """Does some window hold nothing but padding (dilation can step over the whole input)?

    PyTorch then records a position outside the input, and its backward pass writes out of
    bounds (a heap corruption), so only its forward value can serve as the witness.
    """
    out_shape = F.max_pool2d(torch.tensor(x), **attrs).shape[-2:]
    for axis in (0, 1):
        kernel, stride, padding, dilation = (
            pair(attrs.get(name, default))[axis]
            for name, default in (("kernel_size", 1), ("stride", None), ("padding", 0),
                                  ("dilation", 1))
        )  # fmt: skip
        stride = stride or kernel
        for window in range(out_shape[axis]):
            taps = [window * stride - padding + dilation * t for t in range(kernel)]
            if not any(0 <= tap < np.shape(x)[-2 + axis] for tap in taps):
                return True
    return False


def pair(value):
    if value is None:
        return (None, None)
    return tuple(value) if isinstance(value, list) else (value, value)


def check_all_padding_window(x, attrs, grad_output):
    expected = F.max_pool2d(torch.tensor(x), **attrs).numpy()
    evaluation = run_pool("max_pool2d", x, attrs, grad_output)
    np.testing.assert_array_equal(evaluation.values["f"], expected)
    assert np.isneginf(evaluation.values["f"]).any()
    assert any("only padding" in warning.message for warning in evaluation.warnings)
    # Windows over padding alone pass their gradient to nothing.
    finite = np.isfinite(evaluation.values["f"])
    assert np.isclose(evaluation.grads["x"].sum(), grad_output[finite].sum())


@FEW
@given(pool_settings("max_pool2d"))
def test_max_pool2d_matches_torch_with_ties_and_ceil_mode(setting):
    check_against_torch("max_pool2d", setting)


@FEW
@given(pool_settings("avg_pool2d"))
def test_avg_pool2d_matches_torch_with_padding_and_ceil_mode(setting):
    check_against_torch("avg_pool2d", setting)


@pytest.mark.parametrize(
    ("x", "attrs"),
    [
        ([[[-np.inf, -np.inf, 1], [-np.inf, -np.inf, 2], [3, 4, 5]]],
         {"kernel_size": 2, "stride": 1, "padding": 1}),
        ([[[np.nan, 1, np.nan, 2], [3, np.nan, 4, 5]]], {"kernel_size": 2}),
        ([[[1, np.nan, 1, 2], [np.nan, 1, 4, -np.inf]]],
         {"kernel_size": 2, "stride": 1, "padding": 1, "ceil_mode": True}),
    ],
)  # fmt: skip
def test_max_pool2d_matches_torch_on_nan_and_minus_infinity(x, attrs):
    x = np.array(x, dtype=np.float64)
    out = F.max_pool2d(torch.tensor(x), **attrs)
    grad_output = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
    expected, expected_grad = torch_pool("max_pool2d", x, attrs, grad_output)
    evaluation = run_pool("max_pool2d", x, attrs, grad_output)
    np.testing.assert_array_equal(evaluation.values["f"], expected)
    np.testing.assert_array_equal(evaluation.grads["x"], expected_grad)


def test_max_pool2d_window_of_only_padding_is_minus_infinity_with_a_reason():
    # Width 1, kernel 2 at dilation 2 and padding 1: the taps land on −1 and 1, both padding.
    x = np.array([[[5.0]]])
    attrs = {"kernel_size": [1, 2], "padding": [0, 1], "dilation": [1, 2]}
    check_all_padding_window(x, attrs, np.ones((1, 1, 1)))


def test_max_pool2d_overlapping_windows_add_their_grads():
    # Kernel 2, stride 1 on [[1, 9, 1]]: both windows pick the 9, which collects 1 + 1.
    evaluation = run_pool("max_pool2d", [[[1.0, 9.0, 1.0]]], {"kernel_size": [1, 2], "stride": 1})
    np.testing.assert_array_equal(evaluation.grads["x"], [[[0.0, 2.0, 0.0]]])


def test_max_pool2d_local_jacobian_has_one_entry_per_window():
    x = np.array([[[1.0, 3.0, 2.0, 1.0], [3.0, 2.0, 0.0, 1.0]]])
    evaluation = run_pool("max_pool2d", x, {"kernel_size": 2}, with_local=True)
    local = evaluation.edges[0].local
    assert local.shape == (1, 1, 2, 1, 2, 4)
    np.testing.assert_array_equal(local.reshape(2, 8).sum(axis=1), [1.0, 1.0])
    assert local[0, 0, 0, 0, 0, 1] == 1.0  # the first 3 in row-major order, not the second


# --- the course's cases ----------------------------------------------------------------------


def test_max_pool2d_tie_case_routes_each_window_to_one_input():
    case = load_case("anchor_maxpool_tie")
    graph = build_graph(parse(case["expression"], case["inputs"]))
    evaluation = evaluate(graph)
    pool = next(n for n, node in graph.nodes.items() if node.op.name == "max_pool2d")

    np.testing.assert_allclose(evaluation.values[pool], case["expected"]["output"])
    grad = evaluation.grads["X"]
    np.testing.assert_allclose(grad, case["expected"]["grads"]["X"], **case["tolerance"])
    windows = grad.reshape(2, 2, 2, 2).sum(axis=(1, 3))
    np.testing.assert_array_equal(windows, np.ones((2, 2)))


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool2d_floor_and_ceil_sizes_match_torch_on_25(ceil_mode):
    case = load_case("src_pool_floor_25")
    x = np.random.default_rng(0).normal(size=case["inputs"]["input_shape"])
    attrs = {**case["inputs"]["layers"][0], "ceil_mode": ceil_mode}
    attrs.pop("op")
    evaluation = run_pool("max_pool2d", x, attrs)
    expected = F.max_pool2d(torch.tensor(x), **attrs).shape
    assert evaluation.values["f"].shape == tuple(expected)
    if not ceil_mode:
        assert list(evaluation.values["f"].shape) == case["expected"]["output_shape"]


def test_avg_pool2d_counts_padding_in_the_divisor_by_default():
    # A 2×2 window at padding 1 on ones covers one real pixel: 1/4 with padding counted.
    evaluation = run_pool("avg_pool2d", np.ones((1, 2, 2)), {"kernel_size": 2, "padding": 1})
    np.testing.assert_array_equal(evaluation.values["f"], np.full((1, 2, 2), 0.25))
    excluded = run_pool(
        "avg_pool2d", np.ones((1, 2, 2)), {"kernel_size": 2, "padding": 1,
                                           "count_include_pad": False}
    )  # fmt: skip
    np.testing.assert_array_equal(excluded.values["f"], np.ones((1, 2, 2)))


# --- attributes and errors -------------------------------------------------------------------


def test_pool_kernel_alias_works_in_graphs_and_expressions():
    x = np.arange(16.0).reshape(1, 4, 4)
    by_alias = run_pool("max_pool2d", x, {"kernel": 2})
    by_name = run_pool("max_pool2d", x, {"kernel_size": 2})
    np.testing.assert_array_equal(by_alias.values["f"], by_name.values["f"])

    spec = parse("avg_pool2d(X, kernel=[2, 1])", {"X": x.tolist()})
    assert spec["nodes"][-1]["attrs"] == {"kernel_size": [2, 1]}


def test_pool_kernel_given_twice_by_alias_is_an_error():
    with pytest.raises(GraphError) as error:
        run_pool("max_pool2d", np.ones((1, 4, 4)), {"kernel": 2, "kernel_size": 2})
    assert error.value.code == "duplicate_attribute"
    with pytest.raises(ParseError) as parse_error:
        parse("max_pool2d(X, kernel_size=2, kernel=2)", {"X": np.ones((1, 4, 4)).tolist()})
    assert "twice" in parse_error.value.message


@pytest.mark.parametrize(
    ("op", "attrs", "code"),
    [
        ("max_pool2d", {}, "bad_attribute"),
        ("max_pool2d", {"kernel_size": 3, "padding": 2}, "bad_attribute"),
        ("avg_pool2d", {"kernel_size": 1, "padding": 1}, "bad_attribute"),
        ("max_pool2d", {"kernel_size": 5}, "kernel_too_large"),
        ("avg_pool2d", {"kernel_size": [2, 9]}, "kernel_too_large"),
        ("max_pool2d", {"kernel_size": 2, "dilation": 4}, "kernel_too_large"),
        ("max_pool2d", {"kernel_size": 2, "ceil_mode": "yes"}, "bad_attribute"),
        ("avg_pool2d", {"kernel_size": 2, "count_include_pad": 1}, "bad_attribute"),
    ],
)
def test_pool_bad_attributes_are_engine_errors_with_codes(op, attrs, code):
    with pytest.raises(EngineError) as error:
        run_pool(op, np.ones((1, 4, 4)), attrs)
    assert error.value.code == code


def test_pool_too_small_output_matches_torch_refusal():
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.ones(1, 1, 4, 4, dtype=torch.float64), 5)
    with pytest.raises(EngineError) as error:
        run_pool("max_pool2d", np.ones((1, 4, 4)), {"kernel_size": 5})
    assert "⌊(4 + 2·0 − 1·(5 − 1) − 1)/5⌋ + 1 = 0" in error.value.message


def test_pool_ops_list_display_symbols_and_aliases():
    assert OPS["max_pool2d"].symbol == "max" and OPS["avg_pool2d"].symbol == "avg"
    kernel = OPS["max_pool2d"].to_dict()["attrs"][0]
    assert kernel["name"] == "kernel_size" and kernel["aliases"] == ["kernel"]
