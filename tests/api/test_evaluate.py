"""`POST /api/evaluate` and `POST /api/parse`: the JSON contract and every error kind."""

from __future__ import annotations

import json
import math

import pytest
import torch

from app.schemas import COURSE_GRAPH
from app.settings import Settings
from engine.limits import Limits
from tests.conftest import assert_error

COURSE = "x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z"


def evaluate(client, **body):
    return client.post("/api/evaluate", json=body)


def test_evaluate_expression_returns_course_values_and_grads(client):
    body = evaluate(client, expression=COURSE).json()
    nodes = body["nodes"]
    # Section 2.4: q = 3, f = -12; df/dq = -4, df/dz = 3, df/dx = df/dy = -4.
    assert (nodes["q"]["value"], nodes["f"]["value"]) == (3, -12)
    assert {k: nodes[k]["grad"] for k in "xyzqf"} == {"x": -4, "y": -4, "z": 3, "q": -4, "f": 1}
    assert body["forward_order"][-1] == "f" and body["backward_order"][0] == "f"


def test_evaluate_edges_carry_the_chain_rule(client):
    body = evaluate(client, expression=COURSE).json()
    edge = next(e for e in body["edges"] if e["source"] == "y")
    assert edge["target"] == "q" and edge["input_index"] == 1
    assert edge["upstream"] * edge["local"] == edge["downstream"] == -4
    assert edge["local_formula"].endswith("= 1")
    assert body["nodes"]["q"]["formula"] == "q = x + y"


def test_evaluate_graph_json_matches_expression(client):
    from_graph = evaluate(client, schema_version=1, **COURSE_GRAPH).json()
    from_text = evaluate(client, expression=COURSE).json()
    assert from_graph["nodes"] == from_text["nodes"]
    assert from_graph["edges"] == from_text["edges"]


def test_evaluate_value_used_twice_gives_two_edges(client):
    body = evaluate(client, expression="x = 3\nf = x * x").json()
    edges = [e for e in body["edges"] if e["target"] == "f"]
    assert [e["input_index"] for e in edges] == [0, 1]
    assert body["nodes"]["x"]["grad"] == sum(e["downstream"] for e in edges) == 6


def test_evaluate_is_the_same_every_time(client):
    first = evaluate(client, expression=COURSE).json()
    assert all(evaluate(client, expression=COURSE).json() == first for _ in range(3))


def test_evaluate_nonfinite_values_travel_as_strings_with_a_warning(client):
    response = evaluate(client, expression="x = -3\nl = log(x)\nf = l * 2")
    assert response.status_code == 200
    body = json.loads(response.text)  # strict JSON: no bare NaN tokens
    assert body["nodes"]["f"]["value"] == "nan"
    assert body["first_nonfinite"] == "l"
    assert "log of -3" in body["nodes"]["l"]["warning"]


def test_evaluate_division_by_zero_is_flagged(client):
    body = evaluate(client, expression="x / y", inputs={"x": 1, "y": 0}).json()
    output = body["nodes"][body["output"]]
    assert output["value"] == "inf"
    assert "division by zero" in output["warning"]
    # PyTorch gives the same non-finite gradients: d(x/y)/dy = -x/y² = -inf.
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (x / y).backward()
    assert body["nodes"]["y"]["grad"] == str(y.grad.item())


def test_evaluate_accepts_nonfinite_strings_as_input_values(client):
    body = evaluate(client, expression="f = exp(x)", inputs={"x": "-inf"}).json()
    assert body["nodes"]["f"]["value"] == 0


def test_evaluate_sigmoid_group_is_summarized(client):
    preset = client.get("/api/presets/sigmoid_neuron").json()
    body = evaluate(client, **preset["graph"]).json()
    group = body["groups"]["sigmoid"]
    assert group["output"] == "f" and group["symbol"] == "σ"
    (edge,) = group["edges"]
    sigma = 1 / (1 + math.exp(-1.0))  # the pre-activation is exactly 1 in the course
    assert edge["source"] == "s"
    assert edge["local"] == pytest.approx(sigma * (1 - sigma), rel=1e-12)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"expression": "(x + "}, 400, "syntax_error"),
        ({"expression": "frobnicate(x) + 1", "inputs": {"x": 1}}, 400, "unknown_function"),
        ({"expression": "x + y", "inputs": {"x": 1}}, 400, "undefined_variable"),
        ({"expression": "x.__class__", "inputs": {"x": 1}}, 400, "forbidden_syntax"),
        ({"nodes": [{"id": "x", "op": "nope"}], "output": "x"}, 422, "unknown_op"),
        ({"nodes": [{"id": "x", "op": "input", "value": 1}], "output": "y"}, 422,
         "missing_output"),
        ({"nodes": [{"id": "a", "op": "add", "inputs": ["a", "a"]}], "output": "a"}, 422,
         "cycle"),
        ({"nodes": [{"id": "x", "op": "input", "value": [[1], [2, 3]]}], "output": "x"}, 422,
         "bad_value"),
        ({"nodes": [{"id": "1x", "op": "input", "value": 1}], "output": "1x"}, 422,
         "invalid_request"),
        ({"nodes": [{"id": "x", "op": "input", "value": 1}]}, 422, "missing_output"),
        ({}, 422, "empty_request"),
        ({"expression": "x = 1", "nodes": []}, 422, "ambiguous_request"),
        ({"expression": 5}, 422, "invalid_request"),
        ({"graph": {}}, 422, "invalid_request"),
    ],
)  # fmt: skip
def test_evaluate_bad_input_is_a_clear_4xx(client, body, status, code):
    assert_error(evaluate(client, **body), status, code)


def test_evaluate_syntax_error_names_line_and_column(client):
    error = assert_error(evaluate(client, expression="x = 1\ny = (x + "), 400, "syntax_error")
    assert error["line"] == 2 and error["column"] >= 5


def test_evaluate_cycle_error_names_the_nodes(client):
    graph = {"nodes": [{"id": "c", "op": "input", "value": 2},
                       {"id": "a", "op": "add", "inputs": ["b", "c"]},
                       {"id": "b", "op": "mul", "inputs": ["a", "c"]}], "output": "a"}  # fmt: skip
    error = assert_error(evaluate(client, **graph), 422, "cycle")
    assert set(error["node_ids"]) == {"a", "b"}


def test_evaluate_malformed_json_is_400(client):
    response = client.post(
        "/api/evaluate", content=b'{"expression": ', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")


def test_evaluate_code_injection_never_runs(client, tmp_path):
    marker = tmp_path / "pwned"
    attempt = f"__import__('os').system('touch {marker}')"
    response = evaluate(client, expression=attempt)
    assert 400 <= response.status_code < 500
    assert not marker.exists()


def limited_client(**limits):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = Settings(limits=Limits(**limits), max_body_bytes=10_000)
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_evaluate_body_size_limit_is_413():
    with limited_client() as small:
        expression = "x = 1\n" + "# padding\n" * 2_000 + "x"
        response = evaluate(small, expression=expression)
        error = assert_error(response, 413, "request_too_large")
        assert "10,000 bytes" in error["message"]
        sent = len(response.request.content)
        assert error["details"] == {"what": "request_bytes", "limit": 10_000, "actual": sent}


def test_evaluate_body_size_limit_holds_without_content_length():
    with limited_client() as small:

        def chunks():
            yield b'{"expression": "'
            for _ in range(200):
                yield b"x + " * 20
            yield b'x"}'

        response = small.post(
            "/api/evaluate", content=chunks(), headers={"content-type": "application/json"}
        )
        details = assert_error(response, 413, "request_too_large")["details"]
        # Reading stops at the chunk that passes the limit, so actual is at most all of it.
        assert details["what"] == "request_bytes" and details["limit"] == 10_000
        assert 10_000 < details["actual"] <= sum(map(len, chunks()))


def test_evaluate_node_limit_is_413():
    with limited_client(max_nodes=5) as small:
        error = assert_error(evaluate(small, expression="x = 1\nf = x+x+x+x+x+x"), 413,
                             "limit_exceeded")  # fmt: skip
        assert "5" in error["message"]


def test_evaluate_expression_length_limit_is_413():
    with limited_client(max_expression_chars=50) as small:
        assert_error(evaluate(small, expression="x = 1\n" + "x + " * 20 + "x"), 413,
                     "limit_exceeded")  # fmt: skip


def test_evaluate_nesting_limit_is_413_with_position():
    with limited_client(max_nesting_depth=10) as small:
        error = assert_error(evaluate(small, expression="x = 1\n" + "(" * 11 + "x" + ")" * 11),
                             413, "limit_exceeded")  # fmt: skip
        assert error["line"] == 2


def test_evaluate_long_flat_expression_is_handled(client):
    # Python's ast gives up near 3,000 flat operators; this must just work.
    terms = 5_000
    body = evaluate(client, expression="x = 1\n" + " + ".join(["x"] * terms)).json()
    assert body["nodes"][body["output"]]["value"] == terms
    assert body["nodes"]["x"]["grad"] == terms


def test_evaluate_deep_parentheses_within_limit_work(client):
    depth = 150
    body = evaluate(client, expression="x = 2\n" + "(" * depth + "x" + ")" * depth).json()
    assert body["nodes"]["x"]["grad"] == 1


def test_parse_returns_graph_json(client):
    graph = client.post("/api/parse", json={"expression": COURSE}).json()["graph"]
    assert graph["output"] == "f"
    assert {n["id"]: n["op"] for n in graph["nodes"]}["q"] == "add"


def test_parse_error_has_the_same_shape(client):
    response = client.post("/api/parse", json={"expression": "x = = 1"})
    assert_error(response, 400, "syntax_error")


def test_evaluate_repeated_body_is_answered_from_the_cache_unchanged(client):
    body = {"expression": "x = 1.5\nf = exp(x) * x"}
    first = client.post("/api/evaluate", json=body)
    cache = client.app.state.evaluate_cache
    assert first.content in cache.answers.values()
    second = client.post("/api/evaluate", json=body)
    assert second.content == first.content and second.status_code == 200


def test_evaluate_cache_is_bounded():
    with limited_client() as small:
        small.app.state.evaluate_cache.answers.entries = 2
        for value in range(5):
            evaluate(small, expression=f"x = {value}\nf = x * x")
        assert len(small.app.state.evaluate_cache.answers) == 2
