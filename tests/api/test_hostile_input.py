"""Inputs a hostile or careless client sends: each gets a clear 4xx, fast, never a 500."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import assert_error


def assert_4xx(response, status: int, code: str) -> str:
    return assert_error(response, status, code)["message"]


@pytest.mark.parametrize(
    "layers",
    [
        [{"op": "conv2d", "kernel": 3, "padding": 1_000_000_000}],
        [{"op": "conv2d", "kernel_size": 3, "dilation": 10_000_000}],
        [{"op": "max_pool2d", "kernel_size": 10**30}],
    ],
)
def test_layers_with_absurd_window_numbers_are_refused_at_once(client, layers):
    start = time.perf_counter()
    response = client.post("/api/layers", json={"input_shape": [1, 5, 5], "layers": layers})
    assert time.perf_counter() - start < 2
    assert "limit" in assert_4xx(response, 413, "limit_exceeded")


def test_layers_with_an_absurd_image_size_are_refused(client):
    body = {"input_shape": [1, 10**30, 10**30], "layers": [{"op": "relu"}]}
    assert_4xx(client.post("/api/layers", json=body), 413, "limit_exceeded")


def test_conv_whose_padded_input_is_huge_is_refused_before_allocating(client):
    expression = (
        "x = randn(1, 1, 5, 5, seed=0)\nw = randn(1, 1, 3, 3, seed=1)\n"
        "f = sum(conv2d(x, w, stride=1000, dilation=1000, padding=9000))"
    )
    message = assert_4xx(client.post("/api/evaluate", json={"expression": expression}), 413,
                         "limit_exceeded")  # fmt: skip
    assert "padded input" in message


@pytest.mark.parametrize(
    ("grad_output", "code"),
    [("abc", "bad_value"), ({"a": 1}, "bad_value"), ([[1], [1, 2]], "bad_value"),
     (10**400, "nonfinite_number")],
)  # fmt: skip
def test_bad_grad_output_is_422(client, grad_output, code):
    body = {"expression": "x = 2\nf = x * x", "grad_output": grad_output}
    assert_4xx(client.post("/api/evaluate", json=body), 422, code)


@pytest.mark.parametrize("route", ["/api/evaluate", "/api/parse", "/api/export/pytorch"])
def test_integer_beyond_float64_is_422(client, route):
    body = {"expression": "f = x * x", "inputs": {"x": 10**400}}
    message = assert_4xx(client.post(route, json=body), 422, "nonfinite_number")
    assert "float64" in message


def test_answer_with_too_many_numbers_is_413():
    settings = Settings(max_response_numbers=1_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as small:
        body = {"expression": "a = ones(20, 20)\nf = sum(a @ a)"}
        response = small.post("/api/evaluate", json=body)
        message = assert_4xx(response, 413, "limit_exceeded")
        assert "1,000" in message
        # 400 values and 400 grads of a, of a @ a, and so on: at least the first two nodes'.
        details = response.json()["error"]["details"]
        assert details["what"] == "answer_numbers" and details["limit"] == 1_000
        assert details["actual"] >= 2 * 2 * 400


def test_parsed_cache_does_not_keep_big_tensors(tmp_path):
    settings = Settings(db_path=tmp_path / "g.sqlite3", evaluate_cache_bytes=1024 * 1024)
    small, big = "a = randn(30, 30, seed=7)\nf = sum(a)", "a = randn(300, 300, seed=7)\nf = sum(a)"
    with TestClient(create_app(settings)) as client:
        for expression in (small, big):
            assert client.post("/api/evaluate", json={"expression": expression}).status_code == 200
        kept = [key[0] for key in client.app.state.parsed.graphs]
    # 7 KB of numbers are kept; 720 KB, more than an eighth of the 1 MiB budget, are not.
    assert kept == [small]


@pytest.mark.parametrize(
    "content",
    [b'{"expression": "\xff\xfe"}', b'{"a": [1, 2}', b"{"],
)
def test_unreadable_body_is_400_malformed_json(client, content):
    response = client.post(
        "/api/evaluate", content=content, headers={"content-type": "application/json"}
    )
    assert_4xx(response, 400, "malformed_json")


def nested_value_body(levels: int) -> bytes:
    """A graph whose one leaf's value is a list nested `levels` deep, inside 3 levels of body."""
    value = b"[" * levels + b"1" + b"]" * levels
    return b'{"nodes":[{"id":"x","op":"input","value":' + value + b'}],"output":"x"}'


def test_json_nested_past_the_parsers_depth_is_413_not_broken_json(client):
    route = "/api/evaluate"
    headers = {"content-type": "application/json"}
    # 3 levels of body and 198 of list: one past the 200 the JSON parser takes.
    body = nested_value_body(198)
    response = client.post(route, content=body, headers=headers)

    error = assert_4xx(response, 413, "limit_exceeded") and response.json()["error"]
    assert error["details"] == {"what": "json_depth", "limit": 200, "actual": 201}
    # The parser stops inside the value's brackets, and says where.
    first = body.index(b"[[")
    assert error["line"] == 1 and first < error["column"] <= first + 198 + 1

    # One level less is JSON the parser reads; whatever the graph checks say, it is not this.
    shallower = client.post(route, content=nested_value_body(197), headers=headers)
    assert shallower.json()["error"].get("details", {}).get("what") != "json_depth"


def test_integer_of_thousands_of_digits_is_422_nonfinite_number(client):
    body = b'{"expression":"f = x * x","inputs":{"x":' + b"9" * 5_000 + b"}}"
    response = client.post(
        "/api/evaluate", content=body, headers={"content-type": "application/json"}
    )
    message = assert_4xx(response, 422, "nonfinite_number")
    assert "float64" in message and response.json()["error"]["line"] == 1


@pytest.mark.parametrize("text", ["x = 1\nf = x & x", "x = 1\nf = x < x", "f = "])
def test_every_expression_error_is_400(client, text):
    response = client.post("/api/evaluate", json={"expression": text})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/api/loss-surface", {"seed": -1}),
        ("/api/train", {"seed": -1}),
    ],
)
def test_negative_seed_is_422(client, route, body):
    assert client.post(route, json=body).status_code == 422


def test_training_with_every_row_held_out_is_422(client):
    body = {"dataset": {"name": "moons", "samples": 4, "test_fraction": 0.9}, "steps": 5}

    assert_4xx(client.post("/api/train", json=body), 422, "empty_training_set")


@pytest.mark.parametrize("last_event_id", ["\u00b2", "9" * 5_000, "-3", "1e3"])
def test_odd_last_event_id_replays_the_stream_from_the_start(tmp_path, last_event_id):
    # An app of its own: runs other tests left going could hold both training slots.
    settings = Settings(db_path=tmp_path / "graphs.sqlite3", database_url=None)
    with TestClient(create_app(settings)) as client:
        started = client.post("/api/train", json={"steps": 3})
        assert started.status_code == 201, started.text
        # httpx sends str headers as ASCII; the superscript two goes as the byte 0xB2.
        headers = {"Last-Event-ID": last_event_id.encode("latin-1")}

        with client.stream("GET", started.json()["events_url"], headers=headers) as stream:
            assert stream.status_code == 200
            first = next(line for line in stream.iter_lines() if line.startswith("id:"))

    assert first == "id: 0"


@pytest.mark.parametrize("op", [["conv2d"], {"a": 1}, 3])
def test_layer_whose_op_is_not_a_name_is_422(client, op):
    layers = [{"op": op}]
    for route in ("/api/layers", "/api/receptive-field"):
        body = {"input_shape": [1, 28, 28], "layers": layers}
        assert_4xx(client.post(route, json=body), 422, "unknown_layer")


def test_layer_without_an_op_says_so(client):
    body = {"input_shape": [1, 32, 32], "layers": [{"type": "relu"}]}
    for route in ("/api/layers", "/api/receptive-field"):
        message = assert_4xx(client.post(route, json=body), 422, "unknown_layer")
        assert "needs an op" in message and "type" in message and "None" not in message


@pytest.mark.parametrize(
    "settings",
    [{"start": ["inf", 0]}, {"start": ["nan", 0]}, {"start": [1e300, 2.5]}, {"noise": "nan"},
     {"noise": -5}],
)  # fmt: skip
def test_loss_surface_refuses_settings_that_make_every_loss_nan(client, settings):
    assert_4xx(client.post("/api/loss-surface", json=settings), 422, "invalid_request")


def test_line_data_refuses_negative_noise_for_training(client):
    body = {"dataset": {"name": "line", "noise": -5}, "steps": 5}

    assert_4xx(client.post("/api/train", json=body), 422, "bad_noise")


TOO_MANY_DIMS = {
    "a leaf's value": {"nodes": [{"id": "x", "op": "input", "value": "NESTED"}], "output": "x"},
    "a tensor literal": {"expression": "x = NESTED\nf = exp(x)"},
    "a reshape": {"expression": "x = ones(2)\nf = reshape(x, shape=[" + "1, " * 40 + "2])"},
}


# Saved graphs are graph JSON only, so they take the first kind.
DIMS_CASES = [("/api/evaluate", name) for name in TOO_MANY_DIMS] + [
    ("/api/graphs", "a leaf's value")
]


@pytest.mark.parametrize("route, kind", DIMS_CASES)
def test_tensor_of_more_than_32_dimensions_is_413(client, route, kind):
    # numpy holds at most 64 dimensions, and a local Jacobian has a node's and an input's:
    # more than 32 used to reach numpy and come back as a 500.
    nested = "[" * 40 + "1" + "]" * 40
    text = json.dumps(TOO_MANY_DIMS[kind]).replace('"NESTED"', nested).replace("NESTED", nested)
    headers = {"content-type": "application/json"}
    response = client.post(route, content=text.encode(), headers=headers)

    assert_4xx(response, 413, "limit_exceeded")
    details = response.json()["error"]["details"]
    assert details["what"] == "tensor_dims" and details["limit"] == 32 and details["actual"] > 32


def test_tensor_of_32_dimensions_is_evaluated(client):
    nested = "[" * 32 + "0" + "]" * 32
    response = client.post("/api/evaluate", json={"expression": f"x = {nested}\nf = exp(x)"})
    assert response.status_code == 200, response.text
    # d exp(x)/dx = exp(0) = 1 for the one element.
    grad = response.json()["nodes"]["x"]["grad"]
    for _ in range(32):
        (grad,) = grad
    assert grad == 1.0
