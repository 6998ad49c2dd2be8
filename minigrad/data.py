"""Data to train on: seeded toy generators, two small real datasets, and the usual
preparation steps (split, standardize, minibatches).

Everything returns plain numpy arrays: features ``X`` as float64 of shape
``(n_samples, n_features)`` and labels ``y`` as int64 class indices ``0 .. k-1``. Wrap
them in ``Tensor`` when they enter a model. Every random choice is drawn from a
``numpy.random.Generator`` built from ``seed`` (an integer >= 0, None for fresh entropy,
or a Generator to share), so the same seed always gives the same data; anything else is
refused with an error naming the argument.

The real datasets ship inside the package (``minigrad/datasets/``, see its README for
sources and licences); nothing is downloaded.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple

import numpy as np

from ._seed import Seed, make_rng

# ---------------------------------------------------------------- checks


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number >= 0, got {value!r} ({type(value).__name__})")
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def _numbers(name: str, value: Any, expected: str) -> np.ndarray:
    """``value`` as a float64 array, refusing strings, bools and anything not numeric (which
    ``np.asarray(..., dtype=float)`` would convert or fail on with a message not naming it)."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    return array.astype(np.float64)


def _box(center_box: Any) -> tuple[float, float]:
    """``center_box`` as a pair of finite numbers (low, high) with low < high."""
    box = _numbers("make_blobs: center_box", center_box, "a pair of numbers (low, high)")
    if box.shape != (2,) or not np.all(np.isfinite(box)) or not box[0] < box[1]:
        raise ValueError(
            f"make_blobs: center_box must be a pair of finite numbers (low, high) with "
            f"low < high, got {center_box!r}"
        )
    return float(box[0]), float(box[1])


def _split_evenly(n: int, k: int) -> list[int]:
    """n samples over k classes: n // k each, the first n % k classes one more."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mix the classes (generators build them class by class), so that taking the first
    rows, or unshuffled minibatches, does not see one class only."""
    order = rng.permutation(len(y))
    return X[order], y[order].astype(np.int64)


# ---------------------------------------------------------------- toy generators


def make_blobs(
    n_samples: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    n_features: int = 2,
    cluster_std: float | Sequence[float] = 1.0,
    seed: Seed = 0,
    center_box: tuple[float, float] = (-10.0, 10.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters: class c's points are ``center_c + cluster_std_c * N(0, I)``.

    ``centers`` is a number of clusters (their centres are then drawn uniformly from
    ``center_box`` in each coordinate) or an array of centres, shape ``(k, n_features)``.
    ``cluster_std`` is one standard deviation for all clusters or one per cluster. The
    samples are split as evenly as possible between clusters, then shuffled. Returns
    ``X`` float64 ``(n_samples, n_features)`` and ``y`` int64 (the cluster index)."""
    n = _positive_int("make_blobs: n_samples", n_samples)
    rng = make_rng(seed, "make_blobs: seed")
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = _positive_int("make_blobs: centers", centers)
        d = _positive_int("make_blobs: n_features", n_features)
        low, high = _box(center_box)
        centre_array = rng.uniform(low, high, size=(k, d))
    else:
        centre_array = _numbers(
            "make_blobs: centers", centers, "a count or an array of shape (k, n_features)"
        )
        if centre_array.ndim != 2 or len(centre_array) == 0:
            raise ValueError(
                f"make_blobs: centers must be a count or an array of shape (k, n_features), "
                f"got shape {centre_array.shape}"
            )
        if not np.all(np.isfinite(centre_array)):
            raise ValueError(
                f"make_blobs: centers must be finite, got NaN or infinity in {centre_array.tolist()}"
            )
        k, d = centre_array.shape
    stds = _numbers("make_blobs: cluster_std", cluster_std, "a number >= 0 or one per cluster")
    if stds.ndim == 0:
        stds = np.full(k, float(stds))
    if stds.shape != (k,) or np.any(stds < 0) or not np.all(np.isfinite(stds)):
        raise ValueError(
            f"make_blobs: cluster_std must be >= 0, one value or one per cluster ({k}), got {cluster_std!r}"
        )
    counts = _split_evenly(n, k)
    X = np.concatenate([centre_array[c] + stds[c] * rng.standard_normal((counts[c], d)) for c in range(k)])
    y = np.repeat(np.arange(k), counts)
    return _shuffled(rng, X, y)


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in the plane, a classic problem that no straight
    line separates.

    Class 0 lies on the upper unit half circle ``(cos t, sin t)``, class 1 on a lower
    one shifted right and down, ``(1 - cos t, 0.5 - sin t)``, for t evenly spaced in
    [0, pi]; then Gaussian noise of standard deviation ``noise`` is added to every
    coordinate and the rows are shuffled. Class 0 gets the extra point when
    ``n_samples`` is odd."""
    n = _positive_int("make_moons: n_samples", n_samples, minimum=2)
    noise = _non_negative("make_moons: noise", noise)
    rng = make_rng(seed, "make_moons: seed")
    n0, n1 = _split_evenly(n, 2)
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(rng, X, y)


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` spiral arms winding out of the origin, one per class.

    Along arm c a point at position s in (0, 1] has radius r = s and angle
    ``2 pi c / n_classes + 4 s`` (radians) plus Gaussian noise of standard deviation
    ``noise`` on the angle; its coordinates are ``r (cos angle, sin angle)``. Noise on
    the angle blurs the arms more at larger radius, where they are further apart. The
    samples are split as evenly as possible between arms, then shuffled."""
    n = _positive_int("make_spirals: n_samples", n_samples)
    k = _positive_int("make_spirals: n_classes", n_classes)
    noise = _non_negative("make_spirals: noise", noise)
    rng = make_rng(seed, "make_spirals: seed")
    counts = _split_evenly(n, k)
    arms = []
    for c in range(k):
        s = np.linspace(0.0, 1.0, counts[c] + 1)[1:]  # not s = 0: every arm would share the origin
        angle = 2 * np.pi * c / k + 4.0 * s + noise * rng.standard_normal(counts[c])
        arms.append(np.stack([s * np.cos(angle), s * np.sin(angle)], axis=1))
    X = np.concatenate(arms)
    y = np.repeat(np.arange(k), counts)
    return _shuffled(rng, X, y)


# ---------------------------------------------------------------- shipped datasets


@dataclass(frozen=True)
class LabeledData:
    """A dataset loaded from ``minigrad/datasets``: ``X`` float64 ``(n, d)``, ``y``
    int64 class indices, the names of the ``d`` features and of the classes (``y == i``
    means ``class_names[i]``), and the citation of its source. Unpacks as a pair:
    ``X, y = load_iris()``."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    source: str

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))


def _read_table(filename: str) -> LabeledData:
    """Read one of our ``.csv.gz`` files: ``# key: value`` header lines (title, source,
    columns, classes, format), then comma-separated rows whose last column is the class
    index."""
    with (
        (resources.files("minigrad") / "datasets" / filename).open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8") as text,
    ):
        lines = text.read().splitlines()
    header = {}
    for line in lines:
        if line.startswith("#") and ":" in line:
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
    table = np.loadtxt(lines, delimiter=",", comments="#", dtype=np.float64, ndmin=2)
    columns = tuple(header["columns"].split(","))
    classes = tuple(header["classes"].split(","))
    if table.shape[1] != len(columns):
        raise ValueError(
            f"{filename}: the header names {len(columns)} columns, the rows have {table.shape[1]}"
        )
    return LabeledData(
        X=np.ascontiguousarray(table[:, :-1]),
        y=table[:, -1].astype(np.int64),
        feature_names=columns[:-1],
        class_names=classes,
        source=header["source"],
    )


def load_iris() -> LabeledData:
    """Fisher's (1936) Iris data: 150 flowers, 50 of each of three species
    (setosa, versicolor, virginica), 4 measurements in cm: sepal length, sepal width,
    petal length, petal width. The values are those of Fisher's paper (as in R and
    scikit-learn). From the UCI Machine Learning Repository, CC BY 4.0."""
    return _read_table("iris.csv.gz")


def load_digits() -> LabeledData:
    """Handwritten digits (Alpaydin & Kaynak, 1998; the test set of UCI's "Optical
    Recognition of Handwritten Digits"): 1797 images of 8x8 pixels, each pixel a count
    0..16 of ink in a 4x4 block of the original 32x32 bitmap, flattened row by row to 64
    features (``X[i].reshape(8, 8)`` is the image); classes are the digits 0-9. From the
    UCI Machine Learning Repository, CC BY 4.0."""
    return _read_table("digits.csv.gz")


# ---------------------------------------------------------------- preparation


def train_test_split(
    X: Any, y: Any, test_size: float | int = 0.25, seed: Seed = 0, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the rows at random into a training and a test part: returns
    ``X_train, X_test, y_train, y_test`` (each part in random order).

    ``test_size`` is a fraction in (0, 1) of the rows (rounded up) or a number of rows.
    With ``stratify=True`` each class is split separately, so both parts keep the
    class proportions of ``y``: class c gets ``n_test * n_c / n`` test rows, rounded so
    that the counts add up to ``n_test`` (largest remainders get the extra rows)."""
    X, y = np.asarray(X), np.asarray(y)
    n = len(y)
    if len(X) != n:
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {n}")
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = math.ceil(round(test_size * n, 9))  # round first: 0.14 * 50 is 7.000000000000001
    else:
        raise ValueError(
            f"train_test_split: test_size must be a fraction in (0, 1) or a number of rows, got {test_size!r}"
        )
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} gives {n_test} test rows out of {n}; "
            "both parts need at least one row"
        )
    rng = make_rng(seed, "train_test_split: seed")
    if not stratify:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        quota = counts * n_test / n
        per_class = np.floor(quota).astype(int)
        leftover = n_test - per_class.sum()
        per_class[np.argsort(-(quota - per_class), kind="stable")[:leftover]] += 1
        test_parts, train_parts = [], []
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(inverse.reshape(-1) == c))
            test_parts.append(members[: per_class[c]])
            train_parts.append(members[per_class[c] :])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


class Standardized(NamedTuple):
    """The result of ``standardize``: the scaled arrays and the statistics used."""

    train: np.ndarray
    test: np.ndarray | None
    mean: np.ndarray
    std: np.ndarray


def standardize(X_train: Any, X_test: Any = None) -> Standardized:
    """Scale each feature to mean 0 and standard deviation 1 *using the training rows
    only*: ``(X - mean) / std`` with ``mean`` and ``std`` of ``X_train``'s columns, then
    the same ``mean`` and ``std`` applied to ``X_test`` (statistics of the test data
    must not leak into training).

    A feature that takes a single value in ``X_train`` (the digits have pixels that are
    always blank) has std 0; dividing would give NaN, so its ``std`` is reported as 1
    and the feature becomes all zeros. Returns ``Standardized(train, test, mean, std)``
    (``test`` is None when no ``X_test`` is given); integer input becomes float64,
    float32 stays float32."""
    X_train = np.asarray(X_train)
    if X_train.ndim != 2 or len(X_train) == 0:
        raise ValueError(
            f"standardize: X_train must be a non-empty 2-D array (rows, features), got shape {X_train.shape}"
        )
    dtype = X_train.dtype if X_train.dtype.kind == "f" else np.float64
    X_train = X_train.astype(dtype, copy=False)
    # a constant column is detected exactly: its computed std may be a rounding error, not 0
    constant = np.all(X_train == X_train[0], axis=0)
    mean = np.where(constant, X_train[0], X_train.mean(axis=0)).astype(dtype)
    std = np.where(constant, 1.0, X_train.std(axis=0)).astype(dtype)
    test = None
    if X_test is not None:
        X_test = np.asarray(X_test)
        if X_test.ndim != 2 or X_test.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"standardize: X_test must have shape (rows, {X_train.shape[1]}), got {X_test.shape}"
            )
        test = ((X_test - mean) / std).astype(dtype, copy=False)
    return Standardized((X_train - mean) / std, test, mean, std)


class DataLoader:
    """Minibatches of ``(X, y)`` rows, for ``for epoch ...: for xb, yb in loader:``.

    Each pass over the loader is one epoch: every row appears in exactly one batch.
    With ``shuffle=True`` each epoch uses a new random order, drawn from one
    Generator made from ``seed`` when the loader is created, so a run is reproducible
    and yet no two epochs are alike. Batches have ``batch_size`` rows except the last,
    which holds the remainder (it is kept unless ``drop_last=True``). Batches are numpy
    arrays (copies); ``len(loader)`` is the number of batches per epoch."""

    def __init__(
        self,
        X: Any,
        y: Any,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: Seed = 0,
        drop_last: bool = False,
    ) -> None:
        self.X, self.y = np.asarray(X), np.asarray(y)
        if len(self.X) != len(self.y):
            raise ValueError(f"DataLoader: X has {len(self.X)} rows but y has {len(self.y)}")
        self.batch_size = _positive_int("DataLoader: batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = make_rng(seed, "DataLoader: seed")

    def __len__(self) -> int:
        n = len(self.y)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.y)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            rows = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.X[rows], self.y[rows]


__all__ = [
    "make_blobs",
    "make_moons",
    "make_spirals",
    "LabeledData",
    "load_iris",
    "load_digits",
    "train_test_split",
    "Standardized",
    "standardize",
    "DataLoader",
]
