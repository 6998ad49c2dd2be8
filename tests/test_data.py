"""minigrad.data: generators, the shipped datasets, splitting, scaling and minibatches."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import data

GENERATORS = {
    "blobs": lambda seed: data.make_blobs(101, centers=4, n_features=3, cluster_std=0.5, seed=seed),
    "moons": lambda seed: data.make_moons(101, noise=0.1, seed=seed),
    "spirals": lambda seed: data.make_spirals(101, n_classes=4, noise=0.2, seed=seed),
}


# ---------------------------------------------------------------- generators


@pytest.mark.parametrize("name, n_features, n_classes", [("blobs", 3, 4), ("moons", 2, 2), ("spirals", 2, 4)])
def test_generators_shapes_dtypes_and_classes(name, n_features, n_classes):
    X, y = GENERATORS[name](0)
    assert X.shape == (101, n_features) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1 and counts.sum() == 101
    assert np.isfinite(X).all()
    assert len(set(y[:20].tolist())) > 1  # shuffled: the first rows are not all one class


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded(name):
    X1, y1 = GENERATORS[name](3)
    X2, y2 = GENERATORS[name](3)
    X3, y3 = GENERATORS[name](4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X4, _ = GENERATORS[name](np.random.default_rng(3))  # a Generator works as the seed too
    np.testing.assert_array_equal(X1, X4)


def test_moons_without_noise_lie_on_their_circles():
    X, y = data.make_moons(50, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose((upper**2).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(((lower - [1.0, 0.5]) ** 2).sum(axis=1), 1.0, rtol=1e-12)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()
    assert (len(upper), len(lower)) == (25, 25)


def test_spirals_without_noise_follow_the_formula():
    X, y = data.make_spirals(60, n_classes=3, noise=0.0, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert 0 < r.min() and r.max() == pytest.approx(1.0)
    angle = 2 * np.pi * y / 3 + 4.0 * r  # on arm c the angle is 2 pi c / k + 4 r
    np.testing.assert_allclose(X, np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1), atol=1e-12)


def test_blobs_with_given_centers_and_stds():
    centers = np.array([[0.0, 0.0], [10.0, -5.0]])
    X, y = data.make_blobs(4000, centers=centers, cluster_std=[0.5, 2.0], seed=1)
    for c in range(2):
        points = X[y == c]
        np.testing.assert_allclose(points.mean(axis=0), centers[c], atol=0.15)
        np.testing.assert_allclose(points.std(axis=0), [0.5, 2.0][c], rtol=0.08)
    Xr, _ = data.make_blobs(300, centers=3, center_box=(-1.0, 1.0), cluster_std=0.0, seed=0)
    assert np.abs(Xr).max() <= 1.0 and len(np.unique(Xr, axis=0)) == 3


def test_generator_argument_errors():
    with pytest.raises(ValueError, match="n_samples"):
        data.make_moons(0)
    with pytest.raises(ValueError, match="noise"):
        data.make_moons(10, noise=-0.1)
    with pytest.raises(ValueError, match="n_classes"):
        data.make_spirals(10, n_classes=0)
    with pytest.raises(ValueError, match="cluster_std"):
        data.make_blobs(10, centers=2, cluster_std=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="centers"):
        data.make_blobs(10, centers=np.zeros(3))


# ---------------------------------------------------------------- shipped datasets


def test_iris():
    iris = data.load_iris()
    X, y = iris  # unpacks as a pair
    assert X.shape == (150, 4) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    assert iris.class_names == ("setosa", "versicolor", "virginica")
    assert len(iris.feature_names) == 4 and "sepal length" in iris.feature_names[0]
    assert "10.24432/C56C76" in iris.source
    # public facts about Fisher's data
    np.testing.assert_array_equal(X[0], [5.1, 3.5, 1.4, 0.2])
    assert y[0] == 0
    np.testing.assert_array_equal(X[34], [4.9, 3.1, 1.5, 0.2])  # the two samples UCI's iris.data has wrong
    np.testing.assert_array_equal(X[37], [4.9, 3.6, 1.4, 0.1])
    np.testing.assert_array_equal(X.min(axis=0), [4.3, 2.0, 1.0, 0.1])
    np.testing.assert_array_equal(X.max(axis=0), [7.9, 4.4, 6.9, 2.5])
    np.testing.assert_allclose(X.mean(axis=0), [5.843, 3.057, 3.758, 1.199], atol=5e-4)


def test_digits():
    digits = data.load_digits()
    X, y = digits
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and (X == np.round(X)).all()
    np.testing.assert_array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    assert digits.class_names == tuple(str(d) for d in range(10))
    assert digits.feature_names[0] == "pixel_0_0" and digits.feature_names[63] == "pixel_7_7"
    assert "10.24432/C50P49" in digits.source
    # the first image is a zero: ink in the middle of its edges, none in its centre
    image = X[0].reshape(8, 8)
    assert y[0] == 0 and image[0, 3] > 10 and image[3:5, 3:5].sum() == 0
    constant = [digits.feature_names[i] for i in np.flatnonzero(X.std(axis=0) == 0)]
    assert constant == ["pixel_0_0", "pixel_4_0", "pixel_4_7"]


def test_shipped_data_equals_scikit_learns_copy():
    from sklearn import datasets as sklearn_datasets  # a dev dependency: fail, not skip, if absent

    for ours, theirs in [
        (data.load_iris(), sklearn_datasets.load_iris()),
        (data.load_digits(), sklearn_datasets.load_digits()),
    ]:
        np.testing.assert_array_equal(ours.X, theirs.data)
        np.testing.assert_array_equal(ours.y, theirs.target)


# ---------------------------------------------------------------- train_test_split


def test_split_is_a_seeded_partition_that_keeps_rows_paired():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20) * 10
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=1)
    assert len(X_test) == 5 and len(X_train) == 15
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), y)
    np.testing.assert_array_equal(X_train[:, 0] * 5, y_train)  # row i of X still goes with y[i]
    np.testing.assert_array_equal(X_test[:, 0] * 5, y_test)
    again = data.train_test_split(X, y, test_size=0.25, seed=1)
    other = data.train_test_split(X, y, test_size=0.25, seed=2)
    np.testing.assert_array_equal(again[3], y_test)
    assert not np.array_equal(other[3], y_test)
    assert len(data.train_test_split(X, y, test_size=0.26)[1]) == 6  # a fraction is rounded up
    assert len(data.train_test_split(X, y, test_size=3)[1]) == 3  # or a number of rows
    y50 = np.arange(50)
    assert len(data.train_test_split(y50, y50, test_size=0.14)[1]) == 7  # 0.14 * 50 = 7.000000000000001


def test_stratified_split_keeps_iris_balanced():
    X, y = data.load_iris()
    _, _, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    np.testing.assert_array_equal(np.bincount(y_test), [10, 10, 10])
    np.testing.assert_array_equal(np.bincount(y_train), [40, 40, 40])
    # without stratification the test classes are (almost surely) not exactly balanced
    unbalanced = [
        np.bincount(data.train_test_split(X, y, test_size=0.2, seed=s)[3], minlength=3) for s in range(5)
    ]
    assert any(list(c) != [10, 10, 10] for c in unbalanced)


def test_stratified_split_of_unequal_classes():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = np.zeros((100, 1))
    _, _, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    # quotas 15, 7.5, 2.5 -> floors 15, 7, 2 and the one row left goes to the first largest remainder
    np.testing.assert_array_equal(np.bincount(y_test), [15, 8, 2])
    np.testing.assert_array_equal(np.bincount(y_train), [45, 22, 8])


@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=2, max_size=60),
    data_=st.data(),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_proportions(labels, data_, seed):
    y = np.array(labels)
    X = np.arange(len(y))
    n_test = data_.draw(st.integers(1, len(y) - 1), label="n_test")
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=n_test, seed=seed, stratify=True)
    assert len(y_test) == n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([X_train, X_test])), X)
    np.testing.assert_array_equal(y[X_test], y_test)
    np.testing.assert_array_equal(y[X_train], y_train)
    for c in np.unique(y):
        quota = n_test * (y == c).sum() / len(y)
        assert abs((y_test == c).sum() - quota) < 1  # the class's share, rounded down or up


def test_split_errors():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="X has 9 rows but y has 10"):
        data.train_test_split(X[:9], y)
    for bad in (0.0, 1.0, 1.5, -0.1, "0.2"):
        with pytest.raises(ValueError, match="test_size"):
            data.train_test_split(X, y, test_size=bad)
    for bad in (0, 10):
        with pytest.raises(ValueError, match="both parts"):
            data.train_test_split(X, y, test_size=bad)


# ---------------------------------------------------------------- standardize


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal([1.0, -3.0, 100.0], [2.0, 0.1, 30.0], size=(50, 3))
    X_test = rng.normal(size=(7, 3))
    train, test, mean, std = data.standardize(X_train, X_test)
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(mean, X_train.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(std, X_train.std(axis=0), rtol=1e-14)
    np.testing.assert_allclose(test, (X_test - X_train.mean(axis=0)) / X_train.std(axis=0), rtol=1e-12)
    result = data.standardize(X_train)
    assert result.test is None
    np.testing.assert_array_equal(result.train, train)


def test_standardize_guards_constant_features():
    X, _ = data.load_digits()
    train, test, mean, std = data.standardize(X[:1000], X[1000:])
    assert np.isfinite(train).all() and np.isfinite(test).all()
    for j in (0, 32, 39):  # pixels that are always blank
        assert std[j] == 1.0 and mean[j] == 0.0
        assert (train[:, j] == 0).all()
    # a constant whose computed mean is off by a rounding error: still exactly zero, not noise / tiny
    Xc = np.column_stack([np.full(7, 0.1), np.arange(7.0)])
    train_c = data.standardize(Xc).train
    assert (train_c[:, 0] == 0).all() and data.standardize(Xc).std[0] == 1.0


def test_standardize_dtypes_and_errors():
    X32 = np.random.default_rng(0).standard_normal((10, 2)).astype(np.float32)
    result = data.standardize(X32, X32)
    assert result.train.dtype == result.test.dtype == result.mean.dtype == result.std.dtype == np.float32
    assert data.standardize(np.arange(6).reshape(3, 2)).train.dtype == np.float64
    with pytest.raises(ValueError, match="2-D"):
        data.standardize(np.ones(5))
    with pytest.raises(ValueError, match=r"shape \(rows, 2\)"):
        data.standardize(np.ones((4, 2)), np.ones((4, 3)))


# ---------------------------------------------------------------- DataLoader


def test_each_epoch_covers_every_sample_exactly_once():
    X = np.arange(23 * 2).reshape(23, 2)
    y = np.arange(23)
    loader = data.DataLoader(X, y, batch_size=5, seed=0)
    assert len(loader) == 5
    orders = []
    for _ in range(3):
        batches = list(loader)
        assert [len(yb) for _, yb in batches] == [5, 5, 5, 5, 3]  # the partial last batch is kept
        seen = np.concatenate([yb for _, yb in batches])
        np.testing.assert_array_equal(np.sort(seen), y)
        for xb, yb in batches:
            np.testing.assert_array_equal(xb[:, 0], 2 * yb)  # rows stay paired
        orders.append(seen)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    # a new loader with the same seed replays the same sequence of epochs
    replay = data.DataLoader(X, y, batch_size=5, seed=0)
    for expected in orders:
        np.testing.assert_array_equal(np.concatenate([yb for _, yb in replay]), expected)


def test_loader_without_shuffle_and_with_drop_last():
    X, y = np.arange(10.0).reshape(10, 1), np.arange(10)
    plain = data.DataLoader(X, y, batch_size=4, shuffle=False)
    assert [yb.tolist() for _, yb in plain] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dropping = data.DataLoader(X, y, batch_size=4, shuffle=False, drop_last=True)
    assert len(dropping) == 2 and [len(yb) for _, yb in dropping] == [4, 4]
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(X, y, batch_size=0)
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        data.DataLoader(X, y[:9])


# ---------------------------------------------------------------- seeds and argument kinds

SEEDED = {
    "make_blobs": lambda seed: data.make_blobs(20, seed=seed),
    "make_moons": lambda seed: data.make_moons(20, seed=seed),
    "make_spirals": lambda seed: data.make_spirals(20, seed=seed),
    "train_test_split": lambda seed: data.train_test_split(np.zeros((8, 2)), np.arange(8) % 2, seed=seed),
    "DataLoader": lambda seed: data.DataLoader(np.zeros((8, 2)), np.zeros(8), seed=seed),
}


@pytest.mark.parametrize("name", list(SEEDED))
@pytest.mark.parametrize(
    "seed, error",
    [(-1, ValueError), (1.5, TypeError), (2.0, TypeError), ("42", TypeError), (True, TypeError)],
)
def test_a_bad_seed_is_refused_naming_the_argument(name, seed, error):
    with pytest.raises(error, match=rf"{name}: seed must be an integer >= 0, None or a numpy.random.Gen"):
        SEEDED[name](seed)


@pytest.mark.parametrize("name", list(SEEDED))
def test_good_seeds_are_still_accepted(name):
    for seed in (0, np.int64(3), None, np.random.default_rng(1)):
        SEEDED[name](seed)


def test_blobs_arguments_of_the_wrong_kind_are_refused():
    with pytest.raises(ValueError, match=r"center_box must be a pair of finite numbers \(low, high\)"):
        data.make_blobs(10, centers=2, center_box=5.0)
    with pytest.raises(ValueError, match=r"center_box must be a pair .* low < high"):
        data.make_blobs(10, centers=2, center_box=(10.0, -10.0))
    with pytest.raises(ValueError, match=r"center_box must be a pair of finite numbers"):
        data.make_blobs(10, centers=2, center_box=(0.0, np.nan))
    with pytest.raises(TypeError, match=r"center_box must be a pair of numbers"):
        data.make_blobs(10, centers=2, center_box=("a", "b"))
    with pytest.raises(ValueError, match=r"centers must be finite, got NaN"):
        data.make_blobs(10, centers=[[0.0, 0.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"centers must be finite"):
        data.make_blobs(10, centers=[[0.0, np.inf], [1.0, 1.0]])
    with pytest.raises(TypeError, match=r"centers must be a count or an array"):
        data.make_blobs(10, centers=[["a", "b"]])
    with pytest.raises(TypeError, match=r"cluster_std must be a number >= 0 or one per cluster"):
        data.make_blobs(10, centers=2, cluster_std="1.0")


@pytest.mark.parametrize("make", [data.make_moons, data.make_spirals])
@pytest.mark.parametrize("noise", ["0.1", None, [0.1], True])
def test_noise_of_the_wrong_kind_is_refused(make, noise):
    with pytest.raises(TypeError, match=rf"{make.__name__}: noise must be a number >= 0, got"):
        make(20, noise=noise)
