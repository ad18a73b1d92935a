"""chainrule.learn.data: plain lists, the right labels, reproducible draws, clear errors."""

import math
import random

import pytest
from sklearn.datasets import make_moons

from chainrule import data


def is_plain(X, y, n, dims=2):
    assert isinstance(X, list) and isinstance(y, list)
    assert len(X) == len(y) == n
    assert all(type(row) is list and len(row) == dims for row in X)
    assert all(type(v) is float for row in X for v in row)
    assert all(type(label) is int for label in y)
    return True


@pytest.mark.parametrize("name", ["moons", "circles", "xor", "spirals"])
def test_binary_sets_are_plain_lists_with_both_label_codings(name):
    X, y = data.load(name, n=60, seed=3)
    assert is_plain(X, y, 60)
    assert set(y) == {0, 1}
    X2, y2 = data.load(name, n=60, seed=3, labels="pm1")
    assert X2 == X
    assert y2 == [2 * c - 1 for c in y]
    # a seed reproduces the draw; another seed changes it
    assert data.load(name, n=60, seed=3) == (X, y)
    assert data.load(name, n=60, seed=4)[0] != X


def test_moons_is_scikit_learns_draw():
    X, y = data.moons(100, noise=0.1, seed=7, labels="pm1")
    ref_X, ref_y = make_moons(n_samples=100, noise=0.1, random_state=7)
    assert X == ref_X.tolist()
    assert y == (ref_y * 2 - 1).tolist()


def test_blobs_and_spirals_give_class_indices():
    X, y = data.blobs(n=90, centers=3, features=4, seed=0)
    assert is_plain(X, y, 90, dims=4)
    assert set(y) == {0, 1, 2}
    X, y = data.spirals(n=100, classes=3, seed=0)
    assert is_plain(X, y, 100)
    assert [y.count(k) for k in range(3)] == [34, 33, 33]
    with pytest.raises(ValueError, match="labels='pm1' needs two classes, this set has 3"):
        data.spirals(n=30, classes=3, labels="pm1")
    assert set(data.blobs(n=20, centers=2, seed=0, labels="pm1")[1]) == {-1, 1}


def test_generated_sets_leave_the_global_rng_alone():
    state = random.getstate()
    data.xor(50, seed=1)
    data.spirals(50, seed=1)
    data.train_test_split(*data.xor(10, seed=1), seed=2)
    assert random.getstate() == state


def test_xor_labels_follow_the_quadrants_without_noise():
    X, y = data.xor(200, noise=0.0, seed=5)
    assert all((a > 0) != (b > 0) for (a, b), c in zip(X, y) if c == 1)
    assert all((a > 0) == (b > 0) for (a, b), c in zip(X, y) if c == 0)
    assert all(-1 <= v <= 1 for row in X for v in row)
    assert 60 < sum(y) < 140


def test_spiral_arms_wind_outwards_without_noise():
    X, y = data.spirals(40, classes=2, noise=0.0, turns=1.0, seed=0)
    arm0 = [math.hypot(a, b) for (a, b), c in zip(X, y) if c == 0]
    assert arm0 == sorted(arm0) and arm0[0] == pytest.approx(0.05) and arm0[-1] == pytest.approx(1)
    # the two arms are point-symmetric: arm 1 is arm 0 turned by half a circle
    arm1 = [row for row, c in zip(X, y) if c == 1]
    first = [row for row, c in zip(X, y) if c == 0]
    for (a, b), (c, d) in zip(first, arm1):
        assert (c, d) == pytest.approx((-a, -b), abs=1e-12)


def test_toy_is_the_lecture_set_and_a_fresh_copy():
    X, y = data.toy()
    assert X == [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    assert y == [1.0, -1.0, -1.0, 1.0]
    X[0][0] = 99.0
    assert data.toy()[0][0][0] == 2.0


def test_train_test_split_partitions_reproducibly():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_fraction=0.25, seed=1)
    assert len(X_te) == 3 and len(X_tr) == 7  # ceil(2.5)
    assert sorted(y_tr + y_te) == y
    assert [row[0] for row in X_tr] == [float(i) for i in y_tr]  # rows stay with their labels
    assert data.train_test_split(X, y, test_fraction=0.25, seed=1) == (X_tr, X_te, y_tr, y_te)
    assert data.train_test_split(X, y, test_fraction=0.25, seed=2)[3] != y_te


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: data.load("mnist"), "unknown dataset 'mnist'; valid: 'moons', 'circles'"),
        (lambda: data.load("moons", size=3), "dataset 'moons'.*size"),
        (lambda: data.load("toy", seed=1), "dataset 'toy'"),
        (lambda: data.moons(n=0), "moons: n must be an integer >= 2"),
        (lambda: data.moons(noise=-0.1), "moons: noise"),
        (lambda: data.moons(seed=1.5), "moons: seed"),
        (lambda: data.moons(labels="+-1"), "labels must be '01' or 'pm1'"),
        (lambda: data.circles(factor=1.5), "circles: factor"),
        (lambda: data.blobs(centers=1), "blobs: centers"),
        (lambda: data.blobs(std=0), "blobs: std"),
        (lambda: data.xor(n=True), "xor: n"),
        (lambda: data.spirals(n=2, classes=3), "fewer than one point per class"),
        (lambda: data.spirals(turns=0), "turns"),
        (lambda: data.train_test_split([[1.0]] * 3, [1, 2]), "X has 3 samples but y has 2"),
        (lambda: data.train_test_split([[1.0]] * 3, [1] * 3, 1.0), "test_fraction"),
        (lambda: data.train_test_split([[1.0]], [1], 0.5), "too few"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- data that cannot be trained on ---------------------------------------------------------------


def test_check_finite_names_the_first_bad_value_by_row_and_column_and_counts_the_rest():
    import numpy as np

    data.check_finite([[0.0, 1.0], [2.0, 3.0]])  # nothing to say
    data.check_finite(np.zeros((3, 2), np.int64))  # integers are always finite
    with pytest.raises(ValueError) as info:
        data.check_finite([[0.0, 1.0], [2.0, math.inf], [math.nan, 0.0]], "X", "fit")
    assert str(info.value).startswith("fit: X[1][1] is inf (row 1, column 1) (and 1 more value")
    array = np.ones((5, 3))
    array[4, 2], array[0, 1], array[2, 0] = np.nan, np.nan, -np.inf
    with pytest.raises(ValueError, match=r"^mine: rows\[0\]\[1\] is nan \(row 0, column 1\) "
                       r"\(and 2 more values not finite\)"):  # fmt: skip
        data.check_finite(array, "rows", "mine")
    with pytest.raises(ValueError, match=r"^fit: X\[2\]\[0\] is nan \(row 2, column 0\)"):
        data.check_finite([1.0, 2.0, math.nan])  # one feature, given as plain numbers
