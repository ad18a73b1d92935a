"""A learner's Neuron, Layer and MLP written the lecture's way, on tests/coach/lecture_engine.py:
check_mlp must pass them. FORGETFUL_MLP is the same with a zero_grad() that resets nothing."""

import random

from lecture_engine import Value


class Neuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class ForgetfulMLP(MLP):
    """zero_grad() zeroes copies of the parameters, not the parameters themselves."""

    def zero_grad(self):
        for p in [Value(p.data) for p in self.parameters()]:
            p.grad = 0.0


class NoBiasMLP(MLP):
    def parameters(self):
        return [w for layer in self.layers for n in layer.neurons for w in n.w]
