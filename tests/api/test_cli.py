"""`gradplay serve` turns its options into the app's settings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.caches import BoundedCache


@pytest.fixture
def served(monkeypatch, tmp_path) -> dict:
    """What `gradplay serve` would hand to uvicorn, without starting it."""
    captured = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: captured.update(app=app))
    monkeypatch.chdir(tmp_path)
    return captured


def test_cache_entries_option_sizes_all_three_caches(served, tmp_path):
    cli.main(["serve", "--db", str(tmp_path / "g.sqlite3"), "--cache-entries", "7"])

    state = served["app"].state
    caches = [state.evaluate_cache.answers, state.evaluate_plans.plans, state.parsed.graphs]
    assert [cache.entries for cache in caches] == [7, 7, 7]


def test_cache_entries_zero_keeps_nothing(served, tmp_path):
    cli.main(["serve", "--db", str(tmp_path / "g.sqlite3"), "--cache-entries", "0"])

    with TestClient(served["app"]) as client:
        for x in (1, 2, 1):
            body = {"expression": "f = x * x", "inputs": {"x": x}}
            assert client.post("/api/evaluate", json=body).json()["nodes"]["f"]["value"] == x * x
        state = client.app.state
        kept = [state.evaluate_cache.answers, state.evaluate_plans.plans, state.parsed.graphs]
        assert [len(cache) for cache in kept] == [0, 0, 0]


@pytest.mark.parametrize("option", ["--cache-entries", "--saves-per-minute"])
@pytest.mark.parametrize("value", ["-1", "2.5", "many"])
def test_a_count_option_refuses_what_is_not_a_whole_number_of_0_or_more(
    served, tmp_path, capsys, option, value
):
    with pytest.raises(SystemExit) as stop:
        cli.main(["serve", "--db", str(tmp_path / "g.sqlite3"), option, value])

    assert stop.value.code == 2 and "app" not in served
    assert option in capsys.readouterr().err


def test_a_cache_with_a_negative_size_keeps_nothing():
    cache = BoundedCache(entries=-1, budget=1_000)
    cache.put("a", 1, 10)
    assert len(cache) == 0 and cache.get("a") is None
