"""The CNN lab `/cnn` driven through Chromium.

Truths come from the course notes (chapter 5): the output size
⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1 (5.2.3 with dilation, rounded down), the Sobel kernel
S_x = [[1, 0, −1], [2, 0, −2], [1, 0, −1]] applied as a sliding dot product, the receptive field
1 + L(K − 1) of L stride-1 convolutions, LeNet-5's parameter count from its layer sizes, and
batch norm's per-feature mean and running-statistics update (PyTorch's convention). The page's
numbers are never compared with earlier output of the page itself.
"""

from __future__ import annotations

import base64
import io
import math
import struct
import zlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SAMPLE = ROOT / "static" / "images" / "chelsea.png"
SOBEL_X = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]


def course_output_size(size: int, kernel: int, padding: int, stride: int, dilation=1) -> int:
    """⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def open_lab(page) -> None:
    page.goto("/cnn")
    page.wait_for_selector("#output-size[data-height]")


def photo_shape(page, name: str = "chelsea") -> list[int]:
    answer = page.request.get(f"/api/images/{name}?mode=grey&size=128")
    assert answer.ok
    return answer.json()["shape"]


def shown_size(page) -> tuple[int, int]:
    size = page.locator("#output-size")
    return int(size.get_attribute("data-height")), int(size.get_attribute("data-width"))


def set_window(page, **values) -> None:
    """Type padding / stride / dilation and wait until the page shows the new answer."""
    before = page.locator("#size-formula").inner_text()
    for name, value in values.items():
        page.fill(f"#{name}-input", str(value))
    page.wait_for_function(
        """before => {
          const size = document.querySelector('#output-size');
          const formula = document.querySelector('#size-formula').innerText;
          return size.dataset.state && formula !== before;
        }""",
        arg=before,
    )


def test_cnn_output_size_of_sobel_matches_course_formula(page):
    open_lab(page)
    page.select_option("#kernel-select", "sobel_x")
    _, height, width = photo_shape(page)

    expected = (course_output_size(height, 3, 0, 1), course_output_size(width, 3, 0, 1))
    assert shown_size(page) == expected
    # The course's valid convolution: W − K + 1.
    assert expected == (height - 3 + 1, width - 3 + 1)
    assert f"{expected[0]} × {expected[1]}" in page.inner_text("#output-size")

    set_window(page, stride=2, padding=1)
    expected = (course_output_size(height, 3, 1, 2), course_output_size(width, 3, 1, 2))
    page.wait_for_function(
        "h => document.querySelector('#output-size').dataset.height === String(h)",
        arg=expected[0],
    )
    assert shown_size(page) == expected
    formula = page.inner_text("#size-formula")
    assert str(height) in formula and str(width) in formula


def test_cnn_unvisited_columns_match_the_windows_positions(page):
    open_lab(page)
    _, height, width = photo_shape(page)
    set_window(page, stride=3, padding=0)
    outputs = course_output_size(width, 3, 0, 3)
    read = {col * 3 + tap for col in range(outputs) for tap in range(3)}
    never = sorted(set(range(width)) - read)
    assert never, "this photo's width should not be tiled by stride 3"

    note = page.locator("#unvisited-note")
    expected = ",".join(str(c) for c in never)
    page.wait_for_function(
        "cols => document.querySelector('#unvisited-note').dataset.cols === cols", arg=expected
    )
    assert "Never visited" in note.inner_text()
    # The rows are tiled or not by the same rule.
    rows_read = {r * 3 + t for r in range(course_output_size(height, 3, 0, 3)) for t in range(3)}
    never_rows = sorted(set(range(height)) - rows_read)
    assert note.get_attribute("data-rows") == ",".join(str(r) for r in never_rows)


def test_cnn_dot_product_is_sobel_over_the_window(page):
    open_lab(page)
    page.select_option("#kernel-select", "sobel_x")
    canvas = page.locator("#conv-output")
    canvas.focus()
    for key in ["ArrowRight"] * 40 + ["ArrowDown"] * 30:
        page.keyboard.press(key)
    where = page.locator("#window-position")
    page.wait_for_function("() => document.querySelector('#window-position').dataset.col === '40'")
    row, col = int(where.get_attribute("data-row")), int(where.get_attribute("data-col"))
    assert (row, col) == (30, 40)

    image = page.request.get("/api/images/chelsea?mode=grey&size=128").json()["value"][0]
    expected = sum(image[row + i][col + j] * SOBEL_X[i][j] for i in range(3) for j in range(3))
    shown = float(page.locator(".dot-value").get_attribute("data-value"))
    assert shown == pytest.approx(expected, abs=1e-9)


def test_cnn_kernel_too_large_shows_the_api_message(page, page_errors):
    page_errors.expect(r"status of 422")
    open_lab(page)
    page.fill("#dilation-input", "60")
    error = page.locator("#conv-error")
    error.wait_for(state="visible")
    assert "too large" in error.inner_text()
    assert page.locator("#output-size").get_attribute("data-state") == "failed"


def test_cnn_stack_of_two_3x3_convs_has_a_5x5_receptive_field(page):
    open_lab(page)
    page.wait_for_selector("#stack-table-body tr")
    while page.locator(".remove-layer").count():
        page.locator(".remove-layer").first.click()
    page.select_option("#add-layer-op", "conv2d")
    page.click("#add-layer")
    page.click("#add-layer")
    page.wait_for_selector("#stack-table-body tr:nth-child(3)")

    course = 1 + 2 * (3 - 1)
    last_row = page.locator("#stack-table-body tr").last
    assert last_row.locator("td[data-rf]").get_attribute("data-rf") == str(course)

    last_map = page.locator("#stack-maps canvas.is-interactive")
    box = last_map.bounding_box()
    last_map.hover(position={"x": box["width"] * 0.4, "y": box["height"] * 0.6})
    readout = page.locator("#rf-readout")
    page.wait_for_function(
        "() => (document.querySelector('#rf-readout').dataset.inputRows || '') !== ''"
    )
    rows = [int(n) for n in readout.get_attribute("data-input-rows").split(",")]
    cols = [int(n) for n in readout.get_attribute("data-input-cols").split(",")]
    assert rows[1] - rows[0] + 1 == course
    assert cols[1] - cols[0] + 1 == course
    # The pixel under the pointer (give or take the canvas border) is the one described.
    _, height, width = photo_shape(page)
    out_height, out_width = height - 2 * (3 - 1), width - 2 * (3 - 1)
    row, col = (int(n) for n in readout.get_attribute("data-position").split(","))
    assert abs(row - int(0.6 * out_height)) <= 1 and abs(col - int(0.4 * out_width)) <= 1
    # Two valid 3×3 convolutions: output (r, c) reads input rows r..r+4, columns c..c+4.
    assert (rows[0], cols[0]) == (row, col)
    assert f"{course} × {course}" in readout.inner_text()

    page.mouse.move(0, 0)  # the keyboard alone moves the cursor from here
    last_map.focus()
    row, col = (int(n) for n in readout.get_attribute("data-position").split(","))
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "col => document.querySelector('#rf-readout').dataset.position.endsWith(',' + col)",
        arg=col + 1,
    )
    cols = [int(n) for n in readout.get_attribute("data-input-cols").split(",")]
    assert cols == [col + 1, col + 1 + course - 1]


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a picture of width × height (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


REFUSED_UPLOADS = {
    # a real PNG cut short: its header reads, its pixels do not
    "corrupt": ("broken.png", SAMPLE.read_bytes()[:3000], 400, "damaged"),
    "not_an_image": ("notes.png", b"not a picture", 415, "not a PNG or JPEG"),
    "too_large": ("huge.png", png_claiming(8000, 8000), 413, None),
}


@pytest.mark.parametrize("case", sorted(REFUSED_UPLOADS))
def test_cnn_refused_upload_says_why_in_a_students_words(page, page_errors, case):
    name, body, status, words = REFUSED_UPLOADS[case]
    page_errors.expect(rf"status of {status}")
    open_lab(page)
    answer = page.request.post(
        "/api/images?mode=grey&size=128", data=body, headers={"Content-Type": "image/png"}
    )
    assert answer.status == status
    message = answer.json()["error"]["message"]

    page.set_input_files(
        "#image-upload", files=[{"name": name, "mimeType": "image/png", "buffer": body}]
    )
    error = page.locator("#image-error")
    error.wait_for(state="visible")
    # The API's words for an API client ("send the file itself as the request body") are
    # not shown; a student reads what went wrong. Too many pixels keeps the API's sentence.
    if words is None:
        assert message in error.inner_text()
    else:
        assert words in error.inner_text() and message not in error.inner_text()
    # The photo before the refused upload stays in use.
    assert page.inner_text("#image-info").startswith("chelsea")


def portrait_png() -> bytes:
    """A tall crop of the sample photo: a picture higher than wide."""
    from PIL import Image

    with Image.open(SAMPLE) as photo:
        crop = photo.crop((0, 0, 100, 170))
        buffer = io.BytesIO()
        crop.save(buffer, format="PNG")
    return buffer.getvalue()


DROP_FILE = """([name, text]) => {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  const zone = document.querySelector("#drop-zone");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true,
    cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true,
    cancelable: true }));
}"""


def test_cnn_dropped_portrait_photo_sets_the_output_size(page):
    open_lab(page)
    picture = portrait_png()
    answer = page.request.post(
        "/api/images?mode=grey&size=128", data=picture, headers={"Content-Type": "image/png"}
    )
    _, height, width = answer.json()["shape"]
    assert height > width

    page.evaluate(DROP_FILE, ["tall.png", base64.b64encode(picture).decode()])
    page.wait_for_function(
        "() => document.querySelector('#image-info').textContent.startsWith('tall.png')"
    )
    expected = (course_output_size(height, 3, 0, 1), course_output_size(width, 3, 0, 1))
    page.wait_for_function(
        "w => document.querySelector('#output-size').dataset.width === String(w)",
        arg=expected[1],
    )
    assert shown_size(page) == expected
    label = page.locator("#conv-output").get_attribute("aria-label")
    assert f"{expected[0]}×{expected[1]}" in label


def lenet5_parameters() -> int:
    """Weights and biases of LeNet-5 (figure 5.13) from its layer sizes alone."""
    conv = [(1, 6, 5), (6, 16, 5), (16, 120, 5)]
    linear = [(120, 84), (84, 10)]
    return sum(c_out * (c_in * k * k) + c_out for c_in, c_out, k in conv) + sum(
        n_out * n_in + n_out for n_in, n_out in linear
    )


def test_cnn_lenet5_counts_61706_parameters_and_shows_both_passes(page):
    open_lab(page)
    total = page.locator("#lenet-total")
    page.wait_for_function("() => document.querySelector('#lenet-total').dataset.total")
    assert lenet5_parameters() == 61_706
    assert total.inner_text() == "61,706"
    assert "not trained" in page.inner_text(".untrained-note")

    page.click("#lenet-forward")
    page.wait_for_selector("#lenet-maps .map-group")
    probabilities = [
        float(text.replace("\u2212", "-"))
        for text in page.locator(".prob-list li .num").all_inner_texts()
    ]
    assert len(probabilities) == 10
    assert math.fsum(probabilities) == pytest.approx(1, abs=1e-2)  # 3 digits each

    page.click("#lenet-backward")
    page.wait_for_selector("#lenet-grads [data-key='input-grad'] canvas.map-canvas")
    label = page.locator("#lenet-grads [data-key='input-grad'] canvas.map-canvas").get_attribute(
        "aria-label"
    )
    assert "32×32" in label and "min" in label and "max" in label
    assert page.locator("#lenet-grads [data-key='kernels-grad'] canvas.map-canvas").count() == 6


def test_cnn_batch_norm_running_mean_moves_by_momentum(page):
    open_lab(page)
    page.wait_for_selector("#bn-stats tbody tr")
    batch = [
        [float(cell.input_value()) for cell in row.locator("input").all()]
        for row in page.locator("#bn-batch tbody tr").all()
    ]
    means = [math.fsum(column) / len(column) for column in zip(*batch, strict=True)]

    stats = page.locator("#bn-stats tbody tr")
    shown = [float(t.replace("\u2212", "-")) for t in stats.nth(0).locator("td").all_inner_texts()]
    assert shown == pytest.approx(means, abs=1e-3)

    page.click("#bn-step")
    page.wait_for_function(
        "() => document.querySelector('#bn-stats tbody tr:nth-child(3) th')"
        ".textContent.includes('1 step')"
    )
    running = [
        float(t.replace("\u2212", "-")) for t in stats.nth(2).locator("td").all_inner_texts()
    ]
    assert running == pytest.approx([0.1 * m for m in means], abs=1e-3)


@pytest.mark.parametrize(
    ("field", "text", "allowed"),
    [("padding", "-1", "0 to 64"), ("stride", "2.5", "1 to 16"), ("dilation", "100", "1 to 64")],
)
def test_cnn_invalid_window_value_says_what_is_allowed(page, field, text, allowed):
    open_lab(page)
    before = shown_size(page)
    sent = []
    page.on("request", lambda request: "/api/evaluate" in request.url and sent.append(request))

    page.fill(f"#{field}-input", text)
    message = page.locator("#window-error")
    message.wait_for(state="visible")
    assert allowed in message.inner_text()
    assert message.get_attribute("role") == "alert"
    assert page.get_attribute(f"#{field}-input", "aria-invalid") == "true"
    page.wait_for_timeout(500)
    assert sent == []  # nothing asked of the API for a value the field does not allow
    assert shown_size(page) == before

    page.fill(f"#{field}-input", "2")
    message.wait_for(state="hidden")
    page.wait_for_function("() => document.querySelector('#output-size').dataset.state")
    assert sent


def test_cnn_overflowing_kernel_shows_the_api_warnings(page):
    open_lab(page)
    assert page.locator("#conv-warning").is_hidden()
    sent = []
    page.on("request", lambda r: "/api/evaluate" in r.url and sent.append(r.post_data))
    cells = page.locator("#kernel-grid input")
    for i in range(cells.count()):
        cells.nth(i).fill("1e308")

    # Each cell sends a request; an earlier answer may arrive after the last one is sent, so
    # the page's warning is compared with the answer to the last body it sent.
    warning = page.locator("#conv-warning")
    warning.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    last = page.request.post(
        "/api/evaluate", data=sent[-1], headers={"content-type": "application/json"}
    )
    answer = last.json()
    assert answer["first_nonfinite"] is not None  # 9 · 1e308 overflows float64
    assert answer["warnings"]
    for item in answer["warnings"]:
        assert item["message"] in warning.inner_text()
    assert "activations are not finite" in warning.inner_text()
    # Infinite activations take the end colours of the scale; they are not painted black.
    black = page.eval_on_selector(
        "#conv-output",
        """canvas => {
          const { width, height } = canvas;
          const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
          let black = 0;
          for (let i = 0; i < data.length; i += 4) {
            black += data[i] + data[i + 1] + data[i + 2] === 0;
          }
          return black / (data.length / 4);
        }""",
    )
    assert black < 0.5


def test_cnn_kernel_cells_and_preset_names_are_not_cut(page):
    open_lab(page)
    page.select_option("#kernel-select", "gaussian")
    page.wait_for_function("() => document.querySelector('#kernel-grid input').title === '0.0625'")
    for size in ("3", "5"):
        page.select_option("#kernel-size", size)
        cells = page.locator("#kernel-grid input")
        cells.first.wait_for()
        widths = cells.evaluate_all("els => els.map(e => [e.scrollWidth, e.clientWidth])")
        assert all(scroll <= client for scroll, client in widths)
    # Each select is wider than the longest of its option names.
    for select in ("#kernel-select", "#image-select", "#add-layer-op"):
        room, text = page.eval_on_selector(
            select,
            """select => {
              const font = getComputedStyle(select).font;
              const context = document.createElement('canvas').getContext('2d');
              context.font = font;
              const widest = Math.max(
                ...[...select.options].map(o => context.measureText(o.text).width));
              return [select.clientWidth, widest];
            }""",
        )
        assert room > text + 20, select  # room for the arrow too


def test_cnn_full_stack_says_why_no_layer_can_be_added(page):
    open_lab(page)
    page.wait_for_selector("#stack-table-body tr")
    note = page.locator("#add-layer-limit")
    assert note.is_hidden()
    while page.is_enabled("#add-layer"):
        page.click("#add-layer")
    assert page.locator(".layer-item").count() == 8
    assert note.is_visible() and "at most 8 layers" in note.inner_text()
    page.locator(".remove-layer").first.click()
    assert page.is_enabled("#add-layer") and note.is_hidden()


def test_cnn_screenshot(page):
    open_lab(page)
    page.wait_for_selector("#stack-maps canvas")
    page.wait_for_function("() => document.querySelector('#lenet-total').dataset.total")
    page.click("#lenet-forward")
    page.wait_for_selector("#lenet-maps .map-group")
    page.locator("#conv-output").hover(position={"x": 120, "y": 90})
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "cnn.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_cnn_last_map_of_a_full_stack_is_big_enough_to_hover(page):
    open_lab(page)
    page.wait_for_selector("#stack-table-body tr")
    # Four more 2×2 max-pools halve the map four times: drawn at the input's cell size it
    # would be a few pixels wide.
    page.select_option("#add-layer-op", "max_pool2d")
    while page.is_enabled("#add-layer"):
        page.click("#add-layer")
    page.wait_for_selector("#stack-table-body tr:nth-child(9)")
    # The row reads: name, layer, output shape C×H×W, parameters, ...
    shape = page.locator("#stack-table-body tr").last.inner_text().split("\t")[2]
    height, width = (int(n) for n in shape.split("×")[-2:])
    assert max(height, width) <= 8

    enlarged = page.locator("#stack-maps figure.stack-figure").last.locator("[data-enlarged]")
    enlarged.wait_for()
    assert int(enlarged.get_attribute("data-enlarged")) >= 2
    last_map = page.locator("#stack-maps canvas.is-interactive")
    box = last_map.bounding_box()
    assert max(box["width"], box["height"]) >= 96

    # Hovering the middle of it describes the middle output position.
    last_map.hover(position={"x": box["width"] / 2, "y": box["height"] / 2})
    page.wait_for_function(
        "() => (document.querySelector('#rf-readout').dataset.position || '') !== ''"
    )
    row, col = (int(n) for n in page.get_attribute("#rf-readout", "data-position").split(","))
    assert (row, col) == (height // 2, width // 2)
