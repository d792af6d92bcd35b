"""Expression swell: the written-out symbolic derivative against the nodes autodiff needs.

Two families of graphs grow with a depth k:
- composition: σ(σ(…σ(x)…)), k sigmoids nested. Each level's derivative σ(u)(1 − σ(u)) · u'
  copies the whole formula of σ(u) twice, so the written size grows like k².
- product: the logistic map f ← 4·f·(1 − f) applied k times. The product rule copies both
  factors and both derivatives, so the written size roughly doubles per level.

Autodiff's count is the forward graph's nodes plus the backward nodes of its gradient graph
(engine/hessian.py), which grows by a fixed number of nodes per level.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.graph import build_graph
from engine.hessian import gradient_graph
from engine.symbolic import differentiate, to_text

FAMILIES = {
    "composition": "σ(σ(…σ(x)…)): k nested sigmoids",
    "product": "logistic map f ← 4·f·(1 − f), k times",
}
MAX_DEPTH = 12


def family_graph(family: str, depth: int, x: float = 0.3) -> dict:
    """The graph spec of one family member: input x, output f_depth."""
    nodes: list[dict] = [{"id": "x", "op": "input", "value": x}]
    previous = "x"
    if family == "composition":
        for level in range(1, depth + 1):
            nodes.append({"id": f"s{level}", "op": "sigmoid", "inputs": [previous]})
            previous = f"s{level}"
    elif family == "product":
        nodes += [
            {"id": "four", "op": "const", "value": 4.0, "label": "4"},
            {"id": "one", "op": "const", "value": 1.0, "label": "1"},
        ]
        for level in range(1, depth + 1):
            nodes += [
                {"id": f"m{level}", "op": "mul", "inputs": ["four", previous]},
                {"id": f"r{level}", "op": "sub", "inputs": ["one", previous]},
                {"id": f"f{level}", "op": "mul", "inputs": [f"m{level}", f"r{level}"]},
            ]
            previous = f"f{level}"
    else:
        raise ValueError(f"unknown family {family!r}")
    return {"nodes": nodes, "output": previous}


@dataclass
class SwellRow:
    """The sizes for one depth of one family."""

    depth: int
    function_size: int
    symbolic_size: int
    symbolic_shared: int
    graph_nodes: int
    autodiff_nodes: int
    derivative_text: str | None


def swell_rows(family: str, max_depth: int = MAX_DEPTH, text_up_to: int = 2) -> list[SwellRow]:
    """Sizes for depths 1..max_depth; the derivative is written out for the smallest depths."""
    rows = []
    for depth in range(1, max_depth + 1):
        graph = build_graph(family_graph(family, depth))
        derivative = differentiate(graph, "x")
        _, _, backward_nodes = gradient_graph(graph, ["x"])
        rows.append(
            SwellRow(
                depth=depth,
                function_size=derivative.function_size,
                symbolic_size=derivative.derivative_size,
                symbolic_shared=derivative.derivative_nodes,
                graph_nodes=len(graph.nodes),
                autodiff_nodes=len(graph.nodes) + backward_nodes,
                derivative_text=to_text(derivative.derivative) if depth <= text_up_to else None,
            )
        )
    return rows
