"""The scalar benchmark graph: a sum of `blocks` neurons relu(w·x + b), about 10,000 nodes."""

from __future__ import annotations

import random


def neuron_sum_spec(blocks: int = 1_666, seed: int = 0) -> dict:
    """Graph JSON of sum_i relu(w_i * x_i + b_i): six nodes per block."""
    rng = random.Random(seed)
    nodes: list[dict] = []
    total = None
    for i in range(blocks):
        w, x, b = (rng.uniform(-1, 1) for _ in range(3))
        nodes += [
            {"id": f"w{i}", "op": "input", "value": w},
            {"id": f"x{i}", "op": "input", "value": x},
            {"id": f"b{i}", "op": "input", "value": b},
            {"id": f"m{i}", "op": "mul", "inputs": [f"w{i}", f"x{i}"]},
            {"id": f"a{i}", "op": "add", "inputs": [f"m{i}", f"b{i}"]},
            {"id": f"t{i}", "op": "relu", "inputs": [f"a{i}"]},
        ]
        if total is not None:
            nodes.append({"id": f"s{i}", "op": "add", "inputs": [total, f"t{i}"]})
            total = f"s{i}"
        else:
            total = f"t{i}"
    return {"nodes": nodes, "output": total}


def replay(spec: dict, leaf, ops: dict):
    """Rebuild the same computation with another library's scalars; returns the output."""
    values = {}
    for node in spec["nodes"]:
        if node["op"] == "input":
            values[node["id"]] = leaf(node["value"])
        else:
            values[node["id"]] = ops[node["op"]](*(values[i] for i in node["inputs"]))
    return values[spec["output"]], values
