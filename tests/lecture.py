"""The lecture's example graphs, built as the lecture builds them, for several test files."""

from chainrule import Value


def lecture_L():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c, f = Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, dict(a=a, b=b, c=c, d=d, e=e, f=f)


def lecture_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b)


def lecture_cube(a, factor=3):
    """x³ as the lecture writes a new op: a fresh Value and a `_backward` closure.

    `factor=2` gives the closure a wrong local derivative, 2a² for 3a², as a custom op goes wrong.
    """
    out = Value(a.data**3, (a,), "cube")

    def _backward():
        a.grad += factor * a.data**2 * out.grad

    out._backward = _backward
    return out
