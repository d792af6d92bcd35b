"""Settings of one running app: limits and switches, with documented defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.limits import Limits


def default_db_path() -> Path:
    """The SQLite file for shared graphs: $GRADPLAY_DB, else ./gradplay.sqlite3."""
    return Path(os.environ.get("GRADPLAY_DB") or "gradplay.sqlite3")


def default_database_url() -> str | None:
    """A PostgreSQL URL from $GRADPLAY_DATABASE_URL; None means the SQLite file."""
    return os.environ.get("GRADPLAY_DATABASE_URL") or None


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` needs; `gradplay serve` fills it from its options."""

    # The API is tighter than the engine's own defaults: a request is one student's graph.
    limits: Limits = field(
        default_factory=lambda: Limits(max_nodes=20_000, max_expression_chars=100_000)
    )
    # Request bodies above this size are refused with 413 before they are parsed.
    max_body_bytes: int = 2 * 1024 * 1024
    # Photo uploads to the CNN lab may be larger (a phone's JPEG is several MB).
    max_upload_bytes: int = 12 * 1024 * 1024
    # /api/evaluate keeps recent answers by body, checked graphs by structure and parsed
    # expressions by text: each cache at most this many entries (0 turns all three off) and
    # this many bytes.
    evaluate_cache_entries: int = 512
    evaluate_cache_bytes: int = 32 * 1024 * 1024
    # An /api/evaluate answer carries at most this many numbers (about 20 MB of JSON).
    max_response_numbers: int = 1_000_000
    # Evaluations bigger than this (nodes + tensor elements) run off the event loop.
    inline_work_limit: int = 5_000

    # Shared graphs live in this SQLite file unless `database_url` names a PostgreSQL server,
    # which several app instances can share.
    db_path: Path = field(default_factory=default_db_path)
    database_url: str | None = field(default_factory=default_database_url)
    # A saved graph is a teaching demo, far smaller than what /api/evaluate accepts.
    max_saved_nodes: int = 2_000
    max_title_chars: int = 200
    max_description_chars: int = 20_000
    # Every save keeps a revision; past this many, the owner must save a new graph.
    max_revisions: int = 1_000
    # Saves (new graphs and new revisions) one client address may make per minute; 0 = any.
    saves_per_minute: int = 30
