# ruff: noqa: F821  (Value, math and random are the notebook's)
# A reference solution of notebooks/00_build_it_yourself.ipynb, kept here and not in the notebook.
#
# Each section below replaces the notebook's code cell tagged `exercise:NAME` (its header line,
# `# exercise: NAME`, names the tag); tests/test_coach_notebook.py runs the notebook with them
# and expects every check to pass. This file is read as text, never imported.

# exercise: add-mul
def __add__(self, other):
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += 1.0 * out.grad
        other.grad += 1.0 * out.grad

    out._backward = _backward
    return out


def __mul__(self, other):
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


Value.__add__ = __add__
Value.__mul__ = __mul__


# exercise: backward
def backward(self):
    topo, visited, stack = [], set(), [(self, False)]
    while stack:  # the lecture's build_topo, with a stack of our own instead of recursion
        node, children_done = stack.pop()
        if children_done:
            topo.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev)
    self.grad = 1.0
    for node in reversed(topo):
        node._backward()


Value.backward = backward


# exercise: tanh
def tanh(self):
    x = self.data
    t = math.tanh(x)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


Value.tanh = tanh


# exercise: more-ops
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


def __pow__(self, k):
    if not isinstance(k, (int, float)):
        return NotImplemented  # only a plain number as the exponent
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


def relu(self):
    out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def _backward():
        self.grad += (out.data > 0) * out.grad

    out._backward = _backward
    return out


def __neg__(self):
    return self * -1


def __sub__(self, other):
    return self + (-other)


def __truediv__(self, other):
    return self * other**-1


def __radd__(self, other):
    return self + other


def __rsub__(self, other):
    return other + (-self)


def __rmul__(self, other):
    return self * other


def __rtruediv__(self, other):
    return other * self**-1


Value.exp, Value.__pow__, Value.relu = exp, __pow__, relu
Value.__neg__, Value.__sub__, Value.__truediv__ = __neg__, __sub__, __truediv__
Value.__radd__, Value.__rsub__ = __radd__, __rsub__
Value.__rmul__, Value.__rtruediv__ = __rmul__, __rtruediv__


# exercise: mlp
class Neuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0
