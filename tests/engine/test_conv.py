"""conv2d against PyTorch (float64) and the course's Sobel example, through graphs.

Truths: torch.nn.functional.conv2d and its autograd, the reference case computed with PyTorch,
and positions worked out by hand from the course's definition of stride.
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

from engine.errors import EngineError, LimitError, ShapeError
from engine.evaluate import evaluate
from engine.expr import parse
from engine.graph import build_graph
from engine.ops import OPS

CASES_PATH = Path(__file__).parents[3] / "shared" / "cases" / "cases.json"
FEW = settings(max_examples=25, deadline=None)
RELATIVE = 1e-10


def load_case(case_id: str) -> dict:
    cases = json.loads(CASES_PATH.read_text())
    return next(case for case in cases if case["id"] == case_id)


def assert_close(ours, theirs, relative=RELATIVE):
    """Same shape, and every entry within `relative` of the largest magnitude."""
    theirs = np.asarray(theirs, dtype=np.float64)
    assert np.shape(ours) == theirs.shape
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    assert float(np.abs(np.asarray(ours) - theirs).max(initial=0.0)) <= relative * scale


def run_conv(values, attrs, grad_output=None, with_local=False):
    """Evaluate conv2d on input leaves x, k (and b); the conv node is `f`."""
    names = ["x", "k", "b"][: len(values)]
    nodes = [
        {"id": n, "op": "input", "value": np.asarray(v)}
        for n, v in zip(names, values, strict=True)
    ]
    nodes.append({"id": "f", "op": "conv2d", "inputs": names, "attrs": attrs})
    graph = build_graph({"nodes": nodes, "output": "f"})
    return evaluate(graph, grad_output=grad_output, with_local=with_local)


def torch_conv(values, attrs, grad_output):
    tensors = [torch.tensor(v, requires_grad=True) for v in values]
    out = F.conv2d(*tensors, **attrs)
    out.backward(torch.tensor(grad_output))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def one_or_pair(low, high):
    number = st.integers(low, high)
    return st.one_of(number, st.lists(number, min_size=2, max_size=2))


@st.composite
def conv_settings(draw):
    """Sizes, channels, strides (often not tiling), paddings incl. "same", dilations."""
    batch = draw(st.sampled_from([None, 1, 2, 3]))
    channels, kernels = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    height, width = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    attrs = {"dilation": draw(one_or_pair(1, 2))}
    if draw(st.integers(0, 3)) == 0:
        attrs["padding"] = "same"
    else:
        attrs["padding"] = draw(one_or_pair(0, 2))
        attrs["stride"] = draw(one_or_pair(1, 3))
    image = (channels, height, width) if batch is None else (batch, channels, height, width)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = [rng.normal(size=image), rng.normal(size=(kernels, channels) + kernel)]
    if draw(st.booleans()):
        values.append(rng.normal(size=kernels))
    return values, attrs, rng


# --- against PyTorch -------------------------------------------------------------------------


@FEW
@given(conv_settings())
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_matches_torch_value_and_grads(setting):
    values, attrs, rng = setting
    try:
        expected_shape = F.conv2d(*[torch.tensor(v) for v in values], **attrs).shape
    except RuntimeError:
        # PyTorch refuses a kernel larger than the padded input; we must refuse it too.
        with pytest.raises(EngineError) as error:
            run_conv(values, attrs)
        assert error.value.code == "kernel_too_large"
        return

    grad_output = rng.normal(size=tuple(expected_shape))
    expected, expected_grads = torch_conv(values, attrs, grad_output)
    evaluation = run_conv(values, attrs, grad_output)
    assert_close(evaluation.values["f"], expected)
    for name, grad in zip(["x", "k", "b"][: len(values)], expected_grads, strict=True):
        assert_close(evaluation.grads[name], grad)


def test_conv2d_local_jacobian_matches_torch():
    rng = np.random.default_rng(3)
    values = [rng.normal(size=(1, 2, 4, 3)), rng.normal(size=(2, 2, 2, 2)), rng.normal(size=2)]
    attrs = {"stride": [2, 1], "padding": 1}
    evaluation = run_conv(values, attrs, with_local=True)

    tensors = [torch.tensor(v) for v in values]
    for edge in evaluation.edges:

        def only(t, index=edge.input_index):
            return F.conv2d(*tensors[:index], t, *tensors[index + 1 :], **attrs)

        expected = torch.autograd.functional.jacobian(only, tensors[edge.input_index])
        assert_close(edge.local, expected.numpy())


def test_conv2d_matches_torch_on_a_stride_that_does_not_tile_sobel():
    case = load_case("anchor_conv_sobel_p1_s1")
    values = [np.array(case["inputs"]["X"], float), np.array(case["inputs"]["K"], float)]
    attrs = {"stride": 2, "padding": 1}
    grad_output = np.ones((1, 3, 3))
    expected, expected_grads = torch_conv(values, attrs, grad_output)
    evaluation = run_conv(values, attrs, grad_output)
    assert_close(evaluation.values["f"], expected)
    assert_close(evaluation.grads["x"], expected_grads[0])
    assert_close(evaluation.grads["k"], expected_grads[1])


def test_conv2d_shared_input_with_two_windows_gets_both_kernel_grads_right():
    # Two convs read one input with different strides: each kernel's grad must come from
    # its own windows, although the forward passes of both ran before either backward.
    rng = np.random.default_rng(7)
    x, k1, k2 = (
        rng.normal(size=(2, 2, 7, 7)),
        rng.normal(size=(3, 2, 3, 3)),
        rng.normal(size=(3, 2, 3, 3)),
    )
    nodes = [
        {"id": "x", "op": "input", "value": x},
        {"id": "k1", "op": "input", "value": k1},
        {"id": "k2", "op": "input", "value": k2},
        {"id": "y1", "op": "conv2d", "inputs": ["x", "k1"]},
        {"id": "y2", "op": "conv2d", "inputs": ["x", "k2"], "attrs": {"stride": 2}},
        {"id": "s1", "op": "sum", "inputs": ["y1"]},
        {"id": "s2", "op": "sum", "inputs": ["y2"]},
        {"id": "f", "op": "mul", "inputs": ["s1", "s2"]},
    ]
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "f"}), with_local=False)

    tensors = [torch.tensor(v, requires_grad=True) for v in (x, k1, k2)]
    loss = (
        F.conv2d(tensors[0], tensors[1]).sum() * F.conv2d(tensors[0], tensors[2], stride=2).sum()
    )
    loss.backward()
    for name, tensor in zip(["x", "k1", "k2"], tensors, strict=True):
        assert_close(evaluation.grads[name], tensor.grad.numpy())


def test_conv2d_grad_is_zero_on_rows_and_columns_no_window_visits():
    # Width 8, kernel 2, stride 3: windows start at 0, 3, 6 and cover 0-1, 3-4, 6-7 (by hand).
    x = np.arange(64.0).reshape(1, 1, 8, 8)
    evaluation = run_conv([x, np.ones((1, 1, 2, 2))], {"stride": 3})
    grad = evaluation.grads["x"]

    assert evaluation.values["f"].shape == (1, 1, 3, 3)
    assert grad.shape == x.shape
    assert np.all(grad[0, 0, [2, 5], :] == 0) and np.all(grad[0, 0, :, [2, 5]] == 0)
    visited = np.ix_([0, 1, 3, 4, 6, 7], [0, 1, 3, 4, 6, 7])
    assert np.all(grad[0, 0][visited] == 1)


def test_conv2d_same_padding_keeps_the_size_for_even_kernels():
    rng = np.random.default_rng(5)
    values = [rng.normal(size=(1, 2, 5, 6)), rng.normal(size=(3, 2, 4, 2))]
    evaluation = run_conv(values, {"padding": "same"})
    assert evaluation.values["f"].shape == (1, 3, 5, 6)


# --- the course's Sobel example --------------------------------------------------------------


def evaluate_text(text, inputs):
    graph = build_graph(parse(text, inputs))
    return graph, evaluate(graph)


def conv_node(graph):
    return next(node_id for node_id, node in graph.nodes.items() if node.op.name == "conv2d")


def test_conv2d_sobel_case_values_and_grads():
    case = load_case("anchor_conv_sobel_p1_s1")
    expected, tolerance = case["expected"], case["tolerance"]
    graph, evaluation = evaluate_text(case["expression"], case["inputs"])

    np.testing.assert_allclose(evaluation.values[graph.output], expected["loss"], **tolerance)
    values = evaluation.values[conv_node(graph)]
    assert list(values.shape) == expected["output_shape"]
    np.testing.assert_allclose(values, expected["output"], **tolerance)
    for name, grad in expected["grads"].items():
        np.testing.assert_allclose(evaluation.grads[name], grad, **tolerance)


def test_conv2d_sobel_case_weighted_loss_check():
    case = load_case("anchor_conv_sobel_p1_s1")
    check = case["expected"]["weighted_loss_check"]
    text = "L = sum(Wout * conv2d(X, K, stride=1, padding=1))"
    graph, evaluation = evaluate_text(text, {**case["inputs"], "Wout": check["Wout"]})

    np.testing.assert_allclose(evaluation.values[graph.output], check["value"])
    for name, grad in check["grads"].items():
        np.testing.assert_allclose(evaluation.grads[name], grad, **case["tolerance"])


def test_conv2d_expression_takes_pairs_and_same_padding():
    rng = np.random.default_rng(2)
    inputs = {
        "X": rng.normal(size=(2, 6, 7)).tolist(),
        "K": rng.normal(size=(1, 2, 3, 3)).tolist(),
    }
    graph, evaluation = evaluate_text('conv2d(X, K, padding="same", dilation=(1, 2))', inputs)
    x, k = (torch.tensor(inputs[name], dtype=torch.float64) for name in ("X", "K"))
    expected = F.conv2d(x, k, padding="same", dilation=(1, 2))
    assert_close(evaluation.values[graph.output], expected.numpy())


# --- errors ----------------------------------------------------------------------------------


def test_conv2d_kernel_too_large_is_an_error_with_the_formula():
    with pytest.raises(EngineError) as error:
        run_conv([np.ones((1, 1, 3, 3)), np.ones((1, 1, 5, 5))], {})
    body = error.value.to_dict()
    assert body["code"] == "kernel_too_large"
    assert "spans 5" in body["message"] and "padded input is only 3" in body["message"]
    assert "⌊(3 + 2·0 − 1·(5 − 1) − 1)/1⌋ + 1 = -1" in body["message"]
    assert body["node_ids"] == ["f"]


def test_conv2d_kernel_too_large_counts_dilation():
    # Kernel 3 at dilation 3 spans 7 pixels; a 6-wide input padded by 0 cannot hold it.
    with pytest.raises(EngineError) as error:
        run_conv([np.ones((1, 6, 6)), np.ones((1, 1, 3, 3))], {"dilation": 3})
    assert error.value.code == "kernel_too_large"
    assert "spans 7" in error.value.message


def test_conv2d_channel_mismatch_names_both_shapes():
    with pytest.raises(ShapeError) as error:
        run_conv([np.ones((1, 3, 5, 5)), np.ones((2, 1, 3, 3))], {})
    assert "(1, 3, 5, 5)" in error.value.message and "(2, 1, 3, 3)" in error.value.message


@pytest.mark.parametrize(
    ("values", "attrs", "code"),
    [
        ([np.ones((5, 5)), np.ones((1, 1, 3, 3))], {}, "shape_mismatch"),
        ([np.ones((1, 5, 5)), np.ones((1, 3, 3))], {}, "shape_mismatch"),
        ([np.ones((1, 5, 5)), np.ones((1, 1, 0, 3))], {}, "shape_mismatch"),
        ([np.ones((1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)], {}, "shape_mismatch"),
        ([np.ones((1, 5, 5)), np.ones((1, 1, 3, 3))], {"padding": "full"}, "bad_attribute"),
        ([np.ones((1, 5, 5)), np.ones((1, 1, 3, 3))], {"padding": -1}, "bad_attribute"),
        ([np.ones((1, 5, 5)), np.ones((1, 1, 3, 3))], {"stride": 0}, "bad_attribute"),
        ([np.ones((1, 5, 5)), np.ones((1, 1, 3, 3))], {"stride": [1, 2, 3]}, "bad_attribute"),
        ([np.ones((1, 5, 5)), np.ones((1, 1, 3, 3))], {"stride": 1.5}, "bad_attribute"),
        ([np.ones((1, 5, 5)), np.ones((1, 1, 3, 3))], {"padding": "same", "stride": 2},
         "bad_attribute"),
    ],
)  # fmt: skip
def test_conv2d_bad_inputs_are_engine_errors_with_codes(values, attrs, code):
    with pytest.raises(EngineError) as error:
        run_conv(values, attrs)
    assert error.value.code == code


def test_conv2d_refuses_huge_window_work_before_allocating():
    # 1,000,000 pixels and a 100×100 kernel: ~8·10⁹ window entries, refused up front.
    with pytest.raises(LimitError) as error:
        run_conv([np.zeros((1, 1, 1000, 1000)), np.zeros((1, 1, 100, 100))], {})
    assert "limit" in error.value.message


def test_conv2d_op_lists_its_display_and_attributes():
    listing = OPS["conv2d"].to_dict()
    assert listing["symbol"] == "conv"
    assert [attr["name"] for attr in listing["attrs"]] == ["stride", "padding", "dilation"]
    value, local = OPS["conv2d"].describe("y", ["X", "K", "b"])
    assert r"X \star K" in value and len(local) == 3
