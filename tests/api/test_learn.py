"""The learning API: training runs and their event stream, the loss surface, the gradient
check and expression swell, read through the in-process client."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.routes import learn
from engine.ops import OPS

# Long enough that a run is still going when the test stops it (the pause is per step).
SLOW_RUN = {
    "dataset": {"name": "moons", "samples": 100},
    "model": {"kind": "mlp", "hidden": [8]},
    "optimizer": {"name": "sgd", "learning_rate": 0.05},
    "steps": 20_000,
    "max_seconds": 30,
    "step_delay_ms": 5,
}


def read_events(client: TestClient, url: str, headers: dict | None = None) -> list[dict]:
    """Every Server-Sent Event of a stream, as {"id", "event", "data"}."""
    events, current = [], {}
    with client.stream("GET", url, headers=headers or {}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if not line:
                if current:
                    events.append(current)
                current = {}
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(": ")
                current[field] = json.loads(value) if field == "data" else value
    return events


def train(client: TestClient, body: dict) -> dict:
    answer = client.post("/api/train", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_training_stream_reports_every_step_epochs_and_the_end(client):
    run = train(
        client,
        {
            "dataset": {"name": "moons", "samples": 120, "noise": 0.1},
            "model": {"kind": "mlp", "hidden": [16]},
            "optimizer": {"name": "minibatch", "learning_rate": 0.3, "batch_size": 18},
            "steps": 300,
        },
    )

    events = read_events(client, run["events_url"])

    kinds = [event["event"] for event in events]
    assert kinds[-1] == "done" and kinds.count("done") == 1
    assert {"steps", "epoch", "regions"} <= set(kinds)
    steps = [s for e in events if e["event"] == "steps" for s in e["data"]["steps"]]
    assert steps == list(range(1, 301))
    # 90 training rows in batches of 18 make 5 steps per epoch.
    epochs = [e["data"] for e in events if e["event"] == "epoch"]
    assert run["steps_per_epoch"] == 5 and [e["epoch"] for e in epochs] == list(range(1, 61))
    done = events[-1]["data"]
    assert done["reason"] == "finished" and done["steps"] == 300
    assert done["test_accuracy"] >= 0.85
    assert [int(e["id"]) for e in events] == list(range(len(events)))


def test_training_stream_resumes_after_the_last_event_id(client):
    run = train(client, {"dataset": {"name": "blobs"}, "model": {"kind": "linear"}, "steps": 20})
    everything = read_events(client, run["events_url"])

    rest = read_events(client, run["events_url"], headers={"Last-Event-ID": "1"})

    assert [e["id"] for e in rest] == [e["id"] for e in everything[2:]]


def test_progress_and_time_left_are_reported(client):
    run = train(client, {"dataset": {"name": "moons"}, "steps": 50})

    events = read_events(client, run["events_url"])

    progress = [e["data"] for e in events if e["event"] == "steps"]
    assert progress[-1]["progress"] == pytest.approx(1.0)
    assert all(0.0 <= p["progress"] <= 1.0 and p["time_left"] >= 0 for p in progress)


def test_stop_ends_a_run_early(client):
    run = train(client, SLOW_RUN)

    answer = client.post(run["stop_url"])
    events = read_events(client, run["events_url"])

    assert answer.status_code == 200 and answer.json()["stop_requested"] is True
    done = events[-1]["data"]
    assert done["reason"] == "stopped"
    assert done["steps"] < 20_000
    assert client.get(f"/api/train/{run['run_id']}").json()["status"] == "stopped"


@pytest.mark.parametrize(
    ("optimizer", "code"),
    [
        ({"name": "gd", "learning_rate": "nan"}, "bad_learning_rate"),
        ({"name": "gd", "learning_rate": 0}, "bad_learning_rate"),
        ({"name": "minibatch", "batch_size": 0}, "bad_batch_size"),
        ({"name": "minibatch", "batch_size": 151}, "bad_batch_size"),
        ({"name": "adam"}, "unknown_optimizer"),
        ({"name": "momentum", "momentum": 1.5}, "bad_momentum"),
    ],
)
def test_bad_settings_are_a_422_with_a_clear_code(client, optimizer, code):
    body = {"dataset": {"name": "moons", "samples": 200}, "optimizer": optimizer}

    answer = client.post("/api/train", json=body)

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 20


def test_a_nan_literal_learning_rate_is_refused(client):
    # JSON has no NaN, but Python's parser (and some clients) accept the bare word.
    body = '{"optimizer": {"name": "gd", "learning_rate": NaN}}'

    answer = client.post("/api/train", content=body, headers={"content-type": "application/json"})

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "bad_learning_rate"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"steps": 1_000_000}, 413, "limit_exceeded"),
        ({"max_seconds": 10_000}, 413, "limit_exceeded"),
        ({"dataset": {"name": "mnist"}}, 422, "unknown_dataset"),
        ({"loss": "hinge"}, 422, "unknown_loss"),
        ({"dataset": {"name": "line"}, "loss": "cross_entropy"}, 422, "bad_loss"),
        ({"model": {"kind": "cnn"}}, 422, "bad_model"),
        (
            {"dataset": {"name": "digits"}, "optimizer": {"name": "newton"}},
            413,
            "too_many_parameters",
        ),
    ],
)
def test_other_impossible_runs_are_refused(client, body, status, code):
    answer = client.post("/api/train", json=body)

    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


def test_a_third_concurrent_run_is_refused_with_429():
    with TestClient(create_app(), raise_server_exceptions=False) as fresh:
        first, second = train(fresh, SLOW_RUN), train(fresh, SLOW_RUN)
        try:
            third = fresh.post("/api/train", json=SLOW_RUN)
        finally:
            for run in (first, second):
                fresh.post(run["stop_url"])
                read_events(fresh, run["events_url"])

        assert third.status_code == 429
        assert third.json()["error"]["code"] == "too_many_runs"
        # The slots are other people's: the answer says when to try again, not "stop one".
        wait = int(third.headers["retry-after"])
        assert 1 <= wait <= SLOW_RUN.get("max_seconds", 20)
        assert f"within {wait} s" in third.json()["error"]["message"]
        assert train(fresh, {"steps": 5})["run_id"]  # free again once they stopped


def test_unknown_run_is_a_404(client):
    for answer in (
        client.get("/api/train/nope"),
        client.get("/api/train/nope/events"),
        client.post("/api/train/nope/stop"),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "unknown_run"


def test_a_model_given_as_a_graph_trains(client):
    graph = {
        "nodes": [
            {"id": "X", "op": "const", "value": [[0.0]]},
            {"id": "y", "op": "const", "value": [0.0]},
            {"id": "w", "op": "input", "value": [0.0]},
            {"id": "b", "op": "input", "value": 0.0},
            {"id": "xw", "op": "matmul", "inputs": ["X", "w"]},
            {"id": "scores", "op": "add", "inputs": ["xw", "b"]},
            {"id": "loss", "op": "mse", "inputs": ["scores", "y"]},
        ],
        "output": "loss",
        "task": "regression",
    }
    body = {"dataset": {"name": "line", "samples": 40}, "graph": graph, "loss": "mse"}
    run = train(client, {**body, "optimizer": {"name": "newton"}, "steps": 2})

    events = read_events(client, run["events_url"])

    losses = [loss for e in events if e["event"] == "steps" for loss in e["data"]["losses"]]
    assert run["parameters"] == 2
    assert losses[1] < 0.5 * losses[0]  # Newton's one step lands on the least-squares line


def test_digits_train_with_an_mlp(client):
    body = {
        "dataset": {"name": "digits"},
        "model": {"kind": "mlp", "hidden": [32]},
        "optimizer": {"name": "momentum", "learning_rate": 0.1, "batch_size": 32},
        "steps": 200,
    }
    run = train(client, body)

    done = read_events(client, run["events_url"])[-1]["data"]

    assert run["train_rows"] + run["test_rows"] == 1797
    assert "points" not in run  # 64 features: no decision regions to draw
    assert done["test_accuracy"] > 0.8


@pytest.mark.skipif("conv2d" not in OPS, reason="the conv2d op is not in this engine")
def test_digits_train_with_the_small_cnn(client):
    body = {
        "dataset": {"name": "digits"},
        "model": {"kind": "cnn", "hidden": [32], "activation": "relu"},
        "optimizer": {"name": "momentum", "learning_rate": 0.05, "batch_size": 32},
        "steps": 40,
    }
    run = train(client, body)

    events = read_events(client, run["events_url"])

    losses = [loss for e in events if e["event"] == "steps" for loss in e["data"]["losses"]]
    assert events[-1]["data"]["reason"] == "finished"
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


def test_loss_surface_newton_lands_on_the_least_squares_line(client):
    answer = client.post("/api/loss-surface", json={"start": [-2.0, 3.0], "steps": 10})

    assert answer.status_code == 200
    surface = answer.json()
    slope, intercept = np.polyfit(surface["data"]["x"], surface["data"]["y"], 1)
    newton = surface["paths"]["newton"]["points"]
    assert newton[0] == [-2.0, 3.0]
    assert newton[1] == pytest.approx([slope, intercept], abs=1e-9)
    for name in ("gd", "sgd", "minibatch"):
        assert surface["paths"][name]["points"][0] == [-2.0, 3.0]
        assert len(surface["paths"][name]["points"]) == 11
    assert len(surface["losses"]) == len(surface["b"]) and len(surface["losses"][0]) == len(
        surface["w"]
    )


def test_loss_surface_refuses_a_bad_learning_rate(client):
    answer = client.post("/api/loss-surface", json={"learning_rate": -1})

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "bad_learning_rate"


def test_gradcheck_matches_the_hand_derivative(client):
    answer = client.post("/api/gradcheck", json={"expression": "x = 0.5\ny = 2\nx * y + exp(x)"})

    assert answer.status_code == 200
    result = answer.json()
    by_name = {item["node"]: item for item in result["inputs"]}
    # d/dx (x·y + eˣ) = y + eˣ, d/dy = x
    assert by_name["x"]["autodiff"] == pytest.approx(2 + math.exp(0.5))
    assert by_name["x"]["central"] == pytest.approx(2 + math.exp(0.5), rel=1e-8)
    assert by_name["y"]["forward"] == pytest.approx(0.5, rel=1e-6)
    assert len(result["steps"]) == len(result["forward_errors"]) == len(result["central_errors"])
    assert result["best_h"]["central"] > result["best_h"]["forward"]


def test_gradcheck_takes_a_graph_too(client):
    graph = {
        "nodes": [
            {"id": "a", "op": "input", "value": 3.0},
            {"id": "f", "op": "log", "inputs": ["a"]},
        ],
        "output": "f",
    }

    result = client.post("/api/gradcheck", json=graph).json()

    assert result["inputs"][0]["autodiff"] == pytest.approx(1 / 3)


def test_gradcheck_reports_expression_errors_with_their_place(client):
    answer = client.post("/api/gradcheck", json={"expression": "x = 1\nx +* 2"})

    assert answer.status_code == 400
    assert answer.json()["error"]["line"] == 2


def test_swell_route_returns_hand_counted_sizes(client):
    answer = client.get("/api/swell", params={"max_depth": 3})

    assert answer.status_code == 200
    families = {family["name"]: family["rows"] for family in answer.json()["families"]}
    # Counted by hand in tests/engine/test_symbolic.py.
    assert [row["symbolic_size"] for row in families["composition"]] == [7, 17, 29]
    assert [row["symbolic_size"] for row in families["product"]][:2] == [11, 47]
    assert [row["autodiff_nodes"] for row in families["product"]] == [12, 20, 28]


def test_swell_route_refuses_depths_beyond_twelve(client):
    answer = client.get("/api/swell", params={"max_depth": 13})

    assert answer.status_code == 422


def test_learn_page_is_served_with_its_security_header(client):
    answer = client.get("/learn")

    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert '<script type="module" src="/static/js/learn/main.js' in answer.text
    assert 'href="/cnn"' in answer.text and 'href="/"' in answer.text


def test_datasets_route_lists_the_shipped_digits(client):
    names = [item["name"] for item in client.get("/api/datasets").json()["datasets"]]

    assert {"moons", "circles", "spirals", "blobs", "line", "digits"} <= set(names)


def test_a_run_whose_followers_all_left_asks_to_stop(monkeypatch):
    monkeypatch.setattr(learn, "ABANDON_SECONDS", 0.01)
    run = learn.TrainingRun("r", trainer=None, description={})

    run.follow(joining=True)
    watched = run.should_stop()
    run.follow(joining=False)
    time.sleep(0.05)
    abandoned = run.should_stop()
    run.follow(joining=True)
    rejoined = run.should_stop()

    assert (watched, abandoned, rejoined) == (False, True, False)


def test_a_run_nobody_follows_stops_unless_its_status_is_asked_for(monkeypatch):
    monkeypatch.setattr(learn, "ABANDON_SECONDS", 0.01)
    never_read = learn.TrainingRun("r", trainer=None, description={})
    polled = learn.TrainingRun("p", trainer=None, description={})

    time.sleep(0.05)
    polled.seen()

    assert never_read.should_stop() is True
    assert polled.should_stop() is False
