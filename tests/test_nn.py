"""chainrule.nn: the lecture's Neuron / Layer / MLP, checked against the lecture and PyTorch."""

import json
import math
import random

import pytest
import torch

import chainrule
from chainrule import Value, nn, no_grad
from chainrule.nn import MLP, Layer, Module, Neuron, from_config

LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]


# -- the lecture's classes, as learners type them, as a reference -------------------------


class LectureNeuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class LectureLayer:
    def __init__(self, nin, nout):
        self.neurons = [LectureNeuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class LectureMLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [LectureLayer(sz[i], sz[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


# -- shape, names, types ------------------------------------------------------------------


def test_lecture_mlp_has_41_parameters_with_dotted_names():
    model = MLP(3, [4, 4, 1], seed=0)
    assert isinstance(model, Module)
    assert model.num_parameters() == 41
    assert len(model.parameters()) == 41
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.w.2",
        "layers.0.neurons.0.b",
    ]
    assert names[-1] == "layers.2.neurons.0.b"
    assert len(set(names)) == 41
    assert all(p.__class__ is Value for p in model.parameters())


def test_attribute_names_follow_the_lecture():
    model = MLP(3, [4, 4, 1], seed=0)
    assert len(model.layers) == 3
    assert [len(layer.neurons) for layer in model.layers] == [4, 4, 1]
    neuron = model.layers[1].neurons[2]
    assert len(neuron.w) == 4 and isinstance(neuron.b, Value)
    assert neuron.parameters() == [*neuron.w, neuron.b]


def test_one_output_is_the_value_itself_several_are_a_list():
    x = [2.0, 3.0, -1.0]
    assert isinstance(MLP(3, [4, 4, 1], seed=0)(x), Value)
    out = MLP(3, [4, 2], seed=0)(x)
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(v, Value) for v in out)
    assert isinstance(Layer(3, 1, seed=0)(x), Value)
    assert isinstance(Neuron(3, seed=0)(x), Value)
    # a one-output layer inside a network feeds the next layer
    assert isinstance(MLP(3, [1, 2], seed=0)(x), list)
    # a single number is one input
    assert isinstance(MLP(1, [3, 1], seed=0)(0.5), Value)


def test_inputs_may_be_values_and_receive_gradients():
    model = MLP(3, [4, 1], seed=3)
    xs = [Value(2.0), Value(3.0), Value(-1.0)]
    out = model(xs)
    out.backward()
    assert all(x.grad != 0.0 for x in xs)
    # same numbers given plainly give the same output
    assert model([2.0, 3.0, -1.0]).data == out.data


def test_weighted_sum_is_one_fused_node():
    neuron = Neuron(3, activation="linear", seed=0)
    out = neuron([1.0, 2.0, 3.0])
    assert out._op == "dot"
    assert Neuron(3, seed=0)([1.0, 2.0, 3.0])._op == "tanh"


def test_activations_apply_the_matching_value_method():
    x = [0.3, -1.2, 2.0]
    for name in ["tanh", "relu", "sigmoid", "linear", None]:
        neuron = Neuron(3, activation=name, seed=5)
        z = neuron.b.data
        for wi, xi in zip(neuron.w, x):
            z += wi.data * xi
        expected = {
            "tanh": math.tanh(z),
            "relu": max(z, 0.0),
            "sigmoid": 1 / (1 + math.exp(-z)),
            "linear": z,
            None: z,
        }[name]
        assert neuron(x).data == pytest.approx(expected, rel=1e-15, abs=1e-15)
    assert Neuron(3, activation=None).activation == "linear"


def test_initialisation_is_uniform_minus_one_to_one():
    weights = [p.data for p in MLP(4, [50, 50, 1], seed=9).parameters()]
    assert all(-1.0 <= w <= 1.0 for w in weights)
    assert min(weights) < -0.9 and max(weights) > 0.9  # the whole range is used
    assert abs(sum(weights) / len(weights)) < 0.05


# -- seeds ----------------------------------------------------------------------------------


def test_seed_makes_weights_reproducible_and_leaves_global_rng_alone():
    state = random.getstate()
    a = MLP(3, [4, 4, 1], seed=1337).state_dict()
    b = MLP(3, [4, 4, 1], seed=1337).state_dict()
    assert random.getstate() == state
    assert a == b
    assert MLP(3, [4, 4, 1], seed=1338).state_dict() != a
    assert Layer(2, 3, seed=7).state_dict() == Layer(2, 3, seed=7).state_dict()
    assert Neuron(2, seed=7).state_dict() == Neuron(2, seed=7).state_dict()


def test_without_seed_the_global_rng_is_drawn_exactly_like_the_lecture():
    random.seed(42)
    lecture = LectureMLP(3, [4, 4, 1])
    random.seed(42)
    ours = MLP(3, [4, 4, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in lecture.parameters()]
    # and a seed gives the same draw as seeding the global generator
    assert [p.data for p in MLP(3, [4, 4, 1], seed=42).parameters()] == [
        p.data for p in lecture.parameters()
    ]


def test_bad_seed_is_a_type_error():
    with pytest.raises(TypeError, match="seed"):
        MLP(2, [1], seed="abc")
    with pytest.raises(TypeError, match="seed"):
        Neuron(2, seed=1.5)


# -- the lecture, bit for bit ---------------------------------------------------------------


def test_neuron_matches_the_lecture_neuron_bit_for_bit():
    random.seed(0)
    lecture = LectureNeuron(5)
    ours = Neuron(5)
    for p, q in zip(ours.parameters(), lecture.parameters()):
        p.data = q.data
    xs_ours = [Value(x) for x in [0.5, -1.5, 2.0, 0.25, -3.0]]
    xs_lect = [Value(x.data) for x in xs_ours]
    out_ours, out_lect = ours(xs_ours), lecture(xs_lect)
    out_ours.backward()
    out_lect.backward()
    assert out_ours.data == out_lect.data
    assert [p.grad for p in ours.parameters()] == [p.grad for p in lecture.parameters()]
    assert [x.grad for x in xs_ours] == [x.grad for x in xs_lect]


def test_mlp_matches_the_lecture_mlp_bit_for_bit_over_a_loss():
    random.seed(11)
    lecture = LectureMLP(3, [4, 4, 1])
    random.seed(11)
    ours = MLP(3, [4, 4, 1])
    losses = []
    for model in (lecture, ours):
        ypred = [model(x) for x in LECTURE_XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(LECTURE_YS, ypred))
        loss.backward()
        losses.append(loss.data)
    assert losses[0] == losses[1]
    assert [p.grad for p in ours.parameters()] == [p.grad for p in lecture.parameters()]


def test_the_lecture_training_loop_drives_the_loss_below_0_01():
    model = MLP(3, [4, 4, 1], seed=1)
    losses = []
    for _ in range(100):
        ypred = [model(x) for x in LECTURE_XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(LECTURE_YS, ypred))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data += -0.1 * p.grad
        losses.append(loss.data)
        if loss.data < 0.01:
            break
    assert losses[-1] < 0.01, losses[-5:]
    assert losses[0] > 0.5  # it really had to learn


# -- PyTorch as the oracle ------------------------------------------------------------------


def _torch_twin(model: MLP) -> torch.nn.Sequential:
    acts = {
        "tanh": torch.nn.Tanh,
        "relu": torch.nn.ReLU,
        "sigmoid": torch.nn.Sigmoid,
        "linear": torch.nn.Identity,
    }
    mods = []
    for i, layer in enumerate(model.layers):
        lin = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            lin.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        last = i == len(model.layers) - 1
        act = model.output_activation if last else model.activation
        mods += [lin, acts[act]()]
    return torch.nn.Sequential(*mods)


def _torch_grads(twin: torch.nn.Sequential) -> list[float]:
    grads = []
    for mod in twin:
        if isinstance(mod, torch.nn.Linear):
            for row, b in zip(mod.weight.grad.tolist(), mod.bias.grad.tolist()):
                grads += [*row, b]
    return grads


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(nin=3, nouts=[4, 4, 1]),
        dict(nin=2, nouts=[16, 16, 1], activation="relu", output_activation=None),
        dict(nin=3, nouts=[5, 3], activation="sigmoid", output_activation="tanh"),
    ],
)
def test_mlp_output_and_gradients_match_pytorch(kwargs):
    model = MLP(**kwargs, seed=4)
    twin = _torch_twin(model)
    rng = random.Random(8)
    xs = [[rng.uniform(-2, 2) for _ in range(model.nin)] for _ in range(6)]
    outs = [model(x) for x in xs]
    flat = [o for out in outs for o in (out if isinstance(out, list) else [out])]
    # a loss that weights every output differently, so each gradient path matters
    loss = sum(o * (0.5 + 0.25 * k) for k, o in enumerate(flat))
    loss.backward()
    t_out = twin(torch.tensor(xs, dtype=torch.float64))
    weights = 0.5 + 0.25 * torch.arange(t_out.numel(), dtype=torch.float64)
    t_loss = (t_out.reshape(-1) * weights).sum()
    t_loss.backward()
    assert [o.data for o in flat] == pytest.approx(t_out.reshape(-1).tolist(), rel=1e-12)
    assert loss.data == pytest.approx(t_loss.item(), rel=1e-12)
    grads = [p.grad for p in model.parameters()]
    assert grads == pytest.approx(_torch_grads(twin), rel=1e-12, abs=1e-14)
    assert any(g != 0 for g in grads)


# -- config, state, rebuild -------------------------------------------------------------


def test_demo_model_config_is_json_and_rebuilds():
    model = MLP(2, [16, 16, 1], activation="relu", output_activation=None, seed=1337)
    config = model.config()
    assert config == {
        "type": "MLP",
        "nin": 2,
        "nouts": [16, 16, 1],
        "activation": "relu",
        "output_activation": None,
    }
    assert model.num_parameters() == 337
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    config = json.loads(json.dumps(config))
    state = json.loads(json.dumps(model.state_dict()))
    rebuilt = from_config(config)
    assert rebuilt.state_dict() != model.state_dict()
    rebuilt.load_state_dict(state)
    x = [0.3, -0.7]
    assert rebuilt(x).data == model(x).data
    assert rebuilt.config() == model.config()


def test_default_output_activation_is_the_hidden_one():
    model = MLP(2, [3, 1], activation="relu")
    assert model.output_activation == "relu"
    assert model.config()["output_activation"] == "relu"
    assert MLP(2, [3, 1]).config()["activation"] == "tanh"


@pytest.mark.parametrize(
    "model",
    [Neuron(3, activation="sigmoid", seed=0), Layer(3, 2, activation=None, seed=0)],
)
def test_neuron_and_layer_configs_rebuild(model):
    rebuilt = from_config(json.loads(json.dumps(model.config())))
    assert type(rebuilt) is type(model)
    rebuilt.load_state_dict(model.state_dict())
    out_a, out_b = model([1.0, 2.0, 3.0]), rebuilt([1.0, 2.0, 3.0])
    flat = lambda o: [v.data for v in (o if isinstance(o, list) else [o])]  # noqa: E731
    assert flat(out_a) == flat(out_b)


def test_state_dict_values_are_floats_by_parameter_name():
    model = MLP(2, [2, 1], seed=0)
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    assert all(type(v) is float for v in state.values())
    assert state["layers.1.neurons.0.b"] == model.layers[1].neurons[0].b.data


def test_load_state_dict_errors_name_the_key_and_change_nothing():
    model = MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    good = dict(before)

    missing = dict(good)
    del missing["layers.0.neurons.1.w.0"]
    with pytest.raises(ValueError, match=r"missing .*'layers\.0\.neurons\.1\.w\.0'"):
        model.load_state_dict(missing)

    extra = {**good, "layers.5.neurons.0.b": 1.0}
    with pytest.raises(ValueError, match=r"unexpected .*'layers\.5\.neurons\.0\.b'"):
        model.load_state_dict(extra)

    for bad in ["1.0", None, True, [1.0]]:
        wrong = {k: 0.5 for k in good}
        wrong["layers.1.neurons.0.b"] = bad
        with pytest.raises(TypeError, match=r"state\['layers\.1\.neurons\.0\.b'\]"):
            model.load_state_dict(wrong)
    wrong = {k: 0.5 for k in good}
    wrong["layers.1.neurons.0.w.1"] = float("nan")
    with pytest.raises(ValueError, match=r"layers\.1\.neurons\.0\.w\.1.*finite"):
        model.load_state_dict(wrong)
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([1.0, 2.0])
    assert model.state_dict() == before  # nothing was assigned half-way

    model.load_state_dict({k: 1 for k in good})  # ints are fine
    assert all(p.data == 1.0 for p in model.parameters())


@pytest.mark.parametrize(
    "config, match",
    [
        ({"type": "Transformer"}, "unknown type 'Transformer'.*'MLP'"),
        ({"nin": 2}, "unknown type None"),
        ({"type": "MLP", "nin": 2}, "bad MLP config"),
        ({"type": "MLP", "nin": 2, "nouts": [3], "bogus": 1}, "bogus"),
        ({"type": "MLP", "nin": 2, "nouts": [3], "activation": "swish"}, "swish"),
        ({"type": "MLP", "nin": 2, "nouts": [3], "seed": 1}, "seed"),
        ({"type": "Layer", "nin": -1, "nout": 2}, "nin"),
        ("MLP", "mapping"),
    ],
)
def test_from_config_rejects_bad_configs(config, match):
    with pytest.raises(ValueError, match=match):
        from_config(config)


# -- bad input ---------------------------------------------------------------------------


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*'tanh', 'relu', 'sigmoid'"):
        MLP(2, [3, 1], activation="swish")
    with pytest.raises(ValueError, match="output_activation 'Relu'"):
        MLP(2, [3, 1], output_activation="Relu")
    with pytest.raises(ValueError, match="activation"):
        Neuron(2, activation=3)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: MLP(0, [1]), "MLP nin"),
        (lambda: MLP(2, []), "at least one"),
        (lambda: MLP(2, [3, 0]), r"nouts\[1\]"),
        (lambda: MLP(2, [3, 1.5]), r"nouts\[1\]"),
        (lambda: Layer(2, True), "nout"),
        (lambda: Neuron(-3), "Neuron nin"),
    ],
)
def test_bad_sizes_are_named(build, match):
    with pytest.raises(ValueError, match=match):
        build()
    with pytest.raises(TypeError, match="nouts"):
        MLP(2, 3)


def test_wrong_inputs_are_named():
    model = MLP(3, [4, 1], seed=0)
    with pytest.raises(ValueError, match="Layer takes 3 input"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match="Neuron takes 3 input"):
        Neuron(3, seed=0)([1.0])
    with pytest.raises(TypeError, match="inputs must be numbers or Values"):
        model([1.0, "2", 3.0])


def test_forward_under_no_grad_records_no_graph():
    model = MLP(2, [4, 1], seed=0)
    with no_grad():
        out = model([0.1, 0.2])
    assert out._prev == ()
    assert out.data == model([0.1, 0.2]).data


def test_repr_shows_shape_and_parameter_count():
    text = repr(MLP(2, [16, 16, 1], activation="relu", output_activation=None))
    assert text.startswith("MLP(2 -> [16, 16, 1], activation='relu'")
    assert "(layers.2): Layer(16 -> 1, activation='linear')" in text
    assert text.endswith("# 337 parameters")
    assert repr(Neuron(3)) == "Neuron(3, activation='tanh')  # 4 parameters"


def test_exported_lazily_from_the_package():
    assert chainrule.nn.MLP is MLP


def test_the_lecture_loop_with_library_pieces():
    from chainrule.learn.data import toy
    from chainrule.learn.losses import mse
    from chainrule.learn.optim import SGD

    xs, ys = toy()
    model = MLP(3, [4, 4, 1], seed=1)
    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(100):
        loss = mse([model(x) for x in xs], ys, reduction="sum")  # the lecture's sum of squares
        opt.zero_grad()
        loss.backward()
        opt.step()
        if loss.data < 0.01:
            break
    assert loss.data < 0.01


@pytest.mark.parametrize(
    "model",
    [
        Neuron(3, seed=0),
        Layer(4, 5, seed=0),
        MLP(3, [4, 4, 1], seed=0),
        MLP(2, [16, 16, 1], activation="relu", output_activation=None, seed=0),
    ],
)
def test_parameter_count_from_config_matches_the_built_model(model):
    assert nn.parameter_count(model.config()) == model.num_parameters()


def test_parameter_count_refuses_bad_sizes():
    with pytest.raises(ValueError, match="nouts"):
        nn.parameter_count({"type": "MLP", "nin": 2, "nouts": [4, True]})
    with pytest.raises(ValueError, match="unknown type"):
        nn.parameter_count({"type": "Conv3d"})
