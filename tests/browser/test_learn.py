"""The learning page `/learn` driven through Chromium (fixtures in tests/browser/conftest.py).

Numbers are checked against independent truths: the cross-entropy of a two-class guess is
log 2 ≈ 0.693 before training, so a loss well below it means the model learned; the least
squares line is reached by Newton's method in one step (a quadratic loss); the derivative
of the gradcheck expression is written out by hand.
"""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LOSS_BOUND = 0.3  # well under log 2, the loss of a 50/50 guess


def open_learn(page) -> None:
    page.goto("/learn")
    page.wait_for_selector("body[data-ready='true']")


def test_run_on_two_moons_drops_the_loss_then_stops(page):
    open_learn(page)
    page.select_option("#dataset-select", "moons")
    page.select_option("#optimizer-select", "momentum")
    page.fill("#train-form [name=steps]", "20000")
    page.fill("#train-form [name=step_delay_ms]", "3")

    page.click("#start-button")
    page.wait_for_function(
        "bound => Number(document.querySelector('#loss-readout').dataset.epochLoss) < bound",
        arg=LOSS_BOUND,
        timeout=30_000,
    )
    page.click("#stop-button")
    page.wait_for_selector("#run-status[data-status='stopped']", timeout=10_000)

    assert float(page.locator("#train-progress").get_attribute("value") or 0) < 1.0
    assert page.locator("#regions-canvas").get_attribute("data-step")
    assert page.is_enabled("#start-button")
    assert "Stopped after" in page.inner_text("#run-status")


def test_a_nan_learning_rate_shows_the_server_error_in_the_page(page, page_errors):
    page_errors.expect("422")
    open_learn(page)
    page.fill("#train-form [name=learning_rate]", "nan")

    page.click("#start-button")

    error = page.locator("#train-error")
    error.wait_for(state="visible")
    assert "learning rate" in error.inner_text()
    assert page.locator("#run-status").get_attribute("data-status") == "idle"


def test_loss_surface_shows_newton_reaching_the_minimum_in_one_step(page):
    open_learn(page)
    page.wait_for_selector("#surface-panels .optimizer-path[data-optimizer='newton']")

    paths = page.locator("#surface-panels .optimizer-path")
    assert sorted(paths.evaluate_all("els => els.map(e => e.dataset.optimizer)")) == [
        "gd", "minibatch", "newton", "sgd",
    ]  # fmt: skip
    assert page.locator("#surface-panels").get_attribute("data-newton-steps") == "1"
    assert page.locator(".surface-figure[data-optimizer='gd'] .contours path").count() > 5


def test_gradcheck_table_and_plot_show_both_estimates(page):
    open_learn(page)
    row = page.locator("#gradcheck-table tr[data-node='x']")
    row.wait_for()

    cells = row.locator("td").all_inner_texts()
    # f = σ(x·y) + log(y)·eˣ at x = 0.5, y = 2: df/dx = y·σ(1)(1 − σ(1)) + log(2)·e^0.5
    sigma = 1 / (1 + math.exp(-1.0))
    expected = 2 * sigma * (1 - sigma) + math.log(2) * math.exp(0.5)
    assert float(cells[1]) == pytest.approx(expected, rel=1e-10)
    assert float(cells[4]) == pytest.approx(expected, rel=1e-8)
    best = page.locator("#gradcheck-plot circle[data-best-h]").evaluate_all(
        "els => els.map(e => Number(e.dataset.bestH))"
    )
    assert len(best) == 2 and best[0] < best[1]  # forward's best h is below central's


def test_expression_swell_draws_both_families(page):
    open_learn(page)
    page.wait_for_selector(".swell-figure[data-family='product']")

    # The written-out size at depth 12 from the hand recurrence of tests/engine/test_symbolic.py:
    # S_k = 5 + 2·S_(k−1), D_k = 11 + 2·S_(k−1) + 2·D_(k−1), from S_1 = 7, D_1 = 11.
    function_size, derivative_size = 7, 11
    for _ in range(2, 13):
        function_size, derivative_size = (
            5 + 2 * function_size,
            11 + 2 * function_size + 2 * derivative_size,
        )
    assert page.locator(".swell-figure").count() == 2
    caption = page.inner_text(".swell-figure[data-family='product'] figcaption")
    assert f"{derivative_size:,} nodes written out" in caption


def test_gradcheck_where_the_function_is_not_finite_says_so(page):
    open_learn(page)
    page.locator("#gradcheck-table tr[data-node='x']").wait_for()
    text = "x = -1\nlog(x)"
    truth = page.request.post("/api/gradcheck", data={"expression": text}).json()
    assert truth["output"] == "nan"  # log of a negative number

    page.fill("#gradcheck-expression", text)
    page.click("#gradcheck-form button[type=submit]")
    note = page.locator("#gradcheck-note")
    expect(note).to_contain_text("not finite")
    # No point is drawn at an infinite error, and no best h is claimed for one. The plot is
    # redrawn after the note appears, so wait for it rather than read it at once.
    expect(page.locator("#gradcheck-plot circle")).to_have_count(0)
    labels = page.locator("#gradcheck-plot .series-label")
    expect(labels.first).to_contain_text("no finite error")
    assert all("no finite error" in label for label in labels.all_text_contents())

    page.fill("#gradcheck-expression", "x = 2\nlog(x)")
    page.click("#gradcheck-form button[type=submit]")
    expect(note).to_be_hidden()
    expect(page.locator("#gradcheck-plot circle[data-best-h]")).to_have_count(2)


def test_newton_switches_to_a_model_small_enough_for_its_hessian(page, page_errors):
    page_errors.expect("status of 413")
    open_learn(page)
    assert page.input_value("#train-form [name=model]") == "mlp"
    page.select_option("#optimizer-select", "newton")
    assert page.input_value("#train-form [name=model]") == "linear"
    note = page.locator("#train-note")
    assert note.is_visible() and "Newton" in note.inner_text()

    page.fill("#train-form [name=steps]", "5")
    with page.expect_response("**/api/train") as response:
        page.click("#start-button")
    assert response.value.ok and response.value.json()["parameters"] <= 300
    page.wait_for_selector("#run-status[data-status='finished']", timeout=10_000)

    # Asked for anyway, a big model gets the server's sentence and what to do about it.
    page.select_option("#train-form [name=model]", "mlp")
    page.select_option("#train-form [name=loss]", "cross_entropy")
    with page.expect_response("**/api/train") as response:
        page.click("#start-button")
    message = response.value.json()["error"]["message"]
    error = page.locator("#train-error")
    error.wait_for(state="visible")
    assert message in error.inner_text()
    assert "linear model" in error.inner_text()
