"""Small 2-D data sets made from a seed, so every run of a lesson sees the same points.

Each maker returns X of shape (n, 2) and labels y of shape (n,) holding 0.0 or 1.0 (class
labels are whole numbers stored as float64, as everywhere in the engine). `line` is the 1-D
regression set of the loss-surface demo: X of shape (n, 1) and real-valued targets.
"""

from __future__ import annotations

import numpy as np

from engine.errors import EngineError, LimitError

MAX_SAMPLES = 5_000


def two_moons(samples: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaved half circles: the upper one is class 0, the lower class 1."""
    rng = np.random.default_rng(seed)
    upper, lower = _halves(samples)
    t_upper = rng.uniform(0.0, np.pi, upper)
    t_lower = rng.uniform(0.0, np.pi, lower)
    points = np.concatenate(
        [
            np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
            np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1),
        ]
    )
    return _finish(points, upper, lower, noise, rng)


def circles(samples: int = 200, noise: float = 0.1, seed: int = 0, factor: float = 0.5):
    """A ring of class 0 around a smaller ring of class 1 (radius `factor`)."""
    rng = np.random.default_rng(seed)
    outer, inner = _halves(samples)
    t_outer = rng.uniform(0.0, 2 * np.pi, outer)
    t_inner = rng.uniform(0.0, 2 * np.pi, inner)
    points = np.concatenate(
        [
            np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
            factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1),
        ]
    )
    return _finish(points, outer, inner, noise, rng)


def spirals(samples: int = 200, noise: float = 0.1, seed: int = 0, turns: float = 1.5):
    """Two spiral arms starting at the centre, half a turn apart."""
    rng = np.random.default_rng(seed)
    first, second = _halves(samples)
    arms = []
    for count, offset in ((first, 0.0), (second, np.pi)):
        # sqrt spreads the points evenly along the arm rather than crowding the centre
        radius = np.sqrt(rng.uniform(0.02, 1.0, count))
        angle = radius * turns * 2 * np.pi + offset
        arms.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
    return _finish(np.concatenate(arms), first, second, noise, rng)


def blobs(samples: int = 200, noise: float = 0.5, seed: int = 0, distance: float = 3.0):
    """Two round clusters `distance` apart; separable by a line unless the noise is large."""
    rng = np.random.default_rng(seed)
    first, second = _halves(samples)
    centre = np.array([distance / 2, distance / 4])
    points = np.concatenate([np.tile(-centre, (first, 1)), np.tile(centre, (second, 1))])
    return _finish(points, first, second, noise, rng)


def line(samples: int = 40, noise: float = 0.5, seed: int = 0, slope=1.5, intercept=-0.5):
    """Points near y = slope·x + intercept, x in [-2, 2]: a linear regression with 2 parameters."""
    rng = np.random.default_rng(seed)
    _check_samples(samples)
    _check_noise(noise)
    x = rng.uniform(-2.0, 2.0, samples)
    y = slope * x + intercept + noise * rng.standard_normal(samples)
    return x.reshape(-1, 1), y


TOY_SETS = {"moons": two_moons, "circles": circles, "spirals": spirals, "blobs": blobs}


def _halves(samples: int) -> tuple[int, int]:
    _check_samples(samples)
    return samples - samples // 2, samples // 2


def _check_samples(samples: int) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 4:
        raise EngineError(
            f"a data set needs a whole number of at least 4 samples, got {samples!r}",
            code="bad_samples",
        )
    if samples > MAX_SAMPLES:
        raise LimitError(
            f"a toy data set has at most {MAX_SAMPLES:,} samples, got {samples:,}",
            what="samples",
            limit=MAX_SAMPLES,
            actual=int(samples),
        )


def _check_noise(noise: float) -> None:
    if not np.isfinite(noise) or noise < 0:
        raise EngineError(f"noise must be a number ≥ 0, got {noise!r}", code="bad_noise")


def _finish(points, first: int, second: int, noise: float, rng):
    _check_noise(noise)
    points = points + noise * rng.standard_normal(points.shape)
    labels = np.concatenate([np.zeros(first), np.ones(second)])
    return points, labels


def split(X, y, test_fraction: float = 0.25, seed: int = 0):
    """Shuffle with the seed and hold out `test_fraction` of the rows: X, y, X_test, y_test."""
    if not 0.0 <= test_fraction < 1.0:
        raise EngineError(
            f"test_fraction must be at least 0 and below 1, got {test_fraction!r}",
            code="bad_test_fraction",
        )
    order = np.random.default_rng(seed).permutation(len(X))
    held = int(round(test_fraction * len(X)))
    test, train = order[:held], order[held:]
    return X[train], y[train], X[test], y[test]
