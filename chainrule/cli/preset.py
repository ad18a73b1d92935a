"""`chainrule preset NAME`: the two models after micrograd, trained from the terminal.

    chainrule preset names-mlp --out runs/names        # makemore's MLP on census first names
    chainrule preset cnn-mnist5k --out runs/cnn        # a small CNN on 5,000 MNIST digits

Each preset fixes the data, the model (`chainrule.tensor.layers`) and a training recipe that
works; flags change the length, the learning rate, the batch size and the seed, and
`--model-config FILE` trains another architecture (a JSON `model.config()`, e.g. with wider
layers) on the preset's data. The run goes through `fit`, as `chainrule train` does: the same
progress bar and summary, and `--out` gets `model.json` (reload with `chainrule.learn.io.load`)
and `loss.png`. The data sets are optional packages: a missing one is named, with its pip
command.
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..autograd import no_grad
from ..extras import MissingExtra
from ..learn import data, io, optim
from ..learn.advice import TrainingDiverged
from ..learn.losses import cross_entropy
from ..nn import ConfigError
from . import common, distributed
from .common import UsageError, add_flags, nonneg_int, positive_float, positive_int

try:
    from ..tensor import layers as recipes
except MissingExtra:  # no numpy: `run` says what to install before it needs them
    recipes = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Preset:
    """What a preset trains on, and how. `dataset` and `split` are kept in the model file, so
    that `chainrule eval` and `predict` rebuild the very held-out data (with the run's seed)."""

    about: str
    model: str  # the recipe in chainrule.tensor.layers
    dataset: str
    split: dict[str, Any]  # slices of the shuffled data, or how many are held out
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    steps: int | None = None
    epochs: int | None = None
    loss: str = "cross_entropy"
    schedule: str = "cosine"


PRESETS = {
    "names-mlp": Preset(
        "makemore's MLP (Embedding, Linear, BatchNorm1d, tanh, Linear) on census first names: "
        "3 characters of context -> the next one",
        model="names_mlp", dataset="names", split={"train": [0, 0.8], "dev": [0.8, 0.9]}, lr=0.1,
        momentum=0.0, weight_decay=0.0, batch_size=32, steps=20_000,
    ),
    "cnn-mnist5k": Preset(
        "a CNN (two 3x3 convolutions with ReLU and max pooling, then Linear) on 4,000 MNIST "
        "digits, 1,000 held out",
        model="digits_cnn", dataset="mnist5k", split={"held_out": 1000}, lr=0.05,
        momentum=0.9, weight_decay=5e-4, batch_size=64, epochs=10,
    ),
}  # fmt: skip
# makemore's context: the characters a names model reads to guess the next one.
BLOCK_SIZE = 3
# The longest name `sample_names` makes, and so the longest prefix it takes.
MAX_NAME = 30


def register(sub: Any) -> None:
    """Add `chainrule preset` to the command line (called from `chainrule.cli.main`)."""
    p = sub.add_parser(
        "preset",
        help="train makemore's names MLP or a CNN on MNIST digits; save the model and plots",
        description="Train one of the models that follow micrograd: "
        + "; ".join(f"{name}: {preset.about}" for name, preset in PRESETS.items())
        + ". Writes model.json and loss.png into --out.",
    )
    p.add_argument("name", choices=list(PRESETS), metavar="NAME", help=", ".join(PRESETS))
    add_flags(p.add_mutually_exclusive_group(), [
        ("--steps N", positive_int, "number of updates"),
        ("--epochs N", positive_int, "passes over the data"),
    ])  # fmt: skip
    add_flags(p, [
        ("--model-config FILE", common.path,
         "a JSON model config (what model.config() gives) to train instead of the preset's"),
        ("--batch-size N", positive_int, "examples per update"),
        ("--lr LR", positive_float, "peak learning rate"),
        ("--seed S", nonneg_int, "seed (default: 0)"),
        ("--out DIR", common.path, "output folder (default: runs/NAME)"),
        ("--force", "store_true", "replace the files of an earlier run"),
        ("--quiet", "store_true", "no progress bar"),
    ])  # fmt: skip
    distributed.add_flags(p.add_argument_group("data-parallel training"), engine=True)
    p.set_defaults(func=run, seed=0)


def run(args: argparse.Namespace) -> int:
    """Train the preset as the flags say, print what happens, and write the run into --out."""
    preset = PRESETS[args.name]
    wall = time.perf_counter()
    out = args.out if args.out is not None else Path("runs", args.name)
    common.check_out(out, args.force)
    distributed.prepare(args)
    common.require_packages(f"chainrule preset {args.name}", ["numpy"], "tensor")
    # Read as a model file is: bounded in size, depth and parameters before it is built. A
    # file's error names the file itself; a config's does not.
    bad_config = common.usage_errors(f"--model-config {args.model_config}: ", ConfigError)
    with bad_config, common.usage_errors("--model-config ", io.ModelFileError):
        config = args.model_config and io.read_config(args.model_config)
        make = getattr(recipes, preset.model)
        model: Any = io.from_config(config) if config else make(seed=args.seed)
    X, y, X_test, y_test, about_data, extra = load_data(args.name, args.seed)
    wrong = f"the model does not take {args.name}'s data: "
    with common.usage_errors(wrong, ValueError, TypeError, IndexError), no_grad():
        outputs = model.eval()(X[:2])
    model.train()
    classes = int(max(y.max(), y_test.max())) + 1
    if outputs.shape != (2, classes):
        raise UsageError(
            f"the model returns {outputs.shape[1:]} per example; {args.name} needs {classes} "
            "scores (one per class)"
        )

    lr = args.lr or preset.lr
    optimizer = optim.SGD(
        model.parameters(), lr=lr, momentum=preset.momentum, weight_decay=preset.weight_decay
    )
    steps, epochs = args.steps, args.epochs
    if steps is None and epochs is None:
        steps, epochs = preset.steps, preset.epochs
    batch = args.batch_size or preset.batch_size
    if not args.quiet:
        print(f"data   {about_data}")
        print(f"model  {model!r}".replace("\n", "\n       "))
        print(
            f"train  {preset.loss}, sgd lr {lr:g} ({preset.schedule}), momentum "
            f"{preset.momentum:g}, weight decay {preset.weight_decay:g}, "
            f"{f'{epochs} epochs' if epochs else f'{steps} steps'}, batches of {batch} "
            f"(seed {args.seed})"
        )
    run: dict[str, Any] = {"loss": preset.loss, "optimizer": optimizer, "steps": steps}
    run.update(epochs=epochs, batch_size=batch, schedule=preset.schedule)
    run.update(X_test=X_test, y_test=y_test, progress=not args.quiet, seed=args.seed)
    try:
        with warnings.catch_warnings():  # numpy's overflows: a divergence, said in one line
            warnings.simplefilter("ignore", RuntimeWarning)
            history = distributed.fit(args, model, X, y, **run)
    except TrainingDiverged as err:  # nothing is written: an earlier run in --out stays
        said = err.advice.message.replace("lr=", "--lr ")
        own = f"{args.name}'s own is {preset.lr:g}"
        raise UsageError(f"{said}; try a smaller --lr ({own})") from None
    if history is None:  # another rank of torchrun's: rank 0 reports
        return 0
    model.eval()
    with no_grad():
        test_loss = float(cross_entropy(model(X_test), y_test).item())
    metadata = {"preset": args.name, "dataset": preset.dataset, "split": preset.split}
    metadata.update(seed=args.seed, loss=preset.loss, data=about_data, test_loss=test_loss)
    metadata.update(extra["metadata"])
    written = common.save_run(out, args.force, model, history, metadata, {})
    print(
        f"done   train accuracy {common.percent(history.final_train_accuracy)}, held-out "
        f"accuracy {common.percent(history.final_test_accuracy)} and loss {test_loss:.4f} "
        f"({len(y_test)} {extra['what']}); final batch loss {history.loss[-1]:.4g}"
    )
    if args.name == "names-mlp":
        print(f"names  {', '.join(sample_names(model, 8, args.seed))}")
    common.report(history, wall, written)
    return 0


def load_data(name: str, seed: int) -> tuple[Any, ...]:
    """(X, y, X_test, y_test, description, extra) for a preset's data; `extra` names the
    held-out examples ("what"), adds to the model file's metadata ("metadata") and keeps how
    the inputs were scaled ("scale": mean and std, for `chainrule predict`'s pictures)."""
    import numpy as np

    split = PRESETS[name].split
    with common.usage_errors("", ImportError):
        if name == "names-mlp":
            words = data.names("first")
            words = [words[i] for i in np.random.default_rng(seed).permutation(len(words))]
            n1, n2 = (int(fraction * len(words)) for fraction in split["dev"])
            X, y = data.name_contexts(words[:n1], BLOCK_SIZE)
            X_dev, y_dev = data.name_contexts(words[n1:n2], BLOCK_SIZE)
            about = (
                f"census first names: {n1} to train on ({len(y)} contexts of {BLOCK_SIZE} "
                f"characters), {n2 - n1} dev names ({len(y_dev)} contexts), shuffled with seed "
                f"{seed}"
            )
            extra = {"what": "dev contexts", "metadata": {"block_size": BLOCK_SIZE}}
            return X, y, X_dev, y_dev, about, extra
        X, y, X_test, y_test = data.mnist5k_arrays(test_size=int(split["held_out"]), seed=seed)
    mean, std = float(X.mean()), float(X.std())
    X, X_test = (X - mean) / std, (X_test - mean) / std
    about = (
        f"mnist5k: {len(y)} digits to train on, {len(y_test)} held out (shuffled with seed "
        f"{seed}), pixels standardised with mean {mean:.4f} and std {std:.4f}"
    )
    extra = {"what": "held-out digits", "metadata": {"input_mean": mean, "input_std": std}}
    return X, y, X_test, y_test, about, {**extra, "scale": (mean, std)}


def rebuild(path: Path, meta: dict[str, Any]) -> tuple[Any, ...]:
    """A preset model's data again, as `load_data` gives it, from what its file keeps: the
    preset, its data set and split, and the seed that shuffled them."""
    name, seed = meta["preset"], meta.get("seed")
    if name not in PRESETS:
        raise UsageError(f"{path}: metadata 'preset' must be one of {', '.join(PRESETS)}")
    if type(seed) is not int or seed < 0:
        raise UsageError(f"{path}: metadata 'seed' must be a whole number >= 0, got {seed!r}")
    for key in ("dataset", "split"):
        own = getattr(PRESETS[name], key)
        if meta.get(key, own) != own:  # files older than these keys had the same data
            raise UsageError(
                f"{path}: metadata {key!r} is {meta[key]!r}, but {name} trains on {own!r}"
            )
    common.require_packages(f"a model of chainrule preset {name}", ["numpy"], "tensor")
    return load_data(name, seed)


def sample_names(model: Any, count: int, seed: int, prefix: str = "") -> list[str]:
    """Names made up by a trained names model (evaluation mode), one character at a time after
    `prefix` (letters a..z), each at most `MAX_NAME` letters."""
    import numpy as np

    rng = np.random.default_rng(seed)
    start = [data.NAME_CHARS.index(c) for c in prefix]
    made = []
    with no_grad():
        for _ in range(count):
            chars = list(prefix)
            context = ([0] * BLOCK_SIZE + start)[-BLOCK_SIZE:]
            while len(chars) < MAX_NAME:
                probs = model(np.array([context])).softmax(axis=-1).numpy()[0].astype(float)
                ix = int(rng.choice(len(probs), p=probs / probs.sum()))
                if ix == 0:
                    break
                chars.append(data.NAME_CHARS[ix])
                context = context[1:] + [ix]
            made.append("".join(chars))
    return made
