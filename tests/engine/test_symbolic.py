"""The symbolic differentiator and expression swell, with sizes counted by hand.

Size is the number of nodes of a formula written out as a tree (numbers, variables and ops
each count 1). The rules: d σ(u) = σ(u)·(1 − σ(u))·du, the product rule for mul, d(a − b) =
da − db written as 1·da + (−1)·db, and only 0/1 identities and number arithmetic folded.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import EngineError
from engine.evaluate import evaluate
from engine.graph import build_graph
from engine.hessian import gradient_graph
from engine.ops import OPS
from engine.swell import family_graph, swell_rows
from engine.symbolic import (
    FROZEN,
    PARTIAL_RULES,
    apply,
    differentiate,
    instantiate,
    num,
    to_text,
    value_of,
    var,
)


def derivative(family: str, depth: int, x: float = 0.3):
    return differentiate(build_graph(family_graph(family, depth, x)), "x")


def test_composition_sizes_counted_by_hand():
    # depth 1: σ(x)·(1 − σ(x)), the chain's ·1 folded away:
    #   mul, σ, x, sub, 1, σ, x = 7
    # depth 2: [σ₂·(1 − σ₂)]·D₁ with σ₂ = σ(σ(x)) of 3 nodes:
    #   mul + (mul + 3 + sub + 1 + 3) + 7 = 1 + 9 + 7 = 17
    # depth 3: 1 + (1 + 4 + 1 + 1 + 4) + 17 = 29
    sizes = [derivative("composition", k).derivative_size for k in (1, 2, 3)]

    assert sizes == [7, 17, 29]


def test_product_sizes_counted_by_hand():
    # f₁ = (4·x)·(1 − x): 7 nodes. d(4·x) = 4 (folded), d(1 − x) = −1 (folded), so
    # f₁' = (1 − x)·4 + (4·x)·(−1): add + (mul, sub, 1, x, 4) + (mul, mul, 4, x, −1) = 11.
    # f₂' = (1 − f₁)·(4·f₁') + (4·f₁)·((−1)·f₁'), with f₁ of 7 and f₁' of 11 nodes:
    #   1 + [1 + (2 + 7) + (2 + 11)] + [1 + (2 + 7) + (2 + 11)] = 47
    first, second = derivative("product", 1), derivative("product", 2)

    assert (first.function_size, first.derivative_size) == (7, 11)
    assert (second.function_size, second.derivative_size) == (19, 47)


def test_product_sizes_follow_the_hand_recurrence_to_depth_12():
    # From the count above, for k ≥ 2: S_k = 5 + 2·S_(k−1) and D_k = 11 + 2·S_(k−1) + 2·D_(k−1).
    expected, function_size, derivative_size = [11], 7, 11
    for _ in range(2, 13):
        function_size, derivative_size = (
            5 + 2 * function_size,
            11 + 2 * function_size + 2 * derivative_size,
        )
        expected.append(derivative_size)

    rows = swell_rows("product", 12, text_up_to=0)

    assert [row.symbolic_size for row in rows] == expected


def test_composition_sizes_follow_the_hand_recurrence_to_depth_12():
    # D_k = 4 + 2·S_k + D_(k−1) with S_k = k + 1 (x and k sigmoids), from D_1 = 7.
    expected = [7]
    for k in range(2, 13):
        expected.append(4 + 2 * (k + 1) + expected[-1])

    rows = swell_rows("composition", 12, text_up_to=0)

    assert [row.symbolic_size for row in rows] == expected


def test_written_out_derivative_of_depth_one_reads_as_the_rule():
    assert to_text(derivative("composition", 1).derivative) == "sigmoid(x)·(1 − sigmoid(x))"
    assert to_text(derivative("product", 1).derivative) == "(1 − x)·4 + 4·x·(−1)"


def test_autodiff_node_counts_by_hand():
    # composition, depth k: forward x + k sigmoids; backward: the seed 1 (also the 1 of
    # 1 − out), then per sigmoid sub(1, out), mul(out, ·), mul(upstream, ·): 4k + 2 in all.
    # product, depth k: forward x, 4, 1 + 3 per level; backward: the seed, then per level
    # mul(u, r), mul(u, m), neg for 1 − f, mul by 4, add of the two paths: 8k + 4 in all.
    rows = {family: swell_rows(family, 3) for family in ("composition", "product")}

    assert [r.autodiff_nodes for r in rows["composition"]] == [6, 10, 14]
    assert [r.autodiff_nodes for r in rows["product"]] == [12, 20, 28]


def test_product_swell_outgrows_autodiff():
    rows = swell_rows("product", 12, text_up_to=0)

    growth = [
        later.symbolic_size / row.symbolic_size for row, later in zip(rows, rows[1:], strict=False)
    ]
    autodiff_steps = {
        later.autodiff_nodes - row.autodiff_nodes
        for row, later in zip(rows, rows[1:], strict=False)
    }
    assert all(g > 2 for g in growth[3:])
    assert autodiff_steps == {8}
    assert rows[-1].symbolic_size > 1000 * rows[-1].autodiff_nodes


def test_sharing_subexpressions_keeps_the_derivative_small():
    rows = swell_rows("product", 12, text_up_to=0)

    assert rows[-1].symbolic_shared < 2 * rows[-1].autodiff_nodes


@pytest.mark.parametrize("depth", [1, 2, 5, 8])
def test_symbolic_derivative_of_logistic_map_has_the_right_value(depth):
    # By hand: f_k = 4 f_{k−1}(1 − f_{k−1}), so f_k' = 4 (1 − 2 f_{k−1}) f_{k−1}'.
    x = 0.3
    f, slope = x, 1.0
    for _ in range(depth):
        f, slope = 4 * f * (1 - f), 4 * (1 - 2 * f) * slope

    result = derivative("product", depth, x)

    assert value_of(result.derivative, {"x": x}) == pytest.approx(slope, rel=1e-12)
    assert value_of(result.function, {"x": x}) == pytest.approx(f, rel=1e-12)


def test_symbolic_derivative_of_nested_sigmoids_has_the_right_value():
    x, value, slope = 0.3, 0.3, 1.0
    for _ in range(4):
        value = 1 / (1 + math.exp(-value))
        slope *= value * (1 - value)

    result = derivative("composition", 4, x)

    assert value_of(result.derivative, {"x": x}) == pytest.approx(slope, rel=1e-12)


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.is_elementwise))
def test_every_scalar_op_has_a_partial_rule_equal_to_its_partials(name):
    op = OPS[name]
    args = [np.float64(0.7), np.float64(1.3)][: len(op.arg_names)]
    out = op.forward(*args)
    names = {arg: var(arg) for arg in op.arg_names}
    names["out"] = var("out")
    variables = {**dict(zip(op.arg_names, args, strict=True)), "out": out}

    for index, rule in enumerate(PARTIAL_RULES[name]):
        if rule == FROZEN:
            continue  # evaluated by the op's own partial; nothing separate to compare
        formula = instantiate(rule, names, name, index)
        assert value_of(formula, variables) == pytest.approx(op.partials[index](*args, out))


def test_gradient_graph_reproduces_autodiff_gradients():
    graph = build_graph(family_graph("product", 3, 0.3))
    nodes, grad_ids, _ = gradient_graph(graph, ["x"])

    both = evaluate(build_graph({"nodes": nodes, "output": grad_ids["x"]}), with_local=False)
    direct = evaluate(graph, with_local=False)

    assert both.values[grad_ids["x"]] == pytest.approx(direct.grads["x"], rel=1e-14)


def test_numbers_fold_into_one_number():
    assert apply("mul", num(2), num(3)).number == 6
    assert apply("mul", var("x"), num(1)).op == "var"
    assert apply("add", num(0), var("x")).op == "var"


def test_differentiate_refuses_a_tensor_graph():
    spec = {
        "nodes": [
            {"id": "x", "op": "input", "value": [1.0, 2.0]},
            {"id": "f", "op": "sum", "inputs": ["x"]},
        ],
        "output": "f",
    }

    with pytest.raises(EngineError) as caught:
        differentiate(build_graph(spec), "x")

    assert caught.value.code == "unsupported_op"
