"""Building and ordering graphs: every malformed graph is an error that names its nodes."""

from __future__ import annotations

import pytest

from engine.errors import GraphError, LimitError
from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.limits import Limits


def leaf(node_id, value=1.0, op="input"):
    return {"id": node_id, "op": op, "value": value}


def node(node_id, op, *inputs):
    return {"id": node_id, "op": op, "inputs": list(inputs)}


def test_graph_order_puts_inputs_before_their_consumers():
    graph = build_graph(
        {
            "nodes": [
                node("f", "mul", "q", "z"),
                node("q", "add", "x", "y"),
                leaf("x"),
                leaf("y"),
                leaf("z"),
            ],
            "output": "f",
        }  # fmt: skip
    )
    position = {node_id: i for i, node_id in enumerate(graph.order)}
    assert position["q"] < position["f"] and position["x"] < position["q"]
    assert position["z"] < position["f"]


def test_graph_cycle_is_an_error_naming_its_nodes():
    with pytest.raises(GraphError) as caught:
        build_graph({"nodes": [leaf("c"), node("a", "add", "b", "c"), node("b", "mul", "a", "c")],
                     "output": "a"})  # fmt: skip
    assert caught.value.code == "cycle"
    assert set(caught.value.node_ids) == {"a", "b"}
    assert "cycle" in caught.value.message


def test_graph_self_loop_is_a_cycle():
    with pytest.raises(GraphError) as caught:
        build_graph({"nodes": [node("a", "add", "a", "c"), leaf("c")], "output": "a"})
    assert caught.value.code == "cycle" and caught.value.node_ids == ["a"]


@pytest.mark.parametrize(
    ("nodes", "code", "named"),
    [
        ([leaf("x"), {"id": "f", "op": "frobnicate", "inputs": ["x"]}], "unknown_op", ["f"]),
        ([leaf("x"), node("f", "add", "x")], "wrong_arity", ["f"]),
        ([leaf("x"), node("f", "exp", "x", "x")], "wrong_arity", ["f"]),
        ([leaf("x"), node("f", "add", "x", "w")], "undefined_input", ["f", "w"]),
        ([leaf("x"), leaf("x"), node("f", "exp", "x")], "duplicate_id", ["x"]),
        ([{"id": "x", "op": "input"}, node("f", "exp", "x")], "missing_value", ["x"]),
        ([leaf("x", [[1, 2], [3]]), node("f", "exp", "x")], "bad_value", ["x"]),
        ([leaf("x", True), node("f", "exp", "x")], "bad_value", ["x"]),
    ],
)
def test_graph_malformed_is_an_error_naming_the_node(nodes, code, named):
    with pytest.raises(GraphError) as caught:
        build_graph({"nodes": nodes, "output": "f"})
    assert caught.value.code == code
    assert caught.value.node_ids == named
    assert all(name in caught.value.message for name in named)


def test_graph_unknown_output_is_an_error():
    with pytest.raises(GraphError) as caught:
        build_graph({"nodes": [leaf("x")], "output": "nope"})
    assert caught.value.code == "missing_output"


def test_graph_node_limit_is_enforced():
    nodes = [leaf(f"x{i}") for i in range(11)]
    with pytest.raises(LimitError) as caught:
        build_graph({"nodes": nodes, "output": "x0"}, Limits(max_nodes=10))
    assert "10" in caught.value.message


def test_graph_chain_of_100000_nodes_needs_no_recursion():
    # Each step adds 1, so the output and every gradient are known without the engine.
    nodes = [leaf("n0", 0.0), leaf("one", 1.0, op="const")]
    nodes += [node(f"n{i}", "add", f"n{i - 1}", "one") for i in range(1, 100_000)]
    evaluation = evaluate(build_graph({"nodes": nodes, "output": "n99999"}))
    assert evaluation.values["n99999"] == 99_999.0
    assert evaluation.grads["n0"] == 1.0
    assert evaluation.grads["one"] is None
