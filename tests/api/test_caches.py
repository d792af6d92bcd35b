"""The caches of /api/evaluate stay within their bounds, whatever clients send."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

from fastapi.testclient import TestClient

from app.caches import BoundedCache
from app.main import create_app
from app.settings import Settings


def test_bounded_cache_drops_the_least_recently_used_past_its_entries():
    cache = BoundedCache(entries=2, budget=1_000)
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == 1  # now "b" is the least recently used
    cache.put("c", 3, 10)
    assert list(cache) == ["a", "c"] and cache.get("b") is None


def test_bounded_cache_drops_values_until_within_its_budget():
    cache = BoundedCache(entries=100, budget=800)
    for key in range(10):
        cache.put(key, key, 100)
    assert cache.size == 800 and list(cache) == list(range(2, 10))


def test_bounded_cache_refuses_a_value_bigger_than_an_eighth_of_its_budget():
    cache = BoundedCache(entries=100, budget=800)
    cache.put("small", 1, 100)
    cache.put("big", 2, 101)
    assert list(cache) == ["small"] and cache.size == 100


def test_bounded_cache_counts_a_replaced_value_once():
    cache = BoundedCache(entries=100, budget=800)
    cache.put("a", 1, 100)
    cache.put("a", 2, 50)
    assert cache.get("a") == 2 and cache.size == 50 and len(cache) == 1


def test_bounded_cache_with_no_entries_keeps_nothing():
    cache = BoundedCache(entries=0, budget=800)
    cache.put("a", 1, 1)
    assert len(cache) == 0 and cache.get("a") is None


def _caches(client: TestClient) -> list[BoundedCache]:
    state = client.app.state
    return [state.evaluate_cache.answers, state.evaluate_plans.plans, state.parsed.graphs]


def kept_after(tmp_path, budget: int, post: Callable[[TestClient], None]) -> int:
    """Bytes still allocated after `post` ran on a fresh app with this cache budget."""
    settings = Settings(
        db_path=tmp_path / "graphs.sqlite3", database_url=None, evaluate_cache_bytes=budget
    )
    tracemalloc.start()
    try:
        with TestClient(create_app(settings)) as client:
            before = tracemalloc.get_traced_memory()[0]
            post(client)
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
            assert all(cache.size <= budget for cache in _caches(client))
    finally:
        tracemalloc.stop()
    return kept


def _post_long_products(client: TestClient) -> None:
    for extra in range(12):
        text = "x = 2\nf = x" + "*x" * (1_200 + extra)
        for value in (2, 3):  # a second body of the same structure uses the plan
            body = {"expression": text, "inputs": {"x": value}}
            assert client.post("/api/evaluate", json=body).status_code == 200


def test_long_products_do_not_grow_the_caches_past_their_budget(tmp_path):
    # A 5 KB body makes a graph of 1,200 nodes, an answer of about 800 KB, and a plan; before
    # the byte budget, 512 of them could keep gigabytes.
    budget = 2 * 1024 * 1024
    kept = kept_after(tmp_path, budget, _post_long_products)

    # Three caches, each within its budget by its own estimate; the estimate must not be far
    # below what is really kept.
    assert kept < 2 * 3 * budget


def test_a_scalar_graph_of_3000_nodes_is_small_work_and_gets_a_plan(client):
    # Small work runs on the event loop and keeps its plan; a graph's op nodes hold no
    # numbers, so they must not count as leaf elements against inline_work_limit (5,000).
    text = "x = 2\nf = x" + "*x" * 3_000
    plans = client.app.state.evaluate_plans.plans
    before = len(plans)
    for value in (2.0, 1.0):
        answer = client.post("/api/evaluate", json={"expression": text, "inputs": {"x": value}})
        assert answer.status_code == 200
    assert len(plans) == before + 1
    # x ** 3001 at x = 1 is 1, and its derivative 3001 · x ** 3000 is 3001.
    assert answer.json()["nodes"]["x"]["grad"] == 3001.0


def test_a_body_nested_deeper_than_the_cache_key_can_hold_is_a_depth_limit(client):
    # The plan's key is written again with orjson, which stops at about 254 levels while
    # reading goes deeper: such a body must fall through to the full checks, not a 500, and
    # those refuse it as deeper than the JSON parser goes (201 levels).
    for depth in (253, 600):
        text = '{"expression": "f = 2 * 3", "title": ' + "[" * depth + "]" * depth + "}"
        response = client.post(
            "/api/evaluate", content=text, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"]["details"]["what"] == "json_depth"


def _post_big_inputs(client: TestClient) -> None:
    for index in range(8):
        junk = [float(n) + 0.5 for n in range(200_000)]  # 1.6 MB of text
        used = [[float(n) * 0.25 for n in range(100)] for _ in range(50)]
        inputs = {f"x{index}": used, "junk": junk}
        body = {"expression": f"f = sum(x{index}) * 2", "inputs": inputs}
        assert client.post("/api/evaluate", json=body).status_code == 200


def test_big_inputs_do_not_grow_the_parsed_cache_past_its_budget(tmp_path):
    # Unused inputs are part of the parsed cache's key, and used ones become nested lists of
    # Python floats: both must be counted, or a few requests keep hundreds of megabytes.
    budget = 4 * 1024 * 1024
    kept = kept_after(tmp_path, budget, _post_big_inputs)

    # The response cache keeps no body this big, and the plan cache splits none; what is kept
    # is the parsed cache's, and it must be within its budget.
    assert kept < budget
