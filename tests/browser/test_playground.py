"""The playground page `/` driven through Chromium.

Numbers are checked against the course notes (section 2.4: f = (x + y)·z at x = -2, y = 5,
z = -4 gives q = 3, f = -12, df/dx = df/dy = df/dq = -4, df/dz = 3), against hand-derived
calculus, or against the reference cases computed with PyTorch; never against the page's own
earlier output.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ADD_MUL = "x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z"
COURSE_VALUES = {"x": -2.0, "y": 5.0, "z": -4.0, "q": 3.0, "f": -12.0}
COURSE_GRADS = {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}


def number(text: str) -> float:
    """A number as the page stores it in data attributes (JSON, non-finite as strings)."""
    raw = json.loads(text)
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(raw, raw)


def shown_text(text: str) -> str:
    """Page text with its typographic minus turned back into ASCII."""
    return text.replace("\u2212", "-")


def revision(page) -> int:
    return int(page.locator("#graph-canvas").get_attribute("data-revision") or 0)


def wait_for_new_drawing(page, before: int) -> None:
    page.wait_for_function(
        "before => Number(document.querySelector('#graph-canvas').dataset.revision) > before",
        arg=before,
    )


def open_page(page, preset: str = "add_mul", reduced_motion: bool = True) -> None:
    page.emulate_media(reduced_motion="reduce" if reduced_motion else "no-preference")
    page.goto(f"/?preset={preset}")
    page.wait_for_selector("#graph-canvas .node")


def wait_until_position(page, position: int) -> None:
    page.wait_for_function(
        """position => {
          const frame = document.querySelector('#canvas-frame');
          return frame.dataset.playing === 'false' && frame.dataset.position === String(position);
        }""",
        arg=position,
    )


def table_numbers(page, attribute: str) -> dict[str, float]:
    rows = page.locator(f"#values-body tr[data-{attribute}]")
    return {
        rows.nth(i).get_attribute("data-node-id"): number(
            rows.nth(i).get_attribute(f"data-{attribute}")
        )
        for i in range(rows.count())
    }


def type_expression(page, text: str) -> None:
    before = revision(page)
    page.fill("#expression-input", text)
    wait_for_new_drawing(page, before)


def evaluate_via_api(page, payload: dict) -> dict:
    answer = page.request.post("/api/evaluate", data=payload)
    return answer.json()


def run_both_passes(page, forward_steps: int, total_steps: int) -> None:
    page.click("#forward-button")
    wait_until_position(page, forward_steps)
    page.click("#backward-button")
    wait_until_position(page, total_steps)


def test_header_links_to_every_page(page):
    open_page(page)
    links = page.locator(".site-nav a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == ["/", "/cnn", "/learn"]
    assert page.locator(".brand").inner_text().split()[-1] == "gradplay"


def test_add_mul_preset_passes_give_the_course_numbers(page):
    open_page(page, preset="fan_out", reduced_motion=False)
    before = revision(page)
    page.select_option("#preset-select", label="(x+y)·z")
    wait_for_new_drawing(page, before)
    assert page.input_value("#expression-input") == ADD_MUL

    page.click("#forward-button")
    assert page.locator("#canvas-frame").get_attribute("data-playing") == "true"
    wait_until_position(page, 5)
    assert table_numbers(page, "value") == COURSE_VALUES
    assert table_numbers(page, "grad") == {}

    page.click("#backward-button")
    wait_until_position(page, 10)
    assert table_numbers(page, "grad") == COURSE_GRADS

    # The edge from q into f carries q's value above and df/dq below, as in figure 2.4.
    label = page.locator('.edge-label[data-edge-key^="q->f"]')
    assert shown_text(label.locator(".edge-value").text_content()) == "3"
    assert shown_text(label.locator(".edge-grad").text_content()) == "∇ -4"

    page.click("#backward-button")
    wait_until_position(page, 10)
    assert table_numbers(page, "grad") == COURSE_GRADS


def test_step_highlights_nodes_in_backward_order(page):
    open_page(page)
    preset = page.request.get("/api/presets/add_mul").json()
    answer = evaluate_via_api(page, preset["graph"])
    backward_order = answer["backward_order"]
    page.keyboard.press("f")
    wait_until_position(page, 5)

    highlighted = []
    for step in range(len(backward_order)):
        page.click("#step-button")
        wait_until_position(page, 6 + step)
        canvas = page.locator("#graph-canvas")
        assert canvas.get_attribute("data-phase") == "backward"
        highlighted.append(canvas.get_attribute("data-current"))
        assert page.locator(".node.is-current").count() == 1
        if highlighted[-1] == "q":
            callout = shown_text(page.locator(".callout").last.text_content())
            assert "upstream × local = downstream" in callout
            assert "x: -4 × 1 = -4" in callout

    assert highlighted == backward_order
    # Independent of the API's order: the output comes first, and a node only after every
    # node that consumes it (q after f, x and y after q).
    assert highlighted[0] == "f"
    assert highlighted.index("q") > highlighted.index("f")
    assert min(highlighted.index("x"), highlighted.index("y")) > highlighted.index("q")


def test_syntax_error_shows_line_column_and_caret(page, page_errors):
    page_errors.expect(r"status of 400")
    open_page(page)
    drawn = revision(page)
    text = "x = 1\nf = (x + "
    expected = evaluate_via_api(page, {"expression": text})["error"]

    page.fill("#expression-input", text)
    error = page.locator("#expression-error")
    error.wait_for(state="visible")

    assert error.get_attribute("data-line") == "2" == str(expected["line"])
    assert error.get_attribute("data-column") == str(expected["column"])
    # The place is said once, in front; the API's sentence follows without repeating it.
    shown = error.inner_text()
    place = f"line 2, column {expected['column']}"
    assert shown.startswith(f"Line 2, column {expected['column']}: ")
    assert shown.lower().count(place) == 1
    for part in re.split(r"\s*\bat line \d+, column \d+", expected["message"]):
        assert part.strip(" :") in shown
    lines = error.locator("pre.syntax-line code")
    assert lines.nth(0).inner_text() == "f = (x + "
    assert lines.nth(1).inner_text() == " " * (expected["column"] - 1) + "^"
    # The last good graph stays drawn.
    assert revision(page) == drawn
    assert page.locator(".node[data-node-id='q']").count() == 1


def test_inspector_shows_upstream_times_local_equals_downstream(page):
    open_page(page)
    page.click(".node[data-node-id='q']")
    inspector = page.locator("#inspector")
    assert inspector.get_attribute("data-node-id") == "q"
    assert inspector.locator(".formula .katex").count() == 1

    card = inspector.locator(".edge-card[data-source='x']")
    product = card.locator(".product")
    # dq/dx = 1 and the upstream df/dq = z = -4, so the downstream df/dx = -4 (course 2.4.3).
    assert number(product.get_attribute("data-upstream")) == -4
    assert number(product.get_attribute("data-local")) == 1
    assert number(product.get_attribute("data-downstream")) == -4
    words = shown_text(product.inner_text()).split()
    assert words[:3] == ["-4", "UPSTREAM", "×"]
    assert "=" in words
    assert card.locator(".local-formula .katex").count() == 1

    page.focus(".node[data-node-id='f']")
    page.keyboard.press("Enter")
    assert inspector.get_attribute("data-node-id") == "f"
    product = inspector.locator(".edge-card[data-source='z'] .product")
    # df/dz = q = 3: upstream 1 times local 3.
    assert number(product.get_attribute("data-local")) == 3
    assert number(product.get_attribute("data-downstream")) == 3


def test_inspector_explains_a_masked_edge_under_an_infinite_upstream(page):
    open_page(page)
    type_expression(page, "e = 800\nx = -1\nr = relu(x)\nf = exp(e) * r")
    page.click(".node[data-node-id='r']")
    card = page.locator("#inspector .edge-card[data-source='x']")
    product = card.locator(".product")

    # df/dr = exp(800), beyond float64; relu passes no gradient below 0 (its derivative there
    # is 0, and PyTorch's backward selects rather than multiplies), so df/dx = 0, not ∞ · 0.
    assert number(product.get_attribute("data-upstream")) == math.inf
    assert number(product.get_attribute("data-local")) == 0
    assert number(product.get_attribute("data-downstream")) == 0
    assert "whatever the upstream" in card.locator(".masked-note").inner_text()

    # The edge from e into exp: upstream df/d exp(e) = relu(x) = 0, local exp(800) = ∞, and
    # 0 · ∞ has no value, in PyTorch as here.
    page.click(".node[data-node-id='exp1'] .node-shape")
    card = page.locator("#inspector .edge-card[data-source='e']")
    product = card.locator(".product")
    assert number(product.get_attribute("data-upstream")) == 0
    assert number(product.get_attribute("data-local")) == math.inf
    assert math.isnan(number(product.get_attribute("data-downstream")))
    assert "Zero times infinity" in card.locator(".nan-note").inner_text()
    assert page.locator("#inspector .masked-note").count() == 0


def test_focus_stays_in_the_inspector_after_setting_a_value(page):
    open_page(page)
    page.focus(".node[data-node-id='x']")
    page.keyboard.press("Enter")
    page.focus("#inspector-value")
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    before = revision(page)
    page.keyboard.press("Enter")
    wait_for_new_drawing(page, before)

    # q = x + y = 7 + 5: the value was set, and the keyboard user is where they were.
    assert table_numbers(page, "value")["q"] == 12
    assert page.evaluate("document.activeElement.id") == "inspector-value"

    page.fill("#inspector-value", "1")
    page.focus("#inspector-value-set")
    before = revision(page)
    page.keyboard.press("Enter")
    wait_for_new_drawing(page, before)
    assert table_numbers(page, "value")["q"] == 6
    assert page.evaluate("document.activeElement.id") == "inspector-value-set"


def test_keyboard_shortcuts_run_and_reset_the_passes(page):
    open_page(page)
    page.keyboard.press("f")
    wait_until_position(page, 5)
    page.keyboard.press("b")
    wait_until_position(page, 10)
    x = page.locator(".node[data-node-id='x']")
    assert x.get_attribute("tabindex") == "0"
    assert x.get_attribute("role") == "button"
    label = shown_text(x.get_attribute("aria-label"))
    assert "value -2" in label
    assert "gradient -4" in label

    page.keyboard.press("r")
    wait_until_position(page, 0)
    assert table_numbers(page, "grad") == {}
    page.keyboard.press("s")
    wait_until_position(page, 1)

    # Letters typed in the expression box are text, not shortcuts.
    page.focus("#expression-input")
    page.keyboard.press("End")
    page.keyboard.type("f")
    page.keyboard.press("Backspace")
    page.wait_for_timeout(500)
    assert page.locator("#canvas-frame").get_attribute("data-position") == "1"
    shortcuts = page.locator(".shortcuts").inner_text()
    for key in "FBSR":
        assert key in shortcuts


def test_fan_out_grad_is_the_sum_of_downstream(page):
    open_page(page, preset="fan_out")
    run_both_passes(page, *positions(page))
    page.click(".node[data-node-id='x'] .node-shape")
    section = page.locator("#inspector .grad-sum")
    assert "sum of downstream" in section.inner_text()
    downstream = section.locator(".outgoing li")
    assert downstream.count() == 2
    # f = x·y + x at x = 3, y = -2: df/dx = y + 1 = -1, made of -2 (through ×) and 1 (+).
    pieces = sorted(float(shown_text(downstream.nth(i).inner_text()).split()[-1]) for i in (0, 1))
    assert pieces == [-2.0, 1.0]
    assert number(section.locator(".sum").get_attribute("data-grad")) == -1
    grads = table_numbers(page, "grad")
    assert grads["x"] == -1 and grads["y"] == 3


def positions(page) -> tuple[int, int]:
    """Forward and total step counts of the drawn graph (one step per node and pass)."""
    nodes = page.locator("#values-body tr").count()
    with_grad = nodes - page.locator("#values-body tr td.grad-num", has_text="none").count()
    return nodes, nodes + with_grad


def test_editing_a_value_rewrites_its_line_and_reevaluates(page):
    open_page(page)
    page.click(".node[data-node-id='x'] .node-shape")
    before = revision(page)
    page.fill("#inspector-value", "1")
    page.press("#inspector-value", "Enter")
    wait_for_new_drawing(page, before)
    assert "x = 1\n" in page.input_value("#expression-input")
    # x = 1: q = 6, f = -24, df/dz = q = 6, df/dx = z = -4.
    values = table_numbers(page, "value")
    grads = table_numbers(page, "grad")
    assert (values["q"], values["f"], grads["z"], grads["x"]) == (6, -24, 6, -4)

    before = revision(page)
    page.click(".node[data-node-id='y'] .value-edit")
    page.fill(".inline-editor", "2")
    page.press(".inline-editor", "Enter")
    wait_for_new_drawing(page, before)
    assert "y = 2\n" in page.input_value("#expression-input")
    assert table_numbers(page, "value")["f"] == -12  # (1 + 2) · -4

    before = revision(page)
    page.click("#undo-button")
    wait_for_new_drawing(page, before)
    assert table_numbers(page, "value")["f"] == -24


def test_a_value_typed_in_place_is_kept_when_the_student_clicks_away(page):
    open_page(page)
    before = revision(page)
    page.click(".node[data-node-id='y'] .value-edit")
    page.fill(".inline-editor", "7")
    page.click("#expression-input")  # away, without Enter
    wait_for_new_drawing(page, before)
    assert "y = 7\n" in page.input_value("#expression-input")
    assert table_numbers(page, "value")["f"] == -20  # (-2 + 7) · -4

    # Text that is not a number is dropped on the way out, and nothing changes.
    page.click(".node[data-node-id='y'] .value-edit")
    page.fill(".inline-editor", "seven")
    page.click("#expression-input")
    assert page.locator(".inline-editor").count() == 0
    assert "y = 7\n" in page.input_value("#expression-input")

    # Escape still cancels.
    page.click(".node[data-node-id='y'] .value-edit")
    page.fill(".inline-editor", "1")
    page.press(".inline-editor", "Escape")
    assert "y = 7\n" in page.input_value("#expression-input")


def test_value_used_twice_is_drawn_as_two_edges(page):
    open_page(page)
    type_expression(page, "x = 3\nf = x * x")
    edges = page.locator(".edge-line[data-source='x']")
    assert edges.count() == 2
    assert sorted(edges.nth(i).get_attribute("data-input-index") for i in (0, 1)) == ["0", "1"]
    assert edges.nth(0).get_attribute("d") != edges.nth(1).get_attribute("d")
    labels = page.locator(".edge-label[data-edge-key^='x->']")
    # d(x·x)/dx = 2x = 6, carried as 3 on each edge.
    assert [shown_text(labels.nth(i).locator(".edge-grad").text_content()) for i in (0, 1)] == [
        "∇ 3",
        "∇ 3",
    ]
    assert table_numbers(page, "grad")["x"] == 6


def test_nonfinite_value_names_its_node_in_a_banner(page):
    open_page(page)
    text = "a = -3\nl = log(a)\nf = l * 2"
    expected = evaluate_via_api(page, {"expression": text})
    type_expression(page, text)
    banner = page.locator("#warning-banner")
    banner.wait_for(state="visible")
    first = expected["first_nonfinite"]
    message = next(w["message"] for w in expected["warnings"] if w["node"] == first)
    assert "not a real number" in message  # log of a negative number
    assert f"Node {first}:" in banner.inner_text()
    assert message in banner.inner_text()
    classes = page.locator(f".node[data-node-id='{first}']").get_attribute("class").split()
    assert "is-nonfinite" in classes
    row = page.locator(f"#values-body tr[data-node-id='{first}'] td.value-num")
    assert row.inner_text() == "NaN"
    # The rest keeps working: both passes still run to the end.
    page.focus("#canvas-frame")  # leave the expression box, where R is just a letter
    page.keyboard.press("r")
    wait_until_position(page, 0)
    run_both_passes(page, *positions(page))
    assert table_numbers(page, "grad")["a"] == pytest.approx(-2 / 3)  # d(2·ln a)/da = 2/a


def test_sigmoid_block_collapses_into_one_box(page, cases):
    case = next(c for c in cases if c["id"] == "anchor_sigmoid_neuron_explicit")
    open_page(page, preset="sigmoid_neuron")
    run_both_passes(page, *positions(page))
    grads = table_numbers(page, "grad")
    for name, expected in case["expected"]["grads"].items():
        assert grads[name] == pytest.approx(expected, rel=1e-9, abs=1e-12)

    toggle = page.locator("#collapse-toggle")
    assert toggle.is_enabled()
    before = revision(page)
    toggle.check()
    wait_for_new_drawing(page, before)
    box = page.locator(".node-group")
    assert box.count() == 1
    assert box.locator(".node-symbol").text_content() == "σ"
    assert page.locator(".node[data-kind='op']").count() == 4  # two ×, two +
    box.click()
    product = page.locator("#inspector .edge-card .product")
    local = case["expected"]["intermediates"]["local_grad_sigmoid"]
    assert number(product.get_attribute("data-local")) == pytest.approx(local, rel=1e-9)

    before = revision(page)
    toggle.uncheck()
    wait_for_new_drawing(page, before)
    assert page.locator(".node-group").count() == 0


def test_collapsing_during_the_backward_pass_keeps_the_gradients(page, cases):
    case = next(c for c in cases if c["id"] == "anchor_sigmoid_neuron_explicit")
    open_page(page, preset="sigmoid_neuron", reduced_motion=False)
    forward_steps, _ = positions(page)
    # Backward shows the values at once, then animates the gradients one node at a time.
    page.click("#backward-button")
    page.wait_for_function(
        "n => Number(document.querySelector('#canvas-frame').dataset.position) > n",
        arg=forward_steps,
    )

    before = revision(page)
    page.locator("#collapse-toggle").check()
    wait_for_new_drawing(page, before)
    page.wait_for_function(
        "() => document.querySelector('#canvas-frame').dataset.playing === 'false'"
    )
    grads = table_numbers(page, "grad")
    # The pass the student started is shown finished, with the course's gradients.
    for name, expected in case["expected"]["grads"].items():
        assert grads[name] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_fused_sigmoid_preset_has_a_real_sigmoid_node(page):
    open_page(page, preset="sigmoid_neuron_fused")
    symbols = page.locator(".node[data-kind='op'] .node-symbol").all_text_contents()
    assert "σ" in symbols
    assert page.locator("#collapse-toggle").is_disabled()


def test_tensor_values_show_their_shape_and_a_table(page):
    open_page(page, preset="linear_layer")
    run_both_passes(page, *positions(page))
    value = page.locator(".edge-label[data-edge-key^='W->'] .edge-value").text_content()
    assert value == "[2×3]"
    page.click(".node[data-node-id='x'] .node-shape")
    tables = page.locator("#inspector .tensor")
    grad = tables.filter(has_text="grad").first.locator("td").all_inner_texts()
    # f = W x with W = [[1, 2, 3], [4, 5, 6]] summed: df/dx = column sums of W.
    assert [float(shown_text(cell)) for cell in grad] == [5, 7, 9]


def test_api_error_without_position_shows_in_a_banner(page, page_errors):
    page_errors.expect(r"status of 503")
    open_page(page)
    message = "The evaluation took too long and was stopped."
    page.route(
        "**/api/evaluate",
        lambda route: route.fulfill(
            status=503, json={"error": {"code": "busy", "message": message}}
        ),
    )
    page.fill("#expression-input", "x = 1\nf = x * 2")
    banner = page.locator("#error-banner")
    banner.wait_for(state="visible")
    assert message in banner.inner_text()
    assert page.locator("#expression-error").is_hidden()
    assert page.locator(".node[data-node-id='q']").count() == 1  # the last good graph


def test_shape_error_points_at_its_operator_and_marks_its_node(page, page_errors):
    page_errors.expect(r"status of 422")
    open_page(page)
    type_expression(page, "x = 0\nf = log(x)")  # log(0) = -inf: a warning banner
    page.locator("#warning-banner").wait_for(state="visible")
    text = "x = [[1,2],[3,4]]\ny = [1,2,3]\nf = x @ y"
    expected = evaluate_via_api(page, {"expression": text})["error"]
    assert expected["code"] == "shape_mismatch"
    assert (expected["line"], expected["column"]) == (3, 7)  # the @

    page.fill("#expression-input", text)
    error = page.locator("#expression-error")
    error.wait_for(state="visible")

    page.wait_for_function(
        "() => !document.querySelector('#expression-status').textContent.includes('Evaluating')"
    )
    assert page.inner_text("#expression-status").startswith("Not evaluated")
    assert error.get_attribute("data-node-ids") == " ".join(expected["node_ids"])
    assert error.inner_text().startswith("Line 3, column 7: ")
    assert "inner sizes 2 and 3 differ" in expected["message"]
    assert "inner sizes 2 and 3 differ" in error.inner_text()
    assert "f = x @ y" in error.inner_text()  # the line, with a caret under the @
    assert page.locator("#warning-banner").is_hidden()
    # The drawn graph (the last good one) has a node f too: it is marked.
    assert page.locator(".node.is-error").evaluate_all(
        "els => els.map(e => e.dataset.nodeId)"
    ) == ["f"]

    type_expression(page, "x = 2\nf = x * x")
    assert error.is_hidden()
    assert page.locator(".node.is-error").count() == 0


def test_status_counts_nodes_in_the_singular_and_plural(page):
    open_page(page)
    for text in ["x = 1", "x = 1\ny = 2\nf = x + y"]:
        count = len(evaluate_via_api(page, {"expression": text})["forward_order"])
        type_expression(page, text)
        word = "node" if count == 1 else "nodes"
        status = page.inner_text("#expression-status")
        assert status == f"Evaluated {count} {word} from the expression."


def test_switching_preset_during_an_animation_logs_no_error(page):
    open_page(page, reduced_motion=False)
    page.click("#forward-button")
    assert page.locator("#canvas-frame").get_attribute("data-playing") == "true"
    before = revision(page)
    page.select_option("#preset-select", "sigmoid_neuron")
    wait_for_new_drawing(page, before)
    page.wait_for_timeout(800)  # longer than two animation ticks of the old drawing
    frame = page.locator("#canvas-frame")
    assert frame.get_attribute("data-playing") == "false"
    assert frame.get_attribute("data-position") == "0"
    assert page.locator(".node[data-node-id='q']").count() == 0  # the new preset is drawn


def test_each_step_press_shows_one_step_and_stops_at_the_end(page):
    open_page(page)
    forward_steps, total_steps = positions(page)
    for _ in range(3):
        page.click("#step-button")
    wait_until_position(page, 3)

    for _ in range(total_steps + 4):
        page.click("#step-button")
    wait_until_position(page, total_steps)
    page.wait_for_timeout(300)
    assert page.locator("#canvas-frame").get_attribute("data-position") == str(total_steps)
    notice = page.locator("#notice-banner")
    assert notice.is_visible() and "Reset" in notice.inner_text()
    assert "Both passes done" in page.inner_text("#step-narration")

    page.click("#reset-button")
    page.click("#step-button")
    wait_until_position(page, 1)


def test_step_during_an_animation_stops_it_one_step_further(page):
    open_page(page, reduced_motion=False)
    forward_steps, _ = positions(page)
    page.click("#forward-button")
    assert "Forward pass running" in page.inner_text("#step-narration")

    page.click("#step-button")
    frame = page.locator("#canvas-frame")
    assert frame.get_attribute("data-playing") == "false"
    reached = int(frame.get_attribute("data-position"))
    assert 1 <= reached <= forward_steps
    page.wait_for_timeout(1000)  # the animation would have moved on by now
    assert frame.get_attribute("data-position") == str(reached)
    assert "Press Forward" not in page.inner_text("#step-narration")


def test_long_local_formula_wraps_inside_the_inspector(page):
    open_page(page, preset="iris_mlp")
    run_both_passes(page, *positions(page))
    page.click(".node[data-node-id='matmul2']")
    formulas = page.locator("#inspector .formula, #inspector .local-formula")
    assert formulas.count() >= 2
    widths = formulas.evaluate_all("els => els.map(e => [e.scrollWidth, e.clientWidth])")
    assert all(scroll <= client + 1 for scroll, client in widths)


def test_big_graph_keeps_a_readable_scale_and_scrolls(page):
    page.set_viewport_size({"width": 700, "height": 900})
    open_page(page, preset="iris_mlp")
    scale = page.evaluate("document.querySelector('#graph-canvas').getScreenCTM().a")
    assert scale >= 0.6 - 1e-3
    frame = page.locator("#canvas-frame")
    sizes = frame.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert sizes[0] > sizes[1]  # the frame scrolls instead of shrinking the text


def test_collapsed_tensor_blocks_keep_gradients_and_group_names(page):
    open_page(page, preset="iris_mlp")
    preset = page.request.get("/api/presets/iris_mlp").json()["graph"]
    truth = evaluate_via_api(
        page, {"schema_version": 1, "nodes": preset["nodes"], "output": preset["output"]}
    )
    page.click("#collapse-toggle")
    run_both_passes(page, *positions(page))

    for name in truth["groups"]:
        box = page.locator(f".node[data-node-id='group:{name}'] .node-name")
        assert box.text_content() == name
    # Every edge into a block shows the gradient its source receives through it.
    entries = page.locator(".edge-label[data-edge-key*='->group:']")
    assert entries.count() >= 4
    for i in range(entries.count()):
        classes = entries.nth(i).get_attribute("class").split()
        assert "grad-shown" in classes and "no-grad" not in classes
    # X feeds only the first block, so what it gets through the box is its grad.
    # The label's heat maps lie over the line; a click on the label selects the edge too.
    page.locator(".edge-label[data-edge-key^='X->group:linear1']").dispatch_event("click")
    cells = page.locator("#inspector figure.tensor[data-role='downstream'] td[data-value]")
    shown = cells.evaluate_all("els => els.map(e => JSON.parse(e.dataset.value))")
    expected = [entry for row in truth["nodes"]["X"]["grad"] for entry in row]
    assert shown == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_playground_screenshot(page):
    open_page(page)
    run_both_passes(page, 5, 10)
    page.click(".node[data-node-id='q']")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "playground.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
