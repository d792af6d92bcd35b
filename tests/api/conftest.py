"""An in-process client for the API tests, storing shared graphs in a temporary SQLite file."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    settings = Settings(
        db_path=tmp_path_factory.mktemp("db") / "graphs.sqlite3", database_url=None
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client
