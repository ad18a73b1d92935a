"""Check gradients against the definition of the derivative: nudge an input, watch the output.

`numerical_derivative(f, x)` is the lecture's `(f(x + h) - f(x)) / h`, or the central
difference `(f(x + h) - f(x - h)) / 2h`, whose error shrinks like h² instead of h. `gradcheck`
compares what `backward()` says about every input with central differences, so a wrong local
derivative (in a custom op, say) is caught with the input and both numbers named.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .autograd import no_grad
from .engine import Value

__all__ = [
    "GradcheckEntry",
    "GradcheckError",
    "GradcheckReport",
    "gradcheck",
    "numerical_derivative",
]


def numerical_derivative(
    f: Callable[[float], float | Value], x: float, h: float = 1e-6, method: str = "forward"
) -> float:
    """The slope of `f` at `x`, from two evaluations of `f`.

    `method='forward'`: `(f(x + h) - f(x)) / h`, as in the lecture (error about h·f''/2).
    `method='central'`: `(f(x + h) - f(x - h)) / (2h)` (error about h²·f'''/6): use it to check.
    `f` may return a float or a `Value`.
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
    """One input: the gradient `backward()` gives and the one central differences give."""

    name: str
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool


class GradcheckReport:
    """Per-input comparison of analytic and numeric gradients; `ok` if every input agrees."""

    def __init__(self, entries: list[GradcheckEntry], eps: float, atol: float, rtol: float):
        self.entries = entries
        self.eps, self.atol, self.rtol = eps, atol, rtol

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)

    @property
    def failures(self) -> list[GradcheckEntry]:
        return [e for e in self.entries if not e.ok]

    def __bool__(self) -> bool:
        return self.ok

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def __getitem__(self, i: int) -> GradcheckEntry:
        return self.entries[i]

    def __repr__(self) -> str:
        return f"<GradcheckReport {'ok' if self.ok else 'FAILED'}: {len(self.entries)} inputs>"

    def __str__(self) -> str:
        width = max([5, *(len(e.name) for e in self.entries)])
        lines = [
            f"{'input':<{width}}  {'backward':>14}  {'numeric':>14}  {'abs err':>9}  {'rel err':>9}"
        ]
        for e in self.entries:
            lines.append(
                f"{e.name:<{width}}  {e.analytic:>14.8g}  {e.numeric:>14.8g}  "
                f"{e.abs_error:>9.2e}  {e.rel_error:>9.2e}  {'ok' if e.ok else 'MISMATCH'}"
            )
        verdict = "all gradients agree" if self.ok else f"{len(self.failures)} mismatch(es)"
        lines.append(
            f"{verdict} (central differences, eps={self.eps:g}; "
            f"ok when abs err <= {self.atol:g} + {self.rtol:g}·|numeric|)"
        )
        return "\n".join(lines)


class GradcheckError(AssertionError):
    """backward() and the numerical derivative disagree; `report` has every input's numbers."""

    def __init__(self, message: str, report: GradcheckReport) -> None:
        super().__init__(message)
        self.report = report


def gradcheck(
    fn: Callable[[list[Value]], Value],
    inputs: Sequence[Value | float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    raise_on_mismatch: bool = True,
) -> GradcheckReport:
    """Compare d fn / d input from `backward()` with central differences, for every input.

    `fn` takes a list of Values (one per entry of `inputs`) and returns one Value. The inputs
    are copied, so the caller's Values and their grads are left as they were. An input is ok
    when `|analytic - numeric| <= atol + rtol * |numeric|`. On a mismatch this raises
    `GradcheckError` naming the input(s) and both numbers, unless `raise_on_mismatch=False`.
    """
    for what, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if not isinstance(v, (int, float)) or not v >= 0 or not math.isfinite(v):
            raise ValueError(f"gradcheck: {what} must be a non-negative number, got {v!r}")
    if eps == 0:
        raise ValueError("gradcheck: eps must be positive")
    if not inputs:
        raise ValueError("gradcheck needs at least one input")
    names, points = [], []
    for i, v in enumerate(inputs):
        if isinstance(v, Value):
            names.append(v.label or f"inputs[{i}]")
            points.append(float(v.data))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            names.append(f"inputs[{i}]")
            points.append(float(v))
        else:
            raise TypeError(f"gradcheck: inputs[{i}] must be a Value or a number, got {v!r}")

    leaves = [Value(x, label=n) for x, n in zip(points, names)]
    out = _output(fn, leaves)
    out.backward()
    analytic = [leaf.grad for leaf in leaves]

    entries = []
    for i, (name, x) in enumerate(zip(names, points)):

        def f_i(t: float, i: int = i) -> float:
            moved = [
                Value(t if j == i else p, label=n) for j, (p, n) in enumerate(zip(points, names))
            ]
            with no_grad():
                return float(_output(fn, moved).data)

        numeric = numerical_derivative(f_i, x, h=eps, method="central")
        err = abs(analytic[i] - numeric)
        scale = max(abs(analytic[i]), abs(numeric))
        rel = err / scale if scale > 0 else 0.0
        ok = err <= atol + rtol * abs(numeric)  # False for NaN, as it should be
        entries.append(GradcheckEntry(name, analytic[i], numeric, err, rel, ok))
    report = GradcheckReport(entries, eps, atol, rtol)
    if raise_on_mismatch and not report.ok:
        worst = max(
            report.failures, key=lambda e: math.inf if math.isnan(e.abs_error) else e.abs_error
        )
        others = len(report.failures) - 1
        raise GradcheckError(
            f"gradcheck failed for {worst.name}: backward() gives {worst.analytic:.10g}, central "
            f"differences give {worst.numeric:.10g} (abs error {worst.abs_error:.3g}, "
            f"allowed {atol:g} + {rtol:g}·|numeric|)"
            + (f"; {others} more input(s) disagree, see .report" if others else ""),
            report,
        )
    return report


def _call(f: Callable[[float], float | Value], x: float) -> float:
    y = f(x)
    return float(y.data if isinstance(y, Value) else y)


def _output(fn: Callable[[list[Value]], Value], leaves: list[Value]) -> Value:
    out = fn(leaves)
    if not isinstance(out, Value):
        raise TypeError(
            f"gradcheck: fn must return a Value computed from its inputs, got "
            f"{type(out).__name__} {out!r}"
        )
    return out
