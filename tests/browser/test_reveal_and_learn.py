"""Hidden numbers stay hidden until revealed, and /learn shows only results of the current
settings, through Chromium (fixtures in tests/browser/conftest.py).

Numbers come from the course's worked example f = (x + y)·z at x = -2, y = 5, z = -4:
q = x + y = 3, f = q·z = -12, df/dq = z = -4, df/dx = df/dy = df/dq · 1 = -4 and
df/dz = q = 3.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from app.schemas import COURSE_GRAPH
from tests.api.test_learn import SLOW_RUN  # holds a training slot until stopped
from tests.browser.test_learn import open_learn
from tests.browser.test_sharing import open_shared, revision, save_through_api, table_numbers

pytestmark = pytest.mark.browser

SUM_TIMES = {"title": "Predict q", **COURSE_GRAPH, "hidden": ["q"]}
Q_VALUE, F_VALUE, XY_GRAD, Z_GRAD = 3.0, -12.0, -4.0, 3.0
RUN_END_SECONDS = 10
# Data attributes that carry a number the page shows.
NUMBER_ATTRIBUTES = ("data-value", "data-grad", "data-upstream", "data-local", "data-downstream")


def numbers_in(text: str) -> set[float]:
    """Every number written in a text, read with either minus sign."""
    return {float(token) for token in re.findall(r"-?\d+(?:\.\d+)?", text.replace("\u2212", "-"))}


def region_text(page, selector: str) -> str:
    """The text of a region, its aria-labels and the numbers in its data attributes."""
    return page.locator(selector).evaluate(
        """(root, names) => {
          const parts = [root.textContent];
          for (const element of root.querySelectorAll('*')) {
            for (const name of ['aria-label', ...names]) {
              const value = element.getAttribute(name);
              if (value) parts.push(value);
            }
          }
          return parts.join(' ');
        }""",
        list(NUMBER_ATTRIBUTES),
    )


def inspector_text(page, node: str) -> str:
    page.click(f".node[data-node-id='{node}'] .node-shape")
    page.wait_for_selector(f"#inspector[data-node-id='{node}']")
    return region_text(page, "#inspector")


def step_narrations(page) -> tuple[list[str], list[str]]:
    """The narration of every step, forward steps and backward steps apart."""
    page.focus("#canvas-frame")
    page.keyboard.press("r")
    forward, backward = [], []
    total = page.locator("#values-body tr").count() * 2
    for index in range(total):
        page.keyboard.press("s")
        page.wait_for_function(
            "n => Number(document.querySelector('#canvas-frame').dataset.position) === n",
            arg=index + 1,
        )
        text = page.inner_text("#step-narration")
        (backward if "backward" in text else forward).append(text)
    return forward, backward


def grad_texts(page) -> str:
    """Every place a gradient is written, apart from the inspectors of the inputs' users."""
    cells = page.locator("#values-body td.grad-num").all_inner_texts()
    edge_grads = page.locator("#graph-canvas .edge-grad").all_text_contents()
    node_grads = page.locator("#graph-canvas .node").evaluate_all(
        "nodes => nodes.map((node) => node.dataset.grad || '')"
    )
    return " ".join([*cells, *edge_grads, *node_grads])


def test_exports_that_would_show_hidden_numbers_wait_for_the_reveal(page):
    created = save_through_api(page, {**SUM_TIMES, "hidden": ["x", "q"]})
    open_shared(page, created["id"])
    downloads = []
    page.on("download", lambda download: downloads.append(download))

    page.click(".menu summary")
    page.click("#export-json")
    notice = page.locator("#notice-banner")
    notice.wait_for(state="visible")
    page.click("#pytorch-button")

    assert "Predict or reveal the hidden numbers first" in notice.inner_text()
    assert downloads == [] and not page.locator("#export-dialog").is_visible()
    with page.expect_download():  # the picture is drawn masked, so it may go
        page.click("#export-svg")


def test_hidden_node_hides_the_numbers_computed_from_it_until_revealed(page):
    created = save_through_api(page, SUM_TIMES)
    open_shared(page, created["id"])
    forward, backward = step_narrations(page)

    everything = " ".join(
        [
            region_text(page, "#values-body"),
            region_text(page, "#graph-canvas"),
            *(inspector_text(page, node) for node in ("x", "y", "z", "q", "f")),
            *forward,
            *backward,
        ]
    )
    assert not numbers_in(everything) & {Q_VALUE, F_VALUE, Z_GRAD}
    # -4 is also z's value, so it is looked for where only gradients are written.
    gradients = " ".join(
        [grad_texts(page), inspector_text(page, "q"), inspector_text(page, "x"), *backward]
    )
    assert XY_GRAD not in numbers_in(gradients)
    assert "Predict ∇q" in inspector_text(page, "q")

    page.click(".node[data-node-id='q'] .node-shape")
    for part in ("value", "grad"):
        before = revision(page)
        page.click(f".predict-form[data-part='{part}'] button:has-text('Reveal')")
        page.wait_for_function(
            "n => Number(document.querySelector('#graph-canvas').dataset.revision) > n",
            arg=before,
        )

    assert table_numbers(page, "value") == {"x": -2, "y": 5, "z": -4, "q": Q_VALUE, "f": F_VALUE}
    grads = table_numbers(page, "grad")
    assert grads == {"x": XY_GRAD, "y": XY_GRAD, "z": Z_GRAD, "q": XY_GRAD, "f": 1}
    assert {Q_VALUE, F_VALUE} <= numbers_in(region_text(page, "#graph-canvas"))
    assert XY_GRAD in numbers_in(inspector_text(page, "x"))
    assert XY_GRAD in numbers_in(" ".join(step_narrations(page)[1]))


def test_hidden_input_keeps_the_values_it_feeds(page):
    document = {**SUM_TIMES, "hidden": ["x"]}
    created = save_through_api(page, document)
    open_shared(page, created["id"])
    page.focus("#canvas-frame")
    page.keyboard.press("f")
    page.wait_for_function(
        "() => document.querySelector('#values-body tr[data-node-id=\"f\"][data-value]')"
    )

    values = table_numbers(page, "value")
    assert values == {"x": "hidden", "y": 5, "z": -4, "q": Q_VALUE, "f": F_VALUE}


def finish_a_short_run(page) -> None:
    page.fill("#train-form [name=steps]", "20")
    page.fill("#train-form [name=step_delay_ms]", "0")
    page.click("#start-button")
    page.wait_for_selector("#run-status[data-status='finished']", timeout=20_000)
    expect(page.locator("#accuracy-readout")).to_contain_text("held out")


def assert_last_run_greyed_out(page) -> None:
    error = page.locator("#train-error")
    error.wait_for(state="visible")
    assert "Greyed out" in error.inner_text()
    status = page.locator("#run-status")
    assert status.get_attribute("data-status") == "idle"
    assert "Finished" not in status.inner_text()
    assert page.locator("#train-views").get_attribute("data-stale") == "true"


def test_refused_start_greys_out_the_last_run(page, page_errors):
    page_errors.expect("422")
    open_learn(page)
    finish_a_short_run(page)

    page.fill("#train-form [name=learning_rate]", "abc")  # refused by the server
    page.click("#start-button")
    assert_last_run_greyed_out(page)
    assert "learning_rate" in page.inner_text("#train-error")

    page.fill("#train-form [name=learning_rate]", "0.1")
    page.fill("#train-form [name=hidden]", "16, wide")  # refused by the page itself
    page.click("#start-button")
    assert_last_run_greyed_out(page)
    assert "Hidden widths" in page.inner_text("#train-error")

    page.fill("#train-form [name=hidden]", "16")
    finish_a_short_run(page)
    assert page.locator("#train-views").get_attribute("data-stale") is None
    assert page.locator("#train-error").is_hidden()


def test_failed_gradcheck_clears_the_last_table(page, page_errors):
    page_errors.expect("400")
    open_learn(page)
    page.locator("#gradcheck-table tr[data-node='x']").wait_for()

    page.fill("#gradcheck-expression", "x = 2\nlog(x")
    page.click("#gradcheck-form button[type=submit]")

    page.locator("#gradcheck-error").wait_for(state="visible")
    expect(page.locator("#gradcheck-table tbody tr")).to_have_count(0)
    expect(page.locator("#gradcheck-plot circle")).to_have_count(0)


def test_blank_start_of_the_loss_surface_asks_for_a_number(page):
    open_learn(page)
    page.wait_for_selector("#surface-panels .optimizer-path[data-optimizer='newton']")
    sent = []
    page.on("request", lambda request: "/api/loss-surface" in request.url and sent.append(1))

    for field, label in (("start_w", "Start w"), ("start_b", "Start b")):
        page.fill(f"#surface-form [name={field}]", "")
        page.click("#surface-form button[type=submit]")
        error = page.locator("#surface-error")
        expect(error).to_contain_text(f"{label} needs a number")
        assert page.get_attribute(f"#surface-form [name={field}]", "aria-invalid") == "true"
        assert page.locator("#surface-panels").get_attribute("data-stale") == "true"
        page.fill(f"#surface-form [name={field}]", "1")

    assert sent == []


def test_third_run_is_told_to_wait_for_other_peoples_runs(page, page_errors):
    page_errors.expect("429")
    open_learn(page)
    runs = [page.request.post("/api/train", data=SLOW_RUN) for _ in range(2)]
    try:
        assert all(run.ok for run in runs)
        with page.expect_response("**/api/train") as answer:
            page.click("#start-button")
        assert answer.value.status == 429
        wait = int(answer.value.headers["retry-after"])

        error = page.locator("#train-error")
        error.wait_for(state="visible")
        text = error.inner_text()
        assert "Other people's" in text and f"in about {wait} s" in text
        assert "stop one" not in text.lower()
    finally:
        for run in runs:
            if run.ok:
                stop_and_wait(page, run.json())


def stop_and_wait(page, run: dict) -> None:
    """Give the slot back, so later tests on this server can train."""
    page.request.post(run["stop_url"])
    deadline = time.monotonic() + RUN_END_SECONDS
    while time.monotonic() < deadline:
        if page.request.get(f"/api/train/{run['run_id']}").json()["status"] != "running":
            return
        time.sleep(0.1)
    pytest.fail(f"run {run['run_id']} did not stop within {RUN_END_SECONDS} s")
