"""draw_dot of the lecture's models: every weight, bias and input labeled, and the neuron drawn
unfused (one `*` and one `+` per input) as the lecture's code builds it and its video shows it."""

import re
from collections import Counter

from chainrule import Value, draw_dot
from chainrule.nn import MLP, Layer, Neuron
from chainrule.viz import save_graph
from chainrule.viz.graph import describe, source

RECORD = re.compile(r'^\t(\w+) \[label="\{ (.*?) \| (data [^|]*) \| (grad [^}]*) \}"', re.M)
OVAL = re.compile(r"^\t(\w+) \[label=(\S+|\"[^\"]*\") height=0.3 shape=ellipse\]", re.M)


def boxes(graph):
    """(id, label, data, grad) of every record in the DOT source."""
    return [m.groups() for m in RECORD.finditer(graph.source)]


def ovals(graph):
    return [m.group(2).strip('"') for m in OVAL.finditer(graph.source)]


def test_every_weight_bias_and_input_of_an_mlp_is_labeled():
    model = MLP(2, [3, 1], seed=0)
    out = model([0.5, -1.5])
    out.backward()
    drawn = boxes(draw_dot(out))
    labels = {label for _, label, _, _ in drawn}
    weights = {f"L1.n{j}.w{i}" for j in (1, 2, 3) for i in (1, 2)} | {"L2.n1.w1", "L2.n1.w3"}
    biases = {"L1.n1.b", "L1.n3.b", "L2.n1.b"}
    assert weights | biases | {"x1", "x2"} <= labels
    # every leaf of the picture has a name: 9 + 4 parameters and the 2 inputs
    leaves = [box for box in drawn if box[1]]
    assert len(leaves) == model.num_parameters() + 2 == 15
    # the labels say where each parameter lives (counted from 1, as x1 and w1 are)
    assert model.layers[1].neurons[0].w[2].label == "L2.n1.w3"
    assert model.layers[0].neurons[2].b.label == "L1.n3.b"


def test_lone_neurons_and_layers_and_the_users_own_values():
    neuron = Neuron(2, seed=1)
    assert [p.label for p in neuron.parameters()] == ["w1", "w2", "b"]
    layer = Layer(2, 2, seed=1)
    assert [p.label for p in layer.parameters()][:3] == ["n1.w1", "n1.w2", "n1.b"]
    mine = Value(3.0, label="height")
    out = neuron([mine, 2.0])
    labels = {label for _, label, _, _ in boxes(draw_dot(out))}
    assert "height" in labels and "x2" in labels and "x1" not in labels  # a Value keeps its own


def test_unfused_neuron_is_the_lectures_own_graph():
    neuron = Neuron(3, seed=2)
    xs = [2.0, -1.0, 0.5]
    out = neuron(xs)
    out.backward()
    # the lecture's Neuron: sum((wi*xi for wi, xi in zip(self.w, x)), self.b).tanh()
    w = [Value(p.data, label=p.label) for p in neuron.w]
    b = Value(neuron.b.data, label="b")
    x = [Value(v, label=f"x{i}") for i, v in enumerate(xs, 1)]
    lecture = sum((wi * xi for wi, xi in zip(w, x)), b).tanh()
    lecture.backward()
    assert lecture.data == out.data  # the fused node is the lecture's sum to the last bit
    unfused, theirs = draw_dot(out, unfused=True), draw_dot(lecture)
    assert Counter(ovals(unfused)) == Counter(ovals(theirs)) == Counter({"*": 3, "+": 3, "tanh": 1})
    # the same boxes: the same labels, values and gradients (ids differ: the order of the walk)
    assert Counter(b[1:] for b in boxes(unfused)) == Counter(b[1:] for b in boxes(theirs))
    assert "Σ w·x + b" not in unfused.source and "Σ w·x + b" in draw_dot(out).source


def test_unfused_mlp_draws_a_star_and_a_plus_per_input():
    model = MLP(3, [4, 4, 1], seed=1)
    out = model([2.0, 3.0, -1.0])
    out.backward()
    counts = Counter(ovals(draw_dot(out, unfused=True)))
    inputs = 3 * 4 + 4 * 4 + 4 * 1  # one * and one + for each weight
    assert counts == Counter({"*": inputs, "+": inputs, "tanh": 9})
    assert model.layers[0].neurons[0].w[0].grad != 0  # only the picture changed: grads are there


def test_unfused_changes_nothing_without_a_fused_neuron(tmp_path):
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = (a * b + 1.0).tanh()
    assert draw_dot(L, unfused=True).source == draw_dot(L).source
    # the still picture is the walk the animations use, unfused or not
    picture = describe(Neuron(2, seed=0)([1.0, 2.0]), unfused=True)
    assert source(picture, ids=False) == draw_dot(picture.root, unfused=True).source
    saved = save_graph(picture.root, tmp_path / "n.dot", unfused=True)
    assert saved.read_text().count("shape=ellipse") == 5  # two *, two +, tanh
