"""`POST /api/evaluate` on the plan path (app/plans.py): a body seen before with other numbers.

A body's first post checks it in full and keeps its plan; the second with the same structure
cuts an answer template; the third and later run the passes on the plan's tape (engine/tape.py)
and fill that template. Every stage must answer as an app with both caches off
(Settings(evaluate_cache_entries=0)) does, byte for byte, and the numbers must match PyTorch.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable

import pytest
import torch
from fastapi.testclient import TestClient

from app.main import create_app
from app.schemas import COURSE_GRAPH
from app.serialize import AnswerTemplate
from app.settings import Settings

# Tight enough to catch a wrong number, loose enough for PyTorch's order of operations.
REL = 1e-12


def _client(tmp_path_factory, **changes) -> TestClient:
    settings = Settings(
        db_path=tmp_path_factory.mktemp("db") / "graphs.sqlite3",
        database_url=None,
        saves_per_minute=0,
        **changes,
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> TestClient:
    """The app with both caches off: every body takes the full checks."""
    with _client(tmp_path_factory, evaluate_cache_entries=0) as test_client:
        yield test_client


@pytest.fixture
def planned(tmp_path_factory) -> TestClient:
    """A fresh app with both caches on, so each test sees its structures' stages from the start."""
    with _client(tmp_path_factory) as test_client:
        yield test_client


def post(client: TestClient, body: dict | str):
    """POST a dict as JSON, or a str as the exact JSON text (for what json.dumps cannot write)."""
    if isinstance(body, str):
        headers = {"content-type": "application/json"}
        return client.post("/api/evaluate", content=body.encode(), headers=headers)
    return client.post("/api/evaluate", json=body)


def strict(response) -> dict:
    """The response's JSON, refusing the NaN / Infinity tokens strict JSON does not have."""

    def refuse(token: str):
        raise AssertionError(f"the answer holds the bare token {token}")

    return json.loads(response.text, parse_constant=refuse)


def same_answer(planned: TestClient, full: TestClient, body: dict | str) -> dict:
    """Post `body` to both apps; same status, same JSON and same bytes. Returns the JSON."""
    on_plan = post(planned, body)
    checked = post(full, body)
    assert on_plan.status_code == checked.status_code, (on_plan.text, checked.text)
    assert strict(on_plan) == strict(checked)
    # 1 and 1.0 compare equal once parsed; the text must match too.
    assert on_plan.content == checked.content
    return strict(on_plan)


def only_plan(client: TestClient):
    """The one plan a fresh app keeps after posts of a single structure."""
    plans = client.app.state.evaluate_plans.plans
    assert len(plans) == 1
    return next(iter(plans.values()))


def post_sequence(planned: TestClient, full: TestClient, bodies: list) -> tuple[list, list]:
    """Post bodies of one structure in turn; the answers, and the plan's template after each."""
    answers, templates = [], []
    for body in bodies:
        answers.append(same_answer(planned, full, body))
        templates.append(only_plan(planned).template)
    return answers, templates


def assert_three_stages(templates: list) -> None:
    """Plan made, then template cut, then that same template filled for every later body."""
    assert templates[0] is None
    assert templates[1] is not None
    assert all(template is templates[1] for template in templates[2:])


def named(number: float) -> float | str:
    """A number as the JSON contract writes it: non-finite ones by name."""
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def assert_matches(ours, truth: float) -> None:
    truth = named(truth)
    if isinstance(truth, str):
        assert ours == truth
    else:
        assert isinstance(ours, float | int) and math.isclose(ours, truth, rel_tol=REL)


def torch_nodes(leaves: dict[str, float], build: Callable) -> dict[str, tuple[float, float]]:
    """Each node's value and grad from PyTorch autograd; `build` makes the other nodes."""
    tensors = {
        name: torch.tensor(float(value), dtype=torch.float64, requires_grad=True)
        for name, value in leaves.items()
    }
    made = build(tensors)
    for tensor in made.values():
        tensor.retain_grad()
    output = list(made.values())[-1]
    output.backward()
    every = {**tensors, **made}
    return {name: (tensor.item(), tensor.grad.item()) for name, tensor in every.items()}


def graph_body(graph: dict, values: dict[str, float], **extra) -> dict:
    """`graph` with new values for some of its input nodes."""
    nodes = [
        {**node, "value": values[node["id"]]} if node["id"] in values else dict(node)
        for node in graph["nodes"]
    ]
    return {"nodes": nodes, "output": graph["output"], **extra}


# -- 1. numbers against PyTorch ---------------------------------------------------------------

NEURON = {
    "nodes": [
        *({"id": name, "op": "input", "value": 1} for name in ("w0", "x0", "w1", "x1", "w2")),
        {"id": "p0", "op": "mul", "inputs": ["w0", "x0"]},
        {"id": "p1", "op": "mul", "inputs": ["w1", "x1"]},
        {"id": "s0", "op": "add", "inputs": ["p0", "p1"]},
        {"id": "s", "op": "add", "inputs": ["s0", "w2"]},
        {"id": "f", "op": "sigmoid", "inputs": ["s"]},
    ],
    "output": "f",
}


def torch_neuron(t: dict) -> dict:
    p0 = t["w0"] * t["x0"]
    p1 = t["w1"] * t["x1"]
    s0 = p0 + p1
    s = s0 + t["w2"]
    return {"p0": p0, "p1": p1, "s0": s0, "s": s, "f": torch.sigmoid(s)}


def neuron_answers(planned, full, seed: int, count: int, spread: float) -> tuple[list, list]:
    """The neuron posted with `count` random input sets: the sets and their answers."""
    rng = random.Random(seed)
    names = ("w0", "x0", "w1", "x1", "w2")
    leaves = [{name: rng.uniform(-spread, spread) for name in names} for _ in range(count)]
    answers, templates = post_sequence(planned, full, [graph_body(NEURON, v) for v in leaves])
    assert_three_stages(templates)
    return leaves, answers


def test_plan_neuron_values_and_grads_match_torch(planned, full):
    leaves, answers = neuron_answers(planned, full, seed=20240611, count=8, spread=4)

    for values, answer in zip(leaves, answers, strict=True):
        truth = torch_nodes(values, torch_neuron)
        assert set(answer["nodes"]) == set(truth)
        for node_id, (value, grad) in truth.items():
            assert_matches(answer["nodes"][node_id]["value"], value)
            assert_matches(answer["nodes"][node_id]["grad"], grad)


def test_plan_neuron_edges_multiply_upstream_by_local(planned, full):
    _, answers = neuron_answers(planned, full, seed=7, count=5, spread=3)

    for answer in answers:
        assert len(answer["edges"]) == 9
        for edge in answer["edges"]:
            assert edge["upstream"] == answer["nodes"][edge["target"]]["grad"]
            assert edge["upstream"] * edge["local"] == edge["downstream"]


# -- 2. the plan path answers as the full path ------------------------------------------------


def expression_bodies(text: str, inputs: list[dict]) -> list[dict]:
    return [{"expression": text, "inputs": values} for values in inputs]


# Ties, relu at 0 and -0.0 sit in the second and third bodies, so the template is cut from
# such an answer and filled with one.
EXPRESSIONS = {
    "fan_out": (
        "x*y + x",
        [{"x": 3, "y": -2}, {"x": -0.0, "y": 4}, {"x": 1.5, "y": 0}, {"x": -7.25, "y": 1e-3}],
    ),
    "square": ("x*x", [{"x": 3}, {"x": -0.5}, {"x": 0}, {"x": 1e150}, {"x": -2}]),
    "max_tie": (
        "max(x, y) * z",
        [{"x": 1, "y": 2, "z": 3}, {"x": 2, "y": 2, "z": -1}, {"x": 0.5, "y": 0.5, "z": 4}]
        + [{"x": 5, "y": -1, "z": 2}, {"x": -3, "y": -3, "z": 1}],
    ),
    "min_tie": (
        "min(x, y) - z",
        [{"x": 1, "y": 2, "z": 3}, {"x": 4, "y": 4, "z": 0}, {"x": -1, "y": -1, "z": 2}]
        + [{"x": 9, "y": 3, "z": 1}],
    ),
    "relu_at_zero": (
        "relu(x) * y",
        [{"x": 1, "y": 2}, {"x": 0, "y": 3}, {"x": -0.0, "y": -1}, {"x": -2, "y": 5}]
        + [{"x": 0.0, "y": 1}],
    ),
    "tanh": (
        "tanh(w*x + b)",
        [{"w": 0.5, "x": 2, "b": 0.1}, {"w": -1.5, "x": 0.4, "b": 0}, {"w": 3, "x": 3, "b": 3}]
        + [{"w": 0, "x": 0, "b": 0}],
    ),
    "exp_log": (
        "log(exp(x) + y)",
        [{"x": 0, "y": 1}, {"x": 2, "y": 0.5}, {"x": -3, "y": 2}, {"x": 10, "y": 1e-9}],
    ),
    "div": (
        "x / y",
        [{"x": 1, "y": 2}, {"x": -3, "y": 7}, {"x": 0, "y": -0.25}, {"x": 5, "y": 3}],
    ),
    "pow": (
        "x ** y",
        [{"x": 2, "y": 3}, {"x": 0.5, "y": -1}, {"x": 9, "y": 0.5}, {"x": 1.1, "y": 100}],
    ),
    "sigmoid_with_const": (
        "sigmoid(2 * x - y)",
        [{"x": 1, "y": 2}, {"x": -1, "y": 0.25}, {"x": 40, "y": 0}, {"x": 0, "y": 0}],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_plan_expression_answers_as_full_path(planned, full, name):
    text, inputs = EXPRESSIONS[name]
    answers, templates = post_sequence(planned, full, expression_bodies(text, inputs))

    assert_three_stages(templates)
    # The answers really carry each body's numbers, not the first one's.
    leaf_values = [{k: a["nodes"][k]["value"] for k in inputs[0]} for a in answers]
    assert leaf_values == [{k: float(v) for k, v in values.items()} for values in inputs]


def test_plan_course_graph_answers_as_full_path(planned, full):
    values = [{"x": -2, "y": 5, "z": -4}, {"x": 1, "y": 1, "z": 1}, {"x": 0.5, "y": -3, "z": 8}]
    values += [{"x": 100, "y": -100, "z": 0.001}, {"x": 3, "y": 4, "z": 5}]
    bodies = [graph_body(COURSE_GRAPH, v, schema_version=1) for v in values]
    answers, templates = post_sequence(planned, full, bodies)

    assert_three_stages(templates)
    for v, answer in zip(values, answers, strict=True):
        # f = (x + y)·z, df/dx = df/dy = z, df/dz = x + y.
        assert answer["nodes"]["f"]["value"] == (v["x"] + v["y"]) * v["z"]
        assert answer["nodes"]["x"]["grad"] == answer["nodes"]["y"]["grad"] == v["z"]
        assert answer["nodes"]["z"]["grad"] == v["x"] + v["y"]


def test_plan_sigmoid_preset_with_group_answers_as_full_path(planned, full):
    preset = planned.get("/api/presets/sigmoid_neuron").json()["graph"]
    rng = random.Random(3)
    names = ("w0", "x0", "w1", "x1", "w2")
    values = [{n: rng.uniform(-2, 2) for n in names} for _ in range(5)]
    bodies = [graph_body(preset, v, schema_version=1) for v in values]
    answers, templates = post_sequence(planned, full, bodies)

    assert_three_stages(templates)
    for v, answer in zip(values, answers, strict=True):
        assert answer["groups"]["sigmoid"]["output"] == "f"
        s = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]
        sigma = 1 / (1 + math.exp(-s))
        assert math.isclose(answer["nodes"]["f"]["value"], sigma, rel_tol=REL)
        assert math.isclose(answer["nodes"]["s"]["grad"], sigma * (1 - sigma), rel_tol=1e-9)


# -- 2b. later bodies run on the tape (engine/tape.py) ----------------------------------------

TORCH_OPS = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "max": torch.maximum,
    "min": torch.minimum,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}


def random_scalar_graph(rng: random.Random) -> dict:
    """Inputs, a const, and ops with fan-out, a node used twice, and nodes off the output."""
    nodes = [{"id": name, "op": "input", "value": 0} for name in ("a", "b", "c")]
    nodes.append({"id": "k", "op": "const", "value": rng.uniform(-2, 2)})
    for index in range(rng.randint(3, 9)):
        op = rng.choice(sorted(TORCH_OPS))
        arity = 1 if op in ("tanh", "sigmoid", "relu") else 2
        inputs = [rng.choice(nodes)["id"] for _ in range(arity)]
        nodes.append({"id": f"n{index}", "op": op, "inputs": inputs})
    output = rng.choice([node["id"] for node in nodes[4:]])
    return {"nodes": nodes, "output": output}


def torch_graph(graph: dict, values: dict[str, float]) -> dict[str, tuple[float, float | None]]:
    """Each node's value and grad by PyTorch; None where no gradient reaches a node."""
    tensors = {}
    for node in graph["nodes"]:
        if node["op"] in ("input", "const"):
            value = values.get(node["id"], node["value"])
            tensors[node["id"]] = torch.tensor(
                float(value), dtype=torch.float64, requires_grad=node["op"] == "input"
            )
        else:
            made = TORCH_OPS[node["op"]](*(tensors[i] for i in node["inputs"]))
            if made.requires_grad:  # not when every input is the const
                made.retain_grad()
            tensors[node["id"]] = made
    output = tensors[graph["output"]]
    if output.requires_grad:
        output.backward()
    return {
        i: (t.item(), t.grad.item() if t.grad is not None else None) for i, t in tensors.items()
    }


@pytest.mark.parametrize("seed", range(16))
def test_plan_taped_answers_match_full_path_and_torch(planned, full, seed):
    rng = random.Random(seed)
    graph = random_scalar_graph(rng)
    values = [{name: rng.uniform(-2, 2) for name in ("a", "b", "c")} for _ in range(5)]
    answers, templates = post_sequence(planned, full, [graph_body(graph, v) for v in values])

    assert_three_stages(templates)
    assert only_plan(planned).tape is not None
    for v, answer in zip(values, answers, strict=True):
        for node_id, (value, grad) in torch_graph(graph, v).items():
            assert_matches(answer["nodes"][node_id]["value"], value)
            if grad is None:
                # Off the output's path (or a const): the contract's null, or PyTorch's 0 for
                # an input whose every path goes through a relu at a negative number.
                assert answer["nodes"][node_id]["grad"] in (None, 0)
            else:
                assert_matches(answer["nodes"][node_id]["grad"], grad)


def test_plan_tape_declines_a_nonfinite_value_and_the_answer_names_it(planned, full):
    graph = {
        "nodes": [
            {"id": "x", "op": "input", "value": 1},
            {"id": "l", "op": "log", "inputs": ["x"]},
        ],
        "output": "l",
    }
    answers, _ = post_sequence(planned, full, [graph_body(graph, {"x": v}) for v in (1, 2, 3)])
    assert only_plan(planned).tape is not None

    answer = same_answer(planned, full, graph_body(graph, {"x": -3}))
    assert answer["nodes"]["l"]["value"] == "nan"
    assert answer["first_nonfinite"] == "l"
    assert [w["code"] for w in answer["warnings"]] == ["nonfinite_value"]
    # The next plain body is back on the tape, with its own numbers.
    after = same_answer(planned, full, graph_body(graph, {"x": math.e}))
    assert math.isclose(after["nodes"]["x"]["grad"], 1 / math.e, rel_tol=REL)


# -- 3. non-finite numbers on the plan path ---------------------------------------------------


def torch_log_chain(t: dict) -> dict:
    log_x = torch.log(t["x"])
    return {"l": log_x, "f": log_x * t["y"]}


def torch_div(t: dict) -> dict:
    return {"f": t["x"] / t["y"]}


def torch_exp_chain(t: dict) -> dict:
    e = torch.exp(t["x"])
    return {"e": e, "f": e * t["y"]}


NONFINITE = {
    # name: text, the node that turns non-finite, finite inputs, inputs that break it, PyTorch
    "log_of_negative": (
        "l = log(x)\nf = l * y",
        "l",
        [{"x": 2, "y": 3}, {"x": 0.5, "y": -1}, {"x": 7, "y": 2}],
        {"x": -3, "y": 2},
        torch_log_chain,
    ),
    "division_by_zero": (
        "f = x / y",
        "f",
        [{"x": 1, "y": 2}, {"x": -3, "y": 4}, {"x": 2.5, "y": -0.5}],
        {"x": 1.5, "y": 0},
        torch_div,
    ),
    "exp_overflow": (
        "e = exp(x)\nf = e * y",
        "e",
        [{"x": 1, "y": 2}, {"x": -1, "y": 3}, {"x": 0, "y": -2}],
        {"x": 1000, "y": -2},
        torch_exp_chain,
    ),
}


def assert_named_numbers(answer: dict, truth: dict) -> None:
    """Every node's value and grad is the truth, non-finite ones by name, never null."""
    assert set(answer["nodes"]) == set(truth)
    for node_id, (value, grad) in truth.items():
        node = answer["nodes"][node_id]
        assert node["value"] is not None and node["grad"] is not None
        assert_matches(node["value"], value)
        assert_matches(node["grad"], grad)
    # No const here, so every edge carries all three numbers.
    for edge in answer["edges"]:
        assert None not in (edge["upstream"], edge["local"], edge["downstream"])


@pytest.mark.parametrize("name", sorted(NONFINITE))
def test_plan_nonfinite_travels_as_names_with_a_warning(planned, full, name):
    text, broken_id, finite, broken, build = NONFINITE[name]
    inputs = [*finite, broken, {"x": 3, "y": 5}]
    answers, templates = post_sequence(planned, full, expression_bodies(text, inputs))

    assert_three_stages(templates)
    answer = answers[3]
    assert_named_numbers(answer, torch_nodes(broken, build))
    assert broken_id in {warning["node"] for warning in answer["warnings"]}
    assert answer["nodes"][broken_id]["warning"]
    assert answer["first_nonfinite"] == broken_id

    again = answers[4]
    assert again["warnings"] == [] and again["first_nonfinite"] is None
    assert all(node["warning"] is None for node in again["nodes"].values())
    assert_named_numbers(again, torch_nodes(inputs[4], build))


def test_plan_infinite_grad_without_infinite_value_is_named(planned, full):
    # sqrt at 0: every value is finite, only the backward pass meets an infinity.
    inputs = [{"x": 4}, {"x": 9}, {"x": 0.25}, {"x": 0}, {"x": 16}]
    answers, templates = post_sequence(planned, full, expression_bodies("sqrt(x)", inputs))

    assert_three_stages(templates)
    assert answers[3]["nodes"]["x"]["grad"] == "inf"
    assert [warning["node"] for warning in answers[3]["warnings"]] == ["x"]
    # d sqrt(x)/dx = 1 / (2 sqrt(x)) = 1/8 at 16.
    assert answers[4]["nodes"]["x"]["grad"] == 0.125 and answers[4]["warnings"] == []


# -- 4. bodies the plan path must leave to the full checks ------------------------------------

# A graph with a number in each kind of slot: a node's value, `inputs`, grad_output.
SLOTS_TEXT = (
    '{"nodes":[{"id":"x","op":"input","value":%s},{"id":"y","op":"input","value":0},'
    '{"id":"f","op":"mul","inputs":["x","y"]}],"output":"f","inputs":{"y":%s},'
    '"grad_output":%s}'
)
HUGE_INTEGER = "7" * 400

# token, and per slot (node value, inputs, grad_output) the status and error code expected.
NOT_PLAIN = [
    ("true", ["bad_value", "bad_value", "bad_value"]),
    ("false", ["bad_value", "bad_value", "bad_value"]),
    ("null", ["missing_value", "missing_value", None]),
    ('"2"', ["bad_value", "bad_value", "bad_value"]),
    ("[1, 2]", ["bad_grad_output", "bad_grad_output", "bad_grad_output"]),
    ("1e400", ["nonfinite_number"] * 3),
    ("-1E400", ["nonfinite_number"] * 3),
    (HUGE_INTEGER, ["nonfinite_number"] * 3),
    ("NaN", ["nonfinite_number"] * 3),
    ("Infinity", ["nonfinite_number"] * 3),
]


def slots_body(node: str, inputs: str, grad_output: str) -> str:
    return SLOTS_TEXT % (node, inputs, grad_output)


@pytest.mark.parametrize("slot", [0, 1, 2], ids=["node_value", "inputs", "grad_output"])
@pytest.mark.parametrize("token, codes", NOT_PLAIN, ids=[t[:8] for t, _ in NOT_PLAIN])
def test_plan_not_taken_for_values_that_are_not_plain_numbers(planned, full, slot, token, codes):
    for numbers in (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9")):
        same_answer(planned, full, slots_body(*numbers))
    assert only_plan(planned).template is not None

    numbers = ["2", "3", "0.5"]
    numbers[slot] = token
    on_plan = post(planned, slots_body(*numbers))
    checked = post(full, slots_body(*numbers))
    code = codes[slot]
    expected_status = 200 if code is None else 422
    assert (on_plan.status_code, checked.status_code) == (expected_status, expected_status)
    if code is not None:
        assert on_plan.json()["error"]["code"] == checked.json()["error"]["code"] == code
    assert on_plan.content == checked.content

    # The plan still answers later bodies with their own numbers.
    after = same_answer(planned, full, slots_body("-2", "2.5", "2"))
    assert after["nodes"]["f"]["value"] == -5 and after["nodes"]["x"]["grad"] == 5


# -- 5. `inputs` over a node's own value ------------------------------------------------------

OWN_VALUES = {
    "nodes": [
        {"id": "x", "op": "input", "value": 100},
        {"id": "y", "op": "input", "value": 1},
        {"id": "f", "op": "mul", "inputs": ["x", "y"]},
    ],
    "output": "f",
}


def test_plan_inputs_win_over_a_nodes_own_value(planned, full):
    pairs = [(100, 2, 3), (-7, 0.5, 4), (8, -3, 5), (1e3, 1.25, -6), (9, 9, 7)]
    bodies = [
        graph_body(OWN_VALUES, {"x": own, "y": y}, inputs={"x": given}) for own, given, y in pairs
    ]
    answers, templates = post_sequence(planned, full, bodies)

    assert_three_stages(templates)
    for (_, given, y), answer in zip(pairs, answers, strict=True):
        assert answer["nodes"]["x"]["value"] == given
        assert answer["nodes"]["f"]["value"] == given * y
        assert answer["nodes"]["y"]["grad"] == given


def test_plan_named_value_in_inputs_wins_over_a_nodes_plain_value(planned, full):
    # "-inf" stays in the key, so only the node's own numbers change: none may reach x.
    pairs = [(1, 2), (-3, 0.5), (4, 4), (2.5, -1)]
    bodies = [graph_body(OWN_VALUES, {"x": own, "y": y}, inputs={"x": "-inf"}) for own, y in pairs]
    answers, _ = post_sequence(planned, full, bodies)

    for (_, y), answer in zip(pairs, answers, strict=True):
        assert answer["nodes"]["x"]["value"] == "-inf"
        assert answer["nodes"]["y"]["value"] == y
        assert answer["nodes"]["f"]["value"] == named(-math.inf * y)


UNUSED_NAME_BODIES = {
    "graph": lambda x, z: graph_body(OWN_VALUES, {"x": x}, inputs={"zz": z}),
    "graph_with_override": lambda x, z: graph_body(OWN_VALUES, {}, inputs={"x": x, "zz": z}),
    "expression": lambda x, z: {"expression": "x * 3", "inputs": {"x": x, "zz": z}},
    "expression_over_literal": lambda x, z: {
        "expression": "x = 5\nf = x * 3",
        "inputs": {"zz": z, "x": x},
    },
}


@pytest.mark.parametrize("kind", sorted(UNUSED_NAME_BODIES))
def test_plan_unused_input_name_gives_the_same_note_every_time(planned, full, kind):
    make = UNUSED_NAME_BODIES[kind]
    pairs = [(1, 10), (2.5, -1), (-4, 0), (6, 3.5), (0.125, 8)]
    answers, templates = post_sequence(planned, full, [make(x, z) for x, z in pairs])

    assert_three_stages(templates)
    notes = [answer["notes"] for answer in answers]
    assert len(notes[0]) == 1 and "'zz'" in notes[0][0]
    assert all(note == notes[0] for note in notes)
    for (x, _), answer in zip(pairs, answers, strict=True):
        assert answer["nodes"]["x"]["value"] == x


# -- 6. grad_output -----------------------------------------------------------------------


def test_plan_grad_output_scales_every_grad(planned, full):
    factors = [1, 2.5, -3, 0.125, 7, 0]
    bodies = [
        {"expression": "x*y + x", "inputs": {"x": 3, "y": -2}, "grad_output": g} for g in factors
    ]
    answers, templates = post_sequence(planned, full, bodies)

    assert_three_stages(templates)
    unit = answers[0]["nodes"]
    for g, answer in zip(factors, answers, strict=True):
        for node_id, node in answer["nodes"].items():
            assert node["value"] == unit[node_id]["value"]
            assert math.isclose(node["grad"], g * unit[node_id]["grad"], rel_tol=REL)
        assert answer["nodes"][answer["output"]]["grad"] == g
    # d(xy + x)/dx = y + 1 = -1 and d/dy = x = 3, times the factor.
    assert (answers[1]["nodes"]["x"]["grad"], answers[1]["nodes"]["y"]["grad"]) == (-2.5, 7.5)


@pytest.mark.parametrize("grad_output", [[10, 100], "inf", "-inf", "nan"])
def test_plan_keeps_a_grad_output_that_is_not_a_plain_number(planned, full, grad_output):
    # A tensor or a named non-finite grad_output stays in the key: every body with the plan
    # has it, and each must start its backward pass from it, not from 1.
    x = [1, 2] if isinstance(grad_output, list) else 0.5
    bodies = [
        {"expression": "f = tanh(x * s)", "inputs": {"x": x, "s": s}, "grad_output": grad_output}
        for s in (2, 3, -1, 0.25)
    ]
    answers, _ = post_sequence(planned, full, bodies)

    for body, answer in zip(bodies, answers, strict=True):
        values = torch.tensor(body["inputs"]["x"], dtype=torch.float64, requires_grad=True)
        out = torch.tanh(values * body["inputs"]["s"])
        seed = torch.tensor(float(grad_output) if isinstance(grad_output, str) else grad_output)
        out.backward(seed.to(torch.float64).expand_as(out))
        ours, truth = answer["nodes"]["x"]["grad"], values.grad.tolist()
        if not isinstance(truth, list):
            ours, truth = [ours], [truth]
        for one, true in zip(ours, truth, strict=True):
            assert_matches(one, true)


# -- 7. a const's value is structure ----------------------------------------------------------


def const_body(x: float, c: float) -> dict:
    return {
        "nodes": [
            {"id": "x", "op": "input", "value": x},
            {"id": "c", "op": "const", "value": c},
            {"id": "f", "op": "mul", "inputs": ["x", "c"]},
        ],
        "output": "f",
    }


def test_plan_new_const_value_shows_in_formulas(planned, full):
    # Two consts, each posted three times so each gets its own template.
    sequence = [(1, 2.5), (2, 2.5), (3, 2.5), (4, 7.25), (5, 7.25), (6, 7.25), (7, 2.5)]
    answers = [same_answer(planned, full, const_body(x, c)) for x, c in sequence]

    plans = planned.app.state.evaluate_plans.plans
    assert len(plans) == 2 and all(plan.template is not None for plan in plans.values())
    for (x, c), answer in zip(sequence, answers, strict=True):
        other = "7.25" if c == 2.5 else "2.5"
        formula = answer["nodes"]["f"]["formula"]
        local = next(e for e in answer["edges"] if e["source"] == "x")["local_formula"]
        assert str(c) in formula and other not in formula
        assert str(c) in local and other not in local
        assert answer["nodes"]["f"]["value"] == x * c
        assert answer["nodes"]["x"]["grad"] == c


# -- 8. the template's mark in a label --------------------------------------------------------

MARKED = {
    "label_is_mark": {"label": AnswerTemplate.MARK},
    "label_holds_mark": {"label": "a" + AnswerTemplate.MARK + "b"},
    "group_is_mark": {"group": AnswerTemplate.MARK},
}


@pytest.mark.parametrize("where", sorted(MARKED))
def test_plan_mark_in_a_label_answers_as_full_path(planned, full, where):
    def body(x: float, y: float) -> dict:
        nodes = [
            {"id": "x", "op": "input", "value": x, **MARKED[where]},
            {"id": "y", "op": "input", "value": y},
            {"id": "p", "op": "mul", "inputs": ["x", "y"], **MARKED[where]},
            {"id": "f", "op": "add", "inputs": ["p", "x"]},
        ]
        return {"nodes": nodes, "output": "f"}

    pairs = [(3, -2), (1.5, 4), (-1, 0.5), (7, 7), (0, 2)]
    answers, _ = post_sequence(planned, full, [body(x, y) for x, y in pairs])

    for (x, y), answer in zip(pairs, answers, strict=True):
        assert answer["nodes"]["f"]["value"] == x * y + x
        assert answer["nodes"]["x"]["grad"] == y + 1
        for key, text in MARKED[where].items():
            assert answer["nodes"]["x"][key] == text


# -- 9. duplicate keys and key order ----------------------------------------------------------

DUPLICATE_VALUE = (
    '{"nodes":[{"id":"x","op":"input","value":%s,"value":%s},'
    '{"id":"y","op":"input","value":%s},{"id":"f","op":"mul","inputs":["x","y"]}],'
    '"output":"f"}'
)


def test_plan_duplicate_keys_answer_as_full_path(planned, full):
    # JSON leaves duplicate keys open; both paths must read the same one (the last).
    sequence = [
        ("1", "2", "3"),
        ("4", "5", "6"),
        ("7", "8", "9"),
        ('"a"', "10", "2"),
        ("11", '"b"', "2"),
        ("true", "12", "3"),
        ("13", "true", "3"),
        ("null", "14", "2"),
        ("15", "null", "2"),
        ("16", "17", "0.5"),
    ]
    statuses = []
    for first, last, y in sequence:
        on_plan = post(planned, DUPLICATE_VALUE % (first, last, y))
        checked = post(full, DUPLICATE_VALUE % (first, last, y))
        assert on_plan.status_code == checked.status_code
        assert on_plan.content == checked.content
        statuses.append(on_plan.status_code)
        if on_plan.status_code == 200:
            assert on_plan.json()["nodes"]["x"]["value"] == float(last)
            assert on_plan.json()["nodes"]["f"]["value"] == float(last) * float(y)
    assert statuses == [200, 200, 200, 200, 422, 200, 422, 200, 422, 200]


def test_plan_duplicate_inputs_answer_as_full_path(planned, full):
    text = '{"expression":"x*y","inputs":{"x":%s,"y":%s,"x":%s}}'
    sequence = [("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ('"a"', "2", "3")]
    sequence += [("1", "2", '"a"'), ("3", "4", "5")]
    for first, y, last in sequence:
        on_plan = post(planned, text % (first, y, last))
        checked = post(full, text % (first, y, last))
        assert on_plan.status_code == checked.status_code
        assert on_plan.content == checked.content
    assert on_plan.json()["nodes"]["x"]["value"] == 5


def test_plan_key_order_answers_as_full_path(planned, full):
    orders = [
        '{"nodes":[{"id":"x","op":"input","value":%s},{"id":"f","op":"tanh","inputs":["x"]}],'
        '"output":"f"}',
        '{"output":"f","nodes":[{"value":%s,"op":"input","id":"x"},'
        '{"inputs":["x"],"op":"tanh","id":"f"}]}',
        '{ "nodes" : [ {"id": "x", "op": "input", "value": %s},\n'
        '  {"id": "f", "op": "tanh", "inputs": ["x"]} ],\n "output": "f" }',
    ]
    values = ["0.5", "-1", "2", "0", "3", "-0.25", "1e-8", "4", "-3", "0.75", "5", "6"]
    answers = [same_answer(planned, full, orders[i % 3] % v) for i, v in enumerate(values)]

    for v, answer in zip(values, answers, strict=True):
        assert math.isclose(answer["nodes"]["f"]["value"], math.tanh(float(v)), rel_tol=REL)
    plans = planned.app.state.evaluate_plans.plans.values()
    assert all(plan.template is not None for plan in plans)


# -- 10. the plan cache is bounded ------------------------------------------------------------


def test_plan_cache_keeps_at_most_its_entries(tmp_path_factory, full):
    with _client(tmp_path_factory, evaluate_cache_entries=3) as small:
        for n in range(10):
            for x in (1, 2):
                body = {"expression": f"x * {n + 2}", "inputs": {"x": x}}
                assert same_answer(small, full, body)["nodes"]["x"]["grad"] == n + 2

        assert 0 < len(small.app.state.evaluate_plans.plans) <= 3
        assert len(small.app.state.evaluate_cache.answers) <= 3
        # A structure pushed out answers again from the full checks.
        again = same_answer(small, full, {"expression": "x * 2", "inputs": {"x": 5}})
        assert again["nodes"]["x"]["grad"] == 2 and again["nodes"][again["output"]]["value"] == 10


# -- 11. errors found only by the passes keep their positions ---------------------------------

# A scalar graph meets no error in its passes (non-finite numbers are warnings), but a class
# label is a scalar input that cross_entropy checks only when it runs.
LABELED = "z = [1.0, 2.0, 3.0]\nL = 2 * cross_entropy(z, k)"


def test_plan_error_from_the_passes_points_at_the_text(planned, full):
    labels = [0, 1, 2, 7, 1.5, -1, 1]
    responses = []
    for k in labels:
        body = {"expression": LABELED, "inputs": {"k": k}}
        on_plan = post(planned, body)
        checked = post(full, body)
        assert on_plan.status_code == checked.status_code
        assert on_plan.content == checked.content
        responses.append(on_plan)
    assert len(planned.app.state.evaluate_plans.plans) == 1

    assert [r.status_code for r in responses] == [200, 200, 200, 422, 422, 422, 200]
    column = LABELED.splitlines()[1].index("cross_entropy") + 1
    for response in responses[3:6]:
        error = response.json()["error"]
        assert error["code"] == "bad_value"
        assert (error["line"], error["column"]) == (2, column)
    # -log softmax([1, 2, 3])[1], doubled.
    logits = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    truth = 2 * torch.nn.functional.cross_entropy(logits[None], torch.tensor([1])).item()
    assert math.isclose(responses[6].json()["nodes"]["L"]["value"], truth, rel_tol=REL)
