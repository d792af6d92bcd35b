"""Tensor ops against two independent witnesses: PyTorch autograd (float64) and central finite
differences of plain numpy functions written here. Graphs go through build_graph + evaluate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine.errors import EngineError, LimitError, ShapeError
from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.limits import DEFAULT_LIMITS, Limits
from engine.ops import OPS, jacobian_from_vjp

CASES_PATH = Path(__file__).parents[3] / "shared" / "cases" / "cases.json"
TENSOR_OPS = [
    "matmul", "sum", "mean", "reshape", "flatten", "transpose",
    "softmax", "log_softmax", "cross_entropy", "mse",
]  # fmt: skip
TORCH_TOL = {"rtol": 1e-9, "atol": 1e-12}
NUMERIC_TOL = {"rtol": 1e-5, "atol": 1e-6}
FEW = settings(max_examples=30, deadline=None)
seeds = st.integers(0, 2**32 - 1)


# --- helpers -------------------------------------------------------------------------------


def run_op(op, values, attrs=None, grad_output=None, consts=(), limits=DEFAULT_LIMITS):
    """Evaluate one op on leaves named a0, a1, ...; leaves listed in `consts` get no grad."""
    leaves = [
        {"id": f"a{i}", "op": "const" if i in consts else "input", "value": _json(value)}
        for i, value in enumerate(values)
    ]
    node = {"id": "f", "op": op, "inputs": [leaf["id"] for leaf in leaves], "attrs": attrs or {}}
    graph = build_graph({"nodes": leaves + [node], "output": "f"}, limits)

    # Nested lists cannot spell an empty tensor such as (0, 3) (it reads back as (0,)), so
    # empty values are placed on the built nodes directly.
    for i, value in enumerate(values):
        if np.size(value) == 0:
            graph.nodes[f"a{i}"].value = np.asarray(value, dtype=np.float64)
    return evaluate(graph, grad_output=grad_output, limits=limits)


def _json(value):
    return np.asarray(value, dtype=np.float64).tolist()


def assert_same(ours, theirs, **tolerance):
    """Same shape (assert_allclose alone would broadcast) and close values."""
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, **(tolerance or TORCH_TOL))


def check_with_torch(op, values, attrs, torch_fn, rng, consts=()):
    """Value and every input's grad equal PyTorch's, under a random upstream gradient."""
    tensors = [
        torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=i not in consts)
        for i, value in enumerate(values)
    ]
    expected = torch_fn(*tensors)
    grad_output = rng.normal(size=tuple(expected.shape))
    expected.backward(torch.tensor(grad_output))

    evaluation = run_op(op, values, attrs, grad_output=grad_output, consts=consts)
    assert_same(evaluation.values["f"], expected.detach().numpy())
    for i, tensor in enumerate(tensors):
        if i in consts:
            assert evaluation.grads[f"a{i}"] is None
            continue
        theirs = tensor.grad.numpy() if tensor.grad is not None else np.zeros(tensor.shape)
        assert_same(evaluation.grads[f"a{i}"], theirs)
    return evaluation


def numeric_grads(fn, values, grad_output, skip=(), step=1e-6):
    """Central differences of sum(grad_output * fn(*values)) in every input element."""
    grads = []
    for index, value in enumerate(values):
        if index in skip:
            grads.append(None)
            continue
        grad = np.zeros(np.shape(value))
        for position in np.ndindex(np.shape(value)):
            moved = [np.array(v, dtype=np.float64) for v in values]
            moved[index][position] += step
            above = np.sum(grad_output * fn(*moved))
            moved[index][position] -= 2 * step
            below = np.sum(grad_output * fn(*moved))
            grad[position] = (above - below) / (2 * step)
        grads.append(grad)
    return grads


def check_with_differences(op, values, attrs, numpy_fn, rng, consts=()):
    """Every input's grad equals central finite differences of an independent numpy fn."""
    grad_output = rng.normal(size=np.shape(numpy_fn(*values)))
    evaluation = run_op(op, values, attrs, grad_output=grad_output, consts=consts)
    expected = numeric_grads(numpy_fn, values, grad_output, skip=consts)
    for i, grad in enumerate(expected):
        if grad is not None:
            assert_same(evaluation.grads[f"a{i}"], grad, **NUMERIC_TOL)


def torch_jacobian(fn, values, index):
    """d fn / d values[index] from torch.autograd.functional.jacobian, as numpy."""
    tensors = [torch.tensor(np.asarray(v, dtype=np.float64)) for v in values]

    def only(x):
        return fn(*tensors[:index], x, *tensors[index + 1 :])

    return torch.autograd.functional.jacobian(only, tensors[index]).numpy()


def load_case(case_id):
    cases = json.loads(CASES_PATH.read_text())
    return next(case for case in cases if case["id"] == case_id)


def _naive_log_softmax(x, axis):
    # Unshifted on purpose: an independent formula, fine for the moderate values drawn here.
    x = np.reshape(x, np.shape(x) or (1,))
    with np.errstate(divide="ignore"):  # log(0) of an empty axis; nothing reads it
        return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))


def naive_softmax(x, axis):
    return np.exp(_naive_log_softmax(x, axis)).reshape(np.shape(x))


def naive_log_softmax(x, axis):
    return _naive_log_softmax(x, axis).reshape(np.shape(x))


# --- matmul --------------------------------------------------------------------------------

matmul_shapes = hnp.mutually_broadcastable_shapes(
    signature=np.matmul.signature, max_dims=2, min_side=0, max_side=3
)


@FEW
@given(shapes=matmul_shapes, seed=seeds)
def test_matmul_matches_torch_with_batch_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=shape) for shape in shapes.input_shapes]
    check_with_torch("matmul", values, {}, torch.matmul, rng)


@FEW
@given(shapes=matmul_shapes, seed=seeds)
def test_matmul_grads_match_finite_differences(shapes, seed):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=shape) for shape in shapes.input_shapes]
    check_with_differences("matmul", values, {}, np.matmul, rng)


def test_matmul_of_a_vector_with_itself_adds_both_edges():
    x = np.array([1.5, -2.0, 0.25])
    graph = build_graph(
        {
            "nodes": [
                {"id": "x", "op": "input", "value": x.tolist()},
                {"id": "f", "op": "matmul", "inputs": ["x", "x"]},
            ],
            "output": "f",
        }
    )
    evaluation = evaluate(graph)
    assert type(evaluation.values["f"]) is np.float64
    assert_same(evaluation.grads["x"], 2 * x)


def test_matmul_local_jacobian_from_x_is_exactly_w():
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    evaluation = run_op("matmul", [w, x])
    from_w, from_x = evaluation.edges

    # Course notes 2.5.2: for f = W x the Jacobian of f with respect to x is W itself.
    np.testing.assert_array_equal(from_x.local, w)
    expected = torch_jacobian(torch.matmul, [w, x], 0)
    assert expected.shape == (3, 3, 4)
    np.testing.assert_array_equal(from_w.local, expected)


@FEW
@given(shapes=matmul_shapes, seed=seeds, index=st.sampled_from([0, 1]))
def test_matmul_closed_form_jacobian_matches_vjp_rows_and_torch(shapes, seed, index):
    rng = np.random.default_rng(seed)
    args = tuple(rng.normal(size=shape) for shape in shapes.input_shapes)
    out = np.matmul(*args)
    op = OPS["matmul"]

    closed = op.extra["jacobian"](index, args, out)
    assert_same(closed, jacobian_from_vjp(op, index, args, out, {}))
    if np.size(closed):  # torch's jacobian cannot stack an empty one
        assert_same(closed, torch_jacobian(torch.matmul, args, index))


def test_local_jacobian_is_omitted_with_a_reason_above_the_limit():
    rng = np.random.default_rng(1)
    w, x = rng.normal(size=(64, 64)), rng.normal(size=64)
    evaluation = run_op("matmul", [w, x])
    from_w, from_x = evaluation.edges

    assert DEFAULT_LIMITS.max_jacobian_entries == 4096
    assert from_w.local is None
    assert "262,144" in from_w.local_omitted and "4,096" in from_w.local_omitted
    assert from_x.local_omitted is None
    np.testing.assert_array_equal(from_x.local, w)
    assert_same(from_w.downstream, np.outer(np.ones(64), x))


def test_local_jacobian_respects_a_tighter_limit():
    rng = np.random.default_rng(2)
    evaluation = run_op("softmax", [rng.normal(size=4)], limits=Limits(max_jacobian_entries=15))
    (edge,) = evaluation.edges
    assert edge.local is None
    assert "16 entries" in edge.local_omitted


def test_matmul_refuses_a_result_above_the_tensor_limit():
    with pytest.raises(LimitError) as caught:
        run_op("matmul", [np.ones((1000, 1)), np.ones((1, 1001))])
    assert "1,001,000" in caught.value.message
    assert caught.value.code == "limit_exceeded"


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "words"),
    [
        ((3, 4), (3,), "matmul: (3, 4) @ (3,) — inner sizes 4 and 3 differ"),
        ((2, 3, 4), (5, 4, 2), "batch axes (2,) and (5,) do not broadcast"),
        ((), (3,), "matmul: () @ (3,) — both sides need at least one axis"),
        ((4,), (3, 2), "inner sizes 4 and 3 differ"),
    ],
)
def test_matmul_shape_error_names_both_shapes(a_shape, b_shape, words):
    with pytest.raises(ShapeError) as caught:
        run_op("matmul", [np.ones(a_shape), np.ones(b_shape)])
    assert words in caught.value.message
    assert caught.value.message.startswith("node 'f': matmul")
    assert caught.value.node_ids == ["f"]
    assert caught.value.to_dict()["code"] == "shape_mismatch"


# --- sum and mean --------------------------------------------------------------------------


@st.composite
def reductions(draw):
    """A shape, an axis attribute (None, an int or a list, negatives included), keepdims."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    ndim = len(shape)
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1)) if ndim else []
    axes = [axis - ndim if draw(st.booleans()) else axis for axis in axes]
    if not axes or draw(st.booleans()):
        axis = None
    elif len(axes) == 1 and draw(st.booleans()):
        axis = axes[0]
    else:
        axis = axes
    return shape, axis, draw(st.booleans())


def _skip_core_explain_bug(name, shape, axis, keepdims):
    # A mean over an empty axis that leaves other axes is nan, and evaluate's warning code
    # then fails (see test_nonfinite_value_of_a_shape_changing_op_is_a_warning).
    total = _numpy_reduce("sum", axis, keepdims)(np.zeros(shape))
    assume(not (name == "mean" and np.size(total) and not math.prod(shape) and np.ndim(total)))


def _torch_reduce(name, axis, keepdims):
    def reduce(tensor):
        dims = tuple(range(tensor.ndim)) if axis is None else axis
        return getattr(torch, name)(tensor, dim=dims, keepdim=keepdims)

    return reduce


def _numpy_reduce(name, axis, keepdims):
    def reduce(x):
        axes = range(np.ndim(x)) if axis is None else axis
        total = np.sum(x, axis=tuple(np.atleast_1d(axes).tolist()), keepdims=keepdims)
        if name == "sum":
            return total
        count = np.size(x) // max(np.size(total), 1) if np.size(x) else 0
        return total / count if count else total * np.nan

    return reduce


@FEW
@given(case=reductions(), seed=seeds, name=st.sampled_from(["sum", "mean"]))
def test_reduction_matches_torch(case, seed, name):
    shape, axis, keepdims = case
    _skip_core_explain_bug(name, shape, axis, keepdims)
    rng = np.random.default_rng(seed)
    attrs = {"axis": axis, "keepdims": keepdims}
    check_with_torch(
        name, [rng.normal(size=shape)], attrs, _torch_reduce(name, axis, keepdims), rng
    )


@FEW
@given(case=reductions(), seed=seeds, name=st.sampled_from(["sum", "mean"]))
def test_reduction_grads_match_finite_differences(case, seed, name):
    shape, axis, keepdims = case
    _skip_core_explain_bug(name, shape, axis, keepdims)
    rng = np.random.default_rng(seed)
    attrs = {"axis": axis, "keepdims": keepdims}
    fn = _numpy_reduce(name, axis, keepdims)
    check_with_differences(name, [rng.normal(size=shape)], attrs, fn, rng)


def test_sum_axis_accepts_a_whole_float_as_expressions_give_it():
    x = np.arange(6.0).reshape(2, 3)
    evaluation = run_op("sum", [x], {"axis": 1.0})
    assert_same(evaluation.values["f"], x.sum(axis=1))


def test_mean_of_nothing_is_nan_with_a_warning_as_torch():
    evaluation = run_op("mean", [np.zeros(0)])
    assert np.isnan(evaluation.values["f"])
    assert np.isnan(torch.zeros(0, dtype=torch.float64).mean().item())
    (warning,) = evaluation.warnings
    assert warning.code == "nonfinite_value"
    assert "no elements" in warning.message


# --- reshape, flatten, transpose -----------------------------------------------------------


@st.composite
def reshapes(draw):
    """A shape and a target shape with the same size, sometimes with one -1."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    target = list(draw(st.permutations(shape)))
    if draw(st.booleans()):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        index = draw(st.integers(0, len(target) - 1))
        if math.prod(target[:index] + target[index + 1 :]) > 0:
            target[index] = -1
    return shape, target


@FEW
@given(case=reshapes(), seed=seeds)
def test_reshape_matches_torch(case, seed):
    shape, target = case
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=shape)]
    check_with_torch("reshape", values, {"shape": target}, lambda t: t.reshape(target), rng)


@st.composite
def flattens(draw):
    """A shape and valid start_dim <= end_dim, each sometimes written as a negative axis."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    ndim = max(len(shape), 1)
    start = draw(st.integers(0, ndim - 1))
    end = draw(st.integers(start, ndim - 1))
    start = start - ndim if draw(st.booleans()) else start
    end = end - ndim if draw(st.booleans()) else end
    return shape, start, end


@FEW
@given(case=flattens(), seed=seeds)
def test_flatten_matches_torch_flatten(case, seed):
    shape, start, end = case
    rng = np.random.default_rng(seed)
    attrs = {"start_dim": start, "end_dim": end}
    fn = lambda t: torch.flatten(t, start, end)  # noqa: E731
    check_with_torch("flatten", [rng.normal(size=shape)], attrs, fn, rng)


def test_flatten_defaults_merge_every_axis_as_torch():
    x = np.arange(24.0).reshape(2, 3, 4)
    evaluation = run_op("flatten", [x])
    assert_same(evaluation.values["f"], torch.flatten(torch.tensor(x)).numpy())
    assert np.shape(evaluation.values["f"]) == (24,)


@st.composite
def permutations(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    axes = draw(st.none() | st.permutations(range(len(shape))))
    return shape, axes


@FEW
@given(case=permutations(), seed=seeds)
def test_transpose_matches_torch_permute(case, seed):
    shape, axes = case
    rng = np.random.default_rng(seed)
    order = list(reversed(range(len(shape)))) if axes is None else list(axes)
    fn = lambda t: t.permute(order)  # noqa: E731
    check_with_torch("transpose", [rng.normal(size=shape)], {"axes": axes}, fn, rng)


def test_transpose_of_a_matrix_is_the_matrix_transpose():
    x = np.arange(6.0).reshape(2, 3)
    evaluation = run_op("transpose", [x], grad_output=np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(evaluation.values["f"], x.T)
    np.testing.assert_array_equal(evaluation.grads["a0"], np.arange(6.0).reshape(3, 2).T)


# --- softmax and log_softmax ---------------------------------------------------------------


@st.composite
def along_axis(draw, min_dims=0):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=0, max_side=4))
    ndim = max(len(shape), 1)
    return shape, draw(st.integers(-ndim, ndim - 1))


@FEW
@given(case=along_axis(), seed=seeds, name=st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_matches_torch(case, seed, name):
    shape, axis = case
    rng = np.random.default_rng(seed)
    fn = lambda t: getattr(torch, name)(t, axis)  # noqa: E731
    check_with_torch(name, [3 * rng.normal(size=shape)], {"axis": axis}, fn, rng)


@FEW
@given(case=along_axis(), seed=seeds, name=st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_grads_match_finite_differences(case, seed, name):
    shape, axis = case
    rng = np.random.default_rng(seed)
    naive = naive_softmax if name == "softmax" else naive_log_softmax
    fn = lambda x: naive(x, axis)  # noqa: E731
    check_with_differences(name, [3 * rng.normal(size=shape)], {"axis": axis}, fn, rng)


HUGE_LOGITS = np.array(
    [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]]
)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_huge_logits_is_finite_and_equals_torch(name):
    rng = np.random.default_rng(3)
    fn = lambda t: getattr(torch, name)(t, -1)  # noqa: E731
    evaluation = check_with_torch(name, [HUGE_LOGITS], {}, fn, rng)
    assert np.isfinite(evaluation.values["f"]).all()
    assert np.isfinite(evaluation.grads["a0"]).all()
    assert evaluation.warnings == []


# --- cross_entropy -------------------------------------------------------------------------


@st.composite
def classifications(draw):
    """Logits of shape (C,), (N, C) or (N, C, d) with labels or probabilities to match."""
    classes = draw(st.integers(1, 4))
    batch = draw(st.integers(0, 3))
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    shape = {"unbatched": (classes,), "batched": (batch, classes)}.get(layout)
    shape = shape or (batch, classes, draw(st.integers(1, 2)))
    return shape, draw(st.booleans()), draw(st.sampled_from(["mean", "sum"]))


def _targets_for(shape, use_labels, rng):
    axis = 1 if len(shape) >= 2 else 0
    if use_labels:
        label_shape = shape[:axis] + shape[axis + 1 :]
        return rng.integers(0, shape[axis], size=label_shape).astype(np.float64)
    return np.exp(naive_log_softmax(rng.normal(size=shape), axis))


def _torch_cross_entropy(use_labels, reduction):
    def cross_entropy(logits, target):
        target = target.long() if use_labels else target
        return F.cross_entropy(logits, target, reduction=reduction)

    return cross_entropy


@FEW
@given(case=classifications(), seed=seeds)
def test_cross_entropy_matches_torch(case, seed):
    shape, use_labels, reduction = case
    rng = np.random.default_rng(seed)
    values = [2 * rng.normal(size=shape), _targets_for(shape, use_labels, rng)]
    consts = (1,) if use_labels else ()
    fn = _torch_cross_entropy(use_labels, reduction)
    check_with_torch("cross_entropy", values, {"reduction": reduction}, fn, rng, consts)


def _naive_cross_entropy(use_labels, reduction, axis):
    def cross_entropy(logits, target):
        logp = naive_log_softmax(logits, axis)
        if use_labels:
            onehot = np.moveaxis(np.eye(logits.shape[axis])[target.astype(int)], -1, axis)
            losses = -np.sum(onehot * logp, axis=axis)
        else:
            losses = -np.sum(target * logp, axis=axis)
        return np.sum(losses) / (np.size(losses) if reduction == "mean" else 1)

    return cross_entropy


@FEW
@given(case=classifications(), seed=seeds)
def test_cross_entropy_grads_match_finite_differences(case, seed):
    shape, use_labels, reduction = case
    if shape[0] == 0 and reduction == "mean":
        return  # nan by definition; test_cross_entropy_of_an_empty_batch_is_nan covers it
    rng = np.random.default_rng(seed)
    values = [2 * rng.normal(size=shape), _targets_for(shape, use_labels, rng)]
    consts = (1,) if use_labels else ()
    fn = _naive_cross_entropy(use_labels, reduction, 1 if len(shape) >= 2 else 0)
    check_with_differences("cross_entropy", values, {"reduction": reduction}, fn, rng, consts)


def test_cross_entropy_of_huge_logits_is_finite_and_equals_torch():
    rng = np.random.default_rng(4)
    labels = np.array([1.0, 0.0, 2.0])
    fn = _torch_cross_entropy(True, "mean")
    evaluation = check_with_torch("cross_entropy", [HUGE_LOGITS, labels], {}, fn, rng, (1,))
    assert np.isfinite(evaluation.values["f"])
    assert np.isfinite(evaluation.grads["a0"]).all()


def test_cross_entropy_unbatched_with_a_scalar_label_equals_torch():
    rng = np.random.default_rng(5)
    fn = _torch_cross_entropy(True, "mean")
    check_with_torch("cross_entropy", [rng.normal(size=4), np.float64(2)], {}, fn, rng, (1,))


def test_cross_entropy_label_given_as_input_gets_a_zero_grad():
    rng = np.random.default_rng(6)
    evaluation = run_op("cross_entropy", [rng.normal(size=(2, 3)), [2.0, 0.0]])
    np.testing.assert_array_equal(evaluation.grads["a1"], np.zeros(2))


def test_cross_entropy_of_an_empty_batch_is_nan_as_torch():
    # Built from JSON: an empty (0,) input reshaped to (0, 3) logits.
    graph = build_graph(
        {
            "nodes": [
                {"id": "flat", "op": "input", "value": []},
                {"id": "z", "op": "reshape", "inputs": ["flat"], "attrs": {"shape": [0, 3]}},
                {"id": "t", "op": "const", "value": []},
                {"id": "L", "op": "cross_entropy", "inputs": ["z", "t"]},
            ],
            "output": "L",
        }
    )
    evaluation = evaluate(graph)
    expected = F.cross_entropy(torch.zeros(0, 3, dtype=torch.float64), torch.zeros(0).long())
    assert np.isnan(evaluation.values["L"]) and np.isnan(expected.item())
    assert np.shape(evaluation.grads["z"]) == (0, 3)
    assert np.shape(evaluation.grads["flat"]) == (0,)
    assert [w.code for w in evaluation.warnings] == ["nonfinite_value"]
    assert "empty batch" in evaluation.warnings[0].message


@pytest.mark.parametrize(
    ("label", "words"),
    [(3.0, "label 3 at index (1,) is out of range"), (1.5, "1.5 at index (1,) is not a whole")],
)
def test_cross_entropy_refuses_a_bad_label(label, words):
    with pytest.raises(EngineError) as caught:
        run_op("cross_entropy", [np.zeros((2, 3)), [0.0, label]])
    assert caught.value.code == "bad_value"
    assert words in caught.value.message
    assert "0 to 2" in caught.value.message


@pytest.mark.parametrize(
    ("logits", "target", "words"),
    [
        ((2, 3), (3,), "logits (2, 3) and target (3,) do not fit"),
        ((), (), "logits of shape () have no class axis"),
    ],
)
def test_cross_entropy_shape_error_names_both_shapes(logits, target, words):
    with pytest.raises(ShapeError) as caught:
        run_op("cross_entropy", [np.zeros(logits), np.zeros(target)])
    assert words in caught.value.message


# --- mse -----------------------------------------------------------------------------------


@FEW
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    reduction=st.sampled_from(["mean", "sum"]),
    seed=seeds,
)
def test_mse_matches_torch_and_finite_differences(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=shape), rng.normal(size=shape)]
    attrs = {"reduction": reduction}
    fn = lambda a, b: F.mse_loss(a, b, reduction=reduction)  # noqa: E731
    check_with_torch("mse", values, attrs, fn, rng)
    if np.size(values[0]) or reduction == "sum":

        def naive(a, b):
            return np.sum((a - b) ** 2) / (np.size(a) if reduction == "mean" else 1)

        check_with_differences("mse", values, attrs, naive, rng)


def test_mse_shape_error_names_both_shapes():
    with pytest.raises(ShapeError) as caught:
        run_op("mse", [np.zeros(3), np.zeros((3, 1))])
    assert "mse: prediction (3,) and target (3, 1) have different shapes" in caught.value.message


# --- attributes, formulas, a chain of ops --------------------------------------------------


@pytest.mark.parametrize(
    ("op", "shapes", "attrs", "words"),
    [
        ("sum", [(2, 3)], {"axis": 2}, "axis 2 is out of range"),
        ("sum", [(2, 3)], {"axis": [0, -2]}, "names the same axis twice"),
        ("sum", [(2, 3)], {"axis": []}, "names no axis"),
        ("sum", [(2, 3)], {"axis": 1.5}, "axis must be a whole number"),
        ("mean", [(2, 3)], {"keepdims": "yes"}, "keepdims must be true or false"),
        ("reshape", [(2, 3)], {"shape": [4, -1]}, "6 is not a multiple of 4"),
        ("reshape", [(2, 3)], {"shape": [5]}, "(2, 3) (6 elements) cannot become (5,)"),
        ("reshape", [(2, 3)], {"shape": [-1, -1]}, "more than one -1"),
        ("reshape", [(2, 3)], {}, "shape is required"),
        ("flatten", [(2, 3)], {"start_dim": 1, "end_dim": 0}, "comes after end_dim"),
        ("transpose", [(2, 3)], {"axes": [0, 0]}, "names an axis twice"),
        ("transpose", [(2, 3)], {"axes": [0]}, "each of the 2 axes"),
        ("softmax", [(2, 3)], {"axis": -3}, "axis -3 is out of range"),
        ("cross_entropy", [(2, 3), (2,)], {"reduction": "avg"}, 'must be "mean" or "sum"'),
        ("mse", [(2,), (2,)], {"reduction": "none"}, 'must be "mean" or "sum"'),
    ],
)
def test_bad_attribute_is_refused_with_a_sentence(op, shapes, attrs, words):
    with pytest.raises(EngineError) as caught:
        run_op(op, [np.zeros(shape) for shape in shapes], attrs)
    assert caught.value.code == "bad_attribute"
    assert words in caught.value.message
    assert caught.value.node_ids == ["f"]


@pytest.mark.parametrize("name", TENSOR_OPS)
def test_formulas_fill_every_placeholder(name):
    op = OPS[name]
    value, locals_ = op.describe("f", ["x", "y"][: op.arity[1]])
    assert "$" not in value + "".join(locals_)
    assert len(locals_) == op.arity[1]
    json.dumps(op.to_dict())


SMALL_INPUTS = {
    "matmul": ([(2, 3), (3,)], {}, torch.matmul),
    "sum": ([(2, 3)], {"axis": 0}, lambda t: t.sum(0)),
    "mean": ([(2, 3)], {"axis": [1], "keepdims": True}, lambda t: t.mean(1, keepdim=True)),
    "reshape": ([(2, 3)], {"shape": [3, -1]}, lambda t: t.reshape(3, 2)),
    "flatten": ([(2, 3, 2)], {"start_dim": 1}, lambda t: torch.flatten(t, 1)),
    "transpose": ([(2, 3, 2)], {"axes": [1, 2, 0]}, lambda t: t.permute(1, 2, 0)),
    "softmax": ([(2, 3)], {"axis": 0}, lambda t: torch.softmax(t, 0)),
    "log_softmax": ([(2, 3)], {}, lambda t: torch.log_softmax(t, -1)),
    "cross_entropy": ([(2, 3), (2, 3)], {}, F.cross_entropy),
    "mse": (
        [(2, 3), (2, 3)],
        {"reduction": "sum"},
        lambda a, b: F.mse_loss(a, b, reduction="sum"),
    ),
}


@pytest.mark.parametrize("name", TENSOR_OPS)
def test_local_jacobian_matches_torch(name):
    shapes, attrs, fn = SMALL_INPUTS[name]
    rng = np.random.default_rng(7)
    values = [rng.uniform(0.1, 1.0, size=shape) for shape in shapes]
    evaluation = run_op(name, values, attrs)
    for edge in evaluation.edges:
        expected = torch_jacobian(fn, values, edge.input_index)
        assert_same(edge.local, expected)


def test_linear_layer_and_mse_chain_matches_torch():
    rng = np.random.default_rng(8)
    x, w, b, y = (rng.normal(size=s) for s in [(5, 3), (2, 3), (2,), (5, 2)])
    nodes = [
        {"id": "X", "op": "input", "value": x.tolist()},
        {"id": "W", "op": "input", "value": w.tolist()},
        {"id": "b", "op": "input", "value": b.tolist()},
        {"id": "Y", "op": "const", "value": y.tolist()},
        {"id": "Wt", "op": "transpose", "inputs": ["W"]},
        {"id": "XW", "op": "matmul", "inputs": ["X", "Wt"]},
        {"id": "Z", "op": "add", "inputs": ["XW", "b"]},
        {"id": "L", "op": "mse", "inputs": ["Z", "Y"]},
    ]
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "L"}))

    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    loss = F.mse_loss(F.linear(tx, tw, tb), torch.tensor(y))
    loss.backward()
    assert_same(evaluation.values["L"], loss.item())
    for name, tensor in [("X", tx), ("W", tw), ("b", tb)]:
        assert_same(evaluation.grads[name], tensor.grad.numpy())


@pytest.mark.parametrize(
    ("op", "values", "attrs"),
    [
        ("mean", [np.zeros((2, 0))], {"axis": 1}),
        ("matmul", [np.full((2, 2), 1e200), np.full(2, 1e200)], {}),
    ],
)
def test_nonfinite_value_of_a_shape_changing_op_is_a_warning(op, values, attrs):
    evaluation = run_op(op, values, attrs)
    assert [w.code for w in evaluation.warnings] == ["nonfinite_value"]


# --- reference cases -----------------------------------------------------------------------


def test_case_anchor_softmax_ce_small():
    case = load_case("anchor_softmax_ce_small")
    inputs, expected, tolerance = case["inputs"], case["expected"], case["tolerance"]
    nodes = [
        {"id": "W", "op": "input", "value": inputs["W"]},
        {"id": "x", "op": "input", "value": inputs["x"]},
        {"id": "b", "op": "input", "value": inputs["b"]},
        {"id": "target", "op": "const", "value": inputs["target"]},
        {"id": "Wx", "op": "matmul", "inputs": ["W", "x"]},
        {"id": "scores", "op": "add", "inputs": ["Wx", "b"]},
        {"id": "L", "op": "cross_entropy", "inputs": ["scores", "target"]},
        {"id": "probs", "op": "softmax", "inputs": ["scores"]},  # off the path, shown only
    ]
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "L"}))

    assert_same(evaluation.values["L"], expected["output"], **tolerance)
    intermediates = expected["intermediates"]
    assert_same(evaluation.values["scores"], intermediates["scores"], **tolerance)
    assert_same(evaluation.values["probs"], intermediates["probs"], **tolerance)
    dscores = intermediates["dL/dscores = probs - onehot"]
    assert_same(evaluation.grads["scores"], dscores, **tolerance)
    for name in ("W", "x", "b"):
        assert_same(evaluation.grads[name], expected["grads"][name], **tolerance)


def test_case_src_softmax_overflow_stable():
    case = load_case("src_softmax_overflow_stable")
    inputs, expected, tolerance = case["inputs"], case["expected"], case["tolerance"]
    nodes = [
        {"id": "z", "op": "input", "value": inputs["z"]},
        {"id": "c", "op": "const", "value": inputs["c"]},
        {"id": "s", "op": "softmax", "inputs": ["z"], "attrs": {"axis": case["spec"]["dim"]}},
        {"id": "cs", "op": "mul", "inputs": ["c", "s"]},
        {"id": "L", "op": "sum", "inputs": ["cs"]},
    ]
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "L"}))

    assert_same(evaluation.values["L"], expected["output"], **tolerance)
    assert_same(evaluation.values["s"], expected["intermediates"]["softmax"], **tolerance)
    assert_same(evaluation.grads["z"], expected["grads"]["z"], **tolerance)
    assert evaluation.warnings == [] and evaluation.first_nonfinite is None
    for edge in evaluation.edges:
        for number in (edge.upstream, edge.local, edge.downstream):
            assert number is None or np.isfinite(number).all()
