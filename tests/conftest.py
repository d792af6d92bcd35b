"""Shared test helpers: the reference cases and graph builders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# The repository is checked out beside shared/, which holds the reference cases.
CASES_PATH = Path(__file__).resolve().parents[2] / "shared" / "cases" / "cases.json"


def load_cases() -> list[dict]:
    """All reference cases; a missing file fails loudly rather than skipping."""
    return json.loads(CASES_PATH.read_text())


def cases_of_kind(*kinds: str) -> list[dict]:
    return [case for case in load_cases() if case["kind"] in kinds]


@pytest.fixture(scope="session")
def cases() -> list[dict]:
    return load_cases()


def assert_error(response, status: int, code: str) -> dict:
    """The response is an error in the one shape, with this status, code and a real sentence."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and len(error["message"]) > 10
    return error
