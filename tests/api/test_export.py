"""The PyTorch program and DOT exports: the program, run by PyTorch, prints our gradients."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest

from app.exports import TORCH_SPELLING
from app.presets import PRESETS
from engine.ops import OPS

EXPRESSIONS = {
    "course": "x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z",
    "neuron": (
        "w0 = 2\nx0 = -1\nw1 = -3\nx1 = -2\nw2 = -3\nf = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))"
    ),
    "every_scalar_op": (
        "a = 0.7\nb = 1.3\n"
        "f = sqrt(a) + log(b) * tanh(a) - abs(-a) / b + sigmoid(a) ** b"
        " + relu(a - b) + max(a, b) * min(a, b) + reciprocal(b)"
    ),
    "classifier": (
        "W = [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0, 0.25, 0.2, -0.3]]\n"
        "x = [0.56, 2.31, 0.24, 0.02]\nb = [1.1, 3.2, -1.2]\n"
        "L = cross_entropy(W @ x + b, 0)"
    ),
    "tensor_ops": (
        "X = randn(4, 3, seed=1)\nW = randn(2, 3, seed=2)\nT = randn(4, 2, seed=3)\n"
        "h = softmax(X @ transpose(W), axis=1)\n"
        "L = mse(h, T) + mean(log_softmax(X, axis=0)) + sum(reshape(flatten(X), shape=[3, 4]))"
    ),
    "tensor_output": "v = [1.0, -2.0, 3.0]\nf = exp(v) * v",
    "iris_mlp": PRESETS["iris_mlp"].expression,
}


def run_programs(programs: dict[str, str]) -> dict[str, dict[str, object]]:
    """Run every program in one PyTorch process; return what each printed, by name."""
    driver = "import sys\n" + "".join(
        f"print('=== {name}')\nexec({program!r}, {{}})\n" for name, program in programs.items()
    )
    out = subprocess.run(
        [sys.executable, "-c", driver], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    printed: dict[str, dict[str, object]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("=== "):
            current = printed.setdefault(line[4:], {})
        elif " = " in line:
            key, value = line.split(" = ", 1)
            current[key] = ast.literal_eval(value)
    return printed


@pytest.fixture(scope="module")
def exported(client):
    programs, results = {}, {}
    for name, expression in EXPRESSIONS.items():
        response = client.post("/api/export/pytorch", json={"expression": expression})
        assert response.status_code == 200, response.text
        programs[name] = response.json()["program"]
        results[name] = client.post("/api/evaluate", json={"expression": expression}).json()
    return results, run_programs(programs)


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_pytorch_program_prints_the_same_value_and_grads(exported, name):
    results, printed = exported
    result, torch_printed = results[name], printed[name]
    np.testing.assert_allclose(
        torch_printed[result["output"]], result["nodes"][result["output"]]["value"], rtol=1e-12
    )
    inputs = [n for n, node in result["nodes"].items() if node["op"] == "input"]
    assert inputs
    for node_id in inputs:
        np.testing.assert_allclose(
            torch_printed[f"{node_id}.grad"], result["nodes"][node_id]["grad"],
            rtol=1e-10, atol=1e-12,
        )  # fmt: skip


def test_every_non_layer_op_has_a_pytorch_spelling():
    special = {"sum", "mean", "transpose", "cross_entropy", "input", "const"}
    layers = {"conv2d", "max_pool2d", "avg_pool2d", "batch_norm"}
    assert set(OPS) - special - layers <= set(TORCH_SPELLING)


def test_pytorch_export_by_get_with_query(client):
    response = client.get("/api/export/pytorch", params={"expression": "x = 2\nf = x * x"})
    assert response.status_code == 200
    assert "f.backward()" in response.json()["program"]


def test_pytorch_export_of_bad_expression_is_400(client):
    response = client.post("/api/export/pytorch", json={"expression": "x +"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "syntax_error"


def test_dot_export_draws_left_to_right_with_every_edge(client):
    dot = client.post("/api/export/dot", json={"expression": EXPRESSIONS["course"]}).json()["dot"]
    assert dot.startswith("digraph") and "rankdir=LR" in dot
    assert dot.count("->") == 4
