"""The graph store on both backends: revisions, tokens, deletion, migrations, settings."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.errors import ApiError
from app.settings import Settings
from app.storage import (
    MIGRATIONS,
    EditForbidden,
    GraphNotFound,
    GraphStore,
    RevisionNotFound,
    describe,
    open_store,
)
from app.storage import (
    database_url as url_for,
)


def document(title: str) -> str:
    nodes = [{"id": "x", "op": "input", "value": 1.5}, {"id": "f", "op": "exp", "inputs": ["x"]}]
    return json.dumps({"title": title, "nodes": nodes, "output": "f"})


@pytest.fixture
def store(database_url):
    graph_store = open_store(Settings(database_url=database_url))
    yield graph_store
    graph_store.close()


def test_store_create_then_latest_gives_the_text_back(store):
    revision, token = store.create(document("One"), "One")
    latest = store.latest(revision.graph_id)
    assert (latest.number, latest.title, latest.document) == (1, "One", document("One"))
    assert latest.created_at == latest.saved_at == revision.saved_at
    assert len(token) >= 43


def test_store_keeps_unicode_and_escaped_nul_exactly(store):
    text = json.dumps({"description": "ü 😀 \u2028 <b> \x00"}, ensure_ascii=False)
    revision, _ = store.create(text, "ü 😀 <script>")
    latest = store.latest(revision.graph_id)
    assert (latest.document, latest.title) == (text, "ü 😀 <script>")
    assert json.loads(latest.document)["description"].endswith("\x00")


def test_store_update_keeps_every_revision(store):
    first, token = store.create(document("One"), "One")
    for title in ("Two", "Three"):
        store.update(first.graph_id, token, document(title), title)

    assert [r["title"] for r in store.revisions(first.graph_id)] == ["One", "Two", "Three"]
    assert [r["number"] for r in store.revisions(first.graph_id)] == [1, 2, 3]
    assert store.revision(first.graph_id, 1).document == document("One")
    assert store.latest(first.graph_id).document == document("Three")
    assert store.latest(first.graph_id).created_at == first.created_at


def test_store_refuses_changes_without_the_right_token(store):
    revision, token = store.create(document("One"), "One")
    other, _ = store.create(document("Other"), "Other")

    for wrong in (None, "", "x" * 43, token[:-1]):
        with pytest.raises(EditForbidden):
            store.update(revision.graph_id, wrong, document("Bad"), "Bad")
        with pytest.raises(EditForbidden):
            store.delete(revision.graph_id, wrong)
    with pytest.raises(EditForbidden):
        store.update(other.graph_id, token, document("Bad"), "Bad")
    assert store.latest(revision.graph_id).number == 1


def test_store_unknown_graph_and_revision_are_not_found(store):
    with pytest.raises(GraphNotFound):
        store.latest("no-such-graph")
    with pytest.raises(GraphNotFound):
        store.update("no-such-graph", "token", document("x"), "x")
    revision, _ = store.create(document("One"), "One")
    with pytest.raises(RevisionNotFound):
        store.revision(revision.graph_id, 2)


def test_store_delete_removes_the_graph_and_its_revisions(store):
    kept, _ = store.create(document("Kept"), "Kept")
    gone, token = store.create(document("Gone"), "Gone")
    store.update(gone.graph_id, token, document("Gone 2"), "Gone 2")

    store.delete(gone.graph_id, token)
    with pytest.raises(GraphNotFound):
        store.revisions(gone.graph_id)
    with store.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT graph_id FROM revisions")).scalars().all()
    assert left == [kept.graph_id]


def test_store_keeps_only_a_hash_of_the_token(store):
    revision, token = store.create(document("One"), "One")
    with store.engine.connect() as conn:
        rows = [
            *conn.execute(sa.text("SELECT * FROM graphs")),
            *conn.execute(sa.text("SELECT * FROM revisions")),
        ]
        stored_hash = conn.execute(sa.text("SELECT token_hash FROM graphs")).scalar()
    assert all(token not in str(tuple(row)) for row in rows)
    assert stored_hash == hashlib.sha256(token.encode()).hexdigest()


def test_store_stops_at_the_revision_limit(database_url):
    store = GraphStore(url_for(Settings(database_url=database_url)), max_revisions=2)
    store.migrate()
    revision, token = store.create(document("One"), "One")
    store.update(revision.graph_id, token, document("Two"), "Two")

    with pytest.raises(ApiError, match="revisions") as refused:
        store.update(revision.graph_id, token, document("Three"), "Three")
    assert refused.value.status == 413
    assert refused.value.details == {"what": "revisions", "limit": 2, "actual": 3}
    assert len(store.revisions(revision.graph_id)) == 2
    store.close()


def test_store_migrations_run_once_and_keep_data(database_url):
    settings = Settings(database_url=database_url)
    first = open_store(settings)
    revision, _ = first.create(document("One"), "One")
    first.close()

    again = open_store(settings)
    assert again.latest(revision.graph_id).title == "One"
    with again.engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
    assert versions == [len(MIGRATIONS)]
    again.close()


def test_store_instances_starting_together_migrate_once(database_url):
    settings = Settings(database_url=database_url)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_store(settings).close()
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_store_refuses_a_newer_schema(database_url):
    store = open_store(Settings(database_url=database_url))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 999"))
    store.close()

    with pytest.raises(RuntimeError, match="newer"):
        open_store(Settings(database_url=database_url))


def test_store_sqlite_file_is_created_with_wal_and_full_sync(tmp_path):
    path = tmp_path / "nested" / "graphs.sqlite3"
    store = open_store(Settings(db_path=path, database_url=None))
    with store.engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    store.close()

    assert path.exists()
    assert (journal, synchronous) == ("wal", 2)  # 2 is FULL
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_store_default_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADPLAY_DB", str(tmp_path / "env.sqlite3"))
    monkeypatch.delenv("GRADPLAY_DATABASE_URL", raising=False)
    assert url_for(Settings()).database == str(tmp_path / "env.sqlite3")
    monkeypatch.delenv("GRADPLAY_DB")
    assert url_for(Settings()).database == str(Path("gradplay.sqlite3").resolve())


def test_store_postgresql_urls_use_psycopg3():
    for given in ("postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg2://u@h/db"):
        url = url_for(Settings(database_url=given))
        assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "h", "db")
    with pytest.raises(ValueError, match="mysql"):
        url_for(Settings(database_url="mysql://u@h/db"))


def test_store_log_line_names_the_database_without_its_password(postgres_server, caplog):
    # The throwaway server trusts local connections, so any password gets in.
    url = postgres_server.new_database().replace("postgres@", "postgres:s3cret-pw@")
    with caplog.at_level(logging.INFO, logger="app.storage"):
        open_store(Settings(database_url=url)).close()

    lines = [r.getMessage() for r in caplog.records if "stored in" in r.getMessage()]
    assert len(lines) == 1 and "PostgreSQL" in lines[0]
    assert str(postgres_server.port) in lines[0]
    assert "s3cret" not in caplog.text


def test_store_describe_hides_a_password_given_as_a_query_parameter():
    url = url_for(
        Settings(database_url="postgresql://u:pw1@h:5433/db?password=pw2&sslmode=require")
    )
    text = describe(url)
    assert "pw1" not in text and "pw2" not in text
    assert "h:5433/db" in text and "sslmode=require" in text


def test_store_describe_sqlite_names_the_file(tmp_path):
    url = url_for(Settings(db_path=tmp_path / "g.sqlite3", database_url=None))
    assert describe(url) == f"SQLite file {tmp_path / 'g.sqlite3'}"
