"""check_mlp: the coach for the second half of the lecture, a learner's Neuron, Layer and MLP.

The learner's `MLP(3, [4, 4, 1])` is checked against chainrule's own (`chainrule.nn.MLP`, tanh
in every layer as in the lecture) with the same weights copied into both:

* the parameter count, (3+1)*4 + (4+1)*4 + (4+1)*1 = 41; 32 means the biases were left out;
* the forward pass on the lecture's four inputs; where it differs, whether it matches another
  usual choice (micrograd's library: relu, a linear last layer) is said;
* every parameter's gradient of the lecture's loss, sum((yout - ygt)**2);
* one step of the lecture's loop (zero the grads, backward, p.data += -0.05 * p.grad) lowers
  the loss;
* zero_grad(): the lecture's famous bug is forgetting it, and its symptom is gradients that
  grow step after step (1x, 2x, 3x the true one at fixed weights); that symptom is what is
  looked for, so whatever the cause (no reset, a reset of copies), it is named.

Weights are copied by the lecture's structure (`layers`, `neurons`, `w`, `b`) where the model
has it, else in the order of `parameters()` (each neuron's weights, then its bias).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from .. import nn
from .findings import Finding
from .mistakes import close
from .observe import LIMIT_S, CheckTimeout, describe_error, time_limit
from .report import Report

__all__ = ["check_mlp", "XS", "YS"]

# The lecture's tiny data set.
XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
SIZES = (3, [4, 4, 1])
STEP = 0.05


class _Failed(Exception):
    """A check's verdict reached early: carries the finding's status and message."""

    def __init__(self, status: str, message: str, explanation: str = "", label: str = "") -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.explanation, self.label = explanation, label


def check_mlp(
    MLP: Any,  # noqa: N803  (the learner's class, named as the lecture names it)
    Value: Any = None,  # noqa: N803
    *,
    time_limit_s: float | None = LIMIT_S,
) -> Report:
    """Check a learner's `MLP` class (built on their `Value`) against chainrule's."""
    nin, nouts = SIZES
    shape = f"MLP({nin}, {nouts})"
    reference = nn.MLP(nin, nouts, seed=0)
    weights = [random.Random(7).uniform(-1, 1) for _ in reference.parameters()]
    state: dict[str, Any] = {}

    def parameters() -> None:
        model = MLP(nin, list(nouts))
        state["model"] = model
        params = list(model.parameters())
        expected = len(reference.parameters())
        if len(params) != expected:
            weights_only = sum(a * b for a, b in zip([nin, *nouts], nouts))
            hint = ": the biases are not in parameters()" if len(params) == weights_only else ""
            raise _Failed("fail", f"{len(params)} parameters, expected {expected}{hint}")
        if Value is not None and not all(isinstance(p, Value) for p in params):
            raise _Failed("fail", f"parameters() holds something that is not a {_name(Value)}")
        if len({id(p) for p in params}) != len(params):
            raise _Failed("fail", "parameters() lists the same Value more than once")
        state["named"] = _named(model, params)
        _copy(reference, state["named"], weights)

    def forward() -> None:
        outs = [_output(state["model"](x)) for x in XS]
        want = [_output(reference(x)) for x in XS]
        for i, (got, exp) in enumerate(zip(outs, want)):
            if not close(got, exp):
                raise _Failed(
                    "fail",
                    f"MLP(xs[{i}]) = {_show(got)}, expected {_show(exp)}",
                    _variant_hint(weights, outs),
                )

    def gradients() -> None:
        model = state["model"]
        for p in state["named"].values():
            p.grad = 0.0
        _loss(model).backward()
        ref_loss = _loss(reference)
        for p in reference.parameters():
            p.grad = 0.0
        ref_loss.backward()
        for (name, p), r in zip(state["named"].items(), reference.parameters()):
            if not close(_float(p.grad), r.grad):
                raise _Failed(
                    "fail", f"{name}.grad = {_show(_float(p.grad))}, expected {r.grad:.6g}"
                )

    def step() -> None:
        model = state["model"]
        before = _loss(model).data
        for p in state["named"].values():
            p.grad = 0.0
        _loss(model).backward()
        for p in state["named"].values():
            p.data += -STEP * p.grad
        after = _loss(model).data
        _restore(state["named"], weights)
        if not after < before:
            raise _Failed("fail", f"the loss went from {before:.6g} to {after:.6g}, not down")
        state["step"] = f"the loss went down, {before:.4g} -> {after:.4g}"

    def zero_grad() -> None:
        model = state["model"]
        if not callable(getattr(model, "zero_grad", None)):
            raise _Failed(
                "note",
                "the MLP has no zero_grad(); the lecture's loop then sets p.grad = 0.0 for "
                "every parameter itself, before each backward()",
            )
        norms = []
        for _ in range(3):  # at fixed weights: the true gradient is the same each step
            loss = _loss(model)
            model.zero_grad()
            loss.backward()
            norms.append(math.sqrt(sum(_float(p.grad) ** 2 for p in state["named"].values())))
        if not all(close(n, norms[0]) for n in norms):
            ratios = ", ".join(f"{n / norms[0]:.3g}x" for n in norms)
            raise _Failed(
                "fail",
                f"the gradients grow step after step: {ratios} the first",
                "At fixed weights every step has the same true gradient, yet these grow: "
                "zero_grad() does not reset the parameters' .grad, so each backward() adds "
                "onto the last step's. This is the lecture's bug of forgetting to zero the "
                "gradients; set p.grad = 0.0 on every parameter, the very Values that "
                "parameters() returns.",
                "gradients not zeroed",
            )

    checks: list[tuple[str, str, Callable[[], None], str]] = [
        ("mlp:parameters", "parameters()", parameters, f"{shape} has 41 parameters"),
        ("mlp:forward", "forward", forward, "the same outputs as chainrule's, same weights"),
        ("mlp:gradients", "gradients", gradients, "every parameter's gradient of the loss"),
        ("mlp:step", "one training step", step, ""),
        ("mlp:zero_grad", "zero_grad()", zero_grad, "clears the gradients between steps"),
    ]
    findings: list[Finding] = []
    for check_id, title, run, passed in checks:
        findings.append(_run(check_id, title, run, passed, state, time_limit_s))
        if findings[-1].status in ("fail", "missing") and check_id in (
            "mlp:parameters",
            "mlp:forward",
        ):
            break  # nothing after it can be judged
    return Report(findings, subject=_name(MLP))


def _run(
    check_id: str,
    title: str,
    run: Callable[[], None],
    passed: str,
    state: dict[str, Any],
    limit: float | None,
) -> Finding:
    finding = Finding(check_id, title, None, "pass", passed)
    try:
        with time_limit(limit):
            run()
        if check_id == "mlp:step":
            finding.message = state["step"]
    except _Failed as verdict:
        finding.status, finding.message = verdict.status, verdict.message
        finding.explanation = verdict.explanation
        if verdict.label:
            finding.mistake_label = finding.mistake_id = verdict.label
    except NotImplementedError as err:  # a blank of the exercise
        finding.status = "missing"
        finding.message = f"not written yet: {err}" if str(err) else "not written yet"
    except CheckTimeout:
        finding.status = "fail"
        finding.message = f"stopped after {limit:g} s: it never finished"
    except Exception as err:
        error = describe_error(err)
        where = f" at {error['where']}" if error["where"] else ""
        finding.status = "fail"
        finding.message = f"{error['type']}: {error['message']}{where}"
        finding.error = error["traceback"]
    return finding


def _name(cls: Any) -> str:
    return getattr(cls, "__name__", repr(cls))


def _float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _show(x: float | None) -> str:
    return "not a number" if x is None else f"{x:.6g}"


def _output(out: Any) -> float | None:
    """The model's output for one input, as a float: a Value, or a list of one Value."""
    if isinstance(out, (list, tuple)) and len(out) == 1:
        out = out[0]
    data = getattr(out, "data", None)
    return float(data) if isinstance(data, (int, float)) and not isinstance(data, bool) else None


def _loss(model: Any) -> Any:
    """The lecture's loss: sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))."""
    ypred = [model(x) for x in XS]
    ypred = [y[0] if isinstance(y, (list, tuple)) and len(y) == 1 else y for y in ypred]
    return sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))


def _named(model: Any, params: list[Any]) -> dict[str, Any]:
    """The parameters by the names chainrule gives them (L1.n2.w3, L1.n2.b), in chainrule's
    order: from the lecture's structure where the model has it, else parameters()' order."""
    try:
        named = {}
        for i, layer in enumerate(model.layers, 1):
            for j, neuron in enumerate(layer.neurons, 1):
                for k, w in enumerate(neuron.w, 1):
                    named[f"L{i}.n{j}.w{k}"] = w
                named[f"L{i}.n{j}.b"] = neuron.b
        if len(named) == len(params):
            return named
    except (AttributeError, TypeError):
        pass
    nin, nouts = SIZES
    names = [
        f"L{i}.n{j}.{w}"
        for i, (fan_in, n) in enumerate(zip([nin, *nouts], nouts), 1)
        for j in range(1, n + 1)
        for w in [*(f"w{k}" for k in range(1, fan_in + 1)), "b"]
    ]
    return dict(zip(names, params))


def _copy(reference: nn.MLP, named: dict[str, Any], weights: list[float]) -> None:
    """The same numbers into the learner's parameters and chainrule's, in the same places."""
    for p, r, w in zip(named.values(), reference.parameters(), weights):
        p.data = w
        r.data = w


def _restore(named: dict[str, Any], weights: list[float]) -> None:
    for p, w in zip(named.values(), weights):
        p.data = w
        p.grad = 0.0


def _variant_hint(weights: list[float], outs: list[float | None]) -> str:
    """Which other usual MLP the learner's outputs match, if any."""
    nin, nouts = SIZES
    variants = [
        ("relu", None, "relu hidden layers and a linear last layer (micrograd's nn.py)"),
        ("tanh", None, "tanh hidden layers and a linear last layer"),
        ("relu", "relu", "relu in every layer"),
    ]
    for act, out_act, words in variants:
        other = nn.MLP(nin, nouts, activation=act, output_activation=out_act, seed=0)
        for r, w in zip(other.parameters(), weights):
            r.data = w
        if all(close(o, _output(other(x))) for o, x in zip(outs, XS)):
            return (
                f"Your outputs match an MLP with {words}, with the same weights; the lecture's "
                "uses tanh in every layer."
            )
    return ""
