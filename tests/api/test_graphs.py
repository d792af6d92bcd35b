"""Shared graphs: `/api/graphs` save, read, overwrite, delete, revisions, and every error."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import assert_error

COURSE_GRAPH = {
    "schema_version": 1,
    "nodes": [
        {"id": "x", "op": "input", "value": -2, "position": {"x": 10.0, "y": 20.0}},
        {"id": "y", "op": "input", "value": 5, "label": "y"},
        {"id": "z", "op": "input", "value": -4},
        {"id": "q", "op": "add", "inputs": ["x", "y"]},
        {"id": "f", "op": "mul", "inputs": ["q", "z"]},
    ],
    "output": "f",
}
URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def saved(title: str = "Chain rule", **fields) -> dict:
    return {**COURSE_GRAPH, "title": title, "description": "Find **df/dx**.", **fields}


def create(client, body: dict | None = None) -> dict:
    response = client.post("/api/graphs", json=body or saved())
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_graph_save_returns_id_token_and_page(client):
    created = create(client)
    assert created["revision"] == 1
    assert created["url"] == f"/g/{created['id']}"
    assert created["edit_token"] != created["id"]


def test_graph_get_returns_what_was_saved_without_a_token(client):
    body = saved(hidden=["q", "f"], locked=["x"])
    created = create(client, body)

    stored = client.get(f"/api/graphs/{created['id']}").json()
    assert stored["id"] == created["id"] and stored["revision"] == 1
    assert stored["title"] == "Chain rule" and stored["description"] == "Find **df/dx**."
    assert stored["nodes"] == COURSE_GRAPH["nodes"]
    assert (stored["output"], stored["hidden"], stored["locked"]) == ("f", ["q", "f"], ["x"])
    assert stored["created_at"] == stored["saved_at"]


def test_graph_saved_graph_evaluates_to_the_course_numbers(client):
    stored = client.get(f"/api/graphs/{create(client)['id']}").json()
    graph = {key: stored[key] for key in ("schema_version", "nodes", "output")}
    nodes = client.post("/api/evaluate", json=graph).json()["nodes"]
    # Course notes, section 2.4: f = -12 and df/dx = -4 at x = -2, y = 5, z = -4.
    assert (nodes["f"]["value"], nodes["x"]["grad"], nodes["z"]["grad"]) == (-12, -4, 3)


@pytest.mark.parametrize("header", ["Authorization", "X-Edit-Token"])
def test_graph_put_with_token_saves_a_new_revision(client, header):
    created = create(client)
    token = created["edit_token"]
    headers = bearer(token) if header == "Authorization" else {"X-Edit-Token": token}

    response = client.put(f"/api/graphs/{created['id']}", json=saved("Second"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 2
    assert client.get(f"/api/graphs/{created['id']}").json()["title"] == "Second"


def test_graph_put_without_token_is_forbidden_and_changes_nothing(client):
    created = create(client)
    response = client.put(f"/api/graphs/{created['id']}", json=saved("Vandal"))
    assert_error(response, 403, "edit_token_required")
    assert client.get(f"/api/graphs/{created['id']}").json()["title"] == "Chain rule"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-the-token"},
        {"X-Edit-Token": "not-the-token"},
        {"Authorization": "Bearer "},
    ],
)
def test_graph_put_with_wrong_token_is_forbidden(client, headers):
    created = create(client)
    response = client.put(f"/api/graphs/{created['id']}", json=saved("Vandal"), headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] in ("wrong_edit_token", "edit_token_required")
    assert client.get(f"/api/graphs/{created['id']}").json()["revision"] == 1


def test_graph_token_of_another_graph_is_wrong(client):
    first, second = create(client), create(client)
    response = client.put(
        f"/api/graphs/{first['id']}", json=saved("x"), headers=bearer(second["edit_token"])
    )
    assert_error(response, 403, "wrong_edit_token")


def test_graph_basic_authorization_is_not_a_token(client):
    created = create(client)
    headers = {"Authorization": f"Basic {created['edit_token']}"}
    response = client.put(f"/api/graphs/{created['id']}", json=saved("x"), headers=headers)
    assert_error(response, 403, "edit_token_required")


def test_graph_put_checks_the_token_before_the_graph(client):
    created = create(client)
    broken = {"nodes": [{"id": "f", "op": "mul", "inputs": ["f", "f"]}], "output": "f"}
    assert_error(
        client.put(f"/api/graphs/{created['id']}", json=broken), 403, "edit_token_required"
    )


def test_graph_delete_needs_the_token_then_removes_every_revision(client):
    created = create(client)
    graph_url = f"/api/graphs/{created['id']}"
    client.put(graph_url, json=saved("Second"), headers=bearer(created["edit_token"]))

    assert_error(client.delete(graph_url), 403, "edit_token_required")
    assert_error(client.delete(graph_url, headers=bearer("nope")), 403, "wrong_edit_token")
    assert client.get(graph_url).status_code == 200

    response = client.delete(graph_url, headers=bearer(created["edit_token"]))
    assert response.status_code == 204 and response.content == b""
    assert_error(client.get(graph_url), 404, "graph_not_found")
    assert_error(client.get(f"{graph_url}/revisions"), 404, "graph_not_found")
    assert_error(client.get(f"{graph_url}/revisions/1"), 404, "graph_not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("GET", "/revisions"),
        ("GET", "/revisions/1"),
    ],
)
def test_graph_unknown_id_is_404(client, method, path):
    body = saved() if method == "PUT" else None
    response = client.request(
        method, f"/api/graphs/AAAAAAAAAAAAAAAAAAAAAA{path}", json=body, headers=bearer("t" * 43)
    )
    assert_error(response, 404, "graph_not_found")


def test_graph_revisions_keep_every_save_oldest_first(client):
    created = create(client, saved("First"))
    graph_url = f"/api/graphs/{created['id']}"
    for title in ("Second", "Third"):
        client.put(graph_url, json=saved(title), headers=bearer(created["edit_token"]))

    listed = client.get(f"{graph_url}/revisions").json()
    assert listed["id"] == created["id"]
    assert [(r["revision"], r["title"]) for r in listed["revisions"]] == [
        (1, "First"),
        (2, "Second"),
        (3, "Third"),
    ]
    first = client.get(f"{graph_url}/revisions/1").json()
    assert (first["revision"], first["title"]) == (1, "First")
    assert first["nodes"] == COURSE_GRAPH["nodes"]
    assert client.get(graph_url).json()["revision"] == 3


@pytest.mark.parametrize("number", ["0", "2", "-1", "99999999999"])
def test_graph_missing_revision_is_404(client, number):
    created = create(client)
    response = client.get(f"/api/graphs/{created['id']}/revisions/{number}")
    assert_error(response, 404, "revision_not_found")


def test_graph_revision_number_must_be_an_integer(client):
    created = create(client)
    response = client.get(f"/api/graphs/{created['id']}/revisions/latest")
    assert_error(response, 422, "invalid_request")


@pytest.mark.parametrize(
    ("field", "size"), [("title", 200), ("description", 20_000)], ids=["title", "description"]
)
def test_graph_text_at_the_limit_is_accepted(client, field, size):
    created = create(client, saved(**{field: "é" * size}))
    assert client.get(f"/api/graphs/{created['id']}").json()[field] == "é" * size


@pytest.mark.parametrize(
    ("field", "size"), [("title", 201), ("description", 20_001)], ids=["title", "description"]
)
def test_graph_text_over_the_limit_is_413(client, field, size):
    error = assert_error(
        client.post("/api/graphs", json=saved(**{field: "a" * size})), 413, "limit_exceeded"
    )
    assert field in error["message"] and f"{size - 1:,}" in error["message"]
    what = {"title": "title_chars", "description": "description_chars"}[field]
    assert error["details"] == {"what": what, "limit": size - 1, "actual": size}


def test_graph_with_too_many_nodes_is_413(client):
    leaves = [{"id": f"x{i}", "op": "input", "value": i} for i in range(2_001)]
    body = {"nodes": leaves, "output": "x0"}
    error = assert_error(client.post("/api/graphs", json=body), 413, "limit_exceeded")
    assert "2,000" in error["message"]
    assert error["details"] == {"what": "saved_nodes", "limit": 2_000, "actual": 2_001}


def test_graph_limits_come_from_settings(tmp_path):
    settings = Settings(db_path=tmp_path / "g.sqlite3", database_url=None, max_saved_nodes=4)
    with TestClient(create_app(settings), raise_server_exceptions=False) as small:
        assert_error(small.post("/api/graphs", json=saved()), 413, "limit_exceeded")
        small_graph = {"nodes": COURSE_GRAPH["nodes"][:3], "output": "z"}
        assert small.post("/api/graphs", json=small_graph).status_code == 201


def test_graph_overwrite_over_the_limit_is_refused_and_kept(client):
    created = create(client)
    response = client.put(
        f"/api/graphs/{created['id']}",
        json=saved("t" * 300),
        headers=bearer(created["edit_token"]),
    )
    assert_error(response, 413, "limit_exceeded")
    assert client.get(f"/api/graphs/{created['id']}").json()["revision"] == 1


@pytest.mark.parametrize(
    ("nodes", "output", "code"),
    [
        (
            [
                {"id": "a", "op": "add", "inputs": ["b", "b"]},
                {"id": "b", "op": "exp", "inputs": ["a"]},
            ],
            "a",
            "cycle",
        ),
        ([{"id": "a", "op": "frobnicate"}], "a", "unknown_op"),
        ([{"id": "a", "op": "input", "value": 1}], "nope", "missing_output"),
        ([], "a", "empty_graph"),
    ],
    ids=["cycle", "unknown_op", "missing_output", "empty"],
)
def test_graph_invalid_graph_is_refused_with_the_engine_error(client, nodes, output, code):
    response = client.post("/api/graphs", json={"nodes": nodes, "output": output})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_graph_hidden_must_name_nodes_of_the_graph(client):
    response = client.post("/api/graphs", json=saved(hidden=["q", "w"]))
    error = assert_error(response, 422, "unknown_node")
    assert error["node_ids"] == ["w"]


@pytest.mark.parametrize("locked", [["q"], ["nobody"]])
def test_graph_locked_must_name_inputs(client, locked):
    error = assert_error(
        client.post("/api/graphs", json=saved(locked=locked)), 422, "not_an_input"
    )
    assert error["node_ids"] == locked


def test_graph_teaching_options_drop_repeated_ids(client):
    created = create(client, saved(hidden=["f", "q", "f"], locked=["x", "x"]))
    stored = client.get(f"/api/graphs/{created['id']}").json()
    assert (stored["hidden"], stored["locked"]) == (["f", "q"], ["x"])


def test_graph_unknown_field_is_refused(client):
    assert_error(client.post("/api/graphs", json=saved(owner="me")), 422, "invalid_request")


def test_graph_nonfinite_json_number_is_refused(client):
    text = json.dumps(saved()).replace('"value": -2', '"value": NaN')
    response = client.post(
        "/api/graphs", content=text, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "nonfinite_number")


def test_graph_nonfinite_value_as_string_is_stored(client):
    nodes = [dict(node) for node in COURSE_GRAPH["nodes"]]
    nodes[0]["value"] = "inf"
    created = create(client, saved(nodes=nodes))
    assert client.get(f"/api/graphs/{created['id']}").json()["nodes"][0]["value"] == "inf"


def test_graph_markup_is_stored_verbatim(client):
    title = '<script>alert("t")</script>'
    description = "# Task\n<img src=x onerror=alert(1)> `a<b` & ü \u2028 \x00 \\u0000"
    nodes = [dict(node) for node in COURSE_GRAPH["nodes"]]
    nodes[1]["label"] = "</script><b>y</b>"
    created = create(client, saved(title, description=description, nodes=nodes))

    response = client.get(f"/api/graphs/{created['id']}")
    assert response.headers["content-type"].startswith("application/json")
    stored = response.json()
    assert (stored["title"], stored["description"]) == (title, description)
    assert stored["nodes"][1]["label"] == "</script><b>y</b>"
    listed = client.get(f"/api/graphs/{created['id']}/revisions").json()
    assert listed["revisions"][0]["title"] == title


@pytest.mark.parametrize(
    "fields",
    [{"description": "half a pair: \ud800"}, {"title": "nul \x00"}],
    ids=["surrogate", "nul_title"],
)
def test_graph_text_that_no_database_can_hold_is_422(client, fields):
    # ASCII JSON, so the lone surrogate travels as the escape a client could send.
    text = json.dumps(saved(**fields))
    response = client.post(
        "/api/graphs", content=text, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "invalid_text")


def test_graph_token_never_appears_in_get_answers(client):
    created = create(client)
    token, graph_url = created["edit_token"], f"/api/graphs/{created['id']}"
    client.put(graph_url, json=saved("Second"), headers=bearer(token))
    token_hash = hashlib.sha256(token.encode()).hexdigest()

    for path in ("", "/revisions", "/revisions/1", "/revisions/2"):
        response = client.get(graph_url + path, headers=bearer(token))
        assert response.status_code == 200
        exposed = response.text + json.dumps(dict(response.headers))
        assert token not in exposed and token_hash not in exposed
        assert "token" not in response.text


def test_graph_ids_and_tokens_are_unguessable(client):
    created = [create(client) for _ in range(40)]
    ids = [c["id"] for c in created]
    tokens = [c["edit_token"] for c in created]

    assert len(set(ids)) == len(ids) and len(set(tokens)) == len(tokens)
    # URL-safe base64 carries 6 bits a character: 22 characters hold the 128 random bits.
    assert all(URLSAFE.match(i) and len(i) * 6 >= 128 for i in ids)
    assert all(URLSAFE.match(t) and len(t) * 6 >= 256 for t in tokens)
    # Random ids share no long prefix; counters or clocks would.
    assert len({i[:6] for i in ids}) == len(ids)
    assert len(set("".join(ids))) > 40


def test_graph_without_open_store_is_503(tmp_path):
    # Without the `with` block the lifespan never runs, so no store is open.
    bare = TestClient(create_app(Settings(db_path=tmp_path / "g.sqlite3")))
    assert_error(bare.get("/api/graphs/abc"), 503, "storage_unavailable")
    assert not (tmp_path / "g.sqlite3").exists()


def test_graph_routes_are_in_the_api_reference(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/graphs/{graph_id}"]) == {"get", "put", "delete"}
    assert "post" in paths["/api/graphs"]
    assert "/api/graphs/{graph_id}/revisions/{number}" in paths
