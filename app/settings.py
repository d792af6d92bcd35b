"""Settings of one running app: limits and switches, with documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.limits import Limits


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` needs; `gradplay serve` fills it from its options."""

    # The API is tighter than the engine's own defaults: a request is one student's graph.
    limits: Limits = field(
        default_factory=lambda: Limits(max_nodes=20_000, max_expression_chars=100_000)
    )
    # Request bodies above this size are refused with 413 before they are parsed.
    max_body_bytes: int = 2 * 1024 * 1024
    # Evaluations bigger than this (nodes + tensor elements) run off the event loop.
    inline_work_limit: int = 5_000
