"""Derivatives as functions: `grad`, `value_and_grad` and `hessian`, for Values and Tensors.

They have the shape of JAX's and HIPS autograd's.

`grad(f)` is a new function that returns df/dx. It evaluates `f` on its arguments turned into
graph leaves, then runs the backward sweep with the gradients kept aside (no `.grad` of any
node is touched, so a model captured inside `f` keeps its gradients). Each chain-rule step is
recorded (`chainrule.recorded`), so the gradient is itself a function of the inputs: that is
what lets `grad(grad(f))` work to any order. At the top level the sweep runs under `no_grad()`
and the answer is of the kind that came in: a float for a float, an array for an array; given
a Value or a Tensor (as an outer `grad` passes them in) the answer is a recorded node.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from ..autograd import enable_grad, no_grad, sweep
from ..engines import SCALAR, TENSOR, engine_of, numbers_of
from ..extras import MissingExtra
from ..value import Value

try:  # arrays become Tensors; without numpy there are no arrays to differentiate
    from ..tensor import Tensor
except MissingExtra:
    Tensor = None  # type: ignore[assignment,misc]

__all__ = ["grad", "hessian", "value_and_grad"]

Argnums = int | Sequence[int]


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """Make a function computing the gradient of the scalar function `f`.

    The gradient is taken with respect to the argument(s) `argnums` (an int, or a tuple for a
    tuple of gradients). It nests: `grad(grad(f))` is the second derivative. The answer is of
    the kind that came in: a float for a float, an array for an array, a list of floats for a
    list of numbers, a recorded node for a Value or a Tensor.

    Args:
        f: A function returning one number (a Value or a one-element Tensor), computed from
            its arguments with chainrule's operations.
        argnums: Which argument(s) to differentiate with respect to.

    Returns:
        A function taking `f`'s arguments and returning the gradient.

    Raises:
        TypeError: When called: `argnums` is not an int or a tuple of ints, an argument cannot
            be differentiated (a string, an integer array), or `f` returns something else
            than a scalar Value or Tensor.
        ValueError: When called: `argnums` is out of range, or `f` returns more than one
            number.

    Examples:
        >>> from chainrule import grad
        >>> f = lambda x: x**3
        >>> grad(f)(2.0), grad(grad(f))(2.0), grad(grad(grad(f)))(2.0)
        (12.0, 12.0, 6.0)
        >>> grad(lambda x, y: x * y + y, argnums=(0, 1))(2.0, 3.0)
        (3.0, 3.0)
    """

    @functools.wraps(f)
    def gradient(*args: Any) -> Any:
        return _value_and_grad(f, argnums, args, "grad")[1]

    gradient.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return gradient


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """Make a function returning `(f(*args), gradient)`, like `grad`, from one evaluation.

    Args:
        f: A function returning one number, computed with chainrule's operations.
        argnums: Which argument(s) to differentiate with respect to.

    Returns:
        A function taking `f`'s arguments and returning the value and the gradient.

    Raises:
        TypeError: When called, as for `grad`.
        ValueError: When called, as for `grad`.

    Examples:
        >>> from chainrule import value_and_grad
        >>> value_and_grad(lambda x: x**3)(2.0)
        (8.0, 12.0)
    """

    @functools.wraps(f)
    def both(*args: Any) -> tuple[Any, Any]:
        return _value_and_grad(f, argnums, args, "value_and_grad")

    return both


def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """Make a function computing the matrix of second derivatives of the scalar `f`.

    With respect to one argument: a 1-D Tensor or array (giving an n×n Tensor or array), or a
    list of numbers or Values (giving a list of n lists of floats), as
    `torch.autograd.functional.hessian`.

    Args:
        f: A function returning one number, computed with chainrule's operations.
        argnums: Which argument to differentiate with respect to.

    Returns:
        A function taking `f`'s arguments and returning the Hessian.

    Raises:
        ValueError: When called: the argument is not 1-D or a list, or `argnums` is out of
            range.
        TypeError: When called, as for `grad`.

    Examples:
        >>> from chainrule import hessian
        >>> hessian(lambda v: v[0] ** 2 * v[1])([1.0, 2.0])
        [[4.0, 2.0], [2.0, 0.0]]
    """

    def matrix(*args: Any) -> Any:
        (i,) = _check_argnums(argnums, len(args), "hessian")
        lifted, kind = _lift(args[i], i, "hessian")
        if kind == "list":
            xs = lifted
        elif getattr(lifted, "ndim", None) == 1:
            xs = [lifted]
        else:
            raise ValueError(
                f"hessian: argument {i} must be a 1-D tensor or array, or a list of numbers; "
                f"got shape {getattr(lifted, 'shape', ())}"
            )
        with enable_grad():
            out = _scalar_output(f(*args[:i], lifted, *args[i + 1 :]), "hessian")
            first = _sweep(out, xs, record=True)
            if kind == "list":
                return [[_as_float(g) for g in _sweep(gi, xs, record=False)] for gi in first]
            (g,) = first
            rows = [_sweep(g[j], xs, record=False)[0] for j in range(len(g))]
        import numpy as np

        H = np.stack([np.asarray(getattr(r, "data", r), dtype=g.dtype) for r in rows])
        return H if kind == "array" else type(lifted)(H)

    return matrix


# -- the machinery ----------------------------------------------------------------------------


def _value_and_grad(f: Callable[..., Any], argnums: Argnums, args: tuple, who: str) -> Any:
    nums = _check_argnums(argnums, len(args), who)
    call = list(args)
    kinds: list[str] = []
    for i in nums:
        call[i], kind = _lift(args[i], i, who)
        kinds.append(kind)
    record = "node" in kinds  # an outer grad is differentiating through this one
    with enable_grad():
        out = _scalar_output(f(*call), who)
        inputs = [x for i in nums for x in (call[i] if isinstance(call[i], list) else [call[i]])]
        grads = _sweep(out, inputs, record=record)
    rest = iter(grads)  # in the order of `inputs`: a list argument gives one per item
    results = []
    for i, kind in zip(nums, kinds):
        if kind == "list":
            results.append([_as_float(next(rest)) for _ in call[i]])
        else:
            results.append(_as_kind(next(rest), kind))
    value = out if record else _as_float(out)
    gradient = results[0] if isinstance(argnums, int) else tuple(results)
    return value, gradient


def _sweep(out: Any, inputs: list[Any], record: bool) -> list[Any]:
    """Compute d out / d input for each input, recorded as graph nodes when `record`."""
    engine = engine_of(out)
    if engine is None:  # f did not use its inputs: every derivative is zero
        return [_zero_like(x) for x in inputs]
    with enable_grad() if record else no_grad():
        edges, vjp = (lambda n: n._prev), (lambda n, g: n._vjp(g))
        _, grads = sweep(out, engine.seed(out), edges, vjp, stop=inputs)
    return [grads[id(x)] if id(x) in grads else _zero_like(x) for x in inputs]


def _check_argnums(argnums: Argnums, n: int, who: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"{who}: argnums must be an int or a tuple of ints, got {argnums!r}")
    for i in nums:
        if not -n <= i < n:
            raise ValueError(
                f"{who}: argnums={argnums!r} is out of range: the function was called with "
                f"{n} argument{'s' if n != 1 else ''} (valid: 0..{n - 1})"
            )
    return tuple(i % n for i in nums)


def _lift(x: Any, i: int, who: str) -> tuple[Any, str]:
    """Argument `i` as a graph leaf, and the kind of answer to give back for it."""
    engine = engine_of(x)
    if engine is not None:
        why = engine.why_not_differentiable(x)
        if why:
            raise TypeError(f"{who}: argument {i} is {why}")
        return engine.as_input(x), "node"
    if isinstance(x, (int, float)) and not isinstance(x, bool):  # a bool is no number here
        return Value(float(x)), "float"
    if isinstance(x, (list, tuple)):
        items = [v if engine_of(v) is SCALAR else _number(v, i, who) for v in x]
        return items, "list"
    dtype = getattr(x, "dtype", None)
    if dtype is not None and getattr(x, "shape", None) is not None:
        if dtype.kind != "f":
            raise TypeError(
                f"{who}: argument {i} is an array of dtype {dtype}, which cannot be "
                "differentiated; pass float data"
            )
        if x.shape == ():
            return Value(float(x)), "float"
        assert Tensor is not None  # an array exists, so numpy (and the tensor engine) do
        return Tensor(x, requires_grad=True), "array"
    raise TypeError(f"{who}: argument {i} is {type(x).__name__} {x!r}, not differentiable")


def _number(v: Any, i: int, who: str) -> Value:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Value(float(v))
    raise TypeError(f"{who}: argument {i} holds {type(v).__name__} {v!r}, not a number")


def _scalar_output(out: Any, who: str) -> Any:
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return out
    engine = engine_of(out)
    if engine is None:
        raise TypeError(
            f"{who}: the function must return a scalar Value or one-element Tensor, "
            f"got {type(out).__name__} {out!r}"
        )
    if out.size != 1:
        raise ValueError(
            f"{who}: the function must return a scalar (one number) to be differentiated, "
            f"but it returned a {engine.kind} of shape {out.shape}; reduce it "
            "(.sum(), .mean())"
        )
    return out


def _zero_like(x: Any) -> Any:
    engine = engine_of(x)
    return 0.0 if engine is None else engine.zeros_like(x.data)


def _as_float(g: Any) -> float:
    return numbers_of(g)[0]


def _as_kind(g: Any, kind: str) -> Any:
    """A gradient in the kind its argument came in."""
    if kind == "node":
        return g
    if kind == "float":
        return _as_float(g)
    return g.data if engine_of(g) is TENSOR else g  # "array"
