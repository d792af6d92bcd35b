"""Checked graphs kept by structure, so a request that only changes numbers skips the checks.

A student who edits an input's value, or a client sweeping one, sends the same graph again
with one new number. Validating the body, parsing its expression, checking the graph and
ordering it depend only on the structure, not on those numbers. So the checked graph is kept
under the body with its plain numbers taken out, and a later body with the same structure
only puts its numbers into a copy of it. The forward and backward passes run for every
request; only the checks, and the text around the answer's numbers, are reused. From the third
body of a structure on, the passes run on a tape (engine/tape.py): the same op functions over
list positions instead of dicts, with evaluate taking over when a number is not finite.

The numbers taken out are those in value slots: an input node's `value`, each value of
`inputs`, and `grad_output`, when it is a finite int or float. Anything else (a const's value,
a tensor, "nan", a string) stays in the key, so it must match exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from app.caches import BoundedCache
from app.serialize import AnswerTemplate
from engine.evaluate import Evaluation
from engine.graph import Graph
from engine.limits import Limits
from engine.numbers import ONE
from engine.tape import ScalarTape

# A slot's target when it is grad_output rather than a leaf.
GRAD_OUTPUT = object()
NO_NAMES: frozenset = frozenset()


@dataclass(frozen=True, slots=True)
class Checked:
    """What the full checks of a body made: all a plan needs besides where its numbers go."""

    graph: Graph
    positions: dict
    note: str | None
    grad_output: Any


@dataclass(slots=True)
class Split:
    """A body as its structure (the cache key) and the numbers taken out of it, in order."""

    key: bytes
    slots: list
    numbers: list
    # Every name `inputs` gives a value for, taken out or not: a node it names takes that value.
    input_names: frozenset


@dataclass(slots=True)
class Plan:
    """A checked graph and where each taken-out number goes."""

    graph: Graph
    # Where the text that made each node is (expressions only), for error messages.
    positions: dict
    # Per slot: the id of the leaf it sets, GRAD_OUTPUT, or None when no node takes it.
    targets: tuple
    # The note naming ignored `inputs`, which depends only on their names.
    note: str | None
    # The checked body's grad_output: a tensor or a name such as "inf" stays in the key, so
    # every body with this plan has the same one; a plain number comes from its slot.
    grad_output: Any
    # Cut from the first plain answer when the plan is used again: most structures are
    # seen once (a new expression each time), and cutting costs about one answer.
    template: AnswerTemplate | None = None
    uncuttable: bool = False
    # Made with the template, for ungrouped scalar graphs: the passes over list positions,
    # with the values of the leaves no slot sets and each slot's place among the leaves.
    tape: ScalarTape | None = None
    leaf_values: list | None = None
    leaf_targets: tuple = ()

    def graph_and_grad_output(self, numbers: list) -> tuple[Graph, Any]:
        """The kept graph with `numbers` in its leaves, and grad_output (None if not given)."""
        values = {}
        grad_output = self.grad_output
        for target, number in zip(self.targets, numbers, strict=True):
            if target is GRAD_OUTPUT:
                grad_output = number
            elif target is not None:
                values[target] = np.float64(number)
        return self.graph.with_values(values), grad_output

    def answer(self, evaluation: Evaluation, limits: Limits) -> bytes | None:
        """The answer written into the template; None when it must be written in full."""
        if self.uncuttable or not AnswerTemplate.fits(evaluation):
            return None
        if self.template is None:
            self.template = AnswerTemplate.of(evaluation, self.note)
            self.uncuttable = self.template is None
            if self.uncuttable:
                return None
            self._make_tape(limits)
        return self.template.fill(evaluation)

    def taped_answer(self, numbers: list) -> bytes | None:
        """The answer from the tape and the template; None when evaluate must run instead."""
        if self.tape is None:
            return None
        leaf_values = self.leaf_values.copy()
        seed = ONE
        for target, number in zip(self.leaf_targets, numbers, strict=True):
            if target is GRAD_OUTPUT:
                seed = np.float64(number)
            elif target is not None:
                leaf_values[target] = np.float64(number)
        run = self.tape.run(leaf_values, seed)
        return None if run is None else self.template.fill_run(leaf_values, run)

    def _make_tape(self, limits: Limits) -> None:
        # A grad_output kept in the key ("inf", a tensor) is left to evaluate; the template
        # of a grouped graph needs the groups' numbers, which only an Evaluation has.
        given = self.grad_output is not None and GRAD_OUTPUT not in self.targets
        if given or self.template.grouped:
            return
        self.tape = ScalarTape.of(self.graph, limits)
        if self.tape is None:
            return
        leaves = [node for node in self.graph.nodes.values() if node.op.is_leaf]
        place = {node.id: index for index, node in enumerate(leaves)}
        self.leaf_values = [node.value for node in leaves]
        self.leaf_targets = tuple(
            target if target is GRAD_OUTPUT or target is None else place[target]
            for target in self.targets
        )


def split(raw: bytes, largest: int) -> Split | None:
    """The body's structure and numbers; None for a body this cache does not handle.

    A body that is not a JSON object, or is larger than `largest` bytes, is left to the full
    checks, which also give any error.
    """
    if len(raw) > largest:
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict:
        return None

    slots: list = []
    numbers: list = []
    nodes = body.get("nodes")
    if type(nodes) is list:
        for index, node in enumerate(nodes):
            # Only inputs: a const's number is part of the formulas the answer shows.
            if (
                type(node) is dict
                and node.get("op") == "input"
                and _plain_number(node.get("value"))
            ):
                numbers.append(node["value"])
                node["value"] = None
                slots.append(index)
    inputs = body.get("inputs")
    if type(inputs) is dict:
        for name, value in inputs.items():
            if _plain_number(value):
                numbers.append(value)
                inputs[name] = None
                slots.append(name)
    if _plain_number(body.get("grad_output")):
        numbers.append(body["grad_output"])
        body["grad_output"] = None
        slots.append(None)

    # The slots are part of the key, so a body with a real null where another had a number
    # has a different key.
    try:
        key = orjson.dumps([body, slots])
    except orjson.JSONEncodeError:
        return None  # nested deeper than orjson writes: the full checks refuse it
    names = frozenset(inputs) if type(inputs) is dict and inputs else NO_NAMES
    return Split(key, slots, numbers, names)


def _plain_number(value: Any) -> bool:
    return type(value) is float and math.isfinite(value) or type(value) is int


class PlanCache:
    """The latest plans by structure, bounded in number and in bytes."""

    # Bytes of a checked node with its share of the graph's order (about 300) and of the tape
    # (about 80), measured with tracemalloc and rounded up; the template is about as long as
    # the answer it was cut from.
    NODE_BYTES = 400

    def __init__(
        self, entries: int = 512, budget: int = 32 * 1024 * 1024, largest_body: int = 16 * 1024
    ) -> None:
        self.plans = BoundedCache(entries, budget)
        self.largest_body = largest_body

    def split(self, raw: bytes) -> Split | None:
        return split(raw, self.largest_body) if self.plans.entries > 0 else None

    def get(self, split: Split) -> Plan | None:
        return self.plans.get(split.key)

    def put(self, split: Split, checked: Checked, answer_bytes: int) -> None:
        """Keep the plan of a body that passed every check and was evaluated."""
        graph = checked.graph
        ids = list(graph.nodes)  # in the body's order (duplicate ids were refused)
        targets = tuple(_target(slot, ids, graph, split.input_names) for slot in split.slots)
        plan = Plan(graph, checked.positions, targets, checked.note, checked.grad_output)
        size = len(split.key) + self.NODE_BYTES * len(graph.nodes) + answer_bytes
        self.plans.put(split.key, plan, size)


def _target(slot: int | str | None, ids: list[str], graph: Graph, input_names) -> Any:
    if slot is None:
        return GRAD_OUTPUT
    if type(slot) is int:
        # A value in `inputs` wins over the node's own, as in the full checks.
        return None if ids[slot] in input_names else ids[slot]
    node = graph.nodes.get(slot)
    return slot if node is not None and node.op.name == "input" else None
