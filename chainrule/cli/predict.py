"""`chainrule predict`: a saved model's output for one point, and the class it stands for.

    chainrule predict runs/moons/model.json 0.5 -0.3

A playground model takes the point in its data set's own units: it is scaled onto the page's
plane and turned into the model's input features first, as the page did.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..learn import inputs
from ..learn.loop import predict_scores
from ..learn.losses import LOSSES
from .common import UsageError, finite_float, load_model, network_inputs, path


def register(sub: Any) -> None:
    """Add `chainrule predict` to the command line (called from `chainrule.cli.main`)."""
    p = sub.add_parser(
        "predict",
        help="print a saved model's output for one point",
        description=(
            "Print the output of a model saved by chainrule train for the numbers given (one "
            "per input feature), and the class it predicts."
        ),
    )
    p.add_argument("model", type=path, metavar="MODEL.json", help="a model file")
    p.add_argument(
        "x", type=finite_float, nargs="+", metavar="X", help="the input numbers, in order"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the output for one row of numbers and the class it stands for."""
    model, meta = load_model(args.model)
    row = args.x
    if meta.get("inputs") is not None:  # a playground model: scaled, then its features
        row = network_inputs(args.model, meta["inputs"], [args.x])[0]
        a, b = inputs.scale([args.x], meta["inputs"]["scaling"])[0]
        shown = " ".join(f"{v:g}" for v in args.x)
        print(f"input   {shown}: ({a:.4g}, {b:.4g}) on the playground's plane")
    elif getattr(model, "nin", None) not in (None, len(args.x)):
        raise UsageError(f"{args.model} takes {model.nin} numbers, got {len(args.x)}")
    try:
        scores = predict_scores(model, [row])[0]
    except (ValueError, TypeError) as err:
        raise UsageError(f"{args.model} cannot take these {len(args.x)} numbers: {err}") from None
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
