"""A teacher deletes a saved graph from the share panel, and the /learn training form refuses
blank numbers in the page, through Chromium (fixtures in tests/browser/conftest.py).

The truth for a delete is the API itself: after it, GET /api/graphs/{id} answers 404.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_learn import open_learn
from tests.browser.test_sharing import open_editor, saved

pytestmark = pytest.mark.browser

TOKENS = "JSON.parse(localStorage.getItem('gradplay.editTokens') || '{}')"


def save_on_page(page) -> str:
    """Save the graph on screen as a new one; its id."""
    page.click("#save-button")
    page.locator("#share-url").wait_for()
    return page.evaluate("new URLSearchParams(location.search).get('graph')")


def held_token(page, graph_id: str) -> str | None:
    return page.evaluate(f"{TOKENS}[{graph_id!r}] ?? null")


def deletes_sent(page) -> list[str]:
    """A list that fills with the URL of every DELETE the page sends from now on."""
    sent: list[str] = []
    page.on("request", lambda request: request.method == "DELETE" and sent.append(request.url))
    return sent


def ask_to_delete(page) -> None:
    page.click("#delete-button")
    expect(page.locator("#delete-confirm")).to_be_visible()


def test_saved_graph_is_deleted_from_the_share_panel(page, page_errors):
    page_errors.expect(r"status of 404")  # the shared page of the deleted graph, at the end
    open_editor(page)
    graph_id = save_on_page(page)
    assert held_token(page, graph_id)

    ask_to_delete(page)
    page.click("#delete-confirm")

    expect(page.locator("#save-status")).to_contain_text("Deleted")
    expect(page.locator("#save-status")).to_contain_text(f"/g/{graph_id} no longer works")
    assert page.request.get(f"/api/graphs/{graph_id}").status == 404
    assert held_token(page, graph_id) is None
    expect(page.locator("#delete-button")).to_have_count(0)
    expect(page.locator("#share-url")).to_have_count(0)
    assert "graph=" not in page.url
    # What was on screen stays, and saving it again makes a new graph.
    expect(page.locator("#graph-canvas .node").first).to_be_visible()
    assert save_on_page(page) != graph_id

    page.goto(f"/g/{graph_id}")
    expect(page.locator("#doc-title")).to_have_text("Graph not found")


def test_cancelled_delete_deletes_nothing(page):
    open_editor(page)
    graph_id = save_on_page(page)
    sent = deletes_sent(page)

    ask_to_delete(page)
    page.click("#delete-cancel")

    expect(page.locator("#save-status")).to_contain_text("Nothing was deleted")
    expect(page.locator("#delete-confirm")).to_be_hidden()
    expect(page.locator("#delete-button")).to_be_visible()
    assert sent == []
    assert page.request.get(f"/api/graphs/{graph_id}").status == 200
    assert saved(page, graph_id)["revision"] == 1
    assert held_token(page, graph_id)


def test_delete_with_a_wrong_token_says_so_and_keeps_the_graph(page, page_errors):
    page_errors.expect(r"status of 403")
    open_editor(page)
    graph_id = save_on_page(page)
    page.fill("#token-input", "not-the-token-of-this-graph")
    page.click("#token-button")

    ask_to_delete(page)
    page.click("#delete-confirm")

    status = page.locator("#save-status")
    expect(status).to_contain_text("Not deleted")
    expect(status).to_contain_text("did not accept this browser's edit token")
    expect(status).to_have_class("save-status is-error")
    assert page.request.get(f"/api/graphs/{graph_id}").status == 200
    assert page.is_enabled("#delete-confirm")


def test_delete_of_a_graph_already_gone_says_so(page, page_errors):
    page_errors.expect(r"status of 404")
    open_editor(page)
    graph_id = save_on_page(page)
    token = held_token(page, graph_id)
    gone = page.request.delete(
        f"/api/graphs/{graph_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert gone.status == 204

    ask_to_delete(page)
    page.click("#delete-confirm")

    expect(page.locator("#save-status")).to_contain_text("deleted already")
    expect(page.locator("#save-status")).to_have_class("save-status is-error")


TRAIN_FIELDS = [
    ("samples", "Samples"),
    ("noise", "Noise"),
    ("steps", "Steps"),
    ("learning_rate", "Learning rate"),
    ("batch_size", "Batch size"),
    ("hidden", "Hidden widths"),
]


def test_blank_training_fields_ask_for_a_number_and_send_nothing(page):
    open_learn(page)
    page.select_option("#optimizer-select", "momentum")  # shows the batch size
    sent = []
    page.on("request", lambda request: "/api/train" in request.url and sent.append(1))

    for field, label in TRAIN_FIELDS:
        selector = f"#train-form [name={field}]"
        typed = page.input_value(selector)
        page.fill(selector, "")
        page.click("#start-button")
        expect(page.locator("#train-error")).to_contain_text(f"{label} needs a number.")
        assert page.get_attribute(selector, "aria-invalid") == "true"
        # The focus is on the field to fix.
        assert page.eval_on_selector(selector, "e => e === document.activeElement")
        assert page.get_attribute("#run-status", "data-status") == "idle"
        page.fill(selector, typed)

    assert sent == []


def test_text_a_number_field_cannot_hold_asks_for_a_number(page):
    open_learn(page)
    sent = []
    page.on("request", lambda request: "/api/train" in request.url and sent.append(1))
    page.fill("#train-form [name=samples]", "")

    page.click("#start-button")
    expect(page.locator("#train-error")).to_contain_text("Samples needs a number.")
    page.fill("#train-form [name=samples]", "200")
    page.locator("#train-form [name=seed]").fill("")
    page.locator("#train-form [name=seed]").press_sequentially("e")  # not a number
    page.click("#start-button")

    expect(page.locator("#train-error")).to_contain_text("Seed needs a number.")
    assert page.get_attribute("#train-form [name=seed]", "aria-invalid") == "true"
    # The field fixed before is no longer marked.
    assert page.get_attribute("#train-form [name=samples]", "aria-invalid") != "true"
    assert sent == []


@pytest.mark.parametrize(
    ("form", "field", "label", "error", "suggested"),
    [
        ("#train-form", "steps", "Steps", "#train-error", 2),
        # The nearest whole number the field allows: a data set has at least 4 samples.
        ("#train-form", "samples", "Samples", "#train-error", 4),
        ("#train-form", "seed", "Seed", "#train-error", 2),
        ("#surface-form", "batch_size", "Minibatch size", "#surface-error", 2),
        ("#surface-form", "steps", "Steps", "#surface-error", 2),
    ],
)
def test_a_count_with_a_fraction_asks_for_a_whole_number(
    page, form, field, label, error, suggested
):
    open_learn(page)
    sent = []
    page.on("request", lambda request: "/api/" in request.url and sent.append(request.url))
    page.fill(f"{form} [name={field}]", "1.5")

    button = "#start-button" if form == "#train-form" else f"{form} [type=submit]"
    page.click(button)

    expect(page.locator(error)).to_contain_text(
        f"{label} needs a whole number, such as {suggested}."
    )
    assert page.get_attribute(f"{form} [name={field}]", "aria-invalid") == "true"
    assert not any("/api/train" in url or "/api/loss-surface" in url for url in sent)


def test_time_fields_take_fractions_without_the_browser_marking_them(page):
    # A time limit of 1.5 s and a pause of 1.5 ms are sent and accepted; the fields must not
    # show the browser's "nearest valid values are 1 and 2".
    open_learn(page)
    for name in ("max_seconds", "step_delay_ms"):
        page.fill(f"#train-form [name={name}]", "1.5")
        assert page.eval_on_selector(f"#train-form [name={name}]", "e => e.validity.valid")
