"""Tensors in the playground, through Chromium: shapes and heat maps on the edges, the
inspector's upstream, local Jacobian and downstream matrices, and "Show as PyTorch".

The numbers come from independent truths: the reference case anchor_softmax_ce_small
(computed with PyTorch in float64), the course's fact that the Jacobian of f = Wx with respect
to x is W itself (with W as the linear_layer preset defines it), and PyTorch run on the
program the page shows.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.browser

LINEAR_W = [[1, 2, 3], [4, 5, 6]]  # W of the linear_layer preset (app/presets.py)


def open_preset(page, name: str = "add_mul") -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"/?preset={name}")
    page.wait_for_selector("#graph-canvas .node")


def run_both_passes(page) -> None:
    page.focus("#canvas-frame")
    page.keyboard.press("f")
    page.keyboard.press("b")
    page.wait_for_function(
        """() => {
          const frame = document.querySelector('#canvas-frame');
          const rows = document.querySelectorAll('#values-body tr').length;
          return frame.dataset.playing === 'false' && Number(frame.dataset.position) > rows;
        }"""
    )


def cells(table) -> dict[str, float]:
    """Each cell of a heat-mapped table by its index ("0,1"), as the number it stores."""
    located = table.locator("td[data-index]")
    return {
        located.nth(i).get_attribute("data-index"): json.loads(
            located.nth(i).get_attribute("data-value")
        )
        for i in range(located.count())
    }


def flat(rows: list) -> list:
    return [entry for row in rows for entry in row]


def rgb(fill: str) -> tuple[int, int, int]:
    red, green, blue = (int(part) for part in re.findall(r"\d+", fill)[:3])
    return red, green, blue


def click_edge(page, source: str) -> None:
    """Select the edge leaving `source` by clicking its value heat map."""
    page.locator(
        f".edge-label[data-edge-key^='{source}->'] .heatmap-value .heat-cell"
    ).first.click()
    page.wait_for_function(
        "source => document.querySelector('#inspector').dataset.edgeKey.startsWith(source + '->')",
        arg=source,
    )


def test_softmax_classifier_inspector_gives_the_reference_gradient(page, cases):
    case = next(c for c in cases if c["id"] == "anchor_softmax_ce_small")
    expected = case["expected"]["grads"]["W"]
    assert expected[0][0] == pytest.approx(-0.5596667804477662, rel=1e-12)
    open_preset(page, "softmax_classifier")
    run_both_passes(page)

    page.click(".node[data-node-id='W'] .node-shape")
    grad = cells(page.locator("#inspector .tensor[data-role='grad']"))
    assert grad["0,0"] == pytest.approx(expected[0][0], rel=1e-7, abs=1e-9)
    for row in range(3):
        for col in range(4):
            assert grad[f"{row},{col}"] == pytest.approx(expected[row][col], rel=1e-7, abs=1e-9)
    # Small tensors show their numbers in the cells too.
    first = page.locator("#inspector .tensor[data-role='grad'] td[data-index='0,0']")
    assert first.inner_text().replace("\u2212", "-") == "-0.5597"

    # The same gradient as the downstream of the edge into the matmul.
    click_edge(page, "W")
    downstream = cells(page.locator("#inspector .tensor[data-role='downstream']"))
    assert downstream["0,0"] == pytest.approx(expected[0][0], rel=1e-7, abs=1e-9)
    upstream = cells(page.locator("#inspector .tensor[data-role='upstream']"))
    scores = case["expected"]["intermediates"]["dL/dscores = probs - onehot"]
    assert [upstream[str(i)] for i in range(3)] == pytest.approx(scores, rel=1e-7, abs=1e-9)
    assert page.locator("#inspector .identity .katex").count() == 1


def test_linear_layer_jacobian_on_x_edge_equals_w(page):
    open_preset(page, "linear_layer")
    run_both_passes(page)
    click_edge(page, "x")
    local = page.locator("#inspector .tensor[data-role='local']")
    jacobian = cells(local)
    assert {key: value for key, value in jacobian.items()} == {
        f"{row},{col}": LINEAR_W[row][col] for row in range(2) for col in range(3)
    }
    assert "2×3" in local.locator("figcaption").inner_text()
    identity = page.locator("#inspector .identity")
    assert identity.locator(".katex").count() == 1
    # KaTeX keeps the formula as MathML too: downstream = upstream · J.
    math = identity.locator("annotation").text_content()
    assert "downstream" in math and "upstream" in math and "J" in math


def test_tensor_edges_carry_their_shape_and_heat_maps(page):
    open_preset(page, "softmax_classifier")
    run_both_passes(page)
    label = page.locator(".edge-label[data-edge-key^='W->']")
    assert label.get_attribute("data-shape") == "3,4"
    assert label.locator(".edge-value").text_content() == "[3×4]"
    value_cells = label.locator(".heatmap-value .heat-cell")
    assert value_cells.count() == 12
    fills = {}
    for i in range(12):
        cell = value_cells.nth(i)
        fills[cell.locator("title").text_content().split(" = ")[0]] = cell.get_attribute("fill")
    preset = page.request.get("/api/presets/softmax_classifier").json()["graph"]
    weights = next(node["value"] for node in preset["nodes"] if node["id"] == "W")
    largest = max(abs(entry) for entry in flat(weights))
    # The scale is centred on zero: negative entries lean blue, positive red, zero is pale,
    # and the largest |entry| gets the deepest colour.
    for row, entries in enumerate(weights):
        for col, entry in enumerate(entries):
            red, _, blue = rgb(fills[f"W[{row},{col}]"])
            if entry < 0:
                assert blue > red
            elif entry > 0:
                assert red > blue
            else:
                assert min(rgb(fills[f"W[{row},{col}]"])) > 230
            if abs(entry) == largest:
                assert abs(red - blue) > 100
    assert label.locator(".heatmap-grad .heat-cell").count() == 12
    assert page.locator(".legend-heat").is_visible()


def test_omitted_jacobian_says_why(page):
    open_preset(page)
    expression = "W = randn(70, 70, seed=0)\nf = sum(W * W)"
    answer = page.request.post("/api/evaluate", data={"expression": expression}).json()
    omitted = [edge["local_omitted"] for edge in answer["edges"] if edge["local_omitted"]]
    assert omitted, "the API should leave out a 70×70 by 70×70 Jacobian"
    before = page.locator("#graph-canvas").get_attribute("data-revision")
    page.fill("#expression-input", expression)
    page.wait_for_function(
        "before => document.querySelector('#graph-canvas').dataset.revision !== before",
        arg=before,
    )
    run_both_passes(page)
    click_edge(page, "W")
    assert page.locator("#inspector .local-omitted").inner_text() in omitted
    assert page.locator("#inspector .tensor[data-role='local']").count() == 0
    assert page.locator("#inspector .tensor[data-role='downstream']").count() == 1


def test_show_as_pytorch_gives_a_program_with_the_same_gradients(page, cases, tmp_path):
    case = next(c for c in cases if c["id"] == "anchor_softmax_ce_small")
    open_preset(page, "softmax_classifier")
    page.click("#pytorch-button")
    page.locator("#export-dialog").wait_for()
    page.wait_for_function(
        "() => document.querySelector('#export-text').textContent.includes('import torch')"
    )
    program = page.locator("#export-text").text_content()
    script = tmp_path / "program.py"
    script.write_text(program)
    printed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    line = next(line for line in printed.splitlines() if line.startswith("W.grad ="))
    grad = json.loads(line.split("=", 1)[1])
    expected = case["expected"]["grads"]["W"]
    assert flat(grad) == pytest.approx(flat(expected), rel=1e-7, abs=1e-9)
    assert page.locator("#export-copy").is_visible()
