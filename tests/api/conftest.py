"""An in-process client for the API tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client
