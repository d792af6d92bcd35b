"""The per-address limit on saving graphs: 429 with Retry-After, other addresses unaffected."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from app.ratelimit import WINDOW_SECONDS, SaveLimit
from app.settings import Settings
from tests.conftest import assert_error

GRAPH = {
    "nodes": [{"id": "x", "op": "input", "value": 2}, {"id": "f", "op": "exp", "inputs": ["x"]}],
    "output": "f",
}


def test_saves_past_the_limit_are_429_until_the_minute_passes(tmp_path):
    app = create_app(
        Settings(db_path=tmp_path / "g.sqlite3", database_url=None, saves_per_minute=3)
    )
    with TestClient(app, raise_server_exceptions=False, client=("10.0.0.1", 1)) as first:
        # Outside `with`: the app is already started, and shuts down once, with `first`.
        second = TestClient(app, raise_server_exceptions=False, client=("10.0.0.2", 1))
        for _ in range(5):  # refused graphs are not saves and use up nothing
            assert first.post("/api/graphs", json={**GRAPH, "output": "nope"}).status_code == 422
        created = first.post("/api/graphs", json=GRAPH).json()
        token = {"Authorization": f"Bearer {created['edit_token']}"}
        assert (
            first.put(f"/api/graphs/{created['id']}", json=GRAPH, headers=token).status_code == 200
        )
        assert first.post("/api/graphs", json=GRAPH).status_code == 201

        refused = first.post("/api/graphs", json=GRAPH)
        revision = first.put(f"/api/graphs/{created['id']}", json=GRAPH, headers=token)

        assert_error(refused, 429, "too_many_saves")
        assert_error(revision, 429, "too_many_saves")
        assert 1 <= int(refused.headers["retry-after"]) <= WINDOW_SECONDS
        assert "3 times in the last minute" in refused.json()["error"]["message"]
        assert second.post("/api/graphs", json=GRAPH).status_code == 201
        # A refused save changed nothing: the graph still has its two revisions.
        assert first.get(f"/api/graphs/{created['id']}").json()["revision"] == 2


def test_window_slides_and_forgets_old_saves():
    limit = SaveLimit(per_minute=2)

    assert [limit.wait("a", now=t) for t in (0.0, 10.0)] == [0, 0]
    assert limit.wait("a", now=30.0) == 30  # the save at 0 s leaves the window at 60 s
    assert limit.wait("a", now=60.5) == 0
    assert SaveLimit(per_minute=0).wait("a", now=0.0) == 0


def test_table_of_addresses_stays_bounded():
    limit = SaveLimit(per_minute=1, addresses=100)

    for number in range(1_000):
        limit.wait(f"10.0.{number // 256}.{number % 256}", now=float(number))

    assert len(limit.saves) == 100
