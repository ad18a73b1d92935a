"""How `chainrule train --data NAME` trains on each shipped data set when no flag says otherwise:
each data set's default settings.

One set of settings does not suit every data set: micrograd's demo (full batch, 100 steps,
ReLU, hinge, lr 1.0) learns its 100 moons points perfectly, but on the 1,347 digits it makes
100 full-batch steps of a 64-input network and stops at 12%, and on the lecture's four toy
samples its ReLUs die and the loss stays flat. So each data set has its `DataDefaults`:
micrograd's demo where that works (moons, circles, blobs, xor, spirals), the lecture's own
3-4-4-1 tanh network with MSE for the toy set, and mini-batches of 32 with cross-entropy for
the digits.

A flag given on the command line overrides its setting; settings that only make sense together
go together: a data set's learning rate and momentum are used only with its own optimizer and
loss, and its length (`steps` or `epochs`) only when neither `--steps` nor `--epochs` is
given. `chainrule train --help` lists them all (`describe`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DATA_DEFAULTS", "DataDefaults", "data_defaults", "describe"]


@dataclass(frozen=True)
class DataDefaults:
    """A data set's training settings. None means "decided from the data": the loss from the
    number of classes (hinge for two, cross-entropy for more), the output activation from the
    loss (tanh for mse, else linear), the learning rate from the optimizer and the loss (sgd:
    1.0 with hinge as micrograd, else 0.1; adam: 0.01), the length 100 steps."""

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
    image_shape: tuple[int, int] | None = None  # rows are pictures of this shape
    needs: tuple[str, ...] = ()  # modules the data set's loader imports


MICROGRAD = DataDefaults()  # micrograd's demo: the settings of every set not listed otherwise
SKLEARN = ("sklearn",)

DATA_DEFAULTS: dict[str, DataDefaults] = {
    "moons": DataDefaults(needs=SKLEARN),
    "circles": DataDefaults(needs=SKLEARN),
    "blobs": DataDefaults(needs=SKLEARN),
    "xor": MICROGRAD,
    "spirals": MICROGRAD,
    # The lecture's network and loop: MLP(3, [4, 4, 1]), tanh everywhere, squared error,
    # `p.data += -0.1 * p.grad`. ReLUs on four points die; tanh never does.
    "toy": DataDefaults(
        hidden=(4, 4),
        activation="tanh",
        output_activation="tanh",
        loss="mse",
        lr=0.1,
        l2=0.0,
        schedule="constant",
    ),
    # 1,347 training images of 64 pixels: mini-batches of 32 make 43 updates per pass where a
    # full batch makes one; with momentum, 10 passes reach about 97% on the held-out quarter.
    "digits": DataDefaults(
        test_fraction=0.25,
        hidden=(64,),
        loss="cross_entropy",
        lr=0.1,
        momentum=0.9,
        epochs=10,
        batch_size=32,
        image_shape=(8, 8),
        needs=SKLEARN,
    ),
}


def data_defaults(name: str) -> DataDefaults:
    """The default settings of data set `name` (micrograd's demo for a set not listed)."""
    return DATA_DEFAULTS.get(name, MICROGRAD)


# The settings `describe` lists, each as its flag (`batch_size`: `--batch-size`); the rest
# (`image_shape`, `needs`) describe the data, not a choice a flag makes.
_DESCRIBED = (
    "samples", "test_fraction", "hidden", "activation", "output_activation", "loss", "optimizer",
    "lr", "momentum", "l2", "schedule", "steps", "epochs", "batch_size",
)  # fmt: skip


def describe(name: str) -> str:
    """The settings where `name`'s defaults differ from micrograd's demo, as flags."""
    r = data_defaults(name)
    parts = []
    for f in fields(DataDefaults):
        value = getattr(r, f.name)
        if f.name not in _DESCRIBED or value == getattr(MICROGRAD, f.name):
            continue
        if f.name == "hidden":
            parts.append(f"hidden layers {','.join(map(str, value))}")
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(f"--{f.name.replace('_', '-')} {text}")
    return ", ".join(parts) or "micrograd's demo"
