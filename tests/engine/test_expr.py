"""The expression parser, checked through build_graph and evaluate against independent truths.

Truths used: the course notes' numbers, the reference cases (PyTorch float64), Python's own
arithmetic on literal numbers, numpy for tensor literals, and PyTorch autograd on random trees
rendered to text by an independent printer.
"""

from __future__ import annotations

import builtins
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import engine.expr
from engine.errors import EngineError, LimitError, ParseError
from engine.evaluate import evaluate
from engine.expr import graph_to_expression, parse
from engine.graph import build_graph
from engine.limits import Limits
from engine.ops import OPS, Attr, Op
from tests.conftest import cases_of_kind

PWNED = Path("/tmp/pwned")
SYNTAX_CODES = {"syntax_error", "forbidden_syntax", "unknown_function", "unsupported_operator"}
BIG = Limits(max_expression_chars=2_000_000, max_nodes=1_000_000)


def run(text, inputs=None, limits=None):
    """Parse, build and evaluate; returns (graph dict, evaluation)."""
    limits = limits or Limits()
    graph = parse(text, inputs, limits)
    return graph, evaluate(build_graph(graph, limits), limits=limits)


def output_of(text, inputs=None):
    graph, evaluation = run(text, inputs)
    return evaluation.values[graph["output"]]


def parse_error(text, inputs=None, limits=None, kind=ParseError):
    with pytest.raises(kind) as caught:
        parse(text, inputs, limits or Limits())
    return caught.value


def node_by_id(graph):
    return {node["id"]: node for node in graph["nodes"]}


# -- the course's numbers -----------------------------------------------------------------


def test_parse_course_sum_times_product_gives_course_grads():
    graph, evaluation = run("q = x + y\nf = q * z", {"x": -2, "y": 5, "z": -4})

    assert graph["output"] == "f"
    assert evaluation.values["q"] == 3
    assert evaluation.values["f"] == -12
    assert [evaluation.grads[name] for name in "xyz"] == [-4, -4, 3]


def test_parse_unary_minus_binds_looser_than_power():
    graph, evaluation = run("-x**2", {"x": 3.0})
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    truth = -(x**2)
    truth.backward()

    assert evaluation.values[graph["output"]] == truth.item() == -9
    assert evaluation.grads["x"] == x.grad.item() == -6


@pytest.mark.parametrize("case", cases_of_kind("scalar"), ids=lambda case: case["id"])
def test_parse_scalar_case_matches_reference(case):
    graph, evaluation = run(case["expression"], case["inputs"])
    tolerance = case["tolerance"]
    expected = case["expected"]

    output = evaluation.values[graph["output"]]
    assert math.isclose(output, float(expected["output"]), **_tol(tolerance))
    for name, grad in expected["grads"].items():
        assert math.isclose(evaluation.grads[name], float(grad), **_tol(tolerance)), name


def _tol(tolerance):
    return {"rel_tol": tolerance["rtol"], "abs_tol": tolerance["atol"]}


# -- precedence and literals --------------------------------------------------------------

# Each truth is Python evaluating the same text, written out here as Python code.
PRECEDENCE = [
    ("2 - 3 - 4", 2 - 3 - 4),
    ("2 ** 3 ** 2", 2**3**2),
    ("-2 ** 2", -(2**2)),
    ("2 ** -1", 2**-1),
    ("-2 ** -2", -(2**-2)),
    ("2 ** -2 ** 2", 2 ** -(2**2)),
    ("2 * 3 + 4", 2 * 3 + 4),
    ("2 + 3 * 4", 2 + 3 * 4),
    ("(2 + 3) * 4", (2 + 3) * 4),
    ("2 / 4 / 8", 2 / 4 / 8),
    ("8 / 2 * 4", 8 / 2 * 4),
    ("2 * -3 ** 2", 2 * -(3**2)),
    ("- - 3", -(0 - 3)),
    ("+3 - -2", 3 - (-2)),
    ("1 - 2 + 3", 1 - 2 + 3),
    ("(-2) ** 2", (-2) ** 2),
    ("2 ** 0.5 * 2", 2**0.5 * 2),
    ("1e-3 + .5 + 2.5E+4 + 3.", 1e-3 + 0.5 + 2.5e4 + 3.0),
]


@pytest.mark.parametrize(("text", "truth"), PRECEDENCE, ids=[text for text, _ in PRECEDENCE])
def test_parse_precedence_matches_python(text, truth):
    assert output_of(text) == pytest.approx(truth, rel=1e-15)


def test_parse_number_in_expression_becomes_labelled_const():
    graph = parse("1 + x", {"x": 2.0})
    const = next(node for node in graph["nodes"] if node["op"] == "const")

    assert const["value"] == 1
    assert const["label"] == "1"


def test_parse_minus_on_literal_folds_into_one_const():
    graph = parse("x * -2", {"x": 2.0})
    ops = [node["op"] for node in graph["nodes"]]
    const = next(node for node in graph["nodes"] if node["op"] == "const")

    assert "neg" not in ops
    assert (const["value"], const["label"]) == (-2, "-2")


def test_parse_definition_with_literal_makes_input():
    graph = parse("x = -2\ny = 3.5\nx * y")
    nodes = node_by_id(graph)

    assert nodes["x"] == {"id": "x", "op": "input", "value": -2}
    assert nodes["y"]["value"] == 3.5


def test_parse_tensor_literal_matches_numpy_across_lines():
    graph, evaluation = run("W = [[1, 2],\n     [3, -4]]\nW * 2")
    truth = np.array([[1, 2], [3, -4]], dtype=np.float64) * 2

    assert np.array_equal(evaluation.values[graph["output"]], truth)
    assert node_by_id(graph)["W"]["op"] == "input"


def test_parse_ragged_tensor_literal_points_at_it():
    error = parse_error("x = 1\nW = [[1, 2], [3]]")

    assert (error.code, error.line, error.column) == ("bad_value", 2, 5)
    assert "rectangular" in error.message


def test_parse_tensor_literal_refuses_names():
    error = parse_error("[x, 2]", {"x": 1})

    assert (error.line, error.column) == (1, 2)
    assert "only numbers" in error.message


# -- names, statements and comments ----------------------------------------------------------


def test_parse_definition_names_the_node_it_makes():
    graph = parse("q = x + y\nf = q * z", {"x": 1, "y": 2, "z": 3})
    nodes = node_by_id(graph)

    assert nodes["q"]["op"] == "add" and nodes["q"]["inputs"] == ["x", "y"]
    assert nodes["f"]["inputs"] == ["q", "z"]


def test_parse_definition_of_a_name_is_an_alias():
    graph = parse("a = x\na * 2", {"x": 1.0})
    nodes = node_by_id(graph)
    product = nodes[graph["output"]]

    assert "a" not in nodes
    assert product["inputs"][0] == "x"


def test_parse_made_up_ids_never_collide_with_names():
    text = "add1 = 2\nc1 = 3\nneg1 = add1 + c1 + 4\n-neg1 + add1 * 5"
    graph, evaluation = run(text)
    ids = [node["id"] for node in graph["nodes"]]

    assert len(ids) == len(set(ids))
    assert evaluation.values[graph["output"]] == -(2 + 3 + 4) + 2 * 5


def test_parse_comments_semicolons_and_blank_lines():
    text = "# a neuron\nx = 2  # input\n\n;; y = 3; x * y  # product\n"

    assert output_of(text) == 2 * 3


def test_parse_inputs_fill_free_names_and_override_literals():
    graph = parse("x = 1\nx * y", {"x": 5, "y": 7})
    _, evaluation = run("x = 1\nx * y", {"x": 5, "y": 7})

    assert node_by_id(graph)["x"]["value"] == 5
    assert evaluation.values[graph["output"]] == 35


def test_parse_redefinition_points_at_the_second():
    error = parse_error("x = 1\ny = 2\nx = 3")

    assert (error.code, error.line, error.column) == ("redefined", 3, 1)


def test_parse_use_before_definition_is_reported():
    error = parse_error("a = b + c; b = a * c", {"c": 2.0})

    assert (error.code, error.line, error.column) == ("undefined_variable", 1, 5)
    assert "'b'" in error.message and "before" in error.message


def test_parse_unused_statement_is_reported():
    error = parse_error("x + 1\nx * 2", {"x": 1})

    assert (error.code, error.line) == ("unused_expression", 1)


def test_parse_empty_text_is_an_error():
    error = parse_error("  # nothing\n\n")

    assert error.code == "empty_expression"


# -- errors and their positions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("x = 1\ny = x + )", 2, 9, "unexpected ')' at line 2, column 9"),
        ("x = 1\n\ny = (x + 2", 3, 11, "opened at line 3, column 5"),
        ("x = 1\ny = exp(x\nz = 2", 3, 1, "opened at line 2, column 8"),
        ("q = (x +\n  2 * w)", 2, 7, "'w'"),
        ("q = x +\n  2 * w", 1, 8, "a value is missing after '+'"),
        ("x = 1\ny = 2 *", 2, 8, "a value is missing after '*'"),
        ("x = 1\n  x ** 2 ^ 3", 2, 10, "'^'"),
    ],
)
def test_parse_error_points_at_line_and_column(text, line, column, words):
    error = parse_error(text, {"x": 1.0})

    assert (error.line, error.column) == (line, column)
    assert words in error.message
    assert error.to_dict()["line"] == line


def test_parse_undefined_variable_names_it():
    error = parse_error("x + y", {"x": 1.0})

    assert (error.code, error.line, error.column) == ("undefined_variable", 1, 5)
    assert "y" in error.message and "y = 1" in error.message


def test_parse_unknown_function_lists_the_allowed_ones():
    error = parse_error("frobnicate(x) + 1", {"x": 1.0})
    listed = error.message.split("functions are:")[1]

    assert error.code == "unknown_function"
    assert "frobnicate" in error.message
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs", "max", "min", "zeros"):
        assert re.search(rf"\b{name}\b", listed), name


def test_parse_arity_is_checked():
    assert parse_error("exp(x, x)", {"x": 1}).code == "wrong_arity"
    assert parse_error("max(x)", {"x": 1}).code == "wrong_arity"


def test_parse_call_of_an_expression_is_forbidden():
    for text in ("(x)(1)", "exp(x)(x)"):
        error = parse_error(text, {"x": 1})
        assert error.code == "forbidden_syntax", text


PARSE_ERROR_CASES = [
    case
    for case in cases_of_kind("error")
    if case["expected"]["error"]["category"]
    in ("unknown_function", "undefined_variable", "syntax_or_forbidden")
]


@pytest.mark.parametrize("case", PARSE_ERROR_CASES, ids=lambda case: case["id"])
def test_parse_error_case_is_refused_with_its_words(case):
    expected = case["expected"]["error"]
    texts = [case["expression"], *case.get("variants", [])]

    for text in texts:
        error = parse_error(text, case["inputs"])
        message = error.message.lower()
        if expected["category"] == "syntax_or_forbidden":
            assert error.code in SYNTAX_CODES, text
        else:
            assert error.code == expected["category"], text
        assert error.line is not None and error.column is not None, text
        assert all(word.lower() in message for word in expected.get("message_all") or [])
        assert any(word in message for word in expected.get("message_any") or [""]), text
        assert all(word in message for word in expected.get("should_list_allowed") or [])
    assert not PWNED.exists()


ATTACKS = [
    "__import__('os').system('touch /tmp/pwned')",
    "exp.__globals__",
    "x.__class__.__mro__",
    "eval(\"__import__('os')\")",
    "exec('import os')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "(lambda: 1)()",
    "[c for c in ().__class__.__bases__]",
    "x if True else y",
    "import os",
    "from os import system",
    "x := 1",
    "x == 1",
    "{'a': 1}",
    "x[0:1]",
    'f"{x}"',
    "b'x'",
    "print('hi')",
    "x; del x",
    "x or y",
    "not x",
    "x.real",
    "1 .real",
    "exp(x)[0]",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_parse_code_execution_attempt_is_refused(text):
    error = parse_error(text, {"x": 1.0, "y": 2.0})

    assert error.code in SYNTAX_CODES
    assert error.line is not None
    assert not PWNED.exists()


def test_parse_never_calls_eval_exec_or_compile(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the parser called eval, exec or compile")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse)
    parse("q = sigmoid(x * -2 + ones(2)) @ eye(2); q ** 2", {"x": 1.0})
    for text in ATTACKS:
        with pytest.raises(ParseError):
            parse(text, {"x": 1.0, "y": 2.0})


def test_parse_module_does_not_use_python_evaluation():
    source = Path(engine.expr.__file__).read_text()

    assert not re.search(r"\b(eval|exec)\s*\(", source)
    assert not re.search(r"(?<!re\.)\bcompile\s*\(", source)
    assert not re.search(r"^\s*(import ast|from ast\b)", source, re.MULTILINE)


# -- limits and long or deep inputs -----------------------------------------------------------


def test_parse_flat_chain_of_100000_terms():
    text = "x" + " + x" * 99_999
    graph = parse(text, {"x": 0.5}, BIG)
    evaluation = evaluate(build_graph(graph, BIG), limits=BIG, with_local=False)

    assert len(graph["nodes"]) == 100_000
    assert evaluation.values[graph["output"]] == 100_000 * 0.5
    assert evaluation.grads["x"] == 100_000


def test_parse_long_right_associative_power_chain():
    graph = parse("x" + " ** 1" * 50_000, {"x": 3.0}, BIG)

    assert len(graph["nodes"]) == 1 + 2 * 50_000
    assert node_by_id(graph)[graph["output"]]["inputs"][0] == "x"


def test_parse_200_nested_parentheses():
    limit = Limits().max_nesting_depth
    text = "(" * limit + "x * 2" + ")" * limit

    assert output_of(text, {"x": 1.5}) == 1.5 * 2


def test_parse_200_unary_minus_signs():
    signs = Limits().max_nesting_depth

    assert output_of("-" * signs + "x", {"x": 1.5}) == (-1) ** signs * 1.5


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("(" * 201 + "x" + ")" * 201, 201),
        ("-" * 201 + "x", 201),
        ("[" * 201 + "1" + "]" * 201, 201),
        ("exp(" * 201 + "x" + ")" * 201, len("exp(" * 201)),
        ("(" * 100_000, 201),
    ],
    ids=["parentheses", "minus", "brackets", "calls", "unclosed"],
)
def test_parse_nesting_past_the_limit_is_refused(text, column):
    error = parse_error(text, {"x": 1.0}, BIG, kind=LimitError)

    assert error.code == "limit_exceeded"
    assert "max_nesting_depth" in error.message
    assert (error.line, error.column) == (1, column)


def test_parse_text_longer_than_the_limit_is_refused():
    error = parse_error("x + y + z", limits=Limits(max_expression_chars=8), kind=LimitError)

    assert error.code == "limit_exceeded"
    assert "8" in error.message and "max_expression_chars" in error.message


def test_parse_too_many_nodes_is_refused():
    error = parse_error("x + x + x + x", {"x": 1}, Limits(max_nodes=3), kind=LimitError)

    assert error.code == "limit_exceeded"
    assert "max_nodes" in error.message
    assert error.line == 1


def test_parse_tensor_too_large_is_refused():
    small = Limits(max_tensor_elements=3)

    assert parse_error("[1, 2, 3, 4]", limits=small, kind=LimitError).column == 1
    assert parse_error("x = 1\nzeros(2, 2)", limits=small, kind=LimitError).line == 2


# -- calls, keywords, constructors, composites ------------------------------------------------


def test_parse_keyword_values_become_attrs(monkeypatch):
    attrs = (
        Attr("mode", "str", "valid", "test"),
        Attr("sizes", "ints", None, "test"),
        Attr("factor", "float", 1.0, "test"),
        Attr("flag", "bool", True, "test"),
    )
    op = Op("scaled", "test", ("a",), "s", "$a", ("1",), forward=lambda a, **kw: a, attrs=attrs)
    monkeypatch.setitem(OPS, "scaled", op)

    text = "scaled(x, mode='same', sizes=(1, -2), factor=-.5, flag=False)"
    node = node_by_id(parse(text, {"x": 1}))["scaled1"]

    assert node["attrs"] == {"mode": "same", "sizes": [1, -2], "factor": -0.5, "flag": False}
    assert parse_error("scaled(x, flag=1)", {"x": 1}).code == "bad_attribute"
    assert parse_error("scaled(x, sizes=[1.5])", {"x": 1}).code == "bad_attribute"
    assert parse_error("scaled(x, flag=True, flag=True)", {"x": 1}).column == 22
    assert parse_error("scaled(flag=True, x)", {"x": 1}).code == "syntax_error"


def test_parse_reduction_keywords_match_numpy():
    graph, evaluation = run("W = [[1, 2], [3, 4]]\nsum(W, axis=0, keepdims=True)")
    truth = np.sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0, keepdims=True)

    assert np.array_equal(evaluation.values[graph["output"]], truth)


def test_parse_unknown_keyword_lists_the_known_ones():
    error = parse_error("sum(x, axes=0)", {"x": [1.0, 2.0]})

    assert (error.code, error.column) == ("unknown_attribute", 8)
    assert "axis" in error.message and "keepdims" in error.message


def test_parse_strings_only_as_keyword_values():
    error = parse_error("x * 'two'", {"x": 1})

    assert (error.code, error.column) == ("forbidden_syntax", 5)


def test_parse_constructors_match_numpy():
    normal = np.random.default_rng(7).standard_normal((3, 4))

    assert np.array_equal(output_of("a = zeros(2, 3)\na"), np.zeros((2, 3)))
    assert np.array_equal(output_of("ones(2) * 3"), np.ones(2) * 3)
    assert np.array_equal(output_of("randn(3, 4, seed=7) * 1"), normal)
    assert np.array_equal(output_of("e = eye(3)\ne"), np.eye(3))
    assert np.array_equal(output_of("onehot(2, 4) * 1"), np.eye(4)[2])


def test_parse_constructor_as_definition_is_an_input():
    graph = parse("W = ones(2, 2)\nW * 3")
    nodes = node_by_id(graph)

    assert nodes["W"]["op"] == "input"
    assert nodes["W"]["value"] == np.ones((2, 2)).tolist()


@pytest.mark.parametrize(
    "text", ["zeros(n)", "zeros(2.5)", "zeros(0)", "onehot(3, 3)", "eye()", "randn(2, s=1)"]
)
def test_parse_constructor_with_bad_sizes_is_refused(text):
    error = parse_error(text, {"n": 2})

    assert error.line == 1
    assert error.code in ("syntax_error", "bad_argument", "unknown_attribute")


def test_parse_matmul_operator_follows_the_registry():
    text = "A = [[1, 2], [3, 4]]\nv = [1, -1]\nA @ v"
    if "matmul" not in OPS:
        assert parse_error(text).code == "unsupported_operator"
        return
    graph, evaluation = run(text)
    truth = np.array([[1.0, 2.0], [3.0, 4.0]]) @ np.array([1.0, -1.0])

    assert np.allclose(evaluation.values[graph["output"]], truth)


def test_parse_linear_expands_into_one_group():
    text = "x = [1, 2]\nW = [[1, 2], [3, 4], [5, 6]]\nb = [1, 1, 1]\nh = linear(x, W, b)"
    if not all(op in OPS for op in ("matmul", "transpose")):
        assert parse_error(text).code == "unknown_function"
        return
    graph, evaluation = run(text)
    grouped = [node for node in graph["nodes"] if node.get("group") == "h"]
    truth = np.array([1.0, 2.0]) @ np.array([[1.0, 2], [3, 4], [5, 6]]).T + 1

    assert graph["output"] == "h"
    assert [node["op"] for node in grouped] == ["transpose", "matmul", "add"]
    assert np.allclose(evaluation.values["h"], truth)


# -- random expressions against an independent evaluator ---------------------------------------

VARIABLES = {"a": 1.5, "b": -0.5, "c": 2.0}
NUMBERS = ["0", "1", "2", "3", "0.5", "2.5", ".25", "1e-1"]
FUNCTIONS = {"tanh": (math.tanh, torch.tanh), "abs": (abs, torch.abs)}
BINDING = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "pos": 3, "**": 4}
ATOM = 5

leaves = st.one_of(
    st.sampled_from(sorted(VARIABLES)).map(lambda name: ("var", name)),
    st.sampled_from(NUMBERS).map(lambda text: ("num", text)),
)
trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*", "/", "**"]), kids, kids),
        st.tuples(st.sampled_from(["neg", "pos", "paren"]), kids),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), kids),
    ),
    max_leaves=10,
)


def render(tree):
    """Text with only the parentheses Python's grammar needs, and its binding power."""
    kind = tree[0]
    if kind in ("var", "num"):
        return tree[1], ATOM
    if kind == "paren":
        return f"({render(tree[1])[0]})", ATOM
    if kind in FUNCTIONS:
        return f"{kind}({render(tree[1])[0]})", ATOM
    if kind in ("neg", "pos"):
        text, power = render(tree[1])
        sign = "-" if kind == "neg" else "+"
        return sign + (f"({text})" if power < BINDING[kind] else text), BINDING[kind]

    power = BINDING[kind]
    left, left_power = render(tree[1])
    right, right_power = render(tree[2])
    if kind == "**":
        # The base must be an atom; the exponent may carry a sign: 2 ** -x.
        left = left if left_power == ATOM else f"({left})"
        right = right if right_power >= BINDING["neg"] else f"({right})"
    else:
        left = left if left_power >= power else f"({left})"
        right = right if right_power > power else f"({right})"
    return f"{left} {kind} {right}", power


def reference(tree, env, use_torch):
    """The tree's value with Python floats or torch tensors (never through our parser)."""
    kind = tree[0]
    if kind == "var":
        return env[tree[1]]
    if kind == "num":
        number = float(tree[1])
        return torch.tensor(number, dtype=torch.float64) if use_torch else number
    if kind in ("paren", "pos"):
        return reference(tree[1], env, use_torch)
    if kind == "neg":
        return -reference(tree[1], env, use_torch)
    if kind in FUNCTIONS:
        return FUNCTIONS[kind][use_torch](reference(tree[1], env, use_torch))
    left, right = reference(tree[1], env, use_torch), reference(tree[2], env, use_torch)
    value = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: left / right,
        "**": lambda: left**right,
    }[kind]()
    if isinstance(value, complex):
        raise ArithmeticError("a negative base to a fractional power has no real value")
    return value


def plain_value(tree):
    try:
        value = reference(tree, VARIABLES, False)
    except ArithmeticError:
        return None
    return value if math.isfinite(value) and abs(value) < 1e12 else None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(trees)
def test_parse_random_expression_matches_independent_evaluator(tree):
    truth = plain_value(tree)
    assume(truth is not None)
    text = render(tree)[0]

    graph, evaluation = run(text, VARIABLES)

    assert math.isclose(evaluation.values[graph["output"]], truth, rel_tol=1e-9, abs_tol=1e-12)
    env = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in VARIABLES.items()
    }
    out = reference(tree, env, True)
    if not out.requires_grad:
        return
    out.backward()
    for name, tensor in env.items():
        if name not in evaluation.grads or tensor.grad is None:
            continue
        grad = tensor.grad.item()
        assume(math.isfinite(grad))
        assert math.isclose(evaluation.grads[name], grad, rel_tol=1e-7, abs_tol=1e-9), name


SOUP = [
    "x", "y", "exp", "sum", "zeros", "max", "(", ")", "[", "]", ",", "+", "-", "*", "/",
    "**", "@", "=", "==", ";", "\n", "1", "2.5", ".", "'s'", "axis", "keepdims", "True",
    "# c", "lambda", "__x", "seed", "1e3", "randn", "linear", ":", "2", "W",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(SOUP), max_size=20))
def test_parse_any_token_soup_gives_graph_or_located_error(pieces):
    text = " ".join(pieces)
    inputs = {"x": 1.5, "y": [1.0, 2.0], "W": [[1.0, 2.0], [3.0, 4.0]]}
    try:
        graph = parse(text, inputs)
    except ParseError as error:
        assert error.line >= 1 and error.column >= 1
        return
    except LimitError as error:
        assert error.line is not None
        return

    built = build_graph(graph)
    try:
        evaluate(built)
    except EngineError as error:
        assert error.message


# -- back to text ----------------------------------------------------------------------------


def test_graph_to_expression_round_trips_the_sigmoid_neuron():
    inputs = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
    graph = parse("1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", inputs)

    text = graph_to_expression(graph)
    again, evaluation = run(text)

    assert evaluation.values[again["output"]] == pytest.approx(0.7310585786300049, rel=1e-12)
    assert evaluation.grads["x1"] == pytest.approx(-0.5898357997244457, rel=1e-12)
    assert {n["id"] for n in again["nodes"] if n["op"] != "const"} == {
        n["id"] for n in graph["nodes"] if n["op"] != "const"
    }


def test_graph_to_expression_refuses_what_text_cannot_hold():
    nonfinite = {"nodes": [{"id": "x", "op": "input", "value": "inf"}], "output": "x"}
    bad_id = {"nodes": [{"id": "my node", "op": "input", "value": 1}], "output": "my node"}

    assert graph_to_expression(nonfinite) is None
    assert graph_to_expression(bad_id) is None


@pytest.mark.parametrize(
    ("text", "code", "column", "words"),
    [
        ("y = 3x", "syntax_error", 5, "'3x'"),
        ("y =  1.2.3", "syntax_error", 6, "'1.2.'"),
        ("y = 2e5_", "syntax_error", 5, "'2e5_'"),
        ("y = \t rb'x'", "forbidden_syntax", 7, "prefix rb'"),
        ("y = F'{x}'", "forbidden_syntax", 5, "prefix F'"),
        ("y = 1 +   $", "syntax_error", 11, "'$'"),
        ("y = 1 + 'open", "syntax_error", 9, "not closed"),
    ],
)
def test_tokenizer_refuses_with_the_column_after_any_spaces(text, code, column, words):
    error = parse_error(text)

    assert (error.code, error.line, error.column) == (code, 1, column)
    assert words in error.message


def test_names_that_only_start_like_string_prefixes_are_names():
    graph = parse("rb = 2\nfr = 3\nbx = rb * fr\nbx   # trailing comment and spaces   ")

    assert [node["id"] for node in graph["nodes"]] == ["rb", "fr", "bx"]
    assert graph["output"] == "bx"
