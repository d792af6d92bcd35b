"""Mistakes a request can carry without being malformed: each is refused or pointed out."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

PRODUCT = {
    "nodes": [
        {"id": "x", "op": "input", "value": 2},
        {"id": "y", "op": "input", "value": 3},
        {"id": "f", "op": "mul", "inputs": ["x", "y"]},
    ],
    "output": "f",
}


@pytest.mark.parametrize(
    ("expression", "line", "column"),
    [
        ("x = 2\nf = (x @ 3) * 2", 2, 8),  # the @
        ("a = [1, 2]; b = [1, 2, 3]; f = sum(a + b)", 1, 38),  # the +
        ("x = [[1, 2]]\nk = [[[[1]]]]\nf = sum(conv2d(x, k))", 3, 9),  # conv2d
    ],
)
def test_error_in_a_node_the_parser_named_points_at_its_text(client, expression, line, column):
    response = client.post("/api/evaluate", json={"expression": expression})

    error = response.json()["error"]
    assert response.status_code == 422
    assert (error["line"], error["column"]) == (line, column)
    assert f"line {line}, column {column}" in error["message"]
    written = expression.splitlines()[line - 1][column - 1]
    assert written in "@+c"


def test_unused_input_values_are_named_in_a_note(client):
    for body in (
        {**PRODUCT, "inputs": {"zz": 1, "x": 5}},
        {"expression": "x = 2\ny = 3\nf = x * y", "inputs": {"zz": 1, "x": 5}},
    ):
        answer = client.post("/api/evaluate", json=body).json()

        assert answer["nodes"]["f"]["value"] == 5 * 3  # x was set, zz ignored
        assert any("'zz'" in note and "ignored" in note for note in answer["notes"])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**PRODUCT, "inputs": {"f": 1}}, "mul node"),
        ({"expression": "x = 2\nf = x * 3", "inputs": {"f": 1}}, "computes 'f'"),
        ({"expression": "x = 2\ny = x\nf = y * 3", "inputs": {"y": 1}}, "another name for 'x'"),
    ],
)
def test_input_value_for_a_computed_node_is_refused(client, body, words):
    error = assert_error(client.post("/api/evaluate", json=body), 422, "unknown_input")

    assert words in error["message"]


def test_value_on_an_op_node_is_refused(client):
    nodes = [*PRODUCT["nodes"][:2], {**PRODUCT["nodes"][2], "value": 7}]

    response = client.post("/api/evaluate", json={"nodes": nodes, "output": "f"})

    error = assert_error(response, 422, "bad_node")
    assert error["node_ids"] == ["f"]


def test_nonfinite_grad_output_is_warned_about_at_the_output(client):
    answer = client.post("/api/evaluate", json={**PRODUCT, "grad_output": "nan"}).json()

    assert answer["nodes"]["x"]["grad"] == "nan"
    assert [w["code"] for w in answer["warnings"]] == ["nonfinite_grad_output"]
    assert answer["warnings"][0]["node"] == "f"


@pytest.mark.parametrize(
    "text",
    [
        b'{"expression": "f = exp(x)", "inputs": {"x": 1e400}}',
        b'{"expression": "f = exp(x)", "inputs": {"x": -1e400}}',
        b'{"expression": "f = exp(x)", "inputs": {"x": NaN}}',
        b'{"expression": "f = sum(x)", "inputs": {"x": [[1, 2], [3, Infinity]]}}',
        b'{"expression": "f = exp(x)", "inputs": {"x": ' + b"9" * 400 + b"}}",
        b'{"nodes": [{"id": "x", "op": "input", "value": 1e999}], "output": "x"}',
        b'{"expression": "x = 1\\nf = exp(x)", "grad_output": -Infinity}',
    ],
)
def test_json_numbers_beyond_float64_are_refused(client, text):
    response = client.post(
        "/api/evaluate", content=text, headers={"content-type": "application/json"}
    )

    message = assert_error(response, 422, "nonfinite_number")["message"]
    assert '"inf"' in message


def test_nonfinite_strings_and_big_finite_numbers_are_accepted(client):
    body = {"expression": "f = sum(x)", "inputs": {"x": ["inf", 1e308, 1e308]}}

    answer = client.post("/api/evaluate", json=body).json()

    assert answer["nodes"]["x"]["value"] == ["inf", 1e308, 1e308]
    assert answer["nodes"]["f"]["value"] == "inf"


@pytest.mark.parametrize(
    ("expression", "column"),
    [("f = 1e309 * 2", 5), ("x = [1, -2e999]\nf = sum(x)", 10), ("f = 2 * " + "9" * 400, 9)],
)
def test_literal_beyond_float64_is_refused_where_it_is_written(client, expression, column):
    response = client.post("/api/evaluate", json={"expression": expression})

    error = assert_error(response, 422, "nonfinite_number")
    assert error["column"] == column
    assert "beyond the largest float64" in error["message"]


def test_lone_carriage_returns_end_lines(client):
    answer = client.post("/api/evaluate", json={"expression": "x = 2\ry = 3\rf = x * y"}).json()

    assert answer["nodes"]["f"]["value"] == 6


JSON_ROUTES = [
    "/api/evaluate",
    "/api/parse",
    "/api/gradcheck",
    "/api/export/pytorch",
    "/api/layers",
    "/api/graphs",
]


@pytest.mark.parametrize("route", JSON_ROUTES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_sent_as_json_is_415_on_every_json_route(client, route, content_type):
    # What `curl -d` sends without -H, or a cross-site form: the text is JSON, the type is not.
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(route, content=b'{"expression": "f = 2 * 3"}', headers=headers)

    message = assert_error(response, 415, "unsupported_media_type")["message"]
    assert "Content-Type: application/json" in message
    assert (repr(content_type) if content_type else "no Content-Type") in message


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.api+json"]
)
def test_json_with_parameters_or_a_json_suffix_is_read(client, content_type):
    body = b'{"expression": "x = 3\\nf = 2 * x"}'
    for route in ("/api/evaluate", "/api/parse"):
        response = client.post(route, content=body, headers={"content-type": content_type})
        assert response.status_code == 200, response.text
