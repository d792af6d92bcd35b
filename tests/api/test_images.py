"""Photos as tensors: samples, uploads, and every way an upload can be bad."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image


def png_bytes(width: int, height: int, mode: str = "RGB", **save) -> bytes:
    buffer = io.BytesIO()
    color = {"L": 128, "1": 1}.get(mode, (200, 30, 30))
    Image.new(mode, (width, height), color=color).save(
        buffer, format=save.pop("format", "PNG"), **save
    )
    return buffer.getvalue()


def noisy_png() -> bytes:
    """A PNG whose pixel data is long, so cutting the file cuts the pixels."""
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_lists_the_samples_with_licences(client):
    images = client.get("/api/images").json()["images"]
    assert len(images) >= 3
    for image in images:
        assert image["licence"] and client.get(image["url"]).status_code == 200


def test_sample_image_is_a_grey_tensor_in_unit_range(client):
    body = client.get("/api/images/chelsea", params={"size": 64}).json()
    value = np.array(body["value"])
    assert body["shape"] == list(value.shape) and value.shape[0] == 1
    assert max(value.shape[1:]) == 64 and value.shape[1] != value.shape[2]  # not square
    assert value.min() >= 0 and value.max() <= 1


def test_upload_rgb_keeps_channels_and_aspect(client):
    body = client.post(
        "/api/images", params={"mode": "rgb", "size": 32}, content=png_bytes(80, 40)
    ).json()
    assert body["shape"] == [3, 16, 32]
    red = np.array(body["value"])[0]
    assert np.allclose(red, 200 / 255, atol=1e-3)


def test_upload_follows_exif_orientation(client):
    image = Image.new("L", (40, 20), color=10)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    body = client.post("/api/images", params={"size": 40}, content=buffer.getvalue()).json()
    assert body["shape"] == [1, 40, 20]  # upright: taller than wide
    assert body["original_size"] == [20, 40]  # width × height as the photo is seen


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparent_pixels_show_as_white_not_black(client, mode):
    image = Image.new(mode, (8, 8), color=(0,) * len(mode))  # black, fully transparent
    image.putpixel((0, 0), (0, 255) if mode == "LA" else (0, 0, 0, 255))  # one opaque black
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    body = client.post("/api/images", params={"size": 8}, content=buffer.getvalue()).json()

    grey = np.array(body["value"])[0]
    assert grey[0, 0] == 0
    assert np.allclose(grey.ravel()[1:], 1.0)


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 400, "empty_image"),
        (b"this is not an image at all", 415, "unsupported_image"),
        (noisy_png()[:2_000], 400, "corrupt_image"),
        (png_bytes(10, 10, format="GIF"), 415, "unsupported_image"),
    ],
)
def test_bad_upload_is_a_clear_4xx(client, content, status, code):
    response = client.post("/api/images", content=content)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_huge_image_is_refused_before_decoding(client):
    # A tiny file that claims 10,000 × 10,000 pixels: refused from its header alone.
    content = png_bytes(10_000, 10_000, mode="1", optimize=True)
    assert len(content) < 2_000_000
    response = client.post("/api/images", content=content)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "image_too_large"


def test_unknown_sample_is_404(client):
    assert client.get("/api/images/nope").json()["error"]["code"] == "unknown_image"


def test_sixteen_bit_grey_keeps_its_range(client):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, format="PNG")
    body = client.post("/api/images", params={"size": 64}, content=buffer.getvalue()).json()
    row = np.array(body["value"])[0, 0]
    # A ramp from black to white stays a ramp: half the pixels are darker than mid-grey.
    np.testing.assert_allclose(row, np.linspace(0, 1, 64), atol=0.01)
