"""The coach: checks a learner's own `Value` (and `MLP`) and says what is wrong, in the
lecture's words.

    from chainrule.exercises import check
    check(Value)                  # a Report: prints as a table, shows as HTML in Jupyter
    check(Value, require="all")   # every op must be there, and backward()

    chainrule check my_engine.py  # the same from the command line, in a child process

`check` runs the lecture's checks (`probes.py`: each op at several points, the L = -8 example,
the neuron, a reused value, a diamond, backward() twice, zero_grad, a deep chain) on the
learner's class (`observe.py`), compares every number with chainrule's own engine
(`judge.py`), narrates the chain-rule step that should have happened, and names the mistake
where the numbers match a known one (`mistakes.py`). `check_mlp` (`mlp.py`) checks a
learner's Neuron/Layer/MLP. `isolate.py` runs a learner's file in a child process with a time
limit per check, for `chainrule check`.

Nothing in chainrule imports this package except the command line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .judge import judge
from .mlp import check_mlp
from .observe import LIMIT_S, observe_battery, observe_interface
from .probes import OPS, op_names
from .report import Finding, Report

__all__ = ["OPS", "Finding", "Report", "check", "check_mlp"]


def check(
    cls: Any, *, require: str | Iterable[str] = (), time_limit: float | None = LIMIT_S
) -> Report:
    """Run the lecture's checks on `cls`, a learner's Value class, in this process.

    `require` names ops that must be there ('tanh,exp', ['+', '*'], 'all' for every op and
    backward()): a missing one then fails instead of being reported missing. Each check is
    stopped after `time_limit` seconds where a timer can interrupt it (the main thread, on
    Linux and macOS); `chainrule check` runs the learner's file in a child process instead,
    which can always be stopped.
    """
    required = op_names(require)
    name = getattr(cls, "__name__", repr(cls))
    interface = observe_interface(cls)
    if interface["problems"]:
        return judge(interface, [], subject=name, require=required)
    observations = list(observe_battery(cls, limit=time_limit))
    return judge(interface, observations, subject=name, require=required)
