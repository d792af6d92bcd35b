"""Regenerate the small real data gradplay ships, from pinned scikit-image and scikit-learn wheels.

Run `.venv/bin/python scripts/fetch_datasets.py` from the repository. It downloads the two
wheels with pip (no install), reads the data files straight out of them, checks each against
the SHA-256 recorded below, and writes:

- static/images/<photo>.png: four photographs, downscaled to 256 px on the long side;
- static/images/digits/digit_<label>_<index>.png and index.json: one 32x32 digit per class;
- static/images/LICENSES.md: each image, its source, its licence and what was done to it;
- app/data/digits.npz, app/data/iris.csv and app/data/README.md.

Idempotent: a file whose bytes would not change is left alone, so a second run writes nothing.
Needs numpy and Pillow (the project's virtualenv has both) and access to PyPI.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SCIKIT_IMAGE_VERSION = "0.26.0"
SCIKIT_LEARN_VERSION = "1.9.1"

PHOTO_LONG_SIDE = 256
DIGIT_SIDE = 32
DIGIT_MAX_PIXEL = 16

ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = ROOT / "static" / "images"
DIGITS_DIR = IMAGES_DIR / "digits"
DATA_DIR = ROOT / "app" / "data"

DIGITS_MEMBER = "sklearn/datasets/data/digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
IRIS_MEMBER = "sklearn/datasets/data/iris.csv"
IRIS_SHA256 = "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"
IRIS_COLUMNS = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")

# A fixed date for the members of digits.npz: numpy's savez stamps the current time, which
# would make every run produce different bytes and break the "writes nothing twice" promise.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

log = logging.getLogger("fetch_datasets")


@dataclass(frozen=True)
class Photo:
    """One photograph taken from the scikit-image wheel, with its licence as skimage states it."""

    name: str
    member: str
    sha256: str
    title: str
    licence: str
    credit: str


# Licences are quoted from the docstrings of skimage/data/_fetchers.py in the pinned wheel; its
# data/README.txt says nothing about licences. Only public-domain or CC0 images are taken.
PHOTOS = (
    Photo(
        name="astronaut.png",
        member="skimage/data/astronaut.png",
        sha256="88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        title="Astronaut Eileen Collins",
        licence="Public domain (NASA): 'No known copyright restrictions, released into the "
        "public domain.'",
        credit="NASA, via the NASA Great Images database",
    ),
    Photo(
        name="chelsea.png",
        member="skimage/data/chelsea.png",
        sha256="596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
        title="Chelsea the cat",
        licence="CC0: 'No copyright restrictions. CC0 by the photographer.'",
        credit="Stefan van der Walt",
    ),
    Photo(
        name="coffee.png",
        member="skimage/data/coffee.png",
        sha256="cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
        title="Coffee cup (courtesy of Pikolo Espresso Bar)",
        licence="CC0: 'No copyright restrictions. CC0 by the photographer.'",
        credit="Rachel Michetti",
    ),
    Photo(
        name="camera.png",
        member="skimage/data/camera.png",
        sha256="b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
        title="Camera (grey-level photograph of a person with a camera)",
        licence="CC0: 'No copyright restrictions. CC0 by the photographer.'",
        credit="Lav Varshney",
    ),
)


def download_wheel(package: str, version: str, into: Path) -> Path:
    """Download one pinned wheel with pip, without installing it, and return its path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        f"{package}=={version}",
        "--dest",
        str(into),
    ]
    log.info("downloading %s %s", package, version)
    subprocess.run(command, check=True)

    # pip picks the wheel for this interpreter and platform; the data files inside are the same
    # in all of them, and the SHA-256 checks below would catch a wheel where they are not.
    stem = package.replace("-", "_")
    wheels = sorted(into.glob(f"{stem}-{version}-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip reported success but no {stem}-{version} wheel is in {into}")
    return wheels[0]


def read_member(wheel: zipfile.ZipFile, member: str, sha256: str) -> bytes:
    """Read one file out of a wheel and refuse it unless its SHA-256 is the pinned one."""
    data = wheel.read(member)

    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise RuntimeError(f"{member}: SHA-256 {found} differs from the pinned {sha256}")
    return data


def write_if_changed(path: Path, data: bytes) -> None:
    """Write bytes to a file unless it already holds exactly those bytes."""
    if path.exists() and path.read_bytes() == data:
        log.info("unchanged %s", path.relative_to(ROOT))
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    log.info("wrote %s (%d bytes)", path.relative_to(ROOT), len(data))


def png_bytes(image: Image.Image) -> bytes:
    """Encode an image as PNG with no metadata, so equal pixels give equal bytes."""
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def downscaled_size(width: int, height: int) -> tuple[int, int]:
    """Size with the long side at PHOTO_LONG_SIDE and the aspect ratio kept."""
    scale = PHOTO_LONG_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def downscale_photo(source: bytes) -> Image.Image:
    """Open a photograph and shrink it so its long side is PHOTO_LONG_SIDE pixels."""
    with Image.open(io.BytesIO(source)) as opened:
        opened.load()
        original = opened.copy()

    # Lanczos keeps edges crisp when shrinking by 2x or more; the sources are sRGB (the two
    # with an ICC profile embed sRGB IEC61966-2.1), so dropping the profile changes no colour.
    return original.resize(downscaled_size(*original.size), Image.Resampling.LANCZOS)


def ship_photos(wheel: zipfile.ZipFile) -> list[dict[str, object]]:
    """Write each downscaled photograph and return the facts LICENSES.md reports."""
    shipped = []
    for photo in PHOTOS:
        source = read_member(wheel, photo.member, photo.sha256)
        with Image.open(io.BytesIO(source)) as original:
            original_size = original.size

        small = downscale_photo(source)
        write_if_changed(IMAGES_DIR / photo.name, png_bytes(small))
        shipped.append({"photo": photo, "original": original_size, "size": small.size})
    return shipped


def parse_digits(source: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Turn sklearn's digits.csv.gz (64 pixels then the label, per row) into images and labels."""
    table = np.loadtxt(io.StringIO(gzip.decompress(source).decode("ascii")), delimiter=",")

    if table.shape != (1797, 65) or not np.array_equal(table, np.round(table)):
        raise RuntimeError(f"digits.csv.gz has an unexpected shape or values: {table.shape}")
    if table[:, :64].min() < 0 or table[:, :64].max() > DIGIT_MAX_PIXEL:
        raise RuntimeError("digits.csv.gz has pixels outside 0..16")

    images = table[:, :64].astype(np.uint8).reshape(-1, 8, 8)
    labels = table[:, 64].astype(np.uint8)
    return images, labels


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Build a compressed .npz in memory with fixed member dates, so its bytes are repeatable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def upscale_digit(image: np.ndarray) -> Image.Image:
    """Bilinear 8x8 -> 32x32 of one digit, values in [0, 1] stored as 0..255 grey."""
    values = image.astype(np.float32) / DIGIT_MAX_PIXEL
    upscaled = Image.fromarray(values).resize((DIGIT_SIDE, DIGIT_SIDE), Image.Resampling.BILINEAR)

    # Bilinear weights are non-negative and sum to one, so the clip only guards rounding noise.
    scaled = np.clip(np.asarray(upscaled, dtype=np.float64), 0.0, 1.0)
    return Image.fromarray(np.round(scaled * 255).astype(np.uint8))


def ship_digit_samples(images: np.ndarray, labels: np.ndarray) -> list[dict[str, object]]:
    """Write the first digit of each class at 32x32 plus index.json, and drop stale samples."""
    samples = []
    for label in range(10):
        index = int(np.flatnonzero(labels == label)[0])
        name = f"digit_{label}_{index}.png"
        write_if_changed(DIGITS_DIR / name, png_bytes(upscale_digit(images[index])))
        samples.append({"file": name, "label": label, "index": index})

    # A change of pinned version could pick other rows; leftovers would then be unlicensed noise.
    keep = {sample["file"] for sample in samples}
    for stale in DIGITS_DIR.glob("digit_*.png"):
        if stale.name not in keep:
            stale.unlink()
            log.info("removed stale %s", stale.relative_to(ROOT))

    index = {
        "source": "app/data/digits.npz",
        "size": [DIGIT_SIDE, DIGIT_SIDE],
        "resampling": "bilinear from the 8x8 original, half-pixel centres, edges clamped",
        "pixel_scale": "value = pixel / 255, in [0, 1]; 1 is full ink (16 in the original)",
        "digits": samples,
    }
    write_if_changed(DIGITS_DIR / "index.json", (json.dumps(index, indent=2) + "\n").encode())
    return samples


def iris_csv(source: bytes) -> bytes:
    """Rewrite sklearn's iris.csv with a header row and the species name beside each label."""
    rows = list(csv.reader(io.StringIO(source.decode("ascii"))))
    count, _features, *species = rows[0]

    body = rows[1:]
    if int(count) != len(body) or any(len(row) != 5 for row in body):
        raise RuntimeError("iris.csv does not have the 150 rows of 4 features and a label")

    # Keep the measurements as the text sklearn ships (one decimal), so no float is reformatted.
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*IRIS_COLUMNS, "label", "species"])
    for *features, label in body:
        writer.writerow([*features, label, species[int(label)]])
    return out.getvalue().encode("ascii")


def licenses_markdown(photos: list[dict[str, object]], samples: list[dict[str, object]]) -> str:
    """The text of static/images/LICENSES.md, one table row per shipped image."""
    lines = [
        "# Images: sources and licences",
        "",
        "Generated by `scripts/fetch_datasets.py`; rerun it rather than editing this file.",
        "",
        f"Photographs: read out of the scikit-image {SCIKIT_IMAGE_VERSION} wheel from PyPI;",
        "licences as stated in the docstrings of `skimage/data/_fetchers.py` in that wheel",
        "(the wheel's `skimage/data/README.txt` names none). Each was resized with Pillow",
        f"(Lanczos) to {PHOTO_LONG_SIDE} px on the long side, aspect ratio kept, and saved as",
        "PNG without metadata (the embedded sRGB colour profiles were dropped).",
        "",
        "| file | source | licence | credit | what was done |",
        "| --- | --- | --- | --- | --- |",
    ]
    for shipped in photos:
        photo = shipped["photo"]
        (width, height), (new_width, new_height) = shipped["original"], shipped["size"]
        change = f"{width}x{height} -> {new_width}x{new_height}"
        lines.append(
            f"| `{photo.name}` | `{photo.member}`, {photo.title} | {photo.licence} "
            f"| {photo.credit} | {change} |"
        )

    lines += [
        "",
        "Digits: one image per class from the handwritten digits in `app/data/digits.npz`",
        "(see `app/data/README.md` for their source and licence, CC BY 4.0, E. Alpaydin and",
        "C. Kaynak). Each 8x8 original (0..16) was divided by 16, upscaled bilinearly to",
        f"{DIGIT_SIDE}x{DIGIT_SIDE} with Pillow and stored as 8-bit grey (pixel / 255 = value).",
        "",
        "| file | source | licence | credit | what was done |",
        "| --- | --- | --- | --- | --- |",
    ]
    for sample in samples:
        lines.append(
            f"| `digits/{sample['file']}` | `{DIGITS_MEMBER}` row {sample['index']} "
            f"(label {sample['label']}) | CC BY 4.0 | E. Alpaydin, C. Kaynak "
            f"| 8x8 -> {DIGIT_SIDE}x{DIGIT_SIDE} bilinear |"
        )
    return "\n".join(lines) + "\n"


def data_readme() -> str:
    """The text of app/data/README.md."""
    return f"""# Data sets shipped with gradplay

Generated by `scripts/fetch_datasets.py`; rerun it rather than editing the files here.
Both come from the scikit-learn {SCIKIT_LEARN_VERSION} wheel on PyPI (read out of the wheel,
not installed). scikit-learn itself is BSD-3-Clause; the data keep their original licences.

## digits.npz

Handwritten digits, 1,797 images of 8x8 pixels, 10 classes.

- `images`: uint8, shape (1797, 8, 8), values 0..16 exactly as given (the count of ink pixels
  in each 4x4 block of a 32x32 bitmap; 16 is full ink, 0 is background).
- `labels`: uint8, shape (1797,), the digit 0..9 of each image.

Load with `numpy.load("app/data/digits.npz")`.

Source: `{DIGITS_MEMBER}`
(SHA-256 `{DIGITS_SHA256}`),
which scikit-learn's description calls a copy of the test set (optdigits.tes) of the UCI
"Optical Recognition of Handwritten Digits" data set, E. Alpaydin and C. Kaynak, Bogazici
University, 1998. The class counts (178, 182, 177, 183, 181, 182, 181, 179, 174, 180) are those
UCI documents for that test set.

Licence: Creative Commons Attribution 4.0 International (CC BY 4.0), the licence the UCI
Machine Learning Repository gives this data set (https://archive.ics.uci.edu/dataset/80).
scikit-learn's own description in the wheel names no licence. Attribution: E. Alpaydin and
C. Kaynak (1998), Optical Recognition of Handwritten Digits, UCI Machine Learning Repository.
Changes: the 64 pixel columns of each row were reshaped to 8x8 and stored with the labels as
uint8; no value was changed.

## iris.csv

Fisher's iris measurements: 150 flowers, 4 features in centimetres, 3 species of 50.

Columns: {", ".join(IRIS_COLUMNS)},
label (0, 1, 2), species (setosa, versicolor, virginica).

Source: `{IRIS_MEMBER}`
(SHA-256 `{IRIS_SHA256}`).
scikit-learn's description says its copy follows Fisher's 1936 paper (as R's does), which
differs from the UCI copy in two rows.

Licence: CC BY 4.0, the licence the UCI Machine Learning Repository gives its Iris data set
(https://archive.ics.uci.edu/dataset/53); scikit-learn's description names no licence.
Attribution: R. A. Fisher (1936), Iris, UCI Machine Learning Repository; scikit-learn.
Changes: sklearn's first line (counts and class names) was replaced by a header row and a
species column was added beside the numeric label; the measurements are unchanged.
"""


def regenerate(wheels_dir: Path) -> None:
    """Download both wheels into wheels_dir and rewrite every shipped data file from them."""
    skimage_wheel = download_wheel("scikit-image", SCIKIT_IMAGE_VERSION, wheels_dir)
    sklearn_wheel = download_wheel("scikit-learn", SCIKIT_LEARN_VERSION, wheels_dir)

    with zipfile.ZipFile(skimage_wheel) as wheel:
        photos = ship_photos(wheel)

    with zipfile.ZipFile(sklearn_wheel) as wheel:
        images, labels = parse_digits(read_member(wheel, DIGITS_MEMBER, DIGITS_SHA256))
        iris = iris_csv(read_member(wheel, IRIS_MEMBER, IRIS_SHA256))

    write_if_changed(DATA_DIR / "digits.npz", npz_bytes({"images": images, "labels": labels}))
    write_if_changed(DATA_DIR / "iris.csv", iris)
    write_if_changed(DATA_DIR / "README.md", data_readme().encode())

    samples = ship_digit_samples(images, labels)
    write_if_changed(IMAGES_DIR / "LICENSES.md", licenses_markdown(photos, samples).encode())


def shipped_bytes() -> int:
    """Total size of every file this script owns in the tree."""
    files = [*IMAGES_DIR.rglob("*"), *DATA_DIR.rglob("*")]
    return sum(path.stat().st_size for path in files if path.is_file())


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, regenerate the data, and report the total size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wheels",
        type=Path,
        help="keep the downloaded wheels in this folder (default: a temporary one)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    if args.wheels:
        args.wheels.mkdir(parents=True, exist_ok=True)
        regenerate(args.wheels)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            regenerate(Path(scratch))

    log.info("shipped data now takes %d bytes", shipped_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
