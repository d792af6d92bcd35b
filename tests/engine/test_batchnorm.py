"""batch_norm against PyTorch (float64) and the course's 4×3 training-mode case.

Truths: torch.nn.functional.batch_norm, its autograd, and the running statistics it updates in
place; the reference case computed with PyTorch's BatchNorm1d.
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

from engine.errors import EngineError, ShapeError
from engine.evaluate import evaluate
from engine.expr import parse
from engine.graph import build_graph
from engine.ops import OPS

CASES_PATH = Path(__file__).parents[3] / "shared" / "cases" / "cases.json"
FEW = settings(max_examples=25, deadline=None)
NAMES = ["x", "gamma", "beta", "running_mean", "running_var"]


def load_case(case_id: str) -> dict:
    cases = json.loads(CASES_PATH.read_text())
    return next(case for case in cases if case["id"] == case_id)


def assert_close(ours, theirs, relative=1e-10):
    theirs = np.asarray(theirs, dtype=np.float64)
    assert np.shape(ours) == theirs.shape
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    assert float(np.abs(np.asarray(ours) - theirs).max(initial=0.0)) <= relative * scale


def run_batch_norm(values, attrs, grad_output=None, stats_op="const", with_local=False):
    """x, gamma, beta are inputs; running statistics (if given) are `stats_op` leaves."""
    nodes = [
        {"id": name, "op": "input" if i < 3 else stats_op, "value": np.asarray(value)}
        for i, (name, value) in enumerate(zip(NAMES, values, strict=False))
    ]
    nodes.append({"id": "f", "op": "batch_norm", "inputs": NAMES[: len(values)], "attrs": attrs})
    graph = build_graph({"nodes": nodes, "output": "f"})
    return evaluate(graph, grad_output=grad_output, with_local=with_local)


@st.composite
def batch_norm_settings(draw):
    """2-D, 3-D and 4-D batches, training or eval, various eps and momentum."""
    channels = draw(st.integers(1, 4))
    rest = draw(st.sampled_from([(), (3,), (2, 3), (1, 1), (4, 1)]))
    batch = draw(st.integers(1 if rest and rest != (1, 1) else 2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(loc=rng.normal(), scale=3.0, size=(batch, channels) + rest)
    values = [x, rng.normal(size=channels), rng.normal(size=channels)]
    if draw(st.booleans()):
        values += [rng.normal(size=channels), rng.uniform(0.5, 2.0, size=channels)]
    attrs = {
        "training": draw(st.booleans()),
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.1])),
        "momentum": draw(st.sampled_from([0.1, 0.5, 1.0, 0.0])),
    }
    return values, attrs, rng


@FEW
@given(batch_norm_settings())
def test_batch_norm_matches_torch_values_grads_and_running_stats(setting):
    values, attrs, rng = setting
    tensors = [torch.tensor(v, requires_grad=i < 3) for i, v in enumerate(values)]
    running = [t.detach().clone() for t in tensors[3:]] or [
        torch.zeros(values[1].shape, dtype=torch.float64),
        torch.ones(values[1].shape, dtype=torch.float64),
    ]
    expected = F.batch_norm(tensors[0], running[0], running[1], tensors[1], tensors[2], **attrs)
    grad_output = rng.normal(size=values[0].shape)
    expected.backward(torch.tensor(grad_output))

    evaluation = run_batch_norm(values, attrs, grad_output)
    assert_close(evaluation.values["f"], expected.detach().numpy())
    for name, tensor in zip(NAMES[:3], tensors[:3], strict=True):
        assert_close(evaluation.grads[name], tensor.grad.numpy())
    # PyTorch updated `running` in place: the engine reports the same through aux.
    assert_close(evaluation.aux["f"]["running_mean"], running[0].numpy())
    assert_close(evaluation.aux["f"]["running_var"], running[1].numpy())


def test_batch_norm_local_jacobian_matches_torch():
    rng = np.random.default_rng(4)
    values = [rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=2)]
    evaluation = run_batch_norm(values, {}, with_local=True)
    tensors = [torch.tensor(v) for v in values]
    for edge in evaluation.edges:

        def only(t, index=edge.input_index):
            args = tensors[:index] + [t] + tensors[index + 1 :]
            return F.batch_norm(args[0], None, None, args[1], args[2], training=True)

        expected = torch.autograd.functional.jacobian(only, tensors[edge.input_index])
        assert_close(edge.local, expected.numpy())


# --- the course's case -----------------------------------------------------------------------


def test_batch_norm_training_case_values_grads_and_running_stats():
    case = load_case("anchor_batchnorm_train_4x3")
    expected, tolerance = case["expected"], case["tolerance"]
    graph = build_graph(parse(case["expression"], case["inputs"]))
    evaluation = evaluate(graph)
    node = next(n for n, v in graph.nodes.items() if v.op.name == "batch_norm")

    np.testing.assert_allclose(evaluation.values[graph.output], expected["loss"], **tolerance)
    np.testing.assert_allclose(evaluation.values[node], expected["output"], **tolerance)
    for name, grad in expected["grads"].items():
        np.testing.assert_allclose(evaluation.grads[name], grad, **tolerance)

    aux = evaluation.aux[node]
    intermediates = expected["intermediates"]
    np.testing.assert_allclose(aux["batch_mean"], intermediates["batch_mean"], **tolerance)
    np.testing.assert_allclose(
        aux["batch_var"], intermediates["batch_var_biased_used_for_normalization"], **tolerance
    )
    np.testing.assert_allclose(aux["running_mean"], expected["running_mean_after"], **tolerance)
    np.testing.assert_allclose(aux["running_var"], expected["running_var_after"], **tolerance)
    assert set(evaluation.aux) == {node}


def test_batch_norm_case_with_explicit_running_stats_matches():
    case = load_case("anchor_batchnorm_train_4x3")
    inputs = dict(case["inputs"])
    inputs["rm"], inputs["rv"] = inputs["running_mean_before"], inputs["running_var_before"]
    text = "L = sum(Wl * batch_norm(X, gamma, beta, rm, rv, training=True))"
    graph = build_graph(parse(text, inputs))
    evaluation = evaluate(graph)
    node = next(n for n, v in graph.nodes.items() if v.op.name == "batch_norm")
    expected = case["expected"]
    np.testing.assert_allclose(evaluation.aux[node]["running_var"], expected["running_var_after"])
    # Inputs given as `input` leaves receive a gradient of zero: they are not learned.
    np.testing.assert_array_equal(evaluation.grads["rm"], np.zeros(3))
    np.testing.assert_array_equal(evaluation.grads["rv"], np.zeros(3))


# --- eval mode, batch size and errors --------------------------------------------------------


def test_batch_norm_eval_mode_uses_running_stats_and_leaves_them_alone():
    values = [np.array([[2.0], [4.0]]), np.array([1.0]), np.array([0.0])]
    values += [np.array([1.0]), np.array([4.0])]
    evaluation = run_batch_norm(values, {"training": False, "eps": 0.0})
    # (x − 1)/sqrt(4) by hand.
    np.testing.assert_array_equal(evaluation.values["f"], [[0.5], [1.5]])
    np.testing.assert_array_equal(evaluation.aux["f"]["running_var"], [4.0])


def test_batch_norm_batch_of_one_in_training_is_a_clear_error():
    with pytest.raises(EngineError) as error:
        run_batch_norm([np.ones((1, 3)), np.ones(3), np.zeros(3)], {"training": True})
    body = error.value.to_dict()
    assert body["code"] == "batch_too_small"
    assert "more than one value" in body["message"] and body["node_ids"] == ["f"]
    with pytest.raises(EngineError):
        run_batch_norm([np.ones((1, 2, 1, 1)), np.ones(2), np.zeros(2)], {})


def test_batch_norm_batch_of_one_in_eval_mode_works():
    evaluation = run_batch_norm([np.ones((1, 3)), np.ones(3), np.zeros(3)], {"training": False})
    assert np.all(np.isfinite(evaluation.values["f"]))


@pytest.mark.parametrize(
    ("values", "attrs", "error_type"),
    [
        ([np.ones(4), np.ones(4), np.ones(4)], {}, ShapeError),
        ([np.ones((4, 3)), np.ones(2), np.ones(3)], {}, ShapeError),
        ([np.ones((4, 3)), np.ones(3), np.ones(3), np.ones(2)], {}, ShapeError),
        ([np.ones((4, 3)), np.ones(3), np.ones(3)], {"momentum": 2.0}, EngineError),
        ([np.ones((4, 3)), np.ones(3), np.ones(3)], {"eps": -1.0}, EngineError),
        ([np.ones((4, 3)), np.ones(3), np.ones(3)], {"training": "yes"}, EngineError),
    ],
)
def test_batch_norm_bad_inputs_are_engine_errors(values, attrs, error_type):
    with pytest.raises(error_type):
        run_batch_norm(values, attrs)


def test_batch_norm_constant_channel_with_zero_eps_warns_not_crashes():
    evaluation = run_batch_norm([np.ones((3, 1)), np.ones(1), np.zeros(1)], {"eps": 0.0})
    assert np.isnan(evaluation.values["f"]).all()
    assert any("divides by zero" in warning.message for warning in evaluation.warnings)


def test_batch_norm_op_shows_bn_symbol():
    assert OPS["batch_norm"].symbol == "BN"
    value, local = OPS["batch_norm"].describe("y", ["X", r"\gamma", r"\beta"])
    assert r"\gamma" in value and r"\beta" in value and len(local) == 3
