"""The engine's deliberate size limits, in one place so the docs and the errors agree."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Defaults are sized for teaching graphs; the app may pass tighter ones."""

    max_nodes: int = 200_000
    max_expression_chars: int = 100_000
    max_nesting_depth: int = 200
    max_tensor_elements: int = 1_000_000
    # A local Jacobian has a node's dimensions and an input's; numpy holds at most 64.
    max_tensor_dims: int = 32
    max_graph_elements: int = 4_000_000
    # A local Jacobian has node.size * input.size entries; above this it is not built.
    max_jacobian_entries: int = 4_096
    # Wall-clock budget for one evaluation; checked between nodes.
    max_seconds: float = 10.0


DEFAULT_LIMITS = Limits()
