"""Data-parallel training by PyTorch, and the trained model brought home to chainrule.

The model a learner built in chainrule is trained by several worker processes at once. The call

    history = fit_distributed(model, X, y, workers=2, loss="cross_entropy", batch_size=64, ...)

takes the arguments of `chainrule.learn.fit` and trains `model` in place, as `fit` does, but
the steps run in PyTorch: the model goes to PyTorch with `to_torch` (float32), `workers`
processes on this machine join one `torch.distributed` group (the gloo backend, every socket
on 127.0.0.1), each wraps its copy in `DistributedDataParallel`, and at the end the weights
come back with `from_torch`. chainrule grows no distributed engine of its own: PyTorch's is
the real, well-kept one, and this module only gets the model there and back.

What makes it the same run as `fit`'s:

* The batches. Every worker draws the same global batches in the same order as `fit` (the
  order shuffled by `random.Random(seed)`, once per epoch), and takes the strided share of
  each that `DistributedSampler` gives a rank: worker r of W gets positions r, r + W, r + 2W,
  ... of the batch. The shards of a step are disjoint and together make up the batch.
* The gradient. Worker r backpropagates `W * (sum of its shard's losses) / (batch size)`
  (plus the L2 term): DDP averages the workers' gradients, so what every worker applies is
  the gradient of the batch's mean loss, exactly the one `fit` applies (the mean of a sum is
  the sum of the shards' sums over the batch size, uneven shards included). So 1 and 2
  workers give the same weights, up to float32 round-off in the order of the sums.
* The rest: the optimizer (SGD with momentum, weight decay and Nesterov, or Adam: each
  chainrule optimizer is PyTorch's, step for step), the learning rate of every step (computed
  by chainrule's own schedule), the loss, the L2 term, the held-out scoring, the `History`.

One exception: BatchNorm. Each worker normalises its shard with the shard's own statistics,
as DDP does on CPUs (PyTorch's SyncBatchNorm, which would share them, runs on GPUs only), so
a model with BatchNorm follows a slightly different run on several workers than on one.

How the workers run. `workers=1` trains in this process (the same code: a group of one, DDP
and all). More workers are child processes of this one (`python -c`, so no script is
re-imported): this process holds the group's meeting point (a `TCPStore` on 127.0.0.1), starts
them, watches them, and stops them all when one fails, with an error naming the rank that
failed (`WorkerFailed`); a worker also dies with this process, so a run leaves no process
behind. Rank 0 shows the progress bar and sends back the weights and the `History`.

Under `torchrun` (its variables RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT are set) the
process is already one of the workers: it joins the group torchrun made, on one machine or
several, instead of starting its own. Rank 0 then returns the `History`; the other ranks return
None (the command line writes the run from rank 0 only).

PyTorch is optional (the `torch` extra): it is imported inside the functions that need it.
"""

from __future__ import annotations

import ctypes
import datetime
import importlib
import inspect
import math
import os
import pickle
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..engines import engine_for
from ..extras import require
from ..learn import optim
from ..learn.advice import TrainingDiverged, TrainingWarning, diagnose, diverged_advice
from ..learn.data import check_finite
from ..learn.loop import History
from ..learn.losses import LOSSES, Task
from ..nn import check_size
from ..tensor.layers import TensorModule
from .torch import from_torch, to_torch

__all__ = [
    "ParallelHistory",
    "WorkerFailed",
    "fit_distributed",
    "under_torchrun",
]

HOST = "127.0.0.1"
# The variables torchrun sets for each worker; all four set means "join the group it made".
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
# Settings of a run, handed to the workers through the environment of their process.
_ENV = "CHAINRULE_WORKER_"
# How long the workers' loop sleeps between looks at its children, in seconds.
_POLL = 0.05
# The temporary folder of a run (the job for the workers, rank 0's result, their errors) is
# named FOLDER + the starting process's pid + a random part.
_FOLDER = "chainrule-workers-"
# How many steps' losses a worker keeps before the workers add them up (one all-reduce for
# all of them; the progress bar and the check for a diverged loss follow at this pace).
_REDUCE_EVERY = 20
# After the first failure, how long to wait for the worker that caused it to show itself
# (a worker that lost contact often exits a moment before the one that died is seen).
_GRACE = 0.5


class WorkerFailed(RuntimeError):
    """A worker process failed or died; the others were stopped.

    `rank` is the failed worker's rank (None where it is not known).
    """

    def __init__(self, message: str, rank: int | None = None) -> None:
        super().__init__(message)
        self.rank = rank


@dataclass
class ParallelHistory(History):
    """A `History` of a data-parallel run, and how it ran.

    `workers` is the number of processes in the group, `start_time` the seconds to start them
    and form the group (not in `total_time`), and `shards`, for each step, each worker's
    example indices (filled by `record_shards=True`).
    """

    workers: int = 1
    start_time: float = 0.0
    shards: list[list[list[int]]] = field(default_factory=list)


def under_torchrun() -> bool:
    """Whether this process is a worker that torchrun (or a launcher like it) started."""
    return all(os.environ.get(name) for name in TORCHRUN_VARIABLES)


# -- the run, checked and made ready before any process starts --------------------------------


@dataclass
class _Job:
    """Everything a worker needs, pickled to a file that every worker reads."""

    model: Any
    inputs: Any
    targets: Any
    classes: Any
    test_inputs: Any
    test_classes: Any
    loss: str
    l2: float
    optimizer: tuple[str, dict[str, Any]]  # a torch.optim class name and its options
    lrs: list[float]  # the learning rate of every step
    n: int
    batch: int
    total: int
    every: int
    seed: int | None
    threshold: float
    progress: bool
    record_shards: bool
    timeout: float


def fit_distributed(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    workers: int | None = None,
    loss: str = "hinge",
    optimizer: Any = None,
    lr: float | None = None,
    momentum: float = 0.0,
    l2: float = 0.0,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    schedule: Any = None,
    X_test: Sequence[Sequence[float]] | None = None,
    y_test: Sequence[float] | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    seed: int | None = None,
    port: int | None = None,
    timeout: float = 60.0,
    record_shards: bool = False,
) -> ParallelHistory | None:
    """Train the tensor model `model` in place, data-parallel on `workers` PyTorch processes.

    Returns the run's `ParallelHistory` (a `History`, as `fit` returns).

    The training arguments are `fit`'s (a loss by name: PyTorch cannot run a Python loss
    function of chainrule's). `workers` defaults to 1, or under torchrun to its world size
    (a different number is refused). `port` is where this process listens for the workers,
    on 127.0.0.1 (default: a free one). `timeout` bounds, in seconds, how long a worker waits
    for the others at any step before it gives up. Everything is checked before a process
    starts: a bad argument, a port in use, or more workers than examples in the run's
    smallest batch is a ValueError; a missing PyTorch a `MissingExtra`.

    Raises `WorkerFailed` when a worker fails or dies (the others are stopped first), and
    `TrainingDiverged` when the loss becomes inf or nan, as `fit` does. Under torchrun,
    returns None on every rank but 0.
    """
    torch = _require_torch()
    job = _make_job(
        model,
        X,
        y,
        loss=loss,
        optimizer=optimizer,
        lr=lr,
        momentum=momentum,
        l2=l2,
        steps=steps,
        epochs=epochs,
        batch_size=batch_size,
        schedule=schedule,
        X_test=X_test,
        y_test=y_test,
        eval_every=eval_every,
        progress=progress,
        seed=seed,
        timeout=timeout,
        record_shards=record_shards,
    )
    world = _world_size(workers)
    _check_shards(world, job)
    called = time.time()  # wall-clock time: the workers' clocks are other processes'
    if under_torchrun():
        result = _join_torchrun(torch, job)
        if result is None:
            return None
    elif world == 1:
        result = _train_here(torch, job, port)
    else:
        result = _launch(job, world, port)
    model.load_state_dict(result["state"])
    history: ParallelHistory = result["history"]
    history.start_time = max(0.0, history.start_time - called)  # rank 0 noted when steps began
    history.warnings = diagnose(
        history.loss,
        history.final_train_accuracy,
        _as_list(job.classes),
        lr=history.lr[0],
        default_lr=_default_lr(optimizer),
        optimizer=_optimizer_name(optimizer),
        batch_size=job.batch,
        samples=job.n,
        relu=_uses_relu(model),
        epochs=epochs is not None,
    )
    for advice in history.warnings:
        warnings.warn(str(advice), TrainingWarning, stacklevel=2)
    return history


def _require_torch() -> Any:
    return require("torch", "torch", "fit_distributed (data-parallel training in PyTorch)")


def _make_job(model: Any, X: Any, y: Any, **o: Any) -> _Job:
    """The run as the workers will make it, every argument checked as `fit` checks it."""
    if not isinstance(model, TensorModule):
        raise TypeError(
            f"fit_distributed: trains a tensor model (chainrule.tensor.layers), got "
            f"{type(model).__name__}; build it with chainrule.tensor.layers.mlp for an MLP"
        )
    loss = o["loss"]
    if not isinstance(loss, str) or loss not in LOSSES:
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(
            f"fit_distributed: loss must be one of {valid} (PyTorch runs these by name), "
            f"got {loss!r}"
        )
    n = _check_rows(X, y, "X", "y")
    if (o["X_test"] is None) != (o["y_test"] is None):
        raise ValueError("fit_distributed: give both X_test and y_test, or neither")
    if o["X_test"] is not None:
        _check_rows(o["X_test"], o["y_test"], "X_test", "y_test")
    l2 = _nonneg(o["l2"], "l2")
    batch = n if o["batch_size"] is None else min(check_size(o["batch_size"], "batch_size"), n)
    per_epoch = math.ceil(n / batch)
    if o["steps"] is not None and o["epochs"] is not None:
        raise ValueError("fit_distributed: give steps or epochs, not both")
    if o["epochs"] is not None:
        total = check_size(o["epochs"], "fit_distributed: epochs") * per_epoch
    else:
        total = 100 if o["steps"] is None else check_size(o["steps"], "fit_distributed: steps")
    every = o["eval_every"]
    every = max(1, total // 10) if every is None else check_size(every, "eval_every")
    timeout = o["timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(
            f"fit_distributed: timeout must be a number of seconds > 0, got {timeout!r}"
        )

    ours = _chainrule_optimizer(o["optimizer"], model, o["lr"], _nonneg(o["momentum"], "momentum"))
    lr_at = _lr_at(o["schedule"], ours, total)
    lrs = [float(lr_at(k)) for k in range(total)]

    engine = engine_for(model)
    inputs = engine.inputs(X)
    was_training = model.training
    model.train(False)
    try:
        with no_grad():
            width = engine.width(engine.forward(model, inputs[:1]))
    finally:
        model.train(was_training)
    task = Task(loss, y, width)
    targets = engine.targets(task.targets(y))
    test_inputs = test_classes = None
    if o["X_test"] is not None:
        test_inputs = engine.inputs(o["X_test"])
        test_classes = _array(task.classes(o["y_test"]))
    return _Job(
        model=model,
        inputs=inputs,
        targets=targets,
        classes=_array(task.classes(y)),
        test_inputs=test_inputs,
        test_classes=test_classes,
        loss=loss,
        l2=l2,
        optimizer=_torch_optimizer(ours),
        lrs=lrs,
        n=n,
        batch=batch,
        total=total,
        every=every,
        seed=o["seed"],
        threshold=task.threshold,
        progress=bool(o["progress"]),
        record_shards=bool(o["record_shards"]),
        timeout=float(timeout),
    )


def _check_rows(X: Any, y: Any, xname: str, yname: str) -> int:
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or not len(X):
        raise ValueError(f"fit_distributed: {xname} must be a non-empty list of rows")
    check_finite(X, xname, "fit_distributed")
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise ValueError(f"fit_distributed: {yname} must be a list of labels")
    if len(X) != len(y):
        raise ValueError(f"fit_distributed: {xname} has {len(X)} rows but {yname} has {len(y)}")
    return len(X)


def _nonneg(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"fit_distributed: {name} must be a number >= 0, got {value!r}")
    return float(value)


def _array(values: list[int] | None) -> Any:
    return None if values is None else np.asarray(values, dtype=np.int64)


def _as_list(values: Any) -> list[int] | None:
    return None if values is None else values.tolist()


def _chainrule_optimizer(given: Any, model: Any, lr: Any, momentum: float) -> optim.Optimizer:
    """The optimizer `fit` would use; only its settings are read.

    It is made from a name over the model's parameters, or it is the one given (with `lr`,
    if any, replacing its rate).
    """
    if given is None or isinstance(given, str):
        name = given or "sgd"
        if name not in optim.OPTIMIZERS:
            valid = ", ".join(repr(k) for k in optim.OPTIMIZERS)
            raise ValueError(f"fit_distributed: unknown optimizer {name!r}; valid: {valid}")
        if momentum and name != "sgd":
            raise ValueError(f"fit_distributed: momentum applies to 'sgd' only, not {name!r}")
        options = {"momentum": momentum} if momentum else {}
        return optim.get_optimizer(name, model.parameters(), lr, **options)
    if not isinstance(given, (optim.SGD, optim.Adam)):
        raise TypeError(
            f"fit_distributed: optimizer must be 'sgd', 'adam', or a chainrule SGD or Adam, "
            f"got {given!r}"
        )
    if momentum:
        raise ValueError("fit_distributed: momentum goes to the optimizer you made")
    if lr is not None:
        given.lr = lr
    return given


def _torch_optimizer(ours: optim.Optimizer) -> tuple[str, dict[str, Any]]:
    """The torch.optim class and options that make the same steps as `ours`."""
    if isinstance(ours, optim.SGD):
        return "SGD", {
            "lr": ours.lr,
            "momentum": ours.momentum,
            "dampening": ours.dampening,
            "weight_decay": ours.weight_decay,
            "nesterov": ours.nesterov,
        }
    assert isinstance(ours, optim.Adam)
    return "Adam", {
        "lr": ours.lr,
        "betas": ours.betas,
        "eps": ours.eps,
        "weight_decay": ours.weight_decay,
    }


def _lr_at(schedule: Any, ours: optim.Optimizer, total: int) -> Callable[[int], float]:
    """The learning rate of step k, as `fit` sets it: chainrule's own schedule."""
    if schedule is None:
        base = ours.lr
        return lambda k: base
    if isinstance(schedule, str):
        return optim.get_scheduler(schedule, ours, total).lr_at
    if isinstance(schedule, optim.LRScheduler):
        if schedule.optimizer is not ours:
            raise ValueError("fit_distributed: the schedule was made for a different optimizer")
        return schedule.lr_at
    if callable(schedule):
        return schedule
    raise TypeError(
        f"fit_distributed: schedule must be a name, an LRScheduler or a function, got {schedule!r}"
    )


def _optimizer_name(optimizer: Any) -> str | None:
    if optimizer is None or isinstance(optimizer, str):
        return optimizer or "sgd"
    kinds = {kind: key for key, (kind, _) in optim.OPTIMIZERS.items()}
    return kinds.get(type(optimizer))


def _default_lr(optimizer: Any) -> float:
    name = _optimizer_name(optimizer)
    return optim.OPTIMIZERS[name][1] if name in optim.OPTIMIZERS else 0.1


def _uses_relu(model: Any) -> bool:
    return any(type(m).__name__ == "ReLU" for _, m in model.named_modules())


def _world_size(workers: int | None) -> int:
    if under_torchrun():
        world = int(os.environ["WORLD_SIZE"])
        if workers is not None and workers != world:
            raise ValueError(
                f"{workers} workers asked for, but torchrun started {world} (WORLD_SIZE); "
                "under torchrun, leave the number of workers to torchrun"
            )
        return world
    if workers is None:
        return 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    return workers


def _check_shards(world: int, job: _Job) -> None:
    """Every worker must get at least one example of every batch."""
    last = job.n - (math.ceil(job.n / job.batch) - 1) * job.batch
    smallest = last if job.total >= math.ceil(job.n / job.batch) else job.batch
    if world <= smallest:
        return
    if smallest == job.batch:
        raise ValueError(
            f"{world} workers is more than the {job.batch} examples in a batch: each worker "
            f"needs at least one; use at most {job.batch} workers, or larger batches"
        )
    full = job.n // job.batch
    raise ValueError(
        f"{world} workers is more than the {last} examples in the last batch of each epoch "
        f"({job.n} = {full} x {job.batch} + {last}): each worker needs at least one; use at "
        f"most {last} workers, or a batch size that divides {job.n}"
    )


# -- the ways to run: here, in child processes, under torchrun ----------------------------------


def _before_joining(torch: Any) -> None:
    """Import `torch._dynamo` before this process joins a group.

    DistributedDataParallel imports it the first time one is made. Imported while a group
    exists, it keeps references to the group that `destroy_process_group` cannot drop: the
    group's gloo threads then outlive it, and the interpreter's exit can abort on them
    ("terminate called without an active exception", in about one run in five under torchrun).
    """
    try:
        importlib.import_module("torch._dynamo.utils")
    except ImportError:  # a PyTorch without it has nothing to import early
        pass


def _listening_socket(port: int | None) -> socket.socket:
    """A socket listening on 127.0.0.1 at `port` (None: a free one the system picks)."""
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535
    ):
        raise ValueError(f"port must be a whole number from 0 to 65535, got {port!r}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port or 0))
        sock.listen(128)
    except OSError as err:
        sock.close()
        if port and err.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ValueError(
                f"port {port} on {HOST} is already in use (by another run?): choose another "
                "port, or none to take a free one"
            ) from None
        raise ValueError(f"cannot listen on {HOST} port {port or 0}: {err.strerror}") from None
    return sock


def _store(torch: Any, sock: socket.socket, timeout: float) -> Any:
    """The group's meeting point, served by this process on the socket already bound.

    The store owns the socket from then on, and closes it.
    """
    store = torch.distributed.TCPStore(
        HOST,
        sock.getsockname()[1],
        None,
        True,
        datetime.timedelta(seconds=timeout),
        wait_for_workers=False,
        master_listen_fd=sock.fileno(),
    )
    sock.detach()
    return store


def _loopback_interface() -> str | None:
    """The name of the loopback network interface (lo on Linux, lo0 on macOS), for gloo."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except (AttributeError, OSError):
        return None
    return next((name for name in names if name.startswith("lo")), None)


def _train_here(torch: Any, job: _Job, port: int | None) -> dict[str, Any]:
    """One worker, in this process: a group of one on 127.0.0.1, then the same training."""
    dist = torch.distributed
    if dist.is_initialized():
        raise ValueError(
            "a torch.distributed group already runs in this process; call fit_distributed "
            "outside it, or under torchrun"
        )
    sock = _listening_socket(port)
    saved = os.environ.get("GLOO_SOCKET_IFNAME")
    interface = _loopback_interface()
    hook = sys.excepthook  # joining a group prefixes every later traceback with "[rank0]"
    try:
        store = _store(torch, sock, job.timeout)
        if interface:
            os.environ["GLOO_SOCKET_IFNAME"] = interface
        _before_joining(torch)
        dist.init_process_group(
            "gloo",
            store=store,
            rank=0,
            world_size=1,
            timeout=datetime.timedelta(seconds=job.timeout),
        )
        try:
            result = _train(torch, job, 0, 1)
        finally:
            dist.destroy_process_group()
    finally:
        sys.excepthook = hook
        if saved is None:
            os.environ.pop("GLOO_SOCKET_IFNAME", None)
        else:
            os.environ["GLOO_SOCKET_IFNAME"] = saved
        sock.close()
    assert result is not None
    return result


def _join_torchrun(torch: Any, job: _Job) -> dict[str, Any] | None:
    """This process is one of torchrun's workers: join its group, train, report from rank 0."""
    dist = torch.distributed
    rank = int(os.environ["RANK"])
    job.progress = job.progress and rank == 0
    _before_joining(torch)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=job.timeout))
    try:
        result = _train(torch, job, rank, dist.get_world_size())
    except RuntimeError as err:
        if not _lost_contact(err):
            raise
        raise WorkerFailed(
            f"rank {rank} lost contact with the other workers ({_gloo_message(err)}); torchrun "
            "names the worker that stopped"
        ) from None
    finally:
        dist.destroy_process_group()
    return result


def _launch(job: _Job, world: int, port: int | None) -> dict[str, Any]:
    """`world` worker processes on this machine: start, watch, collect rank 0's result."""
    torch = _require_torch()
    sock = _listening_socket(port)
    port = sock.getsockname()[1]
    procs: list[subprocess.Popen[bytes]] = []
    _remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{_FOLDER}{os.getpid()}-") as folder:
        try:
            store = _store(torch, sock, job.timeout)
            path = Path(folder, "job.pickle")
            with open(path, "wb") as handle:
                pickle.dump(job, handle, protocol=pickle.HIGHEST_PROTOCOL)
            env = _worker_env(folder, world, port, job.timeout)
            for rank in range(world):
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-c",
                            "from chainrule.interop.distributed import worker_main; worker_main()",
                        ],
                        env={**env, f"{_ENV}RANK": str(rank)},
                        stdin=subprocess.DEVNULL,
                    )
                )
            if job.progress:
                pids = ", ".join(str(p.pid) for p in procs)
                print(
                    f"workers {world} processes on this machine (pids {pids}), gloo on "
                    f"{HOST}:{port}",
                    flush=True,
                )
            try:
                _watch(procs, Path(folder))
            except Exception:
                if job.progress:  # the error goes on a line of its own, not after the bar's
                    print(file=sys.stderr, flush=True)
                raise
            with open(Path(folder, "result.pickle"), "rb") as handle:
                result = pickle.load(handle)
            del store
            return result
        finally:
            _stop(procs)
            sock.close()


def _remove_stale_folders() -> None:
    """Remove the folders of earlier runs whose starting process was killed.

    Nothing else could remove them: a `kill -9` leaves no time to clean up. Each folder is
    named after the process that made it.
    """
    if os.name != "posix":
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER}*-*"):
        pid = folder.name[len(_FOLDER) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass  # alive, or another user's


def _worker_env(folder: str, world: int, port: int, timeout: float) -> dict[str, str]:
    env = dict(os.environ)
    for name in TORCHRUN_VARIABLES:  # the workers join this run's group, not another's
        env.pop(name, None)
    package_root = str(Path(__file__).resolve().parents[2])  # the chainrule this process runs
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    interface = _loopback_interface()
    if interface:
        env["GLOO_SOCKET_IFNAME"] = interface
    if "OMP_NUM_THREADS" not in env:  # the cores shared out between the workers
        env["OMP_NUM_THREADS"] = str(max(1, _cores() // world))
    env.update(
        {
            f"{_ENV}FOLDER": folder,
            f"{_ENV}WORLD": str(world),
            f"{_ENV}PORT": str(port),
            f"{_ENV}TIMEOUT": str(timeout),
            f"{_ENV}PARENT": str(os.getpid()),
        }
    )
    return env


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _watch(procs: list[subprocess.Popen[bytes]], folder: Path) -> None:
    """Wait for every worker to finish; at the first failure, stop the others and raise."""
    while True:
        codes = [p.poll() for p in procs]
        if all(code == 0 for code in codes):
            return
        if any(code not in (None, 0) for code in codes):
            break
        time.sleep(_POLL)
    reports = {r: _report(folder, r) for r, code in enumerate(codes) if code not in (None, 0)}
    if all(report is not None and report["kind"] == "lost" for report in reports.values()):
        deadline = time.monotonic() + _GRACE  # the worker that caused it may yet show itself
        while time.monotonic() < deadline and any(p.poll() is None for p in procs):
            time.sleep(_POLL)
        codes = [p.poll() for p in procs]
        reports = {r: _report(folder, r) for r, code in enumerate(codes) if code not in (None, 0)}
    _stop(procs)
    raise _failure(codes, reports, len(procs))


def _report(folder: Path, rank: int) -> dict[str, Any] | None:
    try:
        with open(folder / f"error-{rank}.pickle", "rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError):
        return None


def _failure(codes: list[int | None], reports: dict[int, Any], world: int) -> Exception:
    """The error that explains a failed run.

    A worker's own error comes first, then a worker that died without one, then one that only
    lost contact with the others.
    """
    stopped = "; the other worker was stopped" if world == 2 else "; the others were stopped"
    for report in reports.values():
        if report is not None and report["kind"] == "diverged":
            return TrainingDiverged(f"fit_distributed: {report['advice']}", report["advice"])
    for rank, report in reports.items():
        if report is not None and report["kind"] == "error":
            return WorkerFailed(f"worker rank {rank} failed: {report['message']}{stopped}", rank)
    for rank, report in reports.items():
        if report is None:
            code = codes[rank]
            assert code is not None
            how = f"exit status {code}" if code > 0 else f"killed by {_signal_name(-code)}"
            return WorkerFailed(f"worker rank {rank} died ({how}){stopped}", rank)
    rank, report = next(iter(reports.items()))
    return WorkerFailed(
        f"worker rank {rank} lost contact with the others ({report['message']}){stopped}", rank
    )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """End every worker still running (terminate, then kill), and reap them all."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 3.0
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# -- a worker ----------------------------------------------------------------------------------


def worker_main() -> None:
    """The body of a worker process started by `fit_distributed`; ends the process.

    Its settings come through the environment. It joins the group, trains, and leaves rank
    0's result, or this worker's error, in the run's folder.
    """
    env = os.environ
    folder = Path(env[f"{_ENV}FOLDER"])
    rank, world = int(env[f"{_ENV}RANK"]), int(env[f"{_ENV}WORLD"])
    _die_with_parent(int(env[f"{_ENV}PARENT"]))
    code = 1
    try:
        with open(folder / "job.pickle", "rb") as handle:
            job: _Job = pickle.load(handle)
        job.progress = job.progress and rank == 0
        import torch

        threads = env.get("OMP_NUM_THREADS", "1").split(",")[0]
        torch.set_num_threads(int(threads) if threads.isdigit() and int(threads) > 0 else 1)
        dist = torch.distributed
        timeout = datetime.timedelta(seconds=float(env[f"{_ENV}TIMEOUT"]))
        store = dist.TCPStore(HOST, int(env[f"{_ENV}PORT"]), None, False, timeout)
        _before_joining(torch)
        dist.init_process_group("gloo", store=store, rank=rank, world_size=world, timeout=timeout)
        if rank == 0:  # every worker read the job before it could join: the copy can go
            os.unlink(folder / "job.pickle")
        result = _train(torch, job, rank, world)
        dist.destroy_process_group()
        if rank == 0:
            _write(folder / "result.pickle", result)
        code = 0
    except KeyboardInterrupt:
        code = 130
    except TrainingDiverged as err:
        _write(folder / f"error-{rank}.pickle", {"kind": "diverged", "advice": err.advice})
    except Exception as err:  # reported by the process that started the workers
        lost = _lost_contact(err)
        message = _gloo_message(err) if lost else f"{type(err).__name__}: {err}"
        _write(
            folder / f"error-{rank}.pickle",
            {"kind": "lost" if lost else "error", "message": message},
        )
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    # Leave at once: a process group torn down by an error can abort the interpreter's exit.
    os._exit(code)


def _write(path: Path, value: Any) -> None:
    """Pickle `value` to `path` whole or not at all (the reader never sees half a file)."""
    part = path.with_suffix(".part")
    with open(part, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(part, path)


def _die_with_parent(parent: int) -> None:
    """End this worker when the process that started it ends, however it ends.

    Linux's parent-death signal is used where there is one, and a watch on the parent
    everywhere.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _lost_contact(err: BaseException) -> bool:
    """Whether `err` is the group failing (a peer gone, a timeout), not this worker's own."""
    import torch

    if isinstance(err, torch.distributed.DistError):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and ("gloo" in text or "Connection" in text)


def _gloo_message(err: BaseException) -> str:
    """The message of a gloo error without its source path and sign-off.

    For example: `Read error ...: Connection reset by peer`.
    """
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if text.startswith("[") and "] " in text:
        text = text.split("] ", 1)[1]
    return text.split(". This is typically", 1)[0]


# -- the training loop of a worker -------------------------------------------------------------


def _train(torch: Any, job: _Job, rank: int, world: int) -> dict[str, Any] | None:
    """Train the job's model as worker `rank` of `world`.

    Rank 0 returns the weights (as a chainrule state dict) and the `ParallelHistory`; the
    others return None.
    """
    dist = torch.distributed
    nn = torch.nn
    torch.manual_seed(0 if job.seed is None else job.seed + rank)  # dropout masks, if any
    module = to_torch(job.model, dtype=torch.float32)
    # Buffers (BatchNorm's running statistics) stay each worker's own: the model comes back
    # from rank 0, whose buffers DDP would otherwise send to the others every step.
    model = nn.parallel.DistributedDataParallel(module, **_no_buffer_sync(torch))
    kind, options = job.optimizer
    optimizer = getattr(torch.optim, kind)(model.parameters(), **options)
    params = list(module.parameters())

    inputs = _tensor(torch, job.inputs)
    targets = torch.as_tensor(job.targets)
    if job.loss == "cross_entropy":
        targets = targets.long()
    classes = None if job.classes is None else torch.as_tensor(job.classes)
    history = ParallelHistory(
        threshold=job.threshold, batch_size=job.batch, train_size=job.n, l2=job.l2, workers=world
    )
    reporting = rank == 0

    def score_held_out(done: int) -> None:
        if reporting and job.test_inputs is not None:
            history.eval_steps.append(done)
            correct = _count_correct(
                torch,
                module,
                _tensor(torch, job.test_inputs),
                torch.as_tensor(job.test_classes),
                job.threshold,
            )
            history.test_accuracy.append(correct / len(job.test_classes))

    bar = _progress_bar(job.total, world) if job.progress else None
    rng = random.Random(job.seed)
    order = list(range(job.n))
    per_epoch = math.ceil(job.n / job.batch)
    # Each step's share of its batch's loss and hits, and its L2 term (the same on every
    # worker); summed over the workers in one all-reduce every few steps, not one per step.
    stats = torch.zeros(job.total, 2, dtype=torch.float64)
    penalties = [0.0] * job.total
    sizes = [0] * job.total
    reduced = 0  # steps whose figures are in the history
    my_shards: list[list[int]] = []

    def record(upto: int) -> None:
        """Sum the figures of steps `reduced`..`upto - 1` over the workers, into the history."""
        nonlocal reduced
        chunk = stats[reduced:upto]
        dist.all_reduce(chunk)  # a slice of rows of a contiguous tensor: summed in place
        for k in range(reduced, upto):
            value = float(chunk[k - reduced, 0]) + penalties[k]
            history.loss.append(value)
            history.train_accuracy.append(
                None if classes is None else float(chunk[k - reduced, 1]) / sizes[k]
            )
            if not math.isfinite(value):
                name = "adam" if kind == "Adam" else "sgd"
                advice = diverged_advice(
                    f"the loss became {value} at step {k} (it started at {history.loss[0]:.4g})",
                    history.lr[0],
                    optim.OPTIMIZERS[name][1],
                    name,
                )
                raise TrainingDiverged(f"fit_distributed: {advice}", advice)
        reduced = upto
        if bar is not None:
            acc = history.train_accuracy[-1]
            shown = "" if acc is None else f" acc {100 * acc:.0f}%"
            lr = history.lr[upto - 1]
            bar.set_postfix_str(f"loss {history.loss[-1]:.4f}{shown} lr {lr:.3g}", refresh=False)

    dist.barrier()  # every worker is ready: the clock of the steps starts together
    history.start_time = time.time()  # when the steps began; the caller makes it a duration
    started = time.perf_counter()
    score_held_out(0)
    module.train()
    try:
        for k in range(job.total):
            t0 = time.perf_counter()
            if job.batch == job.n:
                index = order
            else:
                start = (k % per_epoch) * job.batch
                if start == 0:
                    rng.shuffle(order)
                index = order[start : start + job.batch]
            mine = index[rank::world]  # DistributedSampler's share of the batch for this rank
            if job.record_shards:
                my_shards.append(list(mine))
            lr = job.lrs[k]
            for group in optimizer.param_groups:
                group["lr"] = lr
            rows = torch.as_tensor(mine)
            outputs = model(inputs[rows])
            share = _loss_sum(torch, job.loss, outputs, targets[rows]) / len(index)
            penalty = job.l2 * sum((p * p).sum() for p in params) if job.l2 else None
            total_loss = share * world if penalty is None else share * world + penalty
            optimizer.zero_grad()
            total_loss.backward()  # DDP averages the gradients of all the workers here
            optimizer.step()
            with torch.no_grad():
                stats[k, 0] = share.detach()
                if classes is not None:
                    stats[k, 1] = _hits(torch, outputs, classes[rows], job.threshold)
            penalties[k] = 0.0 if penalty is None else float(penalty.detach())
            sizes[k] = len(index)
            history.lr.append(lr)
            history.step_time.append(time.perf_counter() - t0)
            scoring = (k + 1) % job.every == 0 or k + 1 == job.total
            if scoring or k + 1 - reduced >= _REDUCE_EVERY:
                record(k + 1)
            if scoring:
                score_held_out(k + 1)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    history.total_time = time.perf_counter() - started
    if job.record_shards:
        everyone: list[Any] = [None] * world
        dist.all_gather_object(everyone, my_shards)
        history.shards = [[everyone[r][k] for r in range(world)] for k in range(job.total)]
    if not reporting:
        return None
    module.eval()
    with torch.no_grad():
        history.final_loss = _mean_loss(torch, job.loss, module, inputs, targets)
    if classes is not None:
        correct = _count_correct(torch, module, inputs, classes, job.threshold)
        history.final_train_accuracy = correct / job.n
    if job.test_inputs is not None:
        history.final_test_accuracy = history.test_accuracy[-1]
    module.train(job.model.training)
    return {"state": from_torch(module).state_dict(), "history": history}


def _no_buffer_sync(torch: Any) -> dict[str, bool]:
    """DDP's option not to send rank 0's buffers to the others before every forward pass.

    It is named `forward_sync_buffers` since PyTorch 2.13, `broadcast_buffers` before.
    """
    takes = inspect.signature(torch.nn.parallel.DistributedDataParallel).parameters
    name = "forward_sync_buffers" if "forward_sync_buffers" in takes else "broadcast_buffers"
    return {name: False}


def _tensor(torch: Any, array: Any) -> Any:
    """An input array as PyTorch takes it: float32, or int64 token ids for an Embedding."""
    data = torch.from_numpy(np.ascontiguousarray(array))
    return data.long() if data.dtype in (torch.int32, torch.int16, torch.uint8) else data


def _loss_sum(torch: Any, loss: str, outputs: Any, targets: Any) -> Any:
    """The sum of the examples' losses, each as chainrule's `LOSSES[loss]` computes it."""
    F = torch.nn.functional
    if loss == "cross_entropy":
        return F.cross_entropy(outputs, targets, reduction="sum")
    scores = outputs.reshape(-1)
    if loss == "hinge":
        return torch.relu(1 - scores * targets).sum()
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(scores, targets, reduction="sum")
    return ((scores - targets) ** 2).sum()  # mse


def _hits(torch: Any, outputs: Any, classes: Any, threshold: float) -> int:
    """How many outputs predict their class (the largest score, or score > threshold)."""
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(dim=1)
    else:
        predicted = (outputs.reshape(-1) > threshold).long()
    return int((predicted == classes).sum())


def _count_correct(torch: Any, module: Any, inputs: Any, classes: Any, threshold: float) -> int:
    """Hits on a whole set, in evaluation mode and in chunks (no graph, bounded memory)."""
    was = module.training
    module.eval()
    hits = 0
    with torch.no_grad():
        for start in range(0, len(inputs), 4096):
            chunk = slice(start, start + 4096)
            hits += _hits(torch, module(inputs[chunk]), classes[chunk], threshold)
    module.train(was)
    return hits


def _mean_loss(torch: Any, loss: str, module: Any, inputs: Any, targets: Any) -> float:
    total = 0.0
    for start in range(0, len(inputs), 4096):
        chunk = slice(start, start + 4096)
        total += float(_loss_sum(torch, loss, module(inputs[chunk]), targets[chunk]))
    return total / len(inputs)


def _progress_bar(total: int, world: int) -> Any:
    tqdm = require("tqdm.auto", "train", "the progress bar (progress=False goes without)").tqdm
    desc = "train" if world == 1 else f"train ({world} workers)"
    return tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True)
