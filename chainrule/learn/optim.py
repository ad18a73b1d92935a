"""Optimizers and learning-rate schedules, with PyTorch's names and exact update rules.

The lecture updates by hand: `p.data += -0.1 * p.grad` for every parameter. An optimizer is
that loop, kept in an object so it can remember things between steps (a momentum buffer,
Adam's running averages) and so the learning rate can change over time (a schedule).

Optimizers read only `p.grad` and write only `p.data`, with arithmetic that means the same for
a Python float and a numpy array, so one optimizer serves both engines: scalar `Value`s and
`Tensor`s (whose `grad` is an array, or None before the first backward: such parameters are
skipped, as in PyTorch). Array parameters are updated in place (`p.data -= ...`). The little
that differs (what "no gradient" is, a square root, a buffer of zeros) is asked of each
parameter's engine adapter (`chainrule.engines`).

    opt = SGD(model.parameters(), lr=0.1)
    sched = LinearDecayLR(opt, total_steps=100)   # micrograd's 1.0 - 0.9*k/100
    for k in range(100):
        loss = ...
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from ..engines import is_parameter, parameter_engine
from ..nn import Module, check_number, check_size

__all__ = [
    "SCHEDULES", "SGD", "Adam", "ConstantLR", "CosineAnnealingLR", "LRScheduler", "LinearDecayLR",
    "OPTIMIZERS", "Optimizer", "get_optimizer", "get_scheduler",
]  # fmt: skip


# -- checks ------------------------------------------------------------------------------


def _number(value: Any, who: str, name: str, low: float = 0.0, below: float | None = None) -> float:
    """Check a finite real number >= low (and < below, if given), else a ValueError naming it."""
    bound = f"in [{low}, {below})" if below is not None else f">= {low}"
    ok = lambda v: v >= low and (below is None or v < below)  # noqa: E731
    return float(check_number(value, f"{who}: {name}", ok, f"a number {bound}"))


def _whole(value: Any, what: str) -> int:
    return int(check_number(value, what, lambda v: v >= 0, "an integer >= 0", whole=True))


def _param_list(params: object, who: str) -> list[Any]:
    if isinstance(params, Module):
        params = params.parameters()
    if is_parameter(params) or not isinstance(params, Iterable):
        raise TypeError(
            f"{who}: params must be an iterable of parameters (e.g. model.parameters()), "
            f"got {type(params).__name__}"
        )
    out = list(params)
    if not out:
        raise ValueError(f"{who}: got an empty parameter list")
    seen: dict[int, int] = {}
    for i, p in enumerate(out):
        if not (hasattr(p, "data") and hasattr(p, "grad")):
            raise TypeError(f"{who}: params[{i}] has no .data/.grad, got {type(p).__name__}")
        if id(p) in seen:
            raise ValueError(f"{who}: params[{i}] is the same parameter as params[{seen[id(p)]}]")
        seen[id(p)] = i
    return out


# -- optimizers --------------------------------------------------------------------------


class Optimizer:
    """Holds the parameters and the learning rate; subclasses define `step()`.

    Args:
        params: The parameters to update (`model.parameters()`), or a model.
        lr: The learning rate, a number >= 0.

    Attributes:
        params: The parameters, in the order given.
        state: Per parameter, what the optimizer keeps between steps (momentum, averages).

    Raises:
        TypeError: `params` is not an iterable of parameters.
        ValueError: `params` is empty or lists a parameter twice, or `lr` is not a number
            >= 0.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import Optimizer
        >>> class SignDescent(Optimizer):  # steps by lr in the direction of -sign(grad)
        ...     def step(self):
        ...         for p in self.params:
        ...             p.data -= self.lr * (p.grad > 0) - self.lr * (p.grad < 0)
        >>> w = Value(1.0)
        >>> (w * w).backward()
        >>> SignDescent([w], lr=0.25).step()
        >>> w.data
        0.75
    """

    def __init__(self, params: Iterable[Any], lr: float) -> None:
        self.params = _param_list(params, type(self).__name__)
        self.lr = lr
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self._engines = [parameter_engine(p) for p in self.params]

    @property
    def lr(self) -> float:
        """The learning rate of the next `step()` (a schedule sets it between steps)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _number(value, type(self).__name__, "lr")

    def zero_grad(self) -> None:
        """Forget the last gradients: 0.0 for Values (they accumulate), None for Tensors."""
        for p, engine in zip(self.params, self._engines):
            engine.zero_grad(p)

    def step(self) -> None:
        """Update every parameter that has a gradient, once (each optimizer says how)."""
        raise NotImplementedError

    # The settings `repr` shows, where they are set (not 0, not False).
    _shown: tuple[str, ...] = ()

    def __repr__(self) -> str:
        """Show the class, how many parameters, the lr and the settings that are set."""
        shown = "".join(f", {k}={getattr(self, k)}" for k in self._shown if getattr(self, k))
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self._lr}{shown})"

    def _gradients(self, weight_decay: float) -> Iterator[tuple[Any, dict[str, Any], Any, Any]]:
        """Yield (parameter, state, gradient + weight_decay * weight, engine) for each one.

        Only the parameters that have a gradient: the part of `step()` every optimizer shares
        (L2 as PyTorch adds it, into the gradient).
        """
        for p, state, engine in zip(self.params, self.state, self._engines):
            g = p.grad
            if g is None:
                continue
            yield p, state, (g + weight_decay * p.data if weight_decay else g), engine


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, weight decay and Nesterov.

    With the defaults one step is the lecture's `p.data += -lr * p.grad`. Otherwise each step
    is PyTorch's `torch.optim.SGD`, for each parameter p with gradient g:

        g = g + weight_decay * p                       (L2 penalty folded into the gradient)
        b = g on the first step, else momentum * b + (1 - dampening) * g
        g = g + momentum * b if nesterov else b        (only when momentum != 0)
        p = p - lr * g

    Args:
        params: The parameters to update (`model.parameters()`), or a model.
        lr: The learning rate.
        momentum: The momentum factor (0: none).
        weight_decay: The L2 penalty folded into the gradient.
        nesterov: Use Nesterov momentum (needs a momentum > 0 and no dampening).
        dampening: Dampening for momentum.

    Raises:
        ValueError: A setting out of range, named.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import SGD
        >>> w = Value(1.0)
        >>> (w * w).backward()  # dL/dw = 2
        >>> optimizer = SGD([w], lr=0.1)
        >>> optimizer.step()
        >>> w.data
        0.8
        >>> SGD([w], lr=1.0, momentum=0.9)
        SGD(1 parameters, lr=1.0, momentum=0.9)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _number(momentum, "SGD", "momentum")
        self.weight_decay = _number(weight_decay, "SGD", "weight_decay")
        self.dampening = _number(dampening, "SGD", "dampening")
        if not isinstance(nesterov, bool):
            raise ValueError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov needs a momentum > 0 and zero dampening")
        self.nesterov = nesterov

    def step(self) -> None:
        """Update every parameter that has a gradient, once."""
        lr, momentum = self._lr, self.momentum
        for p, state, g, engine in self._gradients(self.weight_decay):
            if momentum:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = engine.copy(g)  # backward may later add into g itself
                else:
                    buf *= momentum  # in place for arrays; a new float for Values
                    buf += (1 - self.dampening) * g if self.dampening else g
                state["momentum_buffer"] = buf
                g = g + momentum * buf if self.nesterov else buf
            p.data -= lr * g

    _shown = ("momentum", "weight_decay", "dampening", "nesterov")


class Adam(Optimizer):
    """Adam (Kingma & Ba), exactly PyTorch's `torch.optim.Adam` (not AdamW).

    Keeps, per parameter, running averages of the gradient (m) and of its square (v), and steps
    by m / sqrt(v): each weight gets its own step size, large where gradients are small and
    steady. At step t, for each parameter p with gradient g:

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Args:
        params: The parameters to update (`model.parameters()`), or a model.
        lr: The learning rate.
        betas: The decay rates (beta1, beta2) of the two averages, each in [0, 1).
        eps: Added to the denominator, so that it is never zero.
        weight_decay: The L2 penalty folded into the gradient.

    Raises:
        ValueError: A setting out of range, named.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import Adam
        >>> w = Value(1.0)
        >>> (w * w).backward()
        >>> optimizer = Adam([w], lr=0.1)
        >>> optimizer.step()  # the first step moves by lr, whatever the gradient's size
        >>> round(w.data, 6)
        0.9
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        beta1, beta2 = (_number(b, "Adam", f"betas[{i}]", 0.0, 1.0) for i, b in enumerate(betas))
        self.betas = (beta1, beta2)
        self.eps = _number(eps, "Adam", "eps")
        self.weight_decay = _number(weight_decay, "Adam", "weight_decay")

    def step(self) -> None:
        """Update every parameter that has a gradient, once."""
        lr, (beta1, beta2), eps = self._lr, self.betas, self.eps
        w1 = 1 - beta1
        for p, state, g, engine in self._gradients(self.weight_decay):
            if not state:
                state.update(step=0, exp_avg=engine.zeros_like(g), exp_avg_sq=engine.zeros_like(g))
            t = state["step"] = state["step"] + 1
            m, v = state["exp_avg"], state["exp_avg_sq"]
            # m moves toward g by (1 - beta1), as torch's lerp computes it
            m = m + w1 * (g - m) if w1 < 0.5 else g - (g - m) * (1 - w1)
            v = v * beta2 + (1 - beta2) * g * g
            state["exp_avg"], state["exp_avg_sq"] = m, v
            step_size = lr / (1 - beta1**t)
            denom = engine.sqrt(v) / math.sqrt(1 - beta2**t) + eps
            p.data -= step_size * (m / denom)

    _shown = ("betas", "eps", "weight_decay")


# Optimizer names, for `fit(optimizer="adam")` and `chainrule train --optimizer adam`:
# name -> (class, the learning rate it gets when none is given). Adam's 0.01 (PyTorch: 0.001)
# suits the small networks and data sets chainrule trains; SGD's 0.1 is the lecture's step.
OPTIMIZERS: dict[str, tuple[type[Optimizer], float]] = {"sgd": (SGD, 0.1), "adam": (Adam, 0.01)}


def get_optimizer(
    name: str, params: Iterable[Any], lr: float | None = None, **options: Any
) -> Optimizer:
    """Make the optimizer called `name` ('sgd' or 'adam') over `params`.

    Args:
        name: A name of `OPTIMIZERS`.
        params: The parameters to update.
        lr: The learning rate; None means the name's default (sgd 0.1, adam 0.01).
        **options: Go to the class (`momentum=0.9` for SGD).

    Returns:
        The optimizer.

    Raises:
        ValueError: An unknown name, or a setting out of range.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import get_optimizer
        >>> get_optimizer("adam", [Value(1.0)])
        Adam(1 parameters, lr=0.01, betas=(0.9, 0.999), eps=1e-08)
    """
    if name not in OPTIMIZERS:
        valid = ", ".join(repr(n) for n in OPTIMIZERS)
        raise ValueError(f"unknown optimizer {name!r}; valid: {valid}, or an Optimizer")
    kind, default_lr = OPTIMIZERS[name]
    return kind(params, lr=default_lr if lr is None else lr, **options)


# -- learning-rate schedules --------------------------------------------------------------


class LRScheduler:
    """Sets `optimizer.lr` from the step count, like `torch.optim.lr_scheduler`.

    Made right after the optimizer: it remembers the optimizer's lr as `base_lr` and sets the
    lr for step 0. Call `step()` once after each `optimizer.step()`. `lr_at(k)` tells the lr
    of step k without changing anything (handy for plots and printing).

    Args:
        optimizer: The optimizer whose lr it sets.

    Attributes:
        base_lr: The optimizer's lr when the schedule was made.
        last_step: How many steps were taken.

    Raises:
        TypeError: `optimizer` is not an `Optimizer`.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import SGD, LRScheduler
        >>> class Halving(LRScheduler):
        ...     def lr_at(self, k):
        ...         return self.base_lr / 2**k
        >>> optimizer = SGD([Value(1.0)], lr=1.0)
        >>> schedule = Halving(optimizer)
        >>> schedule.step()
        >>> schedule.step()
        >>> optimizer.lr, schedule.last_step
        (0.25, 2)
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: needs an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_step = 0
        optimizer.lr = self.lr_at(0)

    def lr_at(self, k: int) -> float:
        """Give the learning rate of step `k` (from 0), changing nothing.

        Args:
            k: The step, a whole number >= 0.

        Returns:
            The learning rate.
        """
        raise NotImplementedError

    @property
    def lr(self) -> float:
        """The lr the optimizer uses for its next step."""
        return self.optimizer.lr

    def get_last_lr(self) -> list[float]:
        """PyTorch's accessor: the current lr, in a list (one per parameter group)."""
        return [self.optimizer.lr]

    def step(self) -> None:
        """Advance one step and set the optimizer's lr for it."""
        self.last_step += 1
        self.optimizer.lr = self.lr_at(self.last_step)

    def _check_k(self, k: int) -> int:
        return _whole(k, f"{type(self).__name__}: step")


class ConstantLR(LRScheduler):
    """Hold `base_lr * factor` for the first `total_iters` steps, then `base_lr` (PyTorch's).

    With the defaults (factor 1) the lr simply stays where it is: the constant schedule.

    Args:
        optimizer: The optimizer whose lr it sets.
        factor: The multiple of `base_lr` for the first steps.
        total_iters: How many steps use it.

    Raises:
        ValueError: A setting out of range, named.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import SGD, ConstantLR
        >>> schedule = ConstantLR(SGD([Value(1.0)], lr=1.0), factor=0.5, total_iters=2)
        >>> [schedule.lr_at(k) for k in range(4)]
        [0.5, 0.5, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0, total_iters: int = 0) -> None:
        self.factor = _number(factor, "ConstantLR", "factor")
        self.total_iters = _whole(total_iters, "ConstantLR: total_iters")
        super().__init__(optimizer)

    def lr_at(self, k: int) -> float:
        """Give `base_lr * factor` before step `total_iters`, then `base_lr`."""
        k = self._check_k(k)
        return self.base_lr * self.factor if k < self.total_iters else self.base_lr


class LinearDecayLR(LRScheduler):
    """Use micrograd's schedule, `base_lr * (1 - decay * k / total_steps)`, held after the end.

    micrograd's demo uses `1.0 - 0.9*k/100`: `LinearDecayLR(SGD(params, lr=1.0), 100)`, the
    lr falling from 1.0 to 0.109 at step 99 (0.1 from step 100 on).

    Args:
        optimizer: The optimizer whose lr it sets.
        total_steps: Over how many steps the lr falls.
        decay: The fraction of `base_lr` it loses by then, in [0, 1].

    Raises:
        ValueError: A setting out of range, named.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import SGD, LinearDecayLR
        >>> schedule = LinearDecayLR(SGD([Value(1.0)], lr=1.0), 100)
        >>> [round(schedule.lr_at(k), 3) for k in (0, 50, 99, 100)]
        [1.0, 0.55, 0.109, 0.1]
        >>> schedule.step()
        >>> schedule.get_last_lr()
        [0.991]
    """

    def __init__(self, optimizer: Optimizer, total_steps: int, decay: float = 0.9) -> None:
        self.total_steps = check_size(total_steps, "LinearDecayLR: total_steps")
        self.decay = _number(decay, "LinearDecayLR", "decay")
        if self.decay > 1:
            raise ValueError(f"LinearDecayLR: decay must be in [0, 1], got {decay!r}")
        super().__init__(optimizer)

    def lr_at(self, k: int) -> float:
        """Give `base_lr * (1 - decay * k / total_steps)`, held after the end."""
        k = min(self._check_k(k), self.total_steps)
        return self.base_lr * (1.0 - self.decay * k / self.total_steps)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from `base_lr` down to `eta_min` over `T_max` steps, then held there.

    PyTorch's formula, `eta_min + (base_lr - eta_min) * (1 + cos(pi * k / T_max)) / 2`; unlike
    PyTorch it does not climb back up after `T_max`.

    Args:
        optimizer: The optimizer whose lr it sets.
        T_max: Over how many steps the lr falls.
        eta_min: Where it ends.

    Raises:
        ValueError: A setting out of range, named.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import SGD, CosineAnnealingLR
        >>> schedule = CosineAnnealingLR(SGD([Value(1.0)], lr=1.0), T_max=10)
        >>> [round(schedule.lr_at(k), 3) for k in (0, 5, 10, 20)]
        [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = check_size(T_max, "CosineAnnealingLR: T_max")
        self.eta_min = _number(eta_min, "CosineAnnealingLR", "eta_min")
        super().__init__(optimizer)

    def lr_at(self, k: int) -> float:
        """Give the lr on the half cosine at step `k`, held after `T_max`."""
        k = min(self._check_k(k), self.T_max)
        cos = (1 + math.cos(math.pi * k / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cos


# Schedule names for a command line: name -> builder(optimizer, total_steps).
SCHEDULES = {
    "constant": lambda opt, total_steps: ConstantLR(opt),
    "linear": lambda opt, total_steps: LinearDecayLR(opt, total_steps),
    "cosine": lambda opt, total_steps: CosineAnnealingLR(opt, total_steps),
}


def get_scheduler(name: str, optimizer: Optimizer, total_steps: int) -> LRScheduler:
    """Make the schedule called `name` ('constant', 'linear' = micrograd's, 'cosine').

    Args:
        name: A name of `SCHEDULES`.
        optimizer: The optimizer whose lr it sets.
        total_steps: How long the run is.

    Returns:
        The schedule.

    Raises:
        ValueError: An unknown name.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.optim import SGD, get_scheduler
        >>> get_scheduler("linear", SGD([Value(1.0)], lr=1.0), 100).lr_at(100)
        0.09999999999999998
    """
    if name not in SCHEDULES:
        valid = ", ".join(repr(n) for n in SCHEDULES)
        raise ValueError(f"unknown learning-rate schedule {name!r}; valid: {valid}")
    return SCHEDULES[name](optimizer, total_steps)
