"""The tables every choice is read from: activations, losses, data sets and model kinds.

Each kind of thing has one table, and the models, `fit`, the command line and the playground
read it: a row added there needs no further edit anywhere else.
"""

import json

import numpy as np
import pytest

from chainrule import Tensor, Value, cli, io, nn, ops, optim
from chainrule.learn import data, inputs
from chainrule.learn.losses import LOSSES, Task
from chainrule.nn import ACTIVATIONS, NOT_ACTIVATIONS
from chainrule.tensor import layers

FUNCTIONS = [name for name in nn.ACTIVATIONS if name != "linear"]


# -- activations: the op table's functions -------------------------------------------------


def test_the_activations_are_the_op_tables_functions_but_those_with_a_reason():
    assert nn.ACTIVATIONS is ACTIVATIONS
    assert set(ACTIVATIONS) == (set(ops.functions(1)) - set(NOT_ACTIVATIONS)) | {"linear"}
    assert set(NOT_ACTIVATIONS) <= set(ops.functions(1))  # no reason for a row that is gone
    assert {"tanh", "relu", "sigmoid", "gelu", "silu", "softplus", "sin"} <= set(ACTIVATIONS)
    assert ACTIVATIONS["linear"] is None and ACTIVATIONS["gelu"] is ops.GELU


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_activation_is_a_neuron_s_on_the_scalar_engine(name):
    neuron = nn.Neuron(3, activation=name, seed=1)
    x = [0.5, -1.5, 0.25]
    out = neuron(x)
    total = neuron.b.data + sum(w.data * v for w, v in zip(neuron.w, x))
    assert out.data == pytest.approx(ops.TABLE[name].scalar(total), rel=1e-12)
    out.backward()
    slope = ops.TABLE[name].partials[0](total, out.data)
    assert neuron.b.grad == pytest.approx(slope, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_activation_is_a_layer_of_the_tensor_mlp_and_is_saved(name, tmp_path):
    model = layers.mlp([2, 3, 1], activation=name, output_activation=name, seed=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds[0] == "Linear" and kinds[2] == "Linear" and len(kinds) == 4
    X = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float64)
    hidden = model[0](X)
    np.testing.assert_allclose(model[1](hidden).data, ops.TABLE[name].array(hidden.data))
    io.save(model, tmp_path / "m.json")
    again = io.load(tmp_path / "m.json")
    assert again.config() == model.config()
    np.testing.assert_array_equal(again(Tensor(X)).data, model(Tensor(X)).data)


def test_a_row_added_to_the_op_table_is_an_activation_at_once():
    name = "softsign_for_this_test"
    row = ops.define_op(name, lambda x: x / (1 + abs(x)), lambda x, out: 1 / (1 + abs(x)) ** 2)
    try:
        assert name in nn.ACTIVATIONS and nn.ACTIVATIONS[name] is row
        out = nn.MLP(2, [2, 1], activation=name, seed=0)([1.0, -2.0])
        assert out._op == name and out._prev[0]._op == "dot"
        assert nn.MLP(2, [1], activation=name, seed=0).config()["activation"] == name
    finally:
        del ops.TABLE[name]
    assert name not in nn.ACTIVATIONS


def test_chainrule_train_takes_every_activation_and_refuses_the_others(tmp_path, capsys):
    args = ["train", "--samples", "20", "--test-samples", "10", "--steps", "3", "--quiet"]
    assert cli.main([*args, "--activation", "gelu", "--out", str(tmp_path / "gelu")]) == 0
    model = io.load(tmp_path / "gelu" / "model.json")
    assert model.activation == "gelu" and model.layers[0].neurons[0]._act == Value.gelu
    with pytest.raises(SystemExit) as exit_:
        cli.main([*args, "--activation", "exp", "--out", str(tmp_path / "exp")])
    assert exit_.value.code == 2
    assert "argument --activation: invalid choice: 'exp'" in capsys.readouterr().err
    assert not (tmp_path / "exp").exists()


# -- losses ------------------------------------------------------------------------------------


def test_each_loss_row_says_what_it_makes_of_the_labels():
    for name, row in LOSSES.items():
        width = 3 if row.per_class else 1
        labels = [0, 2, 1] if row.per_class else [0, 1, 1]
        task = Task(name, labels, width)
        assert task.classes(labels) == ([0, 2, 1] if row.per_class else [0, 1, 1])
        coded = task.targets(labels)
        assert coded == (labels if row.codes is None else [row.codes[0], *[row.codes[1]] * 2])


# -- data sets -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(data.DATASETS))
def test_every_data_set_row_loads_and_says_how_it_trains(name):
    row = data.DATASETS[name]
    assert row.defaults.loss in (None, *LOSSES) and row.defaults.optimizer in optim.OPTIMIZERS
    assert row.defaults.activation in nn.ACTIVATIONS
    if row.plane is None:
        return
    X, y = inputs.draw(name, 30, 0.1, 3)
    assert len(X) == 30 and all(len(p) == 2 for p in X)
    assert name in inputs.DATASETS
    assert inputs.draw(name, 30, 0.1, 3) == (X, y)  # the same points, every time


def test_the_playground_draws_exactly_the_two_dimensional_data_sets():
    planes = [name for name, row in data.DATASETS.items() if row.plane is not None]
    assert list(inputs.DATASETS) == planes
    assert "toy" not in planes and "digits" not in planes


# -- model kinds -----------------------------------------------------------------------------


def test_every_model_class_is_in_the_table_that_model_files_are_loaded_with():
    tensor_classes = set()
    todo = [layers.TensorModule]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("chainrule.tensor."):
                tensor_classes.add(sub)
            todo.append(sub)
    assert tensor_classes and tensor_classes <= set(io.MODELS.values())
    assert {nn.Neuron, nn.Layer, nn.MLP} <= set(io.MODELS.values())
    for name, kind in io.MODELS.items():
        assert kind.__name__ == name and callable(kind.parameter_count)


@pytest.mark.parametrize(
    "model",
    [nn.MLP(3, [4, 2], activation="silu", seed=0), layers.mlp([3, 5, 2], "gelu", seed=0)],
    ids=["scalar", "tensor"],
)
def test_a_config_is_counted_without_building_and_rebuilt_from_the_table(model):
    config = json.loads(json.dumps(model.config()))
    assert io.parameter_count(config) == model.num_parameters()
    assert io.from_config(config).config() == config
