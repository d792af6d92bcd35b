"""Autodiff gradients next to finite-difference estimates, and how the estimates' error
depends on the step h.

For each input element x_i (every element of every `input` node):
- forward difference  (f(x + h·e_i) − f(x)) / h, whose truncation error shrinks like h;
- central difference  (f(x + h·e_i) − f(x − h·e_i)) / 2h, whose truncation error shrinks like h².
Both divide a difference of two nearly equal floats by h, so round-off error grows like
ε·|f| / h (ε ≈ 2.2e-16) as h shrinks. On a log-log plot the total error against h is a V: the
best h sits where the two meet, near √ε ≈ 1e-8 for the forward and ∛ε ≈ 1e-5 for the central
difference. Autodiff has no h and only the round-off of the chain rule's own products.

A graph whose output is a tensor is checked as the sum of its output, which is also what the
backward pass differentiates when it starts from a gradient of ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import EngineError, LimitError
from engine.evaluate import Clock, evaluate, forward
from engine.graph import Graph
from engine.limits import DEFAULT_LIMITS, Limits

# h from 1e-1 down to 1e-15 in steps of half a decade.
DEFAULT_STEPS = tuple(10.0 ** (-k / 2) for k in range(2, 31))

# Each h costs two forward passes per input element; beyond this many elements the sweep
# would be slow and the table unreadable.
MAX_ELEMENTS = 64
MAX_FORWARD_NODES = 2_000_000


@dataclass
class InputCheck:
    """One input element: its autodiff gradient and both estimates at their best h."""

    node: str
    index: tuple[int, ...]
    value: float
    autodiff: float
    forward: float
    central: float
    forward_error: float
    central_error: float


@dataclass
class GradCheck:
    """The sweep over h and the per-input comparison at each method's best h."""

    output: float
    steps: list[float]
    forward_errors: list[float]
    central_errors: list[float]
    best_forward_h: float
    best_central_h: float
    inputs: list[InputCheck]
    notes: list[str]


def relative_error(estimate, exact) -> np.ndarray:
    """|estimate − exact| / max(|estimate|, |exact|), and 0 where both are 0."""
    estimate, exact = np.asarray(estimate, float), np.asarray(exact, float)
    scale = np.maximum(np.abs(estimate), np.abs(exact))
    with np.errstate(all="ignore"):
        error = np.abs(estimate - exact) / scale
    return np.where(scale == 0, 0.0, np.where(np.isnan(error), np.inf, error))


def vector_error(estimate: np.ndarray, exact: np.ndarray) -> float:
    """The relative error of a whole gradient: ‖estimate − exact‖ / max(‖estimate‖, ‖exact‖)."""
    scale = max(np.linalg.norm(estimate), np.linalg.norm(exact))
    if scale == 0:
        return 0.0
    with np.errstate(all="ignore"):  # inf / inf where the gradient itself is infinite
        error = float(np.linalg.norm(estimate - exact) / scale)
    return error if np.isfinite(error) else float("inf")


def gradcheck(
    graph: Graph, steps: tuple[float, ...] = DEFAULT_STEPS, limits: Limits = DEFAULT_LIMITS
) -> GradCheck:
    """Compare autodiff with forward and central differences over a sweep of h."""
    elements = _elements(graph)
    _check_size(graph, elements, steps)
    evaluation = evaluate(graph, limits=limits, with_local=False)
    notes = list(evaluation.notes)
    exact = np.array([_grad_at(evaluation.grads.get(node), index) for node, index in elements])

    # One time budget for the whole sweep: each pass alone may be quick while hundreds of
    # them are not.
    clock = Clock(limits)
    base = _output(graph, limits, clock)
    forward_estimates = np.zeros((len(steps), len(elements)))
    central_estimates = np.zeros((len(steps), len(elements)))
    with np.errstate(all="ignore"):
        for row, h in enumerate(steps):
            for column, (node, index) in enumerate(elements):
                above = _shifted_output(graph, node, index, h, limits, clock)
                below = _shifted_output(graph, node, index, -h, limits, clock)
                forward_estimates[row, column] = (above - base) / h
                central_estimates[row, column] = (above - below) / (2 * h)

    forward_errors = [vector_error(e, exact) for e in forward_estimates]
    central_errors = [vector_error(e, exact) for e in central_estimates]
    if not np.isfinite(min(forward_errors + central_errors)):
        notes.append(
            "No step h gives a finite error: the output or a gradient is not finite at these "
            "values (sqrt or log at 0, say), so no h is best and the plot has nothing to show."
        )
    best_forward = int(np.argmin(forward_errors))
    best_central = int(np.argmin(central_errors))
    inputs = [
        InputCheck(
            node=node,
            index=index,
            value=float(_grad_at(graph.nodes[node].value, index)),
            autodiff=float(exact[column]),
            forward=float(forward_estimates[best_forward, column]),
            central=float(central_estimates[best_central, column]),
            forward_error=float(
                relative_error(forward_estimates[best_forward, column], exact[column])
            ),
            central_error=float(
                relative_error(central_estimates[best_central, column], exact[column])
            ),
        )
        for column, (node, index) in enumerate(elements)
    ]
    return GradCheck(
        output=float(base),
        steps=list(steps),
        forward_errors=forward_errors,
        central_errors=central_errors,
        best_forward_h=steps[best_forward],
        best_central_h=steps[best_central],
        inputs=inputs,
        notes=notes,
    )


def _elements(graph: Graph) -> list[tuple[str, tuple[int, ...]]]:
    """(node id, index) of every element of every input node, in forward order."""
    elements = []
    for node_id in graph.order:
        node = graph.nodes[node_id]
        if node.op.name == "input":
            elements += [
                (node_id, tuple(int(i) for i in index))
                for index in np.ndindex(np.shape(node.value))
            ]
    if not elements:
        raise EngineError(
            "the graph has no input node to differentiate; make a value an input",
            code="no_inputs",
        )
    return elements


def _check_size(graph: Graph, elements: list, steps: tuple) -> None:
    if len(elements) > MAX_ELEMENTS:
        raise LimitError(
            f"the inputs hold {len(elements):,} numbers; the gradient check compares at most "
            f"{MAX_ELEMENTS} (each costs two forward passes per step h)",
            what="checked_elements",
            limit=MAX_ELEMENTS,
            actual=len(elements),
        )
    passes = 2 * len(elements) * len(steps) * len(graph.nodes)
    if passes > MAX_FORWARD_NODES:
        raise LimitError(
            f"the sweep would compute {passes:,} node values; the limit is {MAX_FORWARD_NODES:,}"
            " — use a smaller graph or fewer inputs",
            what="sweep_node_values",
            limit=MAX_FORWARD_NODES,
            actual=passes,
        )
    if not steps or any(not np.isfinite(h) or h <= 0 for h in steps):
        raise EngineError("every step h must be a number above 0", code="bad_step")


def _grad_at(value, index: tuple[int, ...]) -> float:
    if value is None:
        return 0.0
    return float(value[index]) if index else float(value)


def _output(graph: Graph, limits: Limits, clock: Clock) -> float:
    values, _, _ = forward(graph, limits, clock)
    return float(np.sum(values[graph.output]))


def _shifted_output(
    graph: Graph, node_id: str, index: tuple, h: float, limits: Limits, clock: Clock
) -> float:
    """f with one input element moved by h; the node's value is put back afterwards."""
    node = graph.nodes[node_id]
    original = node.value
    if index:
        shifted = np.array(original, dtype=float)
        shifted[index] += h
        node.value = shifted
    else:
        node.value = np.float64(original + h)
    try:
        return _output(graph, limits, clock)
    finally:
        node.value = original
