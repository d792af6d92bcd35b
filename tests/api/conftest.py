"""An in-process client for the API tests, storing shared graphs in a temporary SQLite file."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    # Every test here shares one client address; test_save_limit.py covers the save limit.
    settings = Settings(
        db_path=tmp_path_factory.mktemp("db") / "graphs.sqlite3",
        database_url=None,
        saves_per_minute=0,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client
