"""Photos as tensors: the shipped samples and uploads, decoded server-side with Pillow."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ApiError

IMAGES = Path(__file__).resolve().parent.parent / "static" / "images"

# name → (file, credit, licence); the full notes are in static/images/LICENSES.md.
SAMPLES = {
    "chelsea": ("chelsea.png", "Stefan van der Walt", "CC0"),
    "astronaut": ("astronaut.png", "NASA", "public domain"),
    "coffee": ("coffee.png", "Rachel Michetti", "CC0"),
    "camera": ("camera.png", "Lav Varshney", "CC0"),
}

# Refuse decompression bombs before decoding: a small file may claim a huge picture.
MAX_PIXELS = 40_000_000
MAX_SIDE = 512
FORMATS = ("PNG", "JPEG")


def decode(data: bytes, mode: str = "grey", size: int = 128) -> dict:
    """An uploaded PNG or JPEG as a C×H×W tensor in [0, 1], upright, longest side `size`."""
    if mode not in ("grey", "rgb"):
        raise ApiError(422, "bad_mode", f"mode must be 'grey' or 'rgb', not {mode!r}")
    if not 8 <= size <= MAX_SIDE:
        raise ApiError(422, "bad_size", f"size must be between 8 and {MAX_SIDE} pixels")

    image = ImageOps.exif_transpose(_open(data))  # phones store rotation in EXIF, not pixels
    original = image.size  # as the photo is seen, upright
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit grey: converting straight to 8 bits would clip everything above 255.
        top = 65535 if image.mode.startswith("I;16") else max(image.getextrema()[1], 1)
        image = image.convert("I").point(lambda v: v * (255 / top)).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = _on_white(image)
    image = image.convert("L" if mode == "grey" else "RGB")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)

    pixels = np.asarray(image, dtype=np.float64) / 255.0
    tensor = pixels[None] if mode == "grey" else pixels.transpose(2, 0, 1)
    return {
        "shape": list(tensor.shape),
        "value": np.round(tensor, 4).tolist(),
        "original_size": list(original),
    }


def _on_white(image: Image.Image) -> Image.Image:
    """A picture with transparency laid on white, as a page shows it (not on black)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _open(data: bytes) -> Image.Image:
    if not data:
        raise ApiError(400, "empty_image", "the upload is empty; choose a PNG or JPEG file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise ApiError(
                    415,
                    "unsupported_image",
                    f"{image.format or 'this'} images are not supported; use PNG or JPEG",
                )
            if image.width * image.height > MAX_PIXELS:
                raise ApiError(
                    413,
                    "image_too_large",
                    f"the image has {image.width}×{image.height} pixels; the limit is "
                    f"{MAX_PIXELS:,} pixels",
                )
            image.load()
    except ApiError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ApiError(
            413, "image_too_large", f"the image has too many pixels; the limit is {MAX_PIXELS:,}"
        ) from error
    except UnidentifiedImageError as error:
        raise ApiError(
            415,
            "unsupported_image",
            "the file is not a PNG or JPEG image (send the file itself as the request body, "
            "not as a form)",
        ) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ApiError(
            400, "corrupt_image", f"the image file is damaged and cannot be decoded ({error})"
        ) from error
    return image


def sample(name: str, mode: str = "grey", size: int = 128) -> dict:
    """One of the shipped photos, decoded the same way as an upload."""
    if name not in SAMPLES:
        raise ApiError(
            404, "unknown_image", f"there is no sample {name!r}; samples: {', '.join(SAMPLES)}"
        )
    return {"name": name, **decode((IMAGES / SAMPLES[name][0]).read_bytes(), mode, size)}
