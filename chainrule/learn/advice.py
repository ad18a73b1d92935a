"""What a finished run says about itself: did it learn, or did it blow up?

A run that learned nothing still ends, prints an accuracy and saves a model; without a word, a
learner takes 12% on the digits or a loss of 4.6e13 as the answer. `diagnose` looks at the
`History` once training is over and returns an `Advice` for each of two failures:

* "learned nothing": classes predicted no better than chance (always answering the most
  common class), or, without classes, a loss flat from the start;
* "diverged": the loss ended far above where it began (the steps are too large).

Each `Advice` holds what happened, in numbers, and settings to try, each a concrete value.
`fit` warns with it (a `TrainingWarning`) and keeps it in `History.warnings`; the command line
prints the same advice with its flags (`advice.text("cli")`: `--lr 0.1`) where Python gets
keyword arguments (`lr=0.1`).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Advice", "TrainingDiverged", "TrainingWarning", "diagnose", "diverged_advice"]

# Below this many updates a run is too short to say it learned nothing.
MIN_STEPS = 10
# A run is at chance when it closes less than this share of the gap from the most common
# class's share to 100%.
CHANCE_GAP = 0.1
# The loss "grew far above where it began": this many times its start.
GROWTH = 10.0
# Settings that belong to the model, not to `fit`, in the Python phrasing.
MODEL_SETTINGS = ("activation",)


class TrainingWarning(UserWarning):
    """`fit` finished, but the run did not learn (see `History.warnings`).

    A `UserWarning`, so Python shows it once per place; `warnings.simplefilter("error",
    TrainingWarning)` makes a stuck run raise instead.

    Examples:
        >>> from chainrule.learn import TrainingWarning
        >>> issubclass(TrainingWarning, UserWarning)
        True
    """


class TrainingDiverged(FloatingPointError):
    """The loss became inf or nan: `fit` stops, as the weights are lost.

    Args:
        message: What happened and what to try.
        advice: The same, as an `Advice` (`err.advice.tries`).

    Examples:
        >>> from chainrule import fit, nn
        >>> from chainrule.learn import TrainingDiverged
        >>> xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
        >>> try:
        ...     fit(nn.Neuron(3, activation=None, seed=0), xs, [1.0, -1.0, -1.0, 1.0],
        ...         loss="mse", lr=10.0, steps=100, progress=False)
        ... except TrainingDiverged as err:
        ...     print(err.advice.tries)
        ({'lr': 0.1}, {'optimizer': 'adam', 'lr': 0.01})
    """

    def __init__(self, message: str, advice: Advice) -> None:
        super().__init__(message)
        self.advice = advice


@dataclass(frozen=True)
class Advice:
    """A failure of a run: its kind, what happened, and alternatives to try.

    Attributes:
        kind: 'learned_nothing' or 'diverged'.
        message: What happened, in numbers.
        tries: Each a dict of settings to change together, e.g.
            `{"batch_size": 32, "epochs": 10}`.

    Examples:
        >>> from chainrule.learn.advice import diverged_advice
        >>> advice = diverged_advice("the loss became inf at step 3", 5.0, 0.1, "sgd")
        >>> advice.kind, advice.tries
        ('diverged', ({'lr': 0.1}, {'optimizer': 'adam', 'lr': 0.01}))
        >>> print(advice.text("cli"))  # doctest: +NORMALIZE_WHITESPACE
        the run diverged: the loss became inf at step 3; lr=5 made the loss grow; try
        --lr 0.1, or --optimizer adam --lr 0.01
    """

    kind: str
    message: str
    tries: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def text(self, style: str = "python") -> str:
        """Say the message and the settings to try.

        Args:
            style: 'python' for keyword arguments (`lr=0.1`), 'cli' for the flags of
                `chainrule train` (`--lr 0.1`).

        Returns:
            One line of text.
        """
        if not self.tries:
            return self.message
        together = " " if style == "cli" else " and "
        options = [together.join(_setting(k, v, style) for k, v in t.items()) for t in self.tries]
        return f"{self.message}; try {', or '.join(options)}"

    def __str__(self) -> str:
        """Say the advice with Python's keyword arguments: `text("python")`."""
        return self.text("python")

    def to_dict(self) -> dict[str, Any]:
        """Give the advice as plain JSON: kind, message, tries (dicts) and the Python text.

        Returns:
            A dict ready for `json.dump`.
        """
        tries = [dict(t) for t in self.tries]
        return {"kind": self.kind, "message": self.message, "tries": tries, "text": str(self)}


def _setting(name: str, value: Any, style: str) -> str:
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    if style == "cli":
        return f"--{name.replace('_', '-')} {shown}"
    text = f"{name}={value!r}" if isinstance(value, str) else f"{name}={shown}"
    return f"{text} in the model" if name in MODEL_SETTINGS else text


# -- the checks ----------------------------------------------------------------------------------


def diagnose(
    loss: Sequence[float],
    accuracy: float | None,
    classes: Sequence[int] | None,
    *,
    lr: float,
    default_lr: float,
    optimizer: str | None,
    batch_size: int,
    samples: int,
    relu: bool,
    epochs: bool = False,
) -> list[Advice]:
    """Find the failures of a finished run (an empty list for a run that learned).

    Args:
        loss: The per-step loss.
        accuracy: The final train accuracy (None without classes).
        classes: The training labels as class indices (None for regression targets).
        lr: The learning rate of step 0 (the rest describe the run, for the advice).
        default_lr: The optimizer's default learning rate.
        optimizer: The optimizer's name (None for one of your own).
        batch_size: The rows per step.
        samples: The rows of the training set.
        relu: Whether the hidden layers are ReLUs.
        epochs: Whether the length was given in epochs.

    Returns:
        An `Advice` per failure found: 'diverged' or 'learned_nothing'.

    Examples:
        >>> from chainrule.learn.advice import diagnose
        >>> found = diagnose([0.69] * 50, 0.5, [0, 1] * 10, lr=0.1, default_lr=0.1,
        ...                  optimizer="sgd", batch_size=20, samples=20, relu=True)
        >>> print(found[0])  # doctest: +NORMALIZE_WHITESPACE
        the model learned nothing: train accuracy 50.0% is chance level (always answering the
        most common class scores 50.0%), and the loss stayed at 0.69 from step 0 on; try
        activation='tanh' in the model, or optimizer='adam' and lr=0.01, or lr=1
    """
    if not loss:
        return []
    window = max(1, min(len(loss) // 10, math.ceil(samples / max(batch_size, 1))))
    start = statistics.median(loss[:window])
    end = statistics.median(loss[-window:])
    if start > 0 and end > GROWTH * start:
        what = f"the loss grew from {start:.4g} to {end:.4g}"
        return [diverged_advice(what, lr, default_lr, optimizer)]
    if len(loss) < MIN_STEPS:
        return []
    observed = []
    if classes is not None and accuracy is not None:
        shares = [classes.count(c) / len(classes) for c in set(classes)]
        chance = max(shares)
        if chance < 1 and (accuracy - chance) / (1 - chance) < CHANCE_GAP:
            observed.append(
                f"train accuracy {100 * accuracy:.1f}% is chance level (always answering the "
                f"most common class scores {100 * chance:.1f}%)"
            )
    flat = _flat_from(loss, window)
    plateau = flat is not None and flat <= len(loss) // 4 and end > 0.5 * start
    if plateau and (observed or classes is None or accuracy is None):
        observed.append(f"the loss stayed at {end:.4g} from step {flat} on")
    if not observed:
        return []
    # what most often makes a stuck run learn, most likely first; three at most
    tries: list[dict[str, Any]] = []
    if batch_size >= samples and samples > 256:  # one update per pass over many points
        tries.append({"batch_size": 32, "epochs": 10})
    if relu:  # ReLUs that output 0 for every point pass no gradient: they never recover
        tries.append({"activation": "tanh"})
    if optimizer == "sgd":
        tries.append({"optimizer": "adam", "lr": 0.01})
    if lr <= default_lr:
        tries.append({"lr": _round(lr * 10)})
    if not epochs and len(loss) < 2000:
        tries.append({"steps": len(loss) * 5})
    what = "the model learned nothing: " + ", and ".join(observed)
    return [Advice("learned_nothing", what, tuple(tries[:3]))]


def diverged_advice(what: str, lr: float, default_lr: float, optimizer: str | None) -> Advice:
    """Advise on a loss that grew without bound: smaller steps, or Adam's bounded ones.

    Args:
        what: What happened, for the message.
        lr: The learning rate the run used.
        default_lr: The optimizer's default learning rate.
        optimizer: The optimizer's name (None for one of your own).

    Returns:
        An `Advice` of kind 'diverged'.

    Examples:
        >>> from chainrule.learn.advice import diverged_advice
        >>> print(diverged_advice("the loss grew from 1 to 1e+09", 5.0, 0.1, "adam"))
        the run diverged: the loss grew from 1 to 1e+09; lr=5 made the loss grow; try lr=0.1
    """
    smaller = default_lr if lr > default_lr else lr / 10
    tries: list[dict[str, Any]] = [{"lr": _round(smaller)}]
    if optimizer == "sgd":
        tries.append({"optimizer": "adam", "lr": 0.01})
    message = f"the run diverged: {what}; lr={lr:g} made the loss grow"
    return Advice("diverged", message, tuple(tries))


def _flat_from(loss: Sequence[float], window: int) -> int | None:
    """Find the first step from which the (smoothed) loss stays within 1% of its final value."""
    sums = [0.0, *itertools.accumulate(loss)]
    smooth = [
        (sums[k + 1] - sums[max(0, k - window + 1)]) / (k + 1 - max(0, k - window + 1))
        for k in range(len(loss))
    ]
    end = smooth[-1]
    tolerance = 0.01 * abs(end)
    if not math.isfinite(end) or tolerance == 0:
        return None
    k = len(smooth)
    while k > 0 and abs(smooth[k - 1] - end) <= tolerance:
        k -= 1
    return k


def _round(x: float) -> float:
    """Round to one significant digit: 0.1, not 0.09999999999999999."""
    return float(f"{x:.1g}")
