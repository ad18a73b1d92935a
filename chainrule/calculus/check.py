"""Check gradients against the definition of the derivative: nudge an input, watch the output.

`numerical_derivative(f, x)` is the lecture's `(f(x + h) - f(x)) / h`, or the central
difference `(f(x + h) - f(x - h)) / 2h`, whose error shrinks like h² instead of h.

`gradcheck(fn, inputs)` works like `torch.autograd.gradcheck(func, inputs)`: it calls
`fn(*inputs)` and compares what `backward()` says with central differences, for every element
of every input, so a wrong local derivative (in a custom op, say) is caught with the input, the
element and both numbers named. It returns True, or raises `GradcheckError` (whose `.report`
has the numbers); `gradcheck_report` returns those numbers without judging.

Inputs that are checked: `Value`s, and `Tensor`s with `requires_grad=True`, which must be
float64 (in float32 a central difference with eps=1e-6 is mostly rounding noise, which is why
PyTorch warns about it too). Anything else (numbers, tensors without `requires_grad`, flags) is
passed to `fn` unchanged, as PyTorch does.

What is compared (say `fn` returns outputs y_1..y_m, counting every element of a tensor output,
and the inputs have elements x_1..x_n):

* by default the whole Jacobian, entry by entry: row k from one backward pass seeded with the
  one-hot vector e_k (`y.backward()` for a Value, `y.backward(gradient=e_k)` for a tensor),
  column j from the central difference of every output in x_j. A scalar output is one row:
  the gradient itself.
* with `fast_mode=True`, the product vᵀJ for a fixed random vector v (seeded, so runs repeat):
  one backward pass seeded with v against the central difference of sum_k v_k·y_k, still for
  every input element. That is m times fewer backward passes and still catches any wrong
  element of the gradient, unless v happens to hide it (probability zero for a continuous v).

This module imports no numpy: the scalar engine works without it. Tensors are recognised only
when the tensor engine has already been imported (an object cannot be a Tensor otherwise).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..autograd import no_grad
from ..engines import Engine, engine_of, numbers_of
from ..value import Value

__all__ = [
    "GradcheckEntry",
    "GradcheckError",
    "GradcheckReport",
    "gradcheck",
    "gradcheck_report",
    "numerical_derivative",
]

# What a report prints in full; a bigger one prints its mismatches and a count of the rest.
_MAX_ROWS = 24


def numerical_derivative(
    f: Callable[[float], float | Value], x: float, h: float = 1e-6, method: str = "forward"
) -> float:
    """The slope of `f` at `x`, from two evaluations of `f`.

    `method='forward'`: `(f(x + h) - f(x)) / h`, as in the lecture (error about h·f''/2).
    `method='central'`: `(f(x + h) - f(x - h)) / (2h)` (error about h²·f'''/6): use it to check.

    Args:
        f: A function of one number; it may return a float or a `Value`.
        x: Where to take the slope.
        h: The step, a small positive number.
        method: `'forward'` or `'central'`.

    Returns:
        The slope, a float.

    Raises:
        ValueError: `h` is not a positive number, or `method` is unknown.

    Examples:
        >>> from chainrule import numerical_derivative
        >>> f = lambda x: 3 * x**2 - 4 * x + 5
        >>> round(numerical_derivative(f, 3.0), 4)  # the lecture's slope at x = 3
        14.0
        >>> numerical_derivative(lambda x: x**3, 2.0, method="central")  # 3 x**2 = 12
        12.000000000789157
    """
    if not (isinstance(h, (int, float)) and h > 0 and math.isfinite(h)):
        raise ValueError(f"the step h must be a positive number, got {h!r}")
    x = float(x)
    if method == "forward":
        return (_call(f, x + h) - _call(f, x)) / h
    if method == "central":
        return (_call(f, x + h) - _call(f, x - h)) / (2 * h)
    raise ValueError(f"method must be 'forward' or 'central', got {method!r}")


@dataclass(frozen=True)
class GradcheckEntry:
    """One compared number: what `backward()` gives and what central differences give.

    `name` is what the report prints: the input (its label, or `inputs[i]`), with the element
    index for a tensor (`W[1, 2]`). `position` is the input's place in `inputs`, `index` the
    element (None for a Value), `output` the output element this entry is the derivative of
    (None when `fn` returns one scalar, or in fast mode, where it is the projection vᵀy).

    Attributes:
        name: The input and element, as the report prints them.
        analytic: What `backward()` gives.
        numeric: What central differences give.
        abs_error: |analytic - numeric|.
        rel_error: abs_error / |numeric|.
        ok: Whether they agree within `atol + rtol·|numeric|`.
        input: The input's name (its label, or `inputs[i]`).
        position: The input's place in `inputs`.
        index: The element of a Tensor input; None for a Value.
        output: The output element this is the derivative of, or None.

    Examples:
        >>> from chainrule import Value, gradcheck_report
        >>> entry = gradcheck_report(lambda x: x * x, Value(3.0, label="x"))[0]
        >>> entry.name, round(entry.analytic, 6), round(entry.numeric, 6), entry.ok
        ('x', 6.0, 6.0, True)
    """

    name: str
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool
    input: str = ""
    position: int = 0
    index: tuple[int, ...] | None = None
    output: str | None = None


@dataclass(eq=False)
class GradcheckReport:
    """Every compared number; `ok` if all of them agree within `atol + rtol·|numeric|`.

    A sequence of `GradcheckEntry`, true when all agree; `print(report)` shows them as a table.

    Args:
        entries: The compared numbers.
        eps: The step of the central differences.
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        fast_mode: Whether vᵀJ was compared instead of the whole Jacobian.

    Examples:
        >>> from chainrule import Value, gradcheck_report
        >>> report = gradcheck_report(lambda x: x.tanh() * x, Value(0.5, label="x"))
        >>> report
        <GradcheckReport ok: 1 entries>
        >>> print(report)  # doctest: +ELLIPSIS
        input        backward         numeric    abs err    rel err
        x          0.85534102      0.85534102   ...  ok
        all gradients agree (Jacobian entries; central differences, eps=1e-06; ok when ...)
    """

    entries: list[GradcheckEntry]
    eps: float
    atol: float
    rtol: float
    fast_mode: bool = False

    @property
    def ok(self) -> bool:
        """Whether every entry agrees."""
        return all(e.ok for e in self.entries)

    @property
    def failures(self) -> list[GradcheckEntry]:
        """The entries that disagree."""
        return [e for e in self.entries if not e.ok]

    @property
    def worst(self) -> GradcheckEntry | None:
        """The mismatch with the largest absolute error (NaN counts as largest), or None."""
        failures = self.failures
        if not failures:
            return None
        return max(failures, key=lambda e: math.inf if math.isnan(e.abs_error) else e.abs_error)

    def __bool__(self) -> bool:
        """Say whether every entry agrees: `if gradcheck_report(...)`."""
        return self.ok

    def __len__(self) -> int:
        """Count the entries."""
        return len(self.entries)

    def __iter__(self):
        """Go through the entries."""
        return iter(self.entries)

    def __getitem__(self, i: int) -> GradcheckEntry:
        """Give entry `i`."""
        return self.entries[i]

    def __repr__(self) -> str:
        """Show the verdict and the number of entries."""
        return f"<GradcheckReport {'ok' if self.ok else 'FAILED'}: {len(self.entries)} entries>"

    def __str__(self) -> str:
        """Show the comparison as a table, mismatches first when it is long."""
        shown = self.entries
        if len(shown) > _MAX_ROWS:  # the mismatches first: they are what a reader looks for
            shown = (self.failures + [e for e in self.entries if e.ok])[:_MAX_ROWS]
        with_output = any(e.output is not None for e in shown)
        width = max([5, *(len(e.name) for e in shown)])
        owidth = max([6, *(len(e.output or "") for e in shown)])
        head = f"{'input':<{width}}  " + (f"{'output':<{owidth}}  " if with_output else "")
        lines = [head + f"{'backward':>14}  {'numeric':>14}  {'abs err':>9}  {'rel err':>9}"]
        for e in shown:
            out = f"{e.output or '':<{owidth}}  " if with_output else ""
            lines.append(
                f"{e.name:<{width}}  {out}{e.analytic:>14.8g}  {e.numeric:>14.8g}  "
                f"{e.abs_error:>9.2e}  {e.rel_error:>9.2e}  {'ok' if e.ok else 'MISMATCH'}"
            )
        if len(shown) < len(self.entries):
            hidden = len(self.entries) - len(shown)
            hidden_bad = len(self.failures) - sum(not e.ok for e in shown)
            lines.append(
                f"... {hidden} more entries"
                + (f", {hidden_bad} of them mismatched" if hidden_bad else ", all ok")
            )
        verdict = "all gradients agree" if self.ok else f"{len(self.failures)} mismatch(es)"
        what = "vᵀ·Jacobian for a random v" if self.fast_mode else "Jacobian entries"
        lines.append(
            f"{verdict} ({what}; central differences, eps={self.eps:g}; "
            f"ok when abs err <= {self.atol:g} + {self.rtol:g}·|numeric|)"
        )
        return "\n".join(lines)


class GradcheckError(AssertionError):
    """`backward()` and the numerical derivative disagree; `report` has every compared number.

    Args:
        message: What disagrees: the input, the element and both numbers.
        report: The whole comparison, a `GradcheckReport`.

    Examples:
        >>> from chainrule import Value, gradcheck, GradcheckError
        >>> forgot = lambda x: Value(x.data**2, (x,), "square")  # an op with no derivative
        >>> try:
        ...     gradcheck(forgot, Value(3.0, label="x"))
        ... except GradcheckError as err:
        ...     worst = err.report.worst
        >>> worst.name, worst.analytic, round(worst.numeric, 6)
        ('x', 0.0, 6.0)
    """

    def __init__(self, message: str, report: GradcheckReport) -> None:
        super().__init__(message)
        self.report = report


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
) -> bool:
    """Check that `backward()` through `fn(*inputs)` agrees with central differences.

    As `torch.autograd.gradcheck(func, inputs)`: `inputs` is a tuple or list (one Value or
    Tensor alone is wrapped in a tuple) and `fn` is called as `fn(*inputs)`; it returns a
    Value, a Tensor, or a tuple/list of them. Every Value and every float64 Tensor with
    `requires_grad=True` among the inputs is checked element by element (a float32 one is
    refused); other inputs are passed through. The defaults are PyTorch's: eps=1e-6,
    atol=1e-5, rtol=1e-3, and an entry agrees when `|analytic - numeric| <= atol +
    rtol·|numeric|`. See the module notes for what `fast_mode` compares.

    The inputs are copied, so the caller's Values and Tensors and their grads are left alone.
    On a mismatch this raises `GradcheckError` naming the input (label and position), the
    element and both numbers, with the full comparison in `err.report`; with
    `raise_exception=False` it returns False instead.

    Args:
        fn: The function to check; returns a Value, a Tensor, or a tuple or list of them.
        inputs: A tuple or list of its arguments (or one Value or Tensor).
        eps: The step of the central differences.
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        raise_exception: Raise on a mismatch (else return False).
        fast_mode: Compare vᵀJ for a random v instead of the whole Jacobian.

    Returns:
        True when every derivative agrees; False on a mismatch if `raise_exception=False`.

    Raises:
        GradcheckError: A derivative disagrees (with `raise_exception=True`).
        ValueError: A tolerance or `eps` is not a usable number.
        TypeError: A float32 tensor among the inputs, or `fn` returns something that is not
            computed from them.

    Examples:
        >>> from chainrule import Value, gradcheck
        >>> gradcheck(lambda x: x.tanh(), Value(0.5))
        True
        >>> def bad_square(x):  # an op written the lecture's way, with a wrong derivative
        ...     out = Value(x.data**2, (x,), "bad_square")
        ...     def _backward():
        ...         x.grad += x.data * out.grad  # should be 2 * x.data
        ...     out._backward = _backward
        ...     return out
        >>> gradcheck(bad_square, Value(3.0, label="x"))
        Traceback (most recent call last):
        ...
        chainrule.calculus.check.GradcheckError: gradcheck failed for input 'x' (inputs[0]):
        backward() gives 3, central differences give 6.000000001 (abs error 3, ...)
    """
    report = gradcheck_report(fn, inputs, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode)
    if report.ok or not raise_exception:
        return report.ok
    raise GradcheckError(_failure_message(report), report)


def gradcheck_report(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
) -> GradcheckReport:
    """Give the numbers `gradcheck` compares, as a `GradcheckReport`, agreeing or not.

    Same arguments as `gradcheck`; `print(report)` shows a table, `report.ok` the verdict.

    Args:
        fn: The function to check; returns a Value, a Tensor, or a tuple or list of them.
        inputs: A tuple or list of its arguments (or one Value or Tensor).
        eps: The step of the central differences.
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        fast_mode: Compare vᵀJ for a random v instead of the whole Jacobian.

    Returns:
        The report, one entry per compared number.

    Raises:
        ValueError: A tolerance or `eps` is not a usable number.
        TypeError: A float32 tensor among the inputs, or `fn` returns something that is not
            computed from them.

    Examples:
        >>> from chainrule import Value, gradcheck_report
        >>> a, b = Value(2.0, label="a"), Value(-1.0, label="b")
        >>> report = gradcheck_report(lambda a, b: a * b + b.exp(), (a, b))
        >>> [(e.name, round(e.analytic, 6)) for e in report]
        [('a', -1.0), ('b', 2.367879)]
        >>> report.ok, report.worst
        (True, None)
    """
    for what, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if not isinstance(v, (int, float)) or not v >= 0 or not math.isfinite(v):
            raise ValueError(f"gradcheck: {what} must be a non-negative number, got {v!r}")
    if eps == 0:
        raise ValueError("gradcheck: eps must be positive")
    args = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    slots = _checked_inputs(args)

    # the analytic side: one forward pass, then one backward pass per row (or one, projected)
    leaves = _fresh(args, slots)
    result = fn(*leaves)
    outputs = _outputs(result)
    out_names = _output_names(outputs, single=not isinstance(result, (tuple, list)))
    total = sum(y.size for y in outputs)
    if fast_mode:
        rng = random.Random(0)
        direction = [rng.uniform(-1.0, 1.0) for _ in range(total)]
        seeds = [direction]
    else:  # row k of the Jacobian, seeded with the one-hot vector e_k
        seeds = [[float(i == k) for i in range(total)] for k in range(total)]
    rows = [_vjp(leaves, slots, outputs, v) for v in seeds]

    # the numeric side: every input element nudged both ways, every output read
    leaves = _fresh(args, slots)
    entries = []
    for s, (pos, label) in enumerate(slots):
        leaf = leaves[pos]
        array = hasattr(leaf.data, "shape")  # a Tensor's elements are indexed, a Value's is not
        for j in range(leaf.size):
            index = _unravel(j, leaf.shape) if array else None
            x = float(leaf.data if index is None else leaf.data[index])
            _set(leaf, index, x + eps)
            plus = _evaluate(fn, leaves, total)
            _set(leaf, index, x - eps)
            minus = _evaluate(fn, leaves, total)
            _set(leaf, index, x)
            column = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
            name = label if index is None else f"{label}[{', '.join(map(str, index))}]"
            if fast_mode:
                numeric = math.fsum(vk * ck for vk, ck in zip(direction, column))
                pairs: list[tuple[str | None, float, float]] = [(None, rows[0][s][j], numeric)]
            else:
                pairs = [(out_names[k], rows[k][s][j], column[k]) for k in range(total)]
            for output, analytic, numeric in pairs:
                err = abs(analytic - numeric)
                scale = max(abs(analytic), abs(numeric))
                rel = err / scale if scale > 0 else 0.0
                ok = err <= atol + rtol * abs(numeric)  # False for NaN, as it should be
                entries.append(
                    GradcheckEntry(name, analytic, numeric, err, rel, ok, label, pos, index, output)
                )
    return GradcheckReport(entries, eps, atol, rtol, fast_mode=fast_mode)


# -- the pieces ------------------------------------------------------------------------------


def _call(f: Callable[[float], float | Value], x: float) -> float:
    return numbers_of(f(x))[0]


def _checked_inputs(args: tuple[Any, ...]) -> list[tuple[int, str]]:
    """(position, name) of every input to check; a float32 tensor is refused."""
    slots = []
    for i, x in enumerate(args):
        name = getattr(x, "label", "") or f"inputs[{i}]"
        if engine_of(x) is None or not x.requires_grad:
            continue
        dtype = getattr(x.data, "dtype", None)  # an array's; a Value holds a Python float
        if dtype is not None and str(dtype) != "float64":
            raise TypeError(
                f"gradcheck: {_describe(name, i)} is a {dtype} tensor; central differences in "
                f"{dtype} are mostly rounding error, so gradients are checked in float64 "
                "(PyTorch's gradcheck warns about this too): make it "
                "Tensor(data, dtype=np.float64, requires_grad=True)"
            )
        slots.append((i, name))
    if not slots:
        raise ValueError(
            "gradcheck needs at least one input to check: a Value, or a float64 Tensor with "
            f"requires_grad=True (got {len(args)} input(s), none of them one)"
        )
    return slots


def _fresh(args: tuple[Any, ...], slots: list[tuple[int, str]]) -> list[Any]:
    """The inputs, with every checked one replaced by a new leaf holding a copy of its data."""
    leaves = list(args)
    for pos, _ in slots:
        leaves[pos] = _engine(args[pos]).leaf(args[pos])
    return leaves


def _outputs(result: Any) -> list[Any]:
    """`fn`'s outputs as a list, each one a Value or a Tensor."""
    single = not isinstance(result, (tuple, list))
    outputs = [result] if single else list(result)
    if not outputs:
        raise TypeError("gradcheck: fn returned an empty tuple; it must return at least one output")
    for o, y in enumerate(outputs):
        if engine_of(y) is None:
            where = "fn" if single else f"output {o} of fn"
            raise TypeError(
                f"gradcheck: {where} must be a Value or a Tensor computed from the inputs, got "
                f"{type(y).__name__} {y!r}"
            )
    return outputs


def _output_names(outputs: list[Any], single: bool) -> list[str | None]:
    """Name each output element, as the report prints it.

    Named once, for the analytic side, not again for every nudged evaluation.
    """
    names: list[str | None] = []
    for o, y in enumerate(outputs):
        base = "out" if single else f"outputs[{o}]"
        if not y.shape or (single and y.size == 1):
            names.append(None if single else base)
            continue
        for j in range(y.size):
            names.append(f"{base}[{', '.join(map(str, _unravel(j, y.shape)))}]")
    return names


def _vjp(
    leaves: list[Any], slots: list[tuple[int, str]], outputs: list[Any], v: list[float]
) -> list[list[float]]:
    """vᵀJ by backward passes seeded with v: per checked input, one number per element."""
    for pos, _ in slots:
        leaves[pos].zero_grad()
    start = 0
    for y in outputs:
        seed = v[start : start + y.size]
        start += y.size
        if not any(seed):
            continue
        _engine(y).backward(y, seed)
    return [_engine(leaves[pos]).grads(leaves[pos]) for pos, _ in slots]


def _evaluate(fn: Callable[..., Any], leaves: list[Any], total: int) -> list[float]:
    """Every output element of `fn(*leaves)` as a float, computed without recording a graph."""
    with no_grad():
        outputs = _outputs(fn(*leaves))
    values = [v for y in outputs for v in numbers_of(y)]
    if len(values) != total:
        raise ValueError(
            f"gradcheck: fn returned {len(values)} output elements after an input was nudged, "
            f"{total} before: its outputs must not change shape"
        )
    return values


def _failure_message(report: GradcheckReport) -> str:
    worst = report.worst
    assert worst is not None
    where = _describe(worst.input, worst.position)
    if worst.index is not None:
        where += f", element [{', '.join(map(str, worst.index))}]"
    if worst.output is not None:
        where += f", derivative of {worst.output}"
    elif report.fast_mode:
        where += ", projected on a random v"
    others = len(report.failures) - 1
    return (
        f"gradcheck failed for {where}: backward() gives {worst.analytic:.10g}, central "
        f"differences give {worst.numeric:.10g} (abs error {worst.abs_error:.3g}, "
        f"allowed {report.atol:g} + {report.rtol:g}·|numeric|)"
        + (f"; {others} more entries disagree, see .report" if others else "")
    )


def _describe(name: str, position: int) -> str:
    positional = f"inputs[{position}]"
    return f"input {positional}" if name == positional else f"input {name!r} ({positional})"


def _engine(x: Any) -> Engine:
    """The engine of a node already known to be one.

    It is found by the node's type, so a subclass of Value (a learner's own) is checked by
    the scalar engine too.
    """
    engine = engine_of(x)
    assert engine is not None
    return engine


def _unravel(j: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of the j-th element, in C order (numpy's unravel_index, without numpy)."""
    index = []
    for n in reversed(shape):
        j, i = divmod(j, n)
        index.append(i)
    return tuple(reversed(index))


def _set(leaf: Any, index: tuple[int, ...] | None, x: float) -> None:
    if index is None:
        leaf.data = x
    else:
        leaf.data[index] = x
