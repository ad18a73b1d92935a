"""A scalar model called on a whole data set says how to call it: one row at a time, or the
tensor engine."""

import math

import numpy as np
import pytest

from chainrule import data, nn

ADVICE = (
    "call it on each row, [model(x) for x in X], or use the tensor engine, which takes the "
    "whole batch at once (chainrule.tensor.layers.mlp, on Tensor(X))"
)


@pytest.mark.parametrize(
    "model, who",
    [
        (nn.MLP(2, [4, 1], seed=0), "MLP"),
        (nn.Layer(2, 3, seed=0), "Layer"),
        (nn.Neuron(2, seed=0), "Neuron"),
    ],
)
def test_a_list_of_rows_gets_one_row_at_a_time_or_the_tensor_engine(model, who):
    X, _ = data.moons(5, noise=0.1, seed=1)
    for rows in (X, X[:2], np.array(X), [tuple(r) for r in X]):
        with pytest.raises(TypeError) as info:
            model(rows)
        assert str(info.value) == (
            f"{who} takes one row of 2 numbers at a time, got a list of {len(rows)} rows: " + ADVICE
        )
    # what the message says to do works: each row gives the model's own tanh(w·x + b), by hand
    for x in X:
        out = model(x)
        outs = out if isinstance(out, list) else [out]
        assert [v.data for v in outs] == pytest.approx(by_hand(model, x), rel=1e-12)


def by_hand(model, row):
    """tanh(w·x + b), layer by layer, from the model's weights (every model here is tanh)."""
    values = list(row)
    for layer in getattr(model, "layers", [model]):
        values = [
            math.tanh(sum(w.data * v for w, v in zip(n.w, values)) + n.b.data)
            for n in getattr(layer, "neurons", [layer])
        ]
    return values


def test_other_bad_inputs_keep_their_own_messages():
    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(TypeError, match="inputs must be numbers or Values") as info:
        model(["a", "b"])
    assert "one row" not in str(info.value)
    with pytest.raises(ValueError, match="takes 2 input"):
        model([1.0, 2.0, 3.0])
