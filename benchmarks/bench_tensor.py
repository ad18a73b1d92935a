"""chainrule's tensor engine against PyTorch (CPU): moons, digits, the names MLP and a CNN.

Both frameworks run in the same process, from the same initial weights (chainrule's model is
copied into PyTorch with `chainrule.interop.to_torch`), over the same data in the same order,
with the same thread count, and the same user-level training code:

* moons: micrograd's demo. make_moons(100, noise=0.1), labels -1/+1, a 2-16-16-1 ReLU network,
  SVM hinge loss mean(relu(1 - y*score)) + 1e-4 * sum of squared parameters, 100 full-batch
  steps of SGD with lr = 1.0 - 0.9*k/100. Target: chainrule time <= 0.5x PyTorch's.
* digits: scikit-learn's 8x8 digits, 75/25 stratified split, a 64-128-10 ReLU network, batches
  of 32 reshuffled every epoch, softmax cross-entropy, SGD lr 0.1 momentum 0.9, 20 epochs,
  float32. Targets: chainrule time <= 0.5x PyTorch's, test accuracy >= 96%.
* names: makemore's MLP (`chainrule.tensor.layers.names_mlp`: Embedding 27x10, Linear 30-200
  without bias, BatchNorm1d, tanh, Linear 200-27) on the census first names (`data.names`),
  2,000 steps of 32 random contexts, cross-entropy, SGD lr 0.1. Target: <= 0.6x PyTorch's.
* cnn: the CNN of notebook 05 (`layers.digits_cnn`: two 3x3 convolutions with ReLU and 2x2
  max pooling, a linear layer) on mnist5k's 4,000 training digits, standardised, batches of
  64 for 2 epochs, cross-entropy, SGD lr 0.05 momentum 0.9. Target: <= 1.0x PyTorch's.

Each timing is the best of several runs (`--repeats` for digits, three times that for the short
moons runs; the machine's noise only ever adds time), the two frameworks taking turns, each run
starting from a collected heap with Python's default garbage-collector settings. The ratio of
the best CPU times is printed too: with one thread it is what a quiet machine's wall times
would give, so it stays meaningful on a machine that others are busy on. The figures
are taken twice: with numpy's BLAS and PyTorch pinned to one thread each, and with both
libraries' default thread counts. The final losses of the two frameworks are printed side by
side and compared: they must agree to float32 rounding as it grows over a run (within
`LOSS_TOLERANCE`), which shows that both did the same work. When they do not, the benchmark
says so and exits 1 whatever the timings, since its figures would compare two computations that
differ. The two round differently (and PyTorch differently with one thread and with two, its
kernels summing in another order), and each update carries the last one's rounding forward:
on the full CNN run, one thread, the last batch's loss came out 0.034750 against 0.034971
after 126 updates, having been 1.4e-5 apart (relatively) at update 105; the same run in
float64 agrees to 1e-14.

OpenBLAS reads OPENBLAS_CORETYPE (which CPU kernels to use) and OPENBLAS_L2_SIZE when it is
loaded; the values in effect, and the kernels chosen, are printed. `--blas-env` reruns the
one-thread comparison under a few settings in fresh processes. On the machine these workloads
were tuned on, forcing generic kernels (Prescott, shown as Katmai) made no difference beyond
the run-to-run noise: the matrices here are too small for the kernel to matter, and the time
goes to per-call overheads.

The CNN at the default threads misses its target on a 2-core machine. PyTorch's convolution and
pooling kernels split their work over its threads, so its CNN runs 1.3-1.5x faster with two
threads than with one. numpy runs everything but matrix products on one thread, and OpenBLAS's
second thread does not pay on matrices this small: chainrule's CNN is no faster with it, often
slower. So the CNN is at about 0.85x PyTorch's time with one thread each, and 1.0-1.4x at the
default threads, from run to run. Splitting chainrule's convolution and pooling over Python
threads (by channel, with BLAS pinned to one thread inside) was measured and gained nothing:
the stretches of work between hand-offs, about 100 us, are too short for the thread wake-ups
and the GIL.

Run: python benchmarks/bench_tensor.py [--repeats N] [--quick] [--check] [--blas-env]
                                       [--only moons|digits|names|cnn ...]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

TARGETS = {"moons": 0.5, "digits": 0.5, "names": 0.6, "cnn": 1.0}  # chainrule / PyTorch time
WORKLOADS = tuple(TARGETS)
TARGET_ACCURACY = 0.96
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
# How far apart the two final losses may be, absolutely or relative to their size: float32
# rounding compounded over a run's updates (measured at most 2.2e-4 apart; see the docstring).
LOSS_TOLERANCE = 1e-3


# -- the workloads, written once per framework in the same user-level style -----------------


def moons_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.1, random_state=seed)
    return X.astype(np.float32), (2 * y - 1).astype(np.float32).reshape(-1, 1)


def moons_loop(model: Any, Xt: Any, yt: Any, steps: int, opt: Any, set_lr: Any) -> float:
    """micrograd's demo loop, written once: both frameworks run exactly this code."""
    params = list(model.parameters())
    for k in range(steps):
        scores = model(Xt)
        data_loss = (1 - yt * scores).relu().mean()
        reg_loss = 1e-4 * sum((p * p).sum() for p in params)
        loss = data_loss + reg_loss
        opt.zero_grad()
        loss.backward()
        set_lr(opt, 1.0 - 0.9 * k / steps)
        opt.step()
    return loss.item()


def moons_chainrule(model: Any, X: np.ndarray, y: np.ndarray, steps: int) -> float:
    from chainrule.learn.optim import SGD
    from chainrule.tensor import Tensor

    def set_lr(opt: Any, lr: float) -> None:
        opt.lr = lr

    opt = SGD(model.parameters(), lr=1.0)
    return moons_loop(model, Tensor(X), Tensor(y), steps, opt, set_lr)


def moons_torch(model: Any, X: np.ndarray, y: np.ndarray, steps: int) -> float:
    import torch

    def set_lr(opt: Any, lr: float) -> None:
        opt.param_groups[0]["lr"] = lr

    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    return moons_loop(model, torch.from_numpy(X), torch.from_numpy(y), steps, opt, set_lr)


def digits_batches(
    X: np.ndarray, y: np.ndarray, epochs: int, batch: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every batch of every epoch, shuffled once here so both frameworks see the same ones."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch):
            idx = order[i : i + batch]
            out.append((X[idx], y[idx]))
    return out


def digits_chainrule(model: Any, batches: list, lr: float = 0.1, momentum: float = 0.9) -> float:
    """The minibatch loop of digits, names and cnn: cross-entropy and SGD over given batches."""
    from chainrule.learn.optim import SGD
    from chainrule.tensor import Tensor, cross_entropy

    opt = SGD(model.parameters(), lr=lr, momentum=momentum)
    for xb, yb in batches:
        loss = cross_entropy(model(Tensor(xb)), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def digits_torch(model: Any, batches: list, lr: float = 0.1, momentum: float = 0.9) -> float:
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    cross_entropy = torch.nn.functional.cross_entropy
    for xb, yb in batches:
        loss = cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def names_batches(steps: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """`steps` batches of 32 (context, next character) pairs from 80% of the census names."""
    from chainrule import data

    words = data.names()
    rng = np.random.default_rng(seed)
    words = [words[i] for i in rng.permutation(len(words))][: int(0.8 * len(words))]
    X, y = data.name_contexts(words, block_size=3)
    return [(X[ix], y[ix]) for ix in rng.integers(0, len(y), (steps, 32))]


def cnn_batches(epochs: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """mnist5k's 4,000 training digits, standardised, in shuffled batches of 64."""
    from chainrule import data

    X, y, _, _ = data.mnist5k_arrays(test_size=1000, seed=seed)
    X = (X - X.mean()) / X.std()
    return digits_batches(X, y, epochs, 64, seed)


# -- timing ---------------------------------------------------------------------------------


def timed(run: Callable[[], float]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process, the run's final loss)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - start, time.process_time() - cpu, result


# The best CPU time of each side, by workload, from the last `best_of` calls: with one thread
# it is the wall time a quiet machine would show, which a busy shared machine cannot spoil.
CPU_SECONDS: dict[str, tuple[float, float]] = {}


def best_of(
    repeats: int, ours: Callable[[], Callable[[], float]], theirs: Callable[[], Callable[[], float]]
) -> tuple[float, float, float, float]:
    """Best time of each side over `repeats` fresh runs from the same initial weights.

    The two sides take turns (and swap who goes first), so a busy spell on a shared machine
    slows both rather than one: (our time, our final loss, their time, their final loss).
    The best CPU times are left in `CPU_SECONDS["last"]`.
    """
    best = [float("inf"), float("inf")]
    cpu = [float("inf"), float("inf")]
    loss = [float("nan"), float("nan")]
    for k in range(repeats):
        for side in (0, 1) if k % 2 == 0 else (1, 0):
            seconds, cpu_seconds, loss[side] = timed((ours, theirs)[side]())
            best[side] = min(best[side], seconds)
            cpu[side] = min(cpu[side], cpu_seconds)
    CPU_SECONDS["last"] = (cpu[0], cpu[1])
    return best[0], loss[0], best[1], loss[1]


def compare(args: argparse.Namespace) -> dict[str, float]:
    """The chosen workloads, both frameworks: times, ratios, losses and chainrule's accuracy."""
    import torch

    from chainrule.interop import to_torch
    from chainrule.learn.data import digits_arrays as digits
    from chainrule.tensor import Tensor, no_grad
    from chainrule.tensor.layers import Linear, ReLU, Sequential

    steps = 5 if args.quick else 100
    epochs = 1 if args.quick else 20

    def moons_model() -> Sequential:
        return Sequential(
            Linear(2, 16, seed=args.seed),
            ReLU(),
            Linear(16, 16, seed=args.seed + 1),
            ReLU(),
            Linear(16, 1, seed=args.seed + 2),
        )

    def digits_model() -> Sequential:
        first, second = Linear(64, 128, seed=args.seed), Linear(128, 10, seed=args.seed + 1)
        return Sequential(first, ReLU(), second)

    X, y = moons_data(args.seed)

    def moons_cr() -> Callable[[], float]:
        model = moons_model()
        return lambda: moons_chainrule(model, X, y, steps)

    def moons_pt() -> Callable[[], float]:
        model = to_torch(moons_model())
        return lambda: moons_torch(model, X, y, steps)

    X_train, y_train, X_test, y_test = digits(test_fraction=0.25, seed=args.seed)
    batches = digits_batches(X_train, y_train, epochs, 32, args.seed)
    trained: list[Any] = []

    def digits_cr() -> Callable[[], float]:
        model = digits_model()
        trained[:] = [model]
        return lambda: digits_chainrule(model, batches)

    def digits_pt() -> Callable[[], float]:
        model = to_torch(digits_model())
        return lambda: digits_torch(model, batches)

    from chainrule.tensor.layers import digits_cnn, names_mlp

    chosen = args.only or WORKLOADS
    # the real data sets are read only for the workloads that run
    name_batches = names_batches(STEPS["names"](args), args.seed) if "names" in chosen else []
    image_batches = cnn_batches(STEPS["cnn"](args) // 63, args.seed) if "cnn" in chosen else []

    def names_cr() -> Callable[[], float]:
        model = names_mlp(seed=args.seed)
        return lambda: digits_chainrule(model, name_batches, 0.1, 0.0)

    def names_pt() -> Callable[[], float]:
        model = to_torch(names_mlp(seed=args.seed))
        return lambda: digits_torch(model, name_batches, 0.1, 0.0)

    def cnn_cr() -> Callable[[], float]:
        model = digits_cnn(seed=args.seed)
        return lambda: digits_chainrule(model, image_batches, 0.05, 0.9)

    def cnn_pt() -> Callable[[], float]:
        model = to_torch(digits_cnn(seed=args.seed))
        return lambda: digits_torch(model, image_batches, 0.05, 0.9)

    out: dict[str, float] = {}
    for name, ours, theirs, repeats in (
        ("moons", moons_cr, moons_pt, 3 * args.repeats),  # a moons run is short: take more
        ("digits", digits_cr, digits_pt, args.repeats),
        ("names", names_cr, names_pt, args.repeats),
        ("cnn", cnn_cr, cnn_pt, args.repeats),
    ):
        if name not in chosen:
            continue
        times = best_of(repeats, ours, theirs)
        out[f"{name}_chainrule"], out[f"{name}_loss_chainrule"] = times[:2]
        out[f"{name}_torch"], out[f"{name}_loss_torch"] = times[2:]
        out[f"{name}_cpu_chainrule"], out[f"{name}_cpu_torch"] = CPU_SECONDS["last"]
    if trained:
        with no_grad():
            predicted = trained[0](Tensor(X_test)).data.argmax(axis=1)
        out["digits_accuracy"] = float((predicted == y_test).mean())
    out["torch_threads"] = torch.get_num_threads()
    return out


# Steps per workload (names: batches; cnn: a whole number of epochs of 63 batches).
STEPS: dict[str, Callable[[argparse.Namespace], int]] = {
    "names": lambda args: 50 if args.quick else 2000,
    "cnn": lambda args: 63 if args.quick else 2 * 63,
}


def losses_agree(ours: float, theirs: float) -> bool:
    """Whether two final losses agree to float32 rounding over a run (`LOSS_TOLERANCE`, absolute
    or relative); NaN never agrees."""
    tolerance = LOSS_TOLERANCE
    return math.isfinite(ours) and math.isclose(ours, theirs, rel_tol=tolerance, abs_tol=tolerance)


def report(title: str, r: dict[str, float], steps: dict[str, int]) -> tuple[bool, bool]:
    """Print one table; (every target met, every pair of final losses agrees)."""
    print(f"\n{title}")
    ok = agree = True
    for name in WORKLOADS:
        if f"{name}_chainrule" not in r:
            continue
        cr, pt = r[f"{name}_chainrule"], r[f"{name}_torch"]
        ratio, target = cr / pt, TARGETS[name]
        passed = ratio <= target
        ok &= passed
        print(
            f"  {name:6}  chainrule {cr * 1e3:8.1f} ms ({cr / steps[name] * 1e6:6.1f} us/step)"
            f"   PyTorch {pt * 1e3:8.1f} ms ({pt / steps[name] * 1e6:6.1f} us/step)"
            f"   ratio {ratio:.3f} (target <= {target})  {'PASS' if passed else 'FAIL'}"
        )
        cpu_ratio = r[f"{name}_cpu_chainrule"] / r[f"{name}_cpu_torch"]
        ours, theirs = r[f"{name}_loss_chainrule"], r[f"{name}_loss_torch"]
        same = losses_agree(ours, theirs)
        agree &= same
        print(
            f"          final loss: chainrule {ours:.6f}   PyTorch {theirs:.6f}   "
            f"apart {abs(ours - theirs):.1e} "
            f"({'agree' if same else f'DISAGREE: more than {LOSS_TOLERANCE:g}'})"
            f"   CPU-time ratio {cpu_ratio:.3f}"
        )
    if "digits_accuracy" not in r:
        return ok, agree
    acc = r["digits_accuracy"]
    passed = acc >= TARGET_ACCURACY
    ok &= passed
    print(
        f"  digits test accuracy (chainrule): {acc:.2%} "
        f"(target >= {TARGET_ACCURACY:.0%})  {'PASS' if passed else 'FAIL'}"
    )
    return ok, agree


def blas_env_report(argv: list[str]) -> int:
    """Rerun the 1-thread comparison under a few OpenBLAS settings, in fresh processes
    (OpenBLAS reads them once, when it is loaded); 1 if any of them failed."""
    settings = [
        {},
        {"OPENBLAS_CORETYPE": "Haswell"},
        {"OPENBLAS_CORETYPE": "Prescott"},
        {"OPENBLAS_L2_SIZE": "262144"},
    ]
    base = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    failed = 0
    for extra in settings:
        label = ", ".join(f"{k}={v}" for k, v in extra.items()) or "none of them set"
        print(f"\n=== OpenBLAS settings: {label}", flush=True)
        cmd = [sys.executable, __file__, "--one-thread-only", *argv]
        failed |= subprocess.run(cmd, env={**base, **extra}, check=False).returncode != 0
    return int(failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--blas-env", action="store_true", help="compare OpenBLAS settings")
    parser.add_argument(
        "--only",
        action="append",
        choices=WORKLOADS,
        help="run this workload only (repeat the flag for several; default: all of them)",
    )
    parser.add_argument("--one-thread-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.blas_env:
        only = [flag for name in args.only or () for flag in ("--only", name)]
        check = ["--check"] if args.check else []
        argv = ["--repeats", str(args.repeats), "--seed", str(args.seed), *only, *check]
        return blas_env_report(argv)

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    default_threads = torch.get_num_threads()
    blas = ", ".join(
        f"{i['internal_api']} {i.get('version')}"
        + (f", {i['architecture']} kernels" if i.get("architecture") else "")
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )
    env = ", ".join(f"{k}={os.environ[k]}" for k in BLAS_VARS if k in os.environ) or "none"
    print(f"numpy {np.__version__} ({blas}); torch {torch.__version__}; CPUs: {os.cpu_count()}")
    print(f"BLAS environment variables: {env}")
    steps = {"moons": 5 if args.quick else 100}
    from chainrule.learn.data import digits_arrays

    n_train = len(digits_arrays(seed=args.seed)[0])
    steps["digits"] = (1 if args.quick else 20) * -(-n_train // 32)
    steps.update({name: count(args) for name, count in STEPS.items()})

    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        ok, agree = report("One thread (numpy BLAS and torch pinned to 1):", compare(args), steps)
    torch.set_num_threads(default_threads)
    if not args.one_thread_only:
        r = compare(args)
        title = f"Default threads (torch: {r['torch_threads']:.0f}, numpy BLAS: its default):"
        met, same = report(title, r, steps)
        ok, agree = ok and met, agree and same
    if not agree:
        print(
            "error: chainrule's and PyTorch's final losses differ by more than float32 rounding "
            f"({LOSS_TOLERANCE:g}): the two did not do the same work, so the times compare "
            "nothing",
            file=sys.stderr,
        )
        return 1
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
