"""Checks on the data files shipped in the tree (made by scripts/fetch_datasets.py)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = ROOT / "static" / "images"
DIGITS_DIR = IMAGES_DIR / "digits"
DATA_DIR = ROOT / "app" / "data"

# Class counts of optdigits.tes as listed in UCI's optdigits.names, of which sklearn's digits
# are a copy.
UCI_TEST_SET_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]

# Min and max of each iris feature, from the summary table in sklearn's iris description.
IRIS_MIN = [4.3, 2.0, 1.0, 0.1]
IRIS_MAX = [7.9, 4.4, 6.9, 2.5]


def licensed_files() -> list[str]:
    """Every image path named in the first column of a LICENSES.md table."""
    text = (IMAGES_DIR / "LICENSES.md").read_text()
    return re.findall(r"^\| `([^`]+\.png)` \|", text, flags=re.MULTILINE)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped digit images and labels."""
    with np.load(DATA_DIR / "digits.npz") as archive:
        return archive["images"], archive["labels"]


def load_iris() -> list[dict[str, str]]:
    """The shipped iris rows, keyed by column name."""
    with (DATA_DIR / "iris.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def digit_index() -> dict:
    """The parsed static/images/digits/index.json."""
    return json.loads((DIGITS_DIR / "index.json").read_text())


def test_digits_npz_holds_1797_images_of_8x8():
    images, labels = load_digits()

    assert images.shape == (1797, 8, 8)
    assert labels.shape == (1797,)
    assert images.dtype == np.uint8
    assert labels.dtype == np.uint8


def test_digits_pixels_stay_within_0_to_16():
    images, _ = load_digits()

    assert images.min() == 0
    assert images.max() == 16


def test_digits_class_counts_match_uci_test_set():
    _, labels = load_digits()

    counts = np.bincount(labels, minlength=10)

    assert counts.tolist() == UCI_TEST_SET_COUNTS
    assert counts.max() - counts.min() < 0.1 * counts.mean()


def test_iris_csv_has_150_rows_and_three_classes_of_50():
    rows = load_iris()

    species = [row["species"] for row in rows]
    labels = [int(row["label"]) for row in rows]

    assert len(rows) == 150
    assert {name: species.count(name) for name in set(species)} == {
        "setosa": 50,
        "versicolor": 50,
        "virginica": 50,
    }
    assert sorted(set(labels)) == [0, 1, 2]


def test_iris_feature_ranges_match_sklearn_summary():
    rows = load_iris()
    columns = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]

    features = np.array([[float(row[name]) for name in columns] for row in rows])

    assert features.shape == (150, 4)
    np.testing.assert_allclose(features.min(axis=0), IRIS_MIN)
    np.testing.assert_allclose(features.max(axis=0), IRIS_MAX)


def test_licensed_images_exist_and_open_with_pillow():
    files = licensed_files()

    assert len(files) >= 13
    for name in files:
        path = IMAGES_DIR / name
        assert path.is_file(), name
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            image.load()
            assert image.format == "PNG"


def test_licenses_list_every_shipped_image():
    shipped = {path.relative_to(IMAGES_DIR).as_posix() for path in IMAGES_DIR.rglob("*.png")}

    assert shipped == set(licensed_files())


def test_photos_are_downscaled_to_256_on_the_long_side():
    photos = [name for name in licensed_files() if not name.startswith("digits/")]

    sizes = []
    for name in photos:
        with Image.open(IMAGES_DIR / name) as image:
            sizes.append(image.size)

    assert len(photos) >= 3
    assert all(max(size) == 256 for size in sizes)
    assert any(width != height for width, height in sizes)


def test_digit_samples_cover_each_class_once_at_32x32():
    _, labels = load_digits()
    samples = digit_index()["digits"]

    assert sorted(sample["label"] for sample in samples) == list(range(10))
    for sample in samples:
        assert sample["file"] == f"digit_{sample['label']}_{sample['index']}.png"
        assert labels[sample["index"]] == sample["label"]
        with Image.open(DIGITS_DIR / sample["file"]) as image:
            assert image.size == (32, 32)
            assert image.mode == "L"


@pytest.mark.parametrize("position", range(10))
def test_digit_sample_matches_torch_bilinear_upscale(position):
    images, _ = load_digits()
    sample = digit_index()["digits"][position]

    with Image.open(DIGITS_DIR / sample["file"]) as image:
        shipped = np.asarray(image, dtype=np.float64) / 255
    original = torch.tensor(images[sample["index"]] / 16.0).reshape(1, 1, 8, 8)
    expected = torch.nn.functional.interpolate(
        original, size=(32, 32), mode="bilinear", align_corners=False
    )

    # The PNG holds 8-bit grey, so half a grey level is the most rounding can move a value.
    np.testing.assert_allclose(shipped, expected[0, 0].numpy(), rtol=0, atol=0.5 / 255 + 1e-9)


def test_shipped_data_stays_under_one_megabyte():
    files = [*IMAGES_DIR.rglob("*"), *DATA_DIR.rglob("*")]

    total = sum(path.stat().st_size for path in files if path.is_file())

    assert total < 1_000_000
