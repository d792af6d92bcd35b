"""Teachers build a graph on `/`, save it, and students open it at `/g/{id}`, through Chromium.

Numbers are checked against hand-worked calculus: for f = (a + b)·c at a = 2, b = 3, c = -4,
f = -20, df/da = df/db = c = -4 and df/dc = a + b = 5; for f = x / y at x = 1, y = -4,
f = -1/4 and df/dx = 1/y = -1/4.
"""

from __future__ import annotations

import json
import math
import re

import pytest

pytestmark = pytest.mark.browser

PAYLOADS = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">')
SUM_TIMES = {"a": 2.0, "b": 3.0, "c": -4.0}


def number(text: str) -> float:
    raw = json.loads(text)
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(raw, raw)


def revision(page) -> int:
    return int(page.locator("#graph-canvas").get_attribute("data-revision") or 0)


def wait_for_new_drawing(page, before: int) -> None:
    page.wait_for_function(
        "before => Number(document.querySelector('#graph-canvas').dataset.revision) > before",
        arg=before,
    )


def table_numbers(page, attribute: str) -> dict[str, float]:
    rows = page.locator(f"#values-body tr[data-{attribute}]")
    return {
        rows.nth(i).get_attribute("data-node-id"): number(
            rows.nth(i).get_attribute(f"data-{attribute}")
        )
        for i in range(rows.count())
    }


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


def open_editor(page, address: str = "/?preset=add_mul") -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(address)
    page.wait_for_selector("#graph-canvas .node")
    page.wait_for_selector(".palette-op[data-op='add']")


def open_shared(page, graph_id: str, query: str = "") -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"/g/{graph_id}{query}")
    page.wait_for_selector("#graph-canvas .node")


def add_from_palette(page, op: str) -> None:
    before = revision(page)
    page.click(f".palette-op[data-op='{op}']")
    wait_for_new_drawing(page, before)


def centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_node(page, node_id: str, dx: float, dy: float) -> None:
    """Move a node by (dx, dy) pixels with the mouse and wait for the redrawn picture."""
    x, y = centre(page, f".node[data-node-id='{node_id}'] .node-shape")
    before = revision(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()
    wait_for_new_drawing(page, before)


def drag_to_connect(page, source: str, target: str, index: int) -> None:
    """Press on the source's output port and release on the target's input port."""
    page.locator("#canvas-frame").scroll_into_view_if_needed()
    before = revision(page)
    start = centre(page, f".port-out[data-node-id='{source}']")
    end = centre(page, f".port-in[data-node-id='{target}'][data-index='{index}']")
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()
    wait_for_new_drawing(page, before)


def set_value(page, node: str, value: str) -> None:
    page.click(f".node[data-node-id='{node}'] .node-shape")
    before = revision(page)
    page.fill("#inspector-value", value)
    page.press("#inspector-value", "Enter")
    wait_for_new_drawing(page, before)


def build_sum_times(page) -> None:
    """(a + b) * c by clicking: three inputs, add and mul from the palette, four drags."""
    before = revision(page)
    page.click("#palette-new")
    wait_for_new_drawing(page, before)
    for op in ("input", "input", "input", "add", "mul"):
        add_from_palette(page, op)
    drag_to_connect(page, "a", "add1", 0)
    drag_to_connect(page, "b", "add1", 1)
    drag_to_connect(page, "add1", "mul1", 0)
    drag_to_connect(page, "c", "mul1", 1)
    for name, value in SUM_TIMES.items():
        set_value(page, name, str(value))


def save_through_api(page, document: dict) -> dict:
    answer = page.request.post("/api/graphs", data={"schema_version": 1, **document})
    assert answer.status == 201, answer.text()
    return answer.json()


def saved(page, graph_id: str) -> dict:
    return page.request.get(f"/api/graphs/{graph_id}").json()


@pytest.fixture
def student(browser, base_url, page_errors):
    """A second browser context: another machine with nothing in its localStorage."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=base_url)
    second = context.new_page()
    second.set_default_timeout(5_000)
    second.on(
        "console",
        lambda message: message.type == "error" and page_errors.seen.append(message.text),
    )
    second.on("pageerror", lambda error: page_errors.seen.append(f"page error: {error}"))
    second.on("dialog", lambda dialog: page_errors.seen.append(f"dialog: {dialog.message}"))
    yield second
    context.close()


def test_graph_built_by_clicking_is_saved_and_shared_read_only(page, student):
    open_editor(page)
    build_sum_times(page)
    expression = page.input_value("#expression-input")
    assert "add1 = a + b" in expression
    assert expression.strip().endswith("mul1 = add1 * c")
    run_both_passes(page)
    assert table_numbers(page, "value")["mul1"] == -20
    assert table_numbers(page, "grad") == {"a": -4, "b": -4, "c": 5, "add1": -4, "mul1": 1}

    page.fill("#share-title", "Sum times c")
    page.fill("#share-description", "Predict **every** gradient first.")
    page.click("#save-button")
    link = page.locator("#share-url")
    link.wait_for()
    url = link.get_attribute("href")
    graph_id = re.search(r"/g/([^/?#]+)$", url).group(1)
    assert saved(page, graph_id)["revision"] == 1

    open_shared(student, graph_id)
    assert student.locator("#doc-title").inner_text() == "Sum times c"
    assert student.locator("#doc-description strong").inner_text() == "every"
    # Read-only: nothing to save, no palette, no ports to drag, the text cannot be typed in.
    for selector in ("#save-button", ".palette-op", ".port", "#share-title", "#json-output"):
        assert student.locator(selector).count() == 0
    assert student.locator("#expression-input").get_attribute("readonly") is not None
    run_both_passes(student)
    assert table_numbers(student, "grad")["c"] == 5

    # Values change locally, and nothing is written back.
    set_value(student, "c", "10")
    assert table_numbers(student, "value")["mul1"] == 50  # (2 + 3) · 10
    stored = saved(student, graph_id)
    assert stored["revision"] == 1
    assert next(n for n in stored["nodes"] if n["id"] == "c")["value"] == -4

    student.click("#copy-button")
    student.wait_for_url(re.compile(r"/\?graph="))
    copy_id = re.search(r"graph=([^&]+)", student.url).group(1)
    assert copy_id != graph_id
    student.wait_for_selector(".palette-op[data-op='add']")
    student.wait_for_selector("#graph-canvas .node[data-node-id='mul1']")
    assert student.locator("#share-title").input_value() == "Copy of Sum times c"

    # The copy is the student's own: edit it and save a second revision of it.
    set_value(student, "a", "1")
    student.click("#save-button")
    student.wait_for_function(
        "() => /revision 2/i.test(document.querySelector('#save-status').textContent)"
    )
    copy = saved(student, copy_id)
    assert copy["revision"] == 2
    assert next(n for n in copy["nodes"] if n["id"] == "a")["value"] == 1
    assert next(n for n in copy["nodes"] if n["id"] == "c")["value"] == 10
    assert saved(student, graph_id)["revision"] == 1


def test_saved_markup_shows_literally_and_never_runs(page):
    title = "".join(PAYLOADS)
    description = f"**Bold** {PAYLOADS[0]}\n\n- {PAYLOADS[1]}\n- [a link](https://example.org)"
    document = {
        "title": title,
        "description": description,
        "nodes": [
            {"id": "x", "op": "input", "value": 2, "label": PAYLOADS[1]},
            {"id": "f", "op": "exp", "inputs": ["x"], "label": PAYLOADS[0]},
        ],
        "output": "f",
    }
    created = save_through_api(page, document)

    open_shared(page, created["id"])
    page.wait_for_function("() => document.title.includes('<script>')")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#doc-title").inner_text() == title
    assert page.title().startswith(title)
    text = page.locator("#doc-description").inner_text()
    assert PAYLOADS[0] in text and PAYLOADS[1] in text
    assert page.locator("#doc-description strong").inner_text() == "Bold"
    link = page.locator("#doc-description a")
    assert link.get_attribute("href") == "https://example.org/"
    assert "noopener" in link.get_attribute("rel")
    # Nothing the teacher wrote became an element: no script, no image, anywhere.
    assert page.locator("main script, main img, svg script, svg image").count() == 0
    names = page.locator("#graph-canvas .node text").all_text_contents()
    assert any(PAYLOADS[1] in name for name in names)
    assert PAYLOADS[0] in page.locator(".node[data-node-id='f']").text_content()

    open_editor(page, f"/?graph={created['id']}")
    page.wait_for_function(f"() => document.querySelector('#share-title').value === {title!r}")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#share-description").input_value() == description


def test_edit_token_never_reaches_the_shared_page(page):
    open_editor(page, "/?preset=fan_out")
    page.fill("#share-title", "Fan-out")
    page.click("#save-button")
    url = page.locator("#share-url")
    url.wait_for()
    graph_id = url.get_attribute("href").rsplit("/", 1)[-1]
    token = page.evaluate(f"JSON.parse(localStorage.getItem('gradplay.editTokens'))[{graph_id!r}]")
    assert len(token) > 20

    served = page.request.get(f"/g/{graph_id}").text()
    assert token not in served
    open_shared(page, graph_id)  # the same browser, which does hold the token
    assert token not in page.content()


def test_pasted_token_lets_another_machine_save(page, student):
    open_editor(page, "/?preset=tanh_neuron")
    page.click("#save-button")
    page.locator("#share-url").wait_for()
    graph_id = page.evaluate("new URLSearchParams(location.search).get('graph')")
    token = page.evaluate(f"JSON.parse(localStorage.getItem('gradplay.editTokens'))[{graph_id!r}]")

    open_editor(student, f"/?graph={graph_id}")
    assert student.locator("#save-button").inner_text() == "Save as a new graph"
    student.fill("#token-input", token)
    student.click("#token-button")
    assert student.locator("#save-button").inner_text() == "Save"
    student.click("#save-button")
    student.wait_for_function(
        "() => /revision 2/i.test(document.querySelector('#save-status').textContent)"
    )
    assert saved(student, graph_id)["revision"] == 2


def predict_document(*hidden: str) -> dict:
    """f = x / y at x = 1, y = -4, shared with the numbers of `hidden` to predict."""
    return {
        "title": "Predict",
        "nodes": [
            {"id": "x", "op": "input", "value": 1},
            {"id": "y", "op": "input", "value": -4},
            {"id": "f", "op": "div", "inputs": ["x", "y"]},
        ],
        "output": "f",
        "hidden": list(hidden),
    }


def test_prediction_accepts_a_fraction_and_a_decimal_comma(page):
    document = predict_document("f", "x")
    created = save_through_api(page, document)
    open_shared(page, created["id"])
    run_both_passes(page)
    # Hidden numbers are nowhere on the page until predicted.
    values = table_numbers(page, "value")
    assert values["f"] == "hidden" and values["y"] == -4
    assert "?" in page.locator("#expression-input").input_value()

    page.click(".node[data-node-id='f'] .node-shape")
    form = page.locator(".predict-form[data-part='value']")
    form.locator("input").fill("0.25")
    form.locator("button[type=submit]").click()
    assert "Not quite" in form.locator(".predict-feedback").inner_text()
    assert table_numbers(page, "value")["f"] == "hidden"

    before = revision(page)
    form.locator("input").fill("-1/4")
    form.locator("button[type=submit]").click()
    wait_for_new_drawing(page, before)
    assert "Right" in page.locator("#inspector .predict-verdict").inner_text()
    assert table_numbers(page, "value")["f"] == -0.25

    page.click(".node[data-node-id='x'] .node-shape")
    grad = page.locator(".predict-form[data-part='grad']")
    before = revision(page)
    grad.locator("input").fill("-0,25")
    grad.locator("button[type=submit]").click()
    wait_for_new_drawing(page, before)
    assert "Right" in page.locator("#inspector .predict-verdict").inner_text()
    assert table_numbers(page, "grad")["x"] == -0.25


def test_locked_input_cannot_be_changed_in_the_shared_view(page):
    document = {
        "nodes": [
            {"id": "x", "op": "input", "value": 3},
            {"id": "y", "op": "input", "value": 2},
            {"id": "f", "op": "mul", "inputs": ["x", "y"]},
        ],
        "output": "f",
        "locked": ["x"],
    }
    created = save_through_api(page, document)
    open_shared(page, created["id"])
    assert page.locator(".node[data-node-id='x'] .value-edit").count() == 0
    assert page.locator(".node[data-node-id='y'] .value-edit").count() == 1
    assert page.locator(".node[data-node-id='x'] .badge-locked").count() == 1
    page.click(".node[data-node-id='x'] .node-shape")
    assert page.locator("#inspector-value").count() == 0
    assert "locked" in page.locator("#inspector .locked-note").inner_text()

    set_value(page, "y", "5")
    assert table_numbers(page, "value")["f"] == 15


def test_embed_shows_just_the_graph_and_its_controls(page):
    created = save_through_api(
        page,
        {"title": "Embedded", "nodes": [{"id": "x", "op": "input", "value": 1}], "output": "x"},
    )
    open_shared(page, created["id"], "?embed=1&inspector=0&expression=0")
    for hidden in (".site-header", ".side", ".expression", ".numbers-section", "#doc-description"):
        assert page.locator(hidden).is_hidden()
    for shown in ("#canvas-frame", "#forward-button", "#doc-title"):
        assert page.locator(shown).is_visible()


def test_unknown_graph_shows_not_found(page, page_errors):
    page_errors.expect(r"status of 404")
    answer = page.goto("/g/no-such-graph")
    assert answer.status == 404
    page.wait_for_function(
        "() => document.querySelector('#doc-title').textContent === 'Graph not found'"
    )
    assert page.locator("#canvas-frame").is_hidden()


def test_picture_edits_undo_and_redo_by_keyboard(page):
    open_editor(page)
    build_sum_times(page)
    page.click(".node[data-node-id='add1'] .node-shape")
    before = revision(page)
    page.keyboard.press("Delete")
    wait_for_new_drawing(page, before)
    assert page.locator(".node[data-node-id='add1']").count() == 0
    assert "add1" not in page.input_value("#expression-input")

    before = revision(page)
    page.keyboard.press("Control+z")
    wait_for_new_drawing(page, before)
    assert page.locator(".node[data-node-id='add1']").count() == 1
    assert table_numbers(page, "value")["mul1"] == -20

    # Keyboard connection: C on a focused node, then Enter on the node it feeds.
    add_from_palette(page, "neg")
    page.focus(".node[data-node-id='mul1']")
    page.keyboard.press("c")
    before = revision(page)
    page.focus(".node[data-node-id='neg1']")
    page.keyboard.press("Enter")
    wait_for_new_drawing(page, before)
    assert page.input_value("#expression-input").strip().endswith("neg1 = -mul1")
    assert table_numbers(page, "value")["neg1"] == 20

    before = revision(page)
    page.keyboard.press("Control+z")
    wait_for_new_drawing(page, before)
    assert "neg1 = -mul1" not in page.input_value("#expression-input")
    before = revision(page)
    page.keyboard.press("Control+y")
    wait_for_new_drawing(page, before)
    assert "neg1 = -mul1" in page.input_value("#expression-input")


def test_moved_node_keeps_its_position_when_saved(page):
    open_editor(page)
    page.locator("#canvas-frame").scroll_into_view_if_needed()
    node = ".node[data-node-id='z'] .node-shape"
    other = ".node[data-node-id='x'] .node-shape"
    x, y = centre(page, node)
    gap = (x - centre(page, other)[0], y - centre(page, other)[1])
    drag_node(page, "z", 30, -40)
    # The node lands where it was dropped, relative to the nodes that stayed.
    moved = centre(page, node)
    anchor = centre(page, other)
    assert moved[0] - anchor[0] == pytest.approx(gap[0] + 30, abs=2)
    assert moved[1] - anchor[1] == pytest.approx(gap[1] - 40, abs=2)

    graph = json.loads(page.input_value("#json-output"))
    assert all("position" in node for node in graph["nodes"])
    page.click("#save-button")
    page.locator("#share-url").wait_for()
    graph_id = page.evaluate("new URLSearchParams(location.search).get('graph')")
    stored = {n["id"]: n["position"] for n in saved(page, graph_id)["nodes"]}
    assert stored == {n["id"]: n["position"] for n in graph["nodes"]}

    before = revision(page)
    page.click("#palette-layout")
    wait_for_new_drawing(page, before)
    assert not any(
        "position" in node for node in json.loads(page.input_value("#json-output"))["nodes"]
    )


def test_typing_keeps_the_position_of_nodes_the_text_keeps(page):
    open_editor(page)
    page.locator("#canvas-frame").scroll_into_view_if_needed()
    node = ".node[data-node-id='z'] .node-shape"
    other = ".node[data-node-id='x'] .node-shape"
    drag_node(page, "z", 30, -40)
    gap = (
        centre(page, node)[0] - centre(page, other)[0],
        centre(page, node)[1] - centre(page, other)[1],
    )

    text = page.input_value("#expression-input")
    assert "z = -4" in text
    before = revision(page)
    page.fill("#expression-input", text.replace("z = -4", "z = -5"))
    wait_for_new_drawing(page, before)

    # (x + y)·z with the new z: -2 + 5 = 3, times -5; and z stays where it was dropped.
    assert table_numbers(page, "value")["f"] == -15
    moved = centre(page, node)
    anchor = centre(page, other)
    assert moved[0] - anchor[0] == pytest.approx(gap[0], abs=2)
    assert moved[1] - anchor[1] == pytest.approx(gap[1], abs=2)
    graph = json.loads(page.input_value("#json-output"))
    assert "position" in next(n for n in graph["nodes"] if n["id"] == "z")


def test_exports_and_import_of_json(page, tmp_path):
    open_editor(page, "/?preset=fan_out")
    page.click(".menu summary")
    with page.expect_download() as svg_download:
        page.click("#export-svg")
    svg = tmp_path / "graph.svg"
    svg_download.value.save_as(svg)
    text = svg.read_text()
    assert text.startswith("<svg") and 'fill="#ffffff"' in text
    assert "x = " in text and 'r="5.5"' not in text  # the editor's ports stay behind

    with page.expect_download() as png_download:
        page.click("#export-png")
    png = tmp_path / "graph.png"
    png_download.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with page.expect_download() as json_download:
        page.click("#export-json")
    exported = tmp_path / "graph.json"
    json_download.value.save_as(exported)
    graph = json.loads(exported.read_text())
    assert {node["id"] for node in graph["nodes"]} >= {"x", "y"}

    page.click("#export-dot")
    dialog = page.locator("#export-dialog")
    dialog.wait_for()
    page.wait_for_function(
        "() => /digraph/.test(document.querySelector('#export-text').textContent)"
    )
    page.click("#export-dialog button[value=close]")

    graph["nodes"] = [
        {**node, "value": 5} if node["id"] == "x" else node for node in graph["nodes"]
    ]
    exported.write_text(json.dumps(graph))
    before = revision(page)
    page.set_input_files("#import-file", str(exported))
    wait_for_new_drawing(page, before)
    # f = x·y + x at x = 5, y = -2 is -5.
    assert table_numbers(page, "value")["x"] == 5
    run_both_passes(page)
    assert table_numbers(page, "grad")["x"] == -1  # y + 1


def test_json_edits_redraw_the_picture_and_rewrite_the_text(page):
    open_editor(page)
    page.click("#json-heading")
    graph = json.loads(page.input_value("#json-output"))
    for node in graph["nodes"]:
        if node["id"] == "x":
            node["value"] = 1
    graph["nodes"].append({"id": "g", "op": "exp", "inputs": ["z"]})
    page.fill("#json-output", json.dumps(graph))
    before = revision(page)
    page.click("#apply-json")
    wait_for_new_drawing(page, before)
    assert page.locator(".node[data-node-id='g']").count() == 1
    text = page.input_value("#expression-input")
    assert "x = 1\n" in text and "g = exp(z)" in text
    # The output stays f: (1 + 5) · -4 = -24, and its name is the text's last statement.
    assert text.strip().splitlines()[-1] in ("f", "f = q * z")
    assert table_numbers(page, "value")["f"] == -24


def test_copy_warns_before_showing_numbers_still_to_predict(page):
    graph_id = save_through_api(page, predict_document("f"))["id"]
    open_shared(page, graph_id)
    shared_url = page.url

    # The editor a copy opens in shows every number, so the first press only warns.
    page.click("#copy-button")
    status = page.locator("#copy-graph-status")
    assert "predict" in status.inner_text() and "f" in status.inner_text()
    assert page.locator("#copy-button").inner_text() == "Copy anyway"
    assert page.url == shared_url

    page.click("#copy-button")
    page.wait_for_url(re.compile(r"/\?graph="))
    copy_id = re.search(r"graph=([^&]+)", page.url).group(1)
    # The copy keeps the teacher's hidden list for whoever it is shared with next.
    assert saved(page, copy_id)["hidden"] == ["f"]
