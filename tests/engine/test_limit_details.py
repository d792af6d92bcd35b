"""Every deliberate limit carries its numbers as data: details = {what, limit, actual}.

Truths: the limit is the one configured (a small Limits, or the module's constant, which the
message also states); the actual value is counted here from the request itself (nodes in the
spec, elements of a shape, PyTorch's output-size formula for conv2d).
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

import engine.gradcheck
import engine.ops.conv
from app.main import create_app
from app.settings import Settings
from engine.datasets import MAX_SAMPLES, two_moons
from engine.errors import LimitError
from engine.evaluate import evaluate
from engine.expr import parse
from engine.gradcheck import gradcheck
from engine.graph import build_graph
from engine.hessian import MAX_HESSIAN_PARAMETERS, hessian
from engine.layers import MAXIMUM, output_shape
from engine.limits import DEFAULT_LIMITS, Limits
from engine.train import MAX_SECONDS, MAX_STEPS, TrainSettings, check_settings, loss_surface


def leaf(node_id, value):
    return {"id": node_id, "op": "input", "value": value}


def node(node_id, op, *inputs, **attrs):
    return {"id": node_id, "op": op, "inputs": list(inputs), "attrs": attrs}


def graph(*nodes, output="f") -> dict:
    return {"nodes": list(nodes), "output": output}


def shown(limit) -> str:
    """The limit as the messages write it."""
    return f"{limit:g}" if isinstance(limit, float) else f"{limit:,}"


def assert_details(error: LimitError, what: str, limit, actual=None) -> dict:
    """The details name the quantity and its limit, agree with the message, and exceed it."""
    details = error.details
    assert error.code in ("limit_exceeded", "too_many_parameters")
    assert details["what"] == what
    assert details["limit"] == limit and shown(limit) in error.message
    assert details["actual"] > details["limit"]
    if actual is not None:
        assert details["actual"] == actual
    assert error.to_dict()["details"] == details
    return details


# --- graphs: engine/graph.py -----------------------------------------------------------------


def test_graph_node_limit_details_count_the_nodes():
    spec = graph(leaf("x", 1.0), *(node(f"a{i}", "neg", "x") for i in range(4)), output="a0")
    with pytest.raises(LimitError) as caught:
        build_graph(spec, Limits(max_nodes=3))
    assert_details(caught.value, "nodes", 3, actual=len(spec["nodes"]))


def test_graph_tensor_limit_details_count_a_nested_list():
    spec = graph(leaf("f", [[1.0, 2.0, 3.0]] * 3))
    with pytest.raises(LimitError) as caught:
        build_graph(spec, Limits(max_tensor_elements=4))
    assert_details(caught.value, "tensor_elements", 4, actual=3 * 3)


def test_graph_tensor_limit_details_count_an_array():
    spec = graph(leaf("f", np.zeros((2, 5))))
    with pytest.raises(LimitError) as caught:
        build_graph(spec, Limits(max_tensor_elements=4))
    assert_details(caught.value, "tensor_elements", 4, actual=2 * 5)


# --- evaluation: engine/evaluate.py ----------------------------------------------------------


def test_evaluate_tensor_limit_details_count_the_product():
    limits = Limits(max_tensor_elements=10)
    spec = graph(leaf("a", [[1.0]] * 4), leaf("b", [[1.0] * 4]), node("f", "matmul", "a", "b"))
    with pytest.raises(LimitError) as caught:
        evaluate(build_graph(spec, limits), limits=limits)
    # (4, 1) @ (1, 4) is a 4×4 outer product.
    assert_details(caught.value, "tensor_elements", 10, actual=4 * 4)
    assert caught.value.node_ids == ["f"]


def test_evaluate_graph_limit_details_count_every_computed_tensor():
    limits = Limits(max_tensor_elements=10, max_graph_elements=12)
    spec = graph(
        leaf("x", [1.0] * 5),
        leaf("y", [2.0] * 5),
        node("a", "add", "x", "y"),
        node("b", "mul", "a", "y"),
        node("f", "add", "a", "b"),
    )
    with pytest.raises(LimitError) as caught:
        evaluate(build_graph(spec, limits), limits=limits)
    # Inputs are not counted; a, b and f hold 5 numbers each.
    assert_details(caught.value, "graph_elements", 12, actual=3 * 5)


def test_evaluate_time_limit_details_give_the_budget_and_the_time_spent():
    limits = Limits(max_seconds=0.0)
    spec = graph(leaf("x", 1.0), node("f", "neg", "x"))
    with pytest.raises(LimitError) as caught:
        evaluate(build_graph(spec, limits), limits=limits)
    details = assert_details(caught.value, "seconds", 0.0)
    assert isinstance(details["actual"], float) and details["actual"] < 60


# --- expressions: engine/expr.py -------------------------------------------------------------


def test_expression_length_limit_details_count_the_characters():
    text = "x = 1\nx + x"
    with pytest.raises(LimitError) as caught:
        parse(text, limits=Limits(max_expression_chars=5))
    assert_details(caught.value, "expression_chars", 5, actual=len(text))


def test_expression_nesting_limit_details_give_the_depth_reached():
    with pytest.raises(LimitError) as caught:
        parse("((((1))))", limits=Limits(max_nesting_depth=2))
    # Refused at the third bracket, which is at column 3.
    assert_details(caught.value, "nesting_depth", 2, actual=3)
    assert (caught.value.line, caught.value.column) == (1, 3)


def test_expression_node_limit_details_count_the_refused_node():
    with pytest.raises(LimitError) as caught:
        parse("x = 1\ny = 2\nz = 3\nx + y + z", limits=Limits(max_nodes=2))
    # Inputs x and y fit; z is the third node.
    assert_details(caught.value, "nodes", 2, actual=3)


def test_expression_constructor_limit_details_count_its_elements():
    with pytest.raises(LimitError) as caught:
        parse("zeros(3, 4)", limits=Limits(max_tensor_elements=10))
    assert_details(caught.value, "tensor_elements", 10, actual=3 * 4)


def test_expression_literal_limit_details_survive_the_line_and_column():
    with pytest.raises(LimitError) as caught:
        parse("t = [[1, 2, 3], [4, 5, 6]]\nt", limits=Limits(max_tensor_elements=4))
    assert_details(caught.value, "tensor_elements", 4, actual=2 * 3)
    assert (caught.value.line, caught.value.column) == (1, 5)


def test_expression_literals_limit_details_count_all_literals():
    text = "a = [1, 2, 3]\nb = [4, 5, 6]\na + b"
    with pytest.raises(LimitError) as caught:
        parse(text, limits=Limits(max_graph_elements=5))
    assert_details(caught.value, "graph_elements", 5, actual=3 + 3)


# --- ops: engine/ops/conv.py and engine/ops/linalg.py ----------------------------------------


def conv_graph(x, k, **attrs) -> dict:
    return graph(leaf("x", x), leaf("k", k), node("f", "conv2d", "x", "k", **attrs))


def test_conv_output_limit_details_count_the_output():
    spec = conv_graph(np.ones((1, 1, 1)), np.ones((1, 1, 1, 1)), padding=600)
    with pytest.raises(LimitError) as caught:
        evaluate(build_graph(spec))
    # PyTorch's output size: (H + 2·padding − K) / stride + 1 = 1201 per side.
    side = (1 + 2 * 600 - 1) // 1 + 1
    limit = DEFAULT_LIMITS.max_tensor_elements
    assert_details(caught.value, "tensor_elements", limit, actual=side * side)


def test_conv_window_limit_details_count_the_window_entries(monkeypatch):
    monkeypatch.setattr(engine.ops.conv, "MAX_WINDOW_ELEMENTS", 10)
    spec = conv_graph(np.ones((2, 4, 4)), np.ones((1, 2, 3, 3)))
    with pytest.raises(LimitError) as caught:
        evaluate(build_graph(spec))
    # 2×2 output positions, each window 2 channels × 3 × 3.
    assert_details(caught.value, "window_elements", 10, actual=(2 * 2) * (2 * 3 * 3))


def test_conv_arithmetic_limit_details_count_the_multiply_adds(monkeypatch):
    monkeypatch.setattr(engine.ops.conv, "MAX_MULTIPLY_ADDS", 50)
    spec = conv_graph(np.ones((2, 4, 4)), np.ones((3, 2, 3, 3)))
    with pytest.raises(LimitError) as caught:
        evaluate(build_graph(spec))
    # Each of 2×2 positions × 3 output channels sums 2 × 3 × 3 products.
    assert_details(caught.value, "multiply_adds", 50, actual=(2 * 2) * 3 * (2 * 3 * 3))


def test_matmul_limit_details_count_the_product():
    spec = graph(leaf("a", np.ones((1001, 1))), leaf("b", np.ones((1, 1001))),
                 node("f", "matmul", "a", "b"))  # fmt: skip
    with pytest.raises(LimitError) as caught:
        evaluate(build_graph(spec))
    limit = DEFAULT_LIMITS.max_tensor_elements
    assert_details(caught.value, "tensor_elements", limit, actual=1001 * 1001)


# --- layers: engine/layers.py ----------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, name",
    [
        ({"op": "conv2d", "kernel_size": MAXIMUM["kernel_size"] + 1}, "kernel_size"),
        ({"op": "conv2d", "kernel_size": 3, "stride": MAXIMUM["stride"] + 1}, "stride"),
        ({"op": "conv2d", "kernel_size": 3, "dilation": MAXIMUM["dilation"] + 1}, "dilation"),
        ({"op": "conv2d", "kernel_size": 3, "padding": MAXIMUM["padding"] + 1}, "padding"),
        ({"op": "conv2d", "kernel_size": 3, "out_channels": MAXIMUM["out_channels"] + 1},
         "out_channels"),
        ({"op": "linear", "out_features": MAXIMUM["out_features"] + 1}, "out_features"),
    ],
)  # fmt: skip
def test_layer_attribute_limit_details_name_the_attribute(layer, name):
    input_shape = (1, 8, 8) if layer["op"] == "conv2d" else (8,)
    with pytest.raises(LimitError) as caught:
        output_shape(layer, input_shape)
    assert_details(caught.value, name, MAXIMUM[name], actual=layer[name])


def test_layer_shape_limit_details_give_the_axis_size():
    with pytest.raises(LimitError) as caught:
        output_shape({"op": "flatten"}, [1, MAXIMUM["size"] + 7, 2])
    assert_details(caught.value, "axis_size", MAXIMUM["size"], actual=MAXIMUM["size"] + 7)


# --- gradient check: engine/gradcheck.py -----------------------------------------------------


def test_gradcheck_input_limit_details_count_the_input_elements():
    spec = graph(leaf("x", [0.5] * 65), node("f", "sum", "x"))
    with pytest.raises(LimitError) as caught:
        gradcheck(build_graph(spec))
    assert_details(caught.value, "checked_elements", engine.gradcheck.MAX_ELEMENTS, actual=65)


def test_gradcheck_sweep_limit_details_count_the_node_values(monkeypatch):
    monkeypatch.setattr(engine.gradcheck, "MAX_FORWARD_NODES", 10)
    spec = graph(leaf("x", [0.5, 1.5]), node("f", "sum", "x"))
    with pytest.raises(LimitError) as caught:
        gradcheck(build_graph(spec), steps=(1e-3, 1e-4))
    # Two passes (x ± h) per input element per step, each computing both nodes.
    assert_details(caught.value, "sweep_node_values", 10, actual=2 * 2 * 2 * 2)


# --- Newton, training and data: engine/hessian.py, engine/train.py, engine/datasets.py -------


def test_hessian_limit_details_count_the_parameters():
    count = MAX_HESSIAN_PARAMETERS + 1
    spec = graph(leaf("w", [0.0] * count), node("f", "sum", "w"))
    with pytest.raises(LimitError) as caught:
        hessian(build_graph(spec), ["w"])
    assert_details(caught.value, "hessian_parameters", MAX_HESSIAN_PARAMETERS, actual=count)


def test_newton_settings_limit_details_count_the_parameters():
    count = MAX_HESSIAN_PARAMETERS + 5
    with pytest.raises(LimitError) as caught:
        check_settings(TrainSettings(optimizer="newton"), rows=10, parameters=count)
    assert_details(caught.value, "hessian_parameters", MAX_HESSIAN_PARAMETERS, actual=count)


def test_training_step_limit_details_give_the_steps_asked_for():
    with pytest.raises(LimitError) as caught:
        check_settings(TrainSettings(steps=MAX_STEPS + 1), rows=10, parameters=3)
    assert_details(caught.value, "steps", MAX_STEPS, actual=MAX_STEPS + 1)


def test_training_time_limit_details_give_the_seconds_asked_for():
    asked = MAX_SECONDS + 0.5
    with pytest.raises(LimitError) as caught:
        check_settings(TrainSettings(max_seconds=asked), rows=10, parameters=3)
    assert_details(caught.value, "seconds", MAX_SECONDS, actual=asked)


def test_surface_path_limit_details_give_the_steps_asked_for():
    X, y = np.zeros((4, 1)), np.zeros(4)
    with pytest.raises(LimitError) as caught:
        loss_surface(X, y, steps=201)
    # The message states the range 1 to 200.
    details = assert_details(caught.value, "steps", 200, actual=201)
    assert details["minimum"] == 1


def test_surface_path_floor_details_give_the_minimum():
    X, y = np.zeros((4, 1)), np.zeros(4)
    with pytest.raises(LimitError) as caught:
        loss_surface(X, y, steps=0)
    assert caught.value.details == {"what": "steps", "limit": 200, "minimum": 1, "actual": 0}
    assert "1 to 200" in caught.value.message


def test_dataset_sample_limit_details_give_the_samples_asked_for():
    with pytest.raises(LimitError) as caught:
        two_moons(samples=MAX_SAMPLES + 1)
    assert_details(caught.value, "samples", MAX_SAMPLES, actual=MAX_SAMPLES + 1)


# --- the API: details travel in the error body -----------------------------------------------


def test_api_limit_error_body_carries_the_details(tmp_path):
    settings = Settings(
        limits=Limits(max_nodes=5),
        saves_per_minute=0,
        db_path=tmp_path / "graphs.sqlite3",
        database_url=None,
    )
    nodes = [leaf("x", 1.0)] + [node(f"n{i}", "neg", "x") for i in range(5)]
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post(
            "/api/evaluate", json={"schema_version": 1, "nodes": nodes, "output": "n0"}
        )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "limit_exceeded"
    assert error["details"] == {"what": "nodes", "limit": 5, "actual": len(nodes)}


# --- the class: one shape for every limit ----------------------------------------------------


def test_limit_error_details_keep_what_limit_actual_order_then_extras():
    plain = LimitError("too many", what="nodes", limit=5, actual=6)
    floored = LimitError("too few", what="steps", limit=200, actual=0, minimum=1)

    # Compared as item lists: the order is part of the JSON bytes the API sends.
    plain_expected = {"what": "nodes", "limit": 5, "actual": 6}
    floored_expected = {"what": "steps", "limit": 200, "actual": 0, "minimum": 1}
    assert list(plain.to_dict()["details"].items()) == list(plain_expected.items())
    assert list(floored.to_dict()["details"].items()) == list(floored_expected.items())
    assert plain.to_dict()["code"] == floored.to_dict()["code"] == "limit_exceeded"


@pytest.mark.parametrize(
    "value", [np.zeros((1,) * 5), [[[[[0.0]]]]]], ids=["ndarray from Python", "nested lists"]
)
def test_tensor_dims_details(value):
    small = Limits(max_tensor_dims=4)
    with pytest.raises(LimitError) as raised:
        build_graph(graph(leaf("x", value), node("f", "exp", "x")), small)
    # 5 dimensions, one past the limit of 4: the walk stops there.
    assert raised.value.details == {"what": "tensor_dims", "limit": 4, "actual": 5}


def test_tensor_dims_of_an_op_output_name_the_node():
    small = Limits(max_tensor_dims=4)
    spec = graph(leaf("x", [1.0, 2.0]), node("f", "reshape", "x", shape=[1, 1, 1, 1, 1, 2]))
    with pytest.raises(LimitError) as raised:
        evaluate(build_graph(spec, small), limits=small)
    assert raised.value.details == {"what": "tensor_dims", "limit": 4, "actual": 6}
    assert raised.value.node_ids == ["f"]
