"""The forward and backward passes on the course's examples and the classic traps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import LimitError
from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.limits import Limits


def graph(*nodes, output):
    return build_graph({"nodes": list(nodes), "output": output})


def leaf(node_id, value, op="input"):
    return {"id": node_id, "op": op, "value": value}


def node(node_id, op, *inputs, **extra):
    return {"id": node_id, "op": op, "inputs": list(inputs), **extra}


COURSE_ADD_MUL = (
    leaf("x", -2), leaf("y", 5), leaf("z", -4),
    node("q", "add", "x", "y"), node("f", "mul", "q", "z"),
)  # fmt: skip


def test_evaluate_reproduces_the_course_forward_and_backward_pass():
    # Section 2.4 of the course: q = 3, f = -12, df/dq = -4, df/dz = 3, df/dx = df/dy = -4.
    evaluation = evaluate(graph(*COURSE_ADD_MUL, output="f"))
    assert evaluation.values["q"] == 3 and evaluation.values["f"] == -12
    assert evaluation.grads == {"f": 1, "q": -4, "z": 3, "x": -4, "y": -4}


def test_evaluate_edge_carries_upstream_local_downstream():
    evaluation = evaluate(graph(*COURSE_ADD_MUL, output="f"))
    edge = next(e for e in evaluation.edges if e.source == "y")
    # The course's worked step: dq/dy = 1, upstream df/dq = -4, so df/dy = 1 × -4.
    assert (edge.upstream, edge.local, edge.downstream) == (-4, 1, -4)


def test_evaluate_orders_backward_as_reverse_of_forward():
    evaluation = evaluate(graph(*COURSE_ADD_MUL, output="f"))
    assert evaluation.backward_order == list(reversed(evaluation.forward_order))


def test_evaluate_sigmoid_neuron_matches_course_to_two_places():
    nodes = (
        leaf("w0", 2), leaf("x0", -1), leaf("w1", -3), leaf("x1", -2), leaf("w2", -3),
        node("p0", "mul", "w0", "x0"), node("p1", "mul", "w1", "x1"),
        node("s0", "add", "p0", "p1"), node("s", "add", "s0", "w2"),
        node("n", "neg", "s"), node("e", "exp", "n"), leaf("one", 1, op="const"),
        node("d", "add", "e", "one"), node("f", "reciprocal", "d"),
    )  # fmt: skip
    evaluation = evaluate(graph(*nodes, output="f"))
    assert round(float(evaluation.values["f"]), 2) == 0.73
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    assert {k: round(float(evaluation.grads[k]), 2) for k in expected} == expected


def test_grad_adds_up_when_value_is_reused_by_one_node():
    evaluation = evaluate(graph(leaf("x", 3.0), node("f", "mul", "x", "x"), output="f"))
    edges = [e for e in evaluation.edges if e.target == "f"]
    assert [e.input_index for e in edges] == [0, 1]
    assert [e.downstream for e in edges] == [3.0, 3.0]
    assert evaluation.grads["x"] == 6.0  # d(x²)/dx = 2x


def test_grad_adds_up_when_inner_node_is_used_twice():
    # b = a + a, c = b + b: a recursive walk that re-visits b per use gets 8, not 4.
    evaluation = evaluate(
        graph(leaf("a", 1.0), node("b", "add", "a", "a"), node("c", "add", "b", "b"), output="c")
    )
    assert evaluation.values["c"] == 4.0
    assert evaluation.grads["a"] == 4.0


def test_backward_twice_gives_the_same_numbers():
    built = graph(*COURSE_ADD_MUL, output="f")
    first, second = evaluate(built), evaluate(built)
    assert first.grads == second.grads
    assert [e.downstream for e in first.edges] == [e.downstream for e in second.edges]


def test_nonfinite_value_is_flagged_at_the_first_node_that_made_it():
    evaluation = evaluate(
        graph(leaf("x", -3.0), node("l", "log", "x"), node("f", "exp", "l"), output="f")
    )
    assert math.isnan(evaluation.values["f"])
    assert evaluation.first_nonfinite == "l"
    warning = next(w for w in evaluation.warnings if w.node == "l")
    assert "log of -3" in warning.message
    assert not any(w.node == "f" and w.code == "nonfinite_value" for w in evaluation.warnings)


def test_division_by_zero_is_flagged_not_raised():
    evaluation = evaluate(graph(leaf("x", 1.0), leaf("y", 0.0), node("f", "div", "x", "y"),
                                output="f"))  # fmt: skip
    assert evaluation.values["f"] == math.inf
    assert "division by zero" in evaluation.warnings[0].message
    assert evaluation.grads["y"] == -math.inf


def test_evaluate_starts_from_given_grad_output():
    evaluation = evaluate(graph(*COURSE_ADD_MUL, output="f"), grad_output=2.0)
    assert evaluation.grads["x"] == -8.0


def test_tensor_output_backward_starts_from_ones_and_says_so():
    evaluation = evaluate(graph(leaf("x", [1.0, 2.0]), node("f", "exp", "x"), output="f"))
    np.testing.assert_allclose(evaluation.grads["x"], np.exp([1.0, 2.0]))
    assert evaluation.notes and "sum" in evaluation.notes[0]


def test_tensor_limit_per_graph_is_enforced():
    limits = Limits(max_graph_elements=5)
    built = build_graph(
        {"nodes": [leaf("x", [1.0, 2.0, 3.0]), node("a", "exp", "x"), node("f", "exp", "a")],
         "output": "f"}, limits)  # fmt: skip
    with pytest.raises(LimitError) as caught:
        evaluate(built, limits=limits)
    assert caught.value.node_ids == ["f"]


def test_time_limit_stops_a_long_evaluation():
    limits = Limits(max_seconds=0.0)
    with pytest.raises(LimitError) as caught:
        evaluate(graph(*COURSE_ADD_MUL, output="f"), limits=limits)
    assert "longer than" in caught.value.message
