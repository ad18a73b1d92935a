"""`chainrule predict`: a saved model's output for one input, and the class it stands for.

    chainrule predict runs/moons/model.json 0.5 -0.3
    chainrule predict runs/cnn-mnist5k/model.json 17          # held-out digit 17
    chainrule predict runs/cnn-mnist5k/model.json digit.png   # a picture of a digit
    chainrule predict runs/names-mlp/model.json em            # names that start with "em"

A playground model takes the point in its data set's own units: it is scaled onto the page's
plane and turned into the model's input features first, as the page did. A preset's model takes
what its data holds: the CNN a row of its held-out digits or a picture, scaled as the digits
were; the names MLP the first letters of names, which it goes on to make up.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from ..autograd import no_grad
from ..extras import require
from ..learn import inputs
from ..learn.loop import predict_scores
from ..learn.losses import LOSSES
from . import common, preset
from .common import UsageError, finite_float, load_model, network_inputs, nonneg_int, path

# How many names a names model makes up after the prefix.
NAMES = 8


def register(sub: Any) -> None:
    """Add `chainrule predict` to the command line (called from `chainrule.cli.main`)."""
    p = sub.add_parser(
        "predict",
        help="print a saved model's output for one input",
        description=(
            "Print the output of a saved model for the numbers given (one per input feature), "
            "and the class it predicts. A preset's model takes a held-out row index or an "
            "image file (cnn-mnist5k), or the first letters of names (names-mlp)."
        ),
    )
    p.add_argument("model", type=path, metavar="MODEL.json", help="a model file")
    p.add_argument("x", nargs="+", metavar="X", help="the input numbers, in order (see above)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the names (default: 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the output for one input and the class it stands for."""
    model, meta = load_model(args.model)
    if meta.get("preset") is not None:
        names = meta["preset"] == "names-mlp"
        if len(args.x) != 1:
            what = "a prefix of letters" if names else "a held-out row index or an image file"
            raise UsageError(f"{args.model} takes one input, {what}; got {len(args.x)}")
        return (_names if names else _digit)(args, model.eval(), meta, args.x[0])
    with common.usage_errors("argument X: ", argparse.ArgumentTypeError):
        numbers = [finite_float(x) for x in args.x]
    row = numbers
    if meta.get("inputs") is not None:  # a playground model: scaled, then its features
        row = network_inputs(args.model, meta["inputs"], [numbers])[0]
        a, b = inputs.scale([numbers], meta["inputs"]["scaling"])[0]
        print(f"input   {' '.join(args.x)}: ({a:.4g}, {b:.4g}) on the playground's plane")
    elif getattr(model, "nin", None) not in (None, len(numbers)):
        raise UsageError(f"{args.model} takes {model.nin} numbers, got {len(numbers)}")
    wrong = f"{args.model} cannot take these {len(numbers)} numbers: "
    with common.usage_errors(wrong, ValueError, TypeError):
        scores = predict_scores(model, [row])[0]
    if isinstance(scores, list):
        print("output  " + " ".join(f"{v:.6g}" for v in scores))
        print(f"class   {scores.index(max(scores))} (the largest score)")
        return 0
    print(f"output  {scores:.6g}")
    loss = meta.get("loss")
    if loss is None or (loss in LOSSES and not LOSSES[loss].per_class):  # one score per point
        threshold = float(meta.get("threshold", 0.0))
        side = ">" if scores > threshold else "<="
        print(f"class   {int(scores > threshold)} (output {side} {threshold:g})")
    return 0


def _names(args: argparse.Namespace, model: Any, meta: dict[str, Any], prefix: str) -> int:
    """Make up names that start with `prefix`."""
    if not re.fullmatch("[a-z]*", prefix.lower()):
        raise UsageError(f"the prefix must be letters a..z, got {prefix!r}")
    if len(prefix) > preset.MAX_NAME:
        raise UsageError(
            f"the prefix has {len(prefix)} letters; names are {preset.MAX_NAME} at most"
        )
    made = preset.sample_names(model, NAMES, args.seed, prefix.lower())
    print(f"names   {', '.join(made)} (seed {args.seed})")
    return 0


def _digit(args: argparse.Namespace, model: Any, meta: dict[str, Any], given: str) -> int:
    """The class of a held-out digit (a row index) or of a picture, with its probabilities."""
    X, y, X_test, y_test, _, extra = preset.rebuild(args.model, meta)
    try:
        row = float(given)
    except ValueError:  # not a number: a picture
        image = _picture(Path(given), X_test.shape[1:], *extra["scale"])
        print(f"input   {given}, in grayscale, {X_test.shape[-1]}x{X_test.shape[-2]} pixels")
    else:
        if not row.is_integer() or not 0 <= row < len(X_test):
            raise UsageError(
                f"row {given} is not one of {meta['preset']}'s held-out rows: give 0 to "
                f"{len(X_test) - 1}, or an image file"
            )
        image = X_test[int(row) : int(row) + 1]
        print(f"input   held-out row {int(row)} of {meta['preset']}, labelled {y_test[int(row)]}")
    with no_grad():
        probs = model(image).softmax(axis=-1).numpy()[0]
    best = int(probs.argmax())
    print(f"class   {best} (probability {probs[best]:.3f})")
    print("probs   " + "  ".join(f"{k}: {p:.3f}" for k, p in enumerate(probs)))
    return 0


def _picture(file: Path, shape: tuple[int, ...], mean: float, std: float) -> Any:
    """A picture as the network takes it: grayscale, resized, scaled as the digits were.

    MNIST's digits are light on a dark ground: a picture mostly light (a dark digit on white
    paper) is inverted first."""
    image = require("PIL.Image", "viz", "reading a picture")
    import numpy as np

    try:
        with image.open(file) as picture:
            gray = picture.convert("L").resize((shape[-1], shape[-2]))
    except (OSError, image.DecompressionBombError) as err:  # Pillow's errors are OSErrors
        raise UsageError(f"{file}: cannot read it as an image ({err.strerror or err})") from None
    pixels = np.asarray(gray, dtype=np.float32) / 255
    if pixels.mean() > 0.5:
        pixels = 1 - pixels
    return ((pixels - mean) / std).reshape(1, *shape).astype(np.float32)
