"""Mutants of tests/coach/lecture_engine.py: one known mistake each, made by editing one marked
line (or the backward() method), and the id of the mistake the coach must name for it.

Each entry: mistake id -> (the marked line's tag, its replacement); the replacement keeps the
line's indentation. `source(mistake)` gives the mutant's code, `load(mistake)` its Value.
"""

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = (HERE / "lecture_engine.py").read_text()

# backward() written without a topological sort, recursing into the children (`_prev`)
RECURSIVE_BACKWARD = """    def backward(self):
        self.grad = 1.0
        self._visit()

    def _visit(self):
        self._backward()
        for child in self._prev:
            child._visit()
"""

MUTANTS = {
    "assign:add": [
        ("add-self", "self.grad = 1.0 * out.grad"),
        ("add-other", "other.grad = 1.0 * out.grad"),
    ],
    "assign:mul": [
        ("mul-self", "self.grad = other.data * out.grad"),
        ("mul-other", "other.grad = self.data * out.grad"),
    ],
    "operand:mul": [
        ("mul-self", "self.grad += self.data * out.grad"),
        ("mul-other", "other.grad += other.data * out.grad"),
    ],
    "minus_one:pow": [("pow", "self.grad += other * self.data**other * out.grad")],
    "one_minus_t:tanh": [("tanh", "self.grad += (1 - t) * out.grad")],
    "relu_pass:relu": [("relu", "self.grad += (out.data >= 0) * out.grad")],
    "exp_input:exp": [("exp", "self.grad += self.data * out.grad")],
    "no_upstream:mul": [
        ("mul-self", "self.grad += other.data"),
        ("mul-other", "other.grad += self.data"),
    ],
    "no_upstream:tanh": [("tanh", "self.grad += 1 - t**2")],
    "no_backward:add": [("add-assign", "pass")],
    "forward_order": [("order", "for node in topo:")],
    "no_seed": [("seed", "pass")],
    "recursive": "recursive",
    # the same recursion over a tuple of children: b = a + a visits b twice
    "recursive-tuple": "recursive-tuple",
    # backward() that clears every gradient first: the leaves no longer add up over calls
    "reset": [("seed", "self.grad = 1.0; [setattr(v, 'grad', 0.0) for v in topo[:-1]]")],
    "no_upstream:add": [
        ("add-self", "self.grad += 1.0"),
        ("add-other", "other.grad += 1.0"),
    ],
    "no_backward:mul": "no_backward:mul",
    "assign:mul-one-side": [("mul-other", "other.grad = self.data * out.grad")],
    "operand:mul-one-side": [("mul-self", "self.grad += self.data * out.grad")],
}

# The mistake the coach must name for each mutant (its key, unless said here).
NAMED = {
    "recursive-tuple": "recursive",
    "no_backward:mul": "no_backward:mul",
    "assign:mul-one-side": "assign:mul",
    "operand:mul-one-side": "operand:mul",
}


def source(mistake):
    """The lecture engine with `mistake` made in it."""
    edits = MUTANTS[mistake]
    if edits in ("recursive", "recursive-tuple"):
        start = BASE.index("    def backward(self):")
        end = BASE.index("    def zero_grad(self):")
        text = BASE[:start] + RECURSIVE_BACKWARD + "\n" + BASE[end:]
        if edits == "recursive-tuple":
            text = text.replace("self._prev = set(_children)", "self._prev = tuple(_children)")
        return text
    if edits == "no_backward:mul":  # __mul__ never sets out._backward
        marker = '        out = Value(self.data * other.data, (self, other), "*")'
        start = BASE.index(marker) + len(marker)
        end = BASE.index("        return out", start)
        return BASE[:start] + "\n" + BASE[end:]
    text = BASE
    for tag, replacement in edits:
        pattern = re.compile(rf"^(\s*)(.*)  # {re.escape(tag)}$", re.M)
        text, n = pattern.subn(lambda m, new=replacement: f"{m.group(1)}{new}", text)
        assert n == 1, f"the tag {tag} marks {n} lines"
    return text


def load(mistake=None):
    """The Value class of the engine with `mistake` (None: the right engine)."""
    namespace = {"__name__": f"mutant_{mistake}"}
    exec(compile(source(mistake) if mistake else BASE, f"<mutant {mistake}>", "exec"), namespace)
    return namespace["Value"]
