"""Things a fresh-user tester found in the browser: a caret that drifts off its character, a
message that loses a place it names, a select that shows a refused choice, fields applied half
typed, a formula with one line unfinished, and messages a student cannot act on.

Truths: where the offending character itself is drawn, the API's own error JSON, the course's
output size ⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1, the preset's text, the server's upload limit
setting, and sums worked out here from the page's inputs; never the page's earlier output.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest

from app.settings import Settings
from tests.browser.test_cnn import shown_size

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "static" / "images" / "chelsea.png"
MINUS = "\u2212"


def open_playground(page, preset: str = "add_mul") -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"/?preset={preset}")
    page.wait_for_selector("#graph-canvas .node")


def api_error(page, expression: str) -> dict:
    answer = page.request.post("/api/evaluate", data={"expression": expression})
    assert answer.status == 400
    return answer.json()["error"]


def show_syntax_error(page, expression: str) -> dict:
    """Type `expression` and wait for its error under the box; the API's error JSON."""
    expected = api_error(page, expression)
    page.fill("#expression-input", expression)
    page.wait_for_function(
        "line => document.querySelector('#expression-error').dataset.line === line",
        arg=str(expected["line"]),
    )
    return expected


# Where the character at `column` (counted in characters, as the API counts) is drawn on the
# shown line, and where the caret under it is drawn.
CARET_AND_TARGET = """column => {
  const [line, caret] = document.querySelectorAll('#expression-error pre.syntax-line code');
  const text = line.firstChild;
  const start = Array.from(text.data).slice(0, column - 1).join('').length;
  const range = document.createRange();
  range.setStart(text, start);
  range.setEnd(text, start + 1);
  const target = range.getBoundingClientRect().left;
  const mark = caret.lastChild;
  range.setStart(mark, mark.data.length - 1);
  range.setEnd(mark, mark.data.length);
  return [target, range.getBoundingClientRect().left, mark.data.slice(-1)];
}"""


@pytest.mark.parametrize(
    "expression",
    [
        "x\t=\t2\nf\t=\tx\t*\t$",
        "x = [1.0, 2.0]\nf = sum(x, reduction='\U0001f600') + $",
        "x = 2\nf = x + '\u6f22\u5b57\U0001f600' + $",
    ],
    ids=["tabs", "emoji", "wide_characters"],
)
def test_syntax_caret_sits_under_the_offending_character(page, page_errors, expression):
    page_errors.expect(r"status of 400")
    open_playground(page)
    expected = show_syntax_error(page, expression)
    assert expression.split("\n")[expected["line"] - 1][expected["column"] - 1] == "$"

    target, caret, mark = page.evaluate(CARET_AND_TARGET, expected["column"])
    assert mark == "^"
    assert caret == pytest.approx(target, abs=0.5)


def test_syntax_message_keeps_the_other_place_it_names(page, page_errors):
    page_errors.expect(r"status of 400")
    open_playground(page)
    expression = "x = 1\ny = 2\nf = (x * y"
    expected = show_syntax_error(page, expression)
    # The '(' opens at line 3, column 5; the text ends after column 10.
    assert (expected["line"], expected["column"]) == (3, 11)
    assert "opened at line 3, column 5" in expected["message"]

    shown = page.inner_text("#expression-error")
    assert shown.startswith("Line 3, column 11: ")
    assert "opened at line 3, column 5" in shown
    # The error's own place is said once, in front.
    assert shown.lower().count("line 3, column 11") == 1


def test_inspector_input_select_shows_the_input_kept_after_a_refused_cycle(page):
    open_playground(page)
    page.click(".node[data-node-id='q']")
    select = page.locator("#inspector-input-0")
    # The preset is q = x + y, f = q * z: q's first input is x, and f depends on q.
    assert select.input_value() == "x"

    select.select_option("f")
    notice = page.locator("#notice-banner")
    notice.wait_for(state="visible")
    assert "cycle" in notice.inner_text()
    assert select.input_value() == "x"
    assert page.locator("#inspector .edge-card[data-source='x']").count() == 1
    assert page.locator("#inspector .edge-card[data-source='f']").count() == 0


# ---- the CNN lab -------------------------------------------------------------------------


def course_output_size(size: int, kernel: int, padding: int, stride: int, dilation=1) -> int:
    """⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def open_lab(page) -> list[int]:
    """Open /cnn on the first sample; the photo's [C, H, W] as the API gives it."""
    page.goto("/cnn")
    page.wait_for_selector("#output-size[data-height]")
    name = page.locator("#image-select").input_value()
    answer = page.request.get(f"/api/images/{name}?mode=grey&size=128")
    assert answer.ok
    return answer.json()["shape"]


def commit_field(page, selector: str, text: str) -> None:
    """Type `text` over a field's number and press Enter."""
    field = page.locator(selector)
    field.fill(text)
    field.press("Enter")


def test_cnn_half_typed_stride_is_not_applied(page):
    _, height, width = open_lab(page)
    stride = page.locator("#stride-input")
    previous = int(stride.input_value())
    assert shown_size(page) == (
        course_output_size(height, 3, 0, previous),
        course_output_size(width, 3, 0, previous),
    )

    stride.click()
    stride.press("Control+A")
    stride.press_sequentially("65")
    message = page.locator("#window-error")
    message.wait_for(state="visible")
    assert "65 is out of range" in message.inner_text()
    assert f"S = {previous}." in message.inner_text()
    assert shown_size(page) == (
        course_output_size(height, 3, 0, previous),
        course_output_size(width, 3, 0, previous),
    )

    stride.press("Control+A")
    stride.press_sequentially("2")
    stride.press("Enter")
    message.wait_for(state="hidden")
    expected = (course_output_size(height, 3, 0, 2), course_output_size(width, 3, 0, 2))
    page.wait_for_function(
        "w => document.querySelector('#output-size').dataset.width === String(w)",
        arg=expected[1],
    )
    assert shown_size(page) == expected


@pytest.mark.parametrize("dilation", [50, 64])
def test_cnn_size_formula_finishes_both_lines_when_too_small(page, page_errors, dilation):
    page_errors.expect(r"status of 422")
    _, height, width = open_lab(page)
    expected = {
        "H": course_output_size(height, 3, 0, 1, dilation),
        "W": course_output_size(width, 3, 0, 1, dilation),
    }
    assert min(expected.values()) < 1

    commit_field(page, "#dilation-input", str(dilation))
    page.wait_for_function(
        "() => document.querySelector('#output-size').dataset.state === 'failed'"
    )
    # The rendered math as text (MathML without its TeX source): "H′=⌊…⌋+1=−15<1W′=…".
    math_text = page.evaluate(
        """() => {
          const math = document.querySelectorAll('#size-formula .katex-mathml math')[1];
          const copy = math.cloneNode(true);
          copy.querySelectorAll('annotation').forEach((node) => node.remove());
          return copy.textContent;
        }"""
    )
    height_line, width_line = math_text.removeprefix("H\u2032").split("W\u2032")
    for line, size in [(height_line, expected["H"]), (width_line, expected["W"])]:
        number = str(size).replace("-", MINUS)
        assert line.endswith(f"={number}<1" if size < 1 else f"={number}")

    error = page.inner_text("#conv-error")
    assert "too large" in error
    assert re.search(r"-\d", error) is None
    assert f"{MINUS}{abs(expected['H'])}" in error


def test_cnn_bank_too_large_says_which_control_to_turn_down(page, page_errors):
    page_errors.expect(r"status of 413")
    open_lab(page)
    page.wait_for_selector("#bank-shape[data-shape]")

    commit_field(page, "#padding-input", "64")
    error = page.locator("#bank-error")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "too large to show" in text
    assert "padding" in text.lower()
    assert "Use smaller tensors" not in text
    assert "upstream" not in text


def upload(page, name: str, body: bytes) -> str:
    page.set_input_files(
        "#image-upload", files=[{"name": name, "mimeType": "image/png", "buffer": body}]
    )
    error = page.locator("#image-error")
    error.wait_for(state="visible")
    return error.inner_text()


def test_cnn_upload_of_a_non_image_says_it_is_not_a_picture(page, page_errors):
    page_errors.expect(r"status of 415")
    open_lab(page)
    shown = upload(page, "notes.png", b"plain text, not a picture")
    assert "not a PNG or JPEG picture" in shown
    assert "request body" not in shown and "form" not in shown


def test_cnn_upload_of_a_damaged_image_says_it_is_damaged(page, page_errors):
    page_errors.expect(r"status of 400")
    open_lab(page)
    shown = upload(page, "broken.png", SAMPLE.read_bytes()[:3000])
    assert "damaged" in shown
    assert "decoded (" not in shown


def test_cnn_upload_over_the_size_limit_names_the_limit_in_mb(page, page_errors):
    page_errors.expect(r"status of 413")
    open_lab(page)
    limit = Settings().max_upload_bytes
    shown = upload(page, "noise.png", os.urandom(limit + 1))
    megabytes = limit / 2**20
    assert f"{megabytes:g} MB" in shown
    assert "bytes" not in shown and "request body" not in shown
    # The photo before the refused upload stays in use.
    assert not page.inner_text("#image-info").startswith("noise.png")


def test_cnn_lenet_probabilities_share_one_format(page):
    open_lab(page)
    page.wait_for_function("() => document.querySelector('#lenet-total').dataset.total")
    page.click("#lenet-forward")
    page.wait_for_selector(".prob-list li .num")
    texts = page.locator(".prob-list li .num").all_inner_texts()
    assert len(texts) == 10
    assert all(re.fullmatch(r"[01]\.\d{3}", text) for text in texts), texts
    # Ten numbers each rounded to 0.0005 still sum to 1 within 0.005.
    assert math.fsum(float(text) for text in texts) == pytest.approx(1, abs=5e-3)


def test_cnn_batch_norm_empty_field_says_it_needs_a_number(page):
    open_lab(page)
    page.wait_for_selector("#bn-stats tbody tr")
    rows = page.locator("#bn-batch tbody tr")
    batch = [
        [float(cell.input_value()) for cell in row.locator("input").all()] for row in rows.all()
    ]
    means = [math.fsum(column) / len(column) for column in zip(*batch, strict=True)]
    field = rows.nth(0).locator("input").nth(0)
    kept = field.input_value()

    field.fill("")
    message = page.locator("#bn-batch-error")
    message.wait_for(state="visible")
    assert "needs a number" in message.inner_text()
    assert f"still use {kept}" in message.inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    stats = page.locator("#bn-stats tbody tr").nth(0).locator("td").all_inner_texts()
    assert [float(t.replace(MINUS, "-")) for t in stats] == pytest.approx(means, abs=1e-3)

    field.press("Tab")
    message.wait_for(state="hidden")
    assert field.input_value() == kept
    assert field.get_attribute("aria-invalid") == "false"
