"""`GET /api/ops`, the presets, the pages and the OpenAPI reference."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.ops import OPS


def test_ops_lists_every_engine_op_with_formulas(client):
    ops = {op["name"]: op for op in client.get("/api/ops").json()["ops"]}
    assert set(ops) == set(OPS)
    assert ops["mul"]["local_formulas"] == ["$b", "$a"]
    assert ops["add"]["arity"] == [2, 2]


def test_ops_name_every_input_the_op_takes(client):
    ops = {op["name"]: op for op in client.get("/api/ops").json()["ops"]}

    for name, op in ops.items():
        assert len(op["input_names"]) == op["arity"][1], name
    assert ops["conv2d"]["input_names"] == ["input", "kernels", "bias"]
    assert ops["batch_norm"]["input_names"][1:3] == ["gamma", "beta"]
    assert ops["mul"]["input_names"] == ["a", "b"]  # the formula's placeholders


def test_presets_list_names_the_course_examples(client):
    names = {p["name"] for p in client.get("/api/presets").json()["presets"]}
    assert {"add_mul", "sigmoid_neuron", "sigmoid_neuron_fused", "fan_out", "tanh_neuron"} <= names


@pytest.mark.parametrize(
    "name",
    [
        "add_mul",
        "sigmoid_neuron",
        "sigmoid_neuron_fused",
        "fan_out",
        "tanh_neuron",
        "softmax_classifier",
        "linear_layer",
        "iris_mlp",
    ],
)
def test_preset_graph_and_expression_agree(client, name):
    preset = client.get(f"/api/presets/{name}").json()
    from_graph = client.post("/api/evaluate", json=preset["graph"]).json()
    from_text = client.post("/api/evaluate", json={"expression": preset["expression"]}).json()
    output_graph = from_graph["nodes"][from_graph["output"]]["value"]
    output_text = from_text["nodes"][from_text["output"]]["value"]
    np.testing.assert_allclose(output_graph, output_text, rtol=1e-12)
    leaves = [n["id"] for n in preset["graph"]["nodes"] if n["op"] == "input"]
    for leaf in leaves:
        np.testing.assert_allclose(
            from_graph["nodes"][leaf]["grad"], from_text["nodes"][leaf]["grad"], rtol=1e-12
        )


def test_sigmoid_presets_give_the_same_gradients(client):
    primitive = client.get("/api/presets/sigmoid_neuron").json()["graph"]
    fused = client.get("/api/presets/sigmoid_neuron_fused").json()["graph"]
    a = client.post("/api/evaluate", json=primitive).json()["nodes"]
    b = client.post("/api/evaluate", json=fused).json()["nodes"]
    for leaf in ("w0", "x0", "w1", "x1", "w2"):
        assert a[leaf]["grad"] == pytest.approx(b[leaf]["grad"], rel=1e-12)
    # The weighted sum has the same names in both, so a student can compare them node by node.
    for node in ("p0", "p1", "s0", "s"):
        assert a[node]["value"] == b[node]["value"]
        assert a[node]["grad"] == pytest.approx(b[node]["grad"], rel=1e-12)


def test_unknown_preset_is_404_in_the_error_shape(client):
    response = client.get("/api/presets/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_preset"


def test_unknown_api_route_is_404_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_json(client):
    response = client.get("/api/evaluate")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_playground_page_has_csp_and_assets(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script" in response.text


def test_openapi_documents_evaluate(client):
    spec = client.get("/openapi.json").json()
    assert "/api/evaluate" in spec["paths"]
    assert "413" in spec["paths"]["/api/evaluate"]["post"]["responses"]


def test_every_documented_request_example_works(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    tried = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None or "{" in path:
                continue  # routes on one saved graph or run need its id first
            name = media["schema"]["$ref"].rsplit("/", 1)[-1]
            body = schemas[name]["examples"][0]

            answer = client.request(method.upper(), path, json=body)

            assert answer.status_code < 300, (path, answer.text)
            tried.append(path)

    assert {"/api/evaluate", "/api/parse", "/api/train", "/api/layers", "/api/graphs"} <= set(
        tried
    )
    course = client.post("/api/evaluate", json=schemas["EvaluateIn"]["examples"][0]).json()
    assert course["nodes"]["f"]["value"] == (-2 + 5) * -4  # the course's (x + y)·z


def test_linear_layer_preset_local_jacobian_is_w(client):
    preset = client.get("/api/presets/linear_layer").json()
    body = client.post("/api/evaluate", json=preset["graph"]).json()
    edge = next(e for e in body["edges"] if e["source"] == "x")
    weights = next(n["value"] for n in preset["graph"]["nodes"] if n["id"] == "W")
    assert edge["local"] == weights  # section 2.5.2: J_f = W, exactly


def test_softmax_classifier_preset_matches_the_reference_case(client, cases):
    case = next(c for c in cases if c["id"] == "anchor_softmax_ce_small")
    preset = client.get("/api/presets/softmax_classifier").json()
    body = client.post("/api/evaluate", json=preset["graph"]).json()
    for name in ("W", "x", "b"):
        np.testing.assert_allclose(
            body["nodes"][name]["grad"], case["expected"]["grads"][name], rtol=1e-7, atol=1e-9
        )


def test_static_modules_are_revalidated_but_vendor_files_are_not(client):
    assert client.get("/static/js/main.js").headers["cache-control"] == "no-cache"
    vendor = client.get("/static/vendor/dagre-1.1.8/dagre.min.js")
    assert vendor.status_code == 200 and "cache-control" not in vendor.headers


def test_docs_page_loads_swagger_from_this_server_only(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(url.startswith("/") for url in sources), sources
    for url in sources:
        assert client.get(url).status_code == 200, url
