"""The real server under stress: a SIGKILL mid-stream and twenty clients saving at once.

Each test starts `gradplay serve` in a subprocess on 127.0.0.1 and talks HTTP to it. The load
is bounded in count and time.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import httpx

WRITERS = 4
KILL_AFTER_ACKNOWLEDGED = 60
CLIENTS = 20
SAVES_PER_CLIENT = 5
PUTS_PER_CLIENT = 3


def graph(title: str) -> dict:
    return {
        "title": title,
        "description": f"saved by the stress test: {title}",
        "nodes": [
            {"id": "x", "op": "input", "value": 0.5},
            {"id": "y", "op": "input", "value": -3},
            {"id": "f", "op": "mul", "inputs": ["x", "y"]},
        ],
        "output": "f",
    }


def integrity(path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


class SaveStream:
    """Writers that save until the server dies, recording every acknowledged save."""

    def __init__(self, url: str, graph_id: str, token: str) -> None:
        self.url, self.graph_id, self.token = url, graph_id, token
        self.lock = threading.Lock()
        self.created: dict[str, str] = {}
        self.revisions: dict[int, str] = {}
        self.ended_by_error = 0

    def write(self, writer: int) -> None:
        with httpx.Client(base_url=self.url, timeout=20) as http:
            for n in range(2_000):
                title = f"writer {writer} save {n}"
                try:
                    self._save(http, title, overwrite=n % 2 == 1)
                except httpx.TransportError:
                    with self.lock:
                        self.ended_by_error += 1
                    return

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.created) + len(self.revisions)

    def _save(self, http: httpx.Client, title: str, overwrite: bool) -> None:
        if overwrite:
            headers = {"Authorization": f"Bearer {self.token}"}
            response = http.put(f"/api/graphs/{self.graph_id}", json=graph(title), headers=headers)
            assert response.status_code == 200, response.text
            with self.lock:
                self.revisions[response.json()["revision"]] = title
        else:
            response = http.post("/api/graphs", json=graph(title))
            assert response.status_code == 201, response.text
            with self.lock:
                self.created[response.json()["id"]] = title


def test_acknowledged_saves_survive_sigkill(app_server, tmp_path):
    db = tmp_path / "graphs.sqlite3"
    server = app_server(["--db", str(db), "--saves-per-minute", "0"])
    first = httpx.post(f"{server.url}/api/graphs", json=graph("shared")).json()
    stream = SaveStream(server.url, first["id"], first["edit_token"])

    writers = [threading.Thread(target=stream.write, args=(w,)) for w in range(WRITERS)]
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + 60
    while stream.acknowledged() < KILL_AFTER_ACKNOWLEDGED and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    for writer in writers:
        writer.join(timeout=60)

    # Every writer was still saving when the server died: the kill hit the stream mid-way.
    assert stream.ended_by_error == WRITERS
    assert stream.acknowledged() >= KILL_AFTER_ACKNOWLEDGED
    assert integrity(db) == "ok"

    server.start()
    with httpx.Client(base_url=server.url, timeout=20) as http:
        for graph_id, title in stream.created.items():
            assert http.get(f"/api/graphs/{graph_id}").json()["title"] == title
        listed = http.get(f"/api/graphs/{first['id']}/revisions").json()["revisions"]
    kept = {entry["revision"]: entry["title"] for entry in listed}
    assert stream.revisions.items() <= kept.items()
    server.stop()
    assert integrity(db) == "ok"


def test_twenty_clients_saving_at_once_lose_nothing(app_server, server_options):
    server = app_server(server_options)

    def client_saves(client: int) -> list[tuple[str, str]]:
        saves = []
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for n in range(SAVES_PER_CLIENT):
                title = f"client {client} save {n}"
                response = http.post("/api/graphs", json=graph(title))
                assert response.status_code == 201, response.text
                saves.append((response.json()["id"], title))
        return saves

    with ThreadPoolExecutor(CLIENTS) as pool:
        saves = [save for batch in pool.map(client_saves, range(CLIENTS)) for save in batch]

    assert len(saves) == CLIENTS * SAVES_PER_CLIENT
    assert len({graph_id for graph_id, _ in saves}) == len(saves)
    with httpx.Client(base_url=server.url, timeout=20) as http:
        for graph_id, title in saves:
            assert http.get(f"/api/graphs/{graph_id}").json()["title"] == title


def test_put_race_on_one_graph_keeps_every_revision(app_server, server_options):
    server = app_server(server_options)
    first = httpx.post(f"{server.url}/api/graphs", json=graph("original")).json()
    headers = {"X-Edit-Token": first["edit_token"]}

    def client_overwrites(client: int) -> list[tuple[int, str]]:
        saves = []
        with httpx.Client(base_url=server.url, timeout=60, headers=headers) as http:
            for n in range(PUTS_PER_CLIENT):
                title = f"client {client} put {n}"
                response = http.put(f"/api/graphs/{first['id']}", json=graph(title))
                assert response.status_code == 200, response.text
                saves.append((response.json()["revision"], title))
        return saves

    with ThreadPoolExecutor(CLIENTS) as pool:
        saves = [save for batch in pool.map(client_overwrites, range(CLIENTS)) for save in batch]

    total = CLIENTS * PUTS_PER_CLIENT + 1
    assert sorted(number for number, _ in saves) == list(range(2, total + 1))
    listed = httpx.get(f"{server.url}/api/graphs/{first['id']}/revisions").json()["revisions"]
    assert [entry["revision"] for entry in listed] == list(range(1, total + 1))
    assert {(e["revision"], e["title"]) for e in listed[1:]} == set(saves)
