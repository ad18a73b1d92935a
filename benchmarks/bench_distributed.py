"""Data-parallel training on this machine: the cnn-mnist5k preset's run on 1, 2 and (where there
are the cores) 4 PyTorch worker processes, against chainrule's own tensor engine.

Every configuration is the same run, the one `chainrule preset cnn-mnist5k --steps N` makes
(`--engine tensor`, or `--engine torch --workers W`): the preset's CNN (two 3x3 convolutions
with max pooling and ReLU, a linear layer, seed 0) on mnist5k's 4,000 training digits,
standardised, batches of 64, SGD lr 0.05 with momentum 0.9 and weight decay 5e-4, the cosine
schedule. Each configuration runs in a fresh process, through `fit` or `fit_distributed` as the
command does, without the command's pictures. The figures are the training time of the steps
(as `fit` measures it), the time to start the workers and form the group (torch), the wall
time of the whole process (Python, data, workers, final scoring), the loss of the last batch
and of the 1,000 held-out digits, and the held-out accuracy.

Threads: one worker runs in its process with PyTorch's default thread count (also shown with
one thread, the per-core baseline); W workers share the cores, `cores // W` threads each (what
`--workers` gives them). chainrule's engine runs numpy on its default threads.

What to expect: with C cores, W workers can make each step up to min(W, C) times faster, less
the cost of averaging the gradients (one all-reduce of the model's weights per step, over gloo
on 127.0.0.1) and of the Python around each step. Each timing is the best of `--repeats` runs:
a busy machine only ever adds time.

Run: python benchmarks/bench_distributed.py [--steps N] [--repeats N] [--workers 1,2,4]
                                            [--preset cnn-mnist5k|names-mlp]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {  # the presets' training settings (chainrule.cli.preset.PRESETS)
    "cnn-mnist5k": dict(lr=0.05, momentum=0.9, weight_decay=5e-4, batch=64),
    "names-mlp": dict(lr=0.1, momentum=0.0, weight_decay=0.0, batch=32),
}


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def preset_data(preset: str) -> tuple[Any, ...]:
    """The preset's training and held-out examples, made as `chainrule preset` makes them."""
    import numpy as np

    from chainrule.learn import data

    if preset == "cnn-mnist5k":
        X, y, X_test, y_test = data.mnist5k_arrays(test_size=1000, seed=0)
        mean, std = float(X.mean()), float(X.std())
        return (X - mean) / std, y, (X_test - mean) / std, y_test
    words = data.names("first")
    words = [words[i] for i in np.random.default_rng(0).permutation(len(words))]
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    X, y = data.name_contexts(words[:n1], 3)
    X_dev, y_dev = data.name_contexts(words[n1:n2], 3)
    return X, y, X_dev, y_dev


def one_run(preset: str, steps: int, engine: str, workers: int) -> dict[str, Any]:
    """One configuration, in this process: the figures of its run."""
    from chainrule.interop import fit_distributed
    from chainrule.learn import fit, optim
    from chainrule.tensor import cross_entropy, no_grad
    from chainrule.tensor import layers as recipes

    X, y, X_test, y_test = preset_data(preset)
    recipe = RECIPES[preset]
    model = (recipes.digits_cnn if preset == "cnn-mnist5k" else recipes.names_mlp)(seed=0)
    sgd = optim.SGD(
        model.parameters(),
        lr=recipe["lr"],
        momentum=recipe["momentum"],
        weight_decay=recipe["weight_decay"],
    )
    options = dict(
        loss="cross_entropy",
        optimizer=sgd,
        steps=steps,
        batch_size=recipe["batch"],
        schedule="cosine",
        X_test=X_test,
        y_test=y_test,
        progress=False,
        seed=0,
    )
    if engine == "tensor":
        history = fit(model, X, y, **options)
    else:
        ran = fit_distributed(model, X, y, workers=workers, **options)
        assert ran is not None  # None only on a torchrun rank other than 0
        history = ran
    model.eval()
    with no_grad():
        test_loss = float(cross_entropy(model(X_test), y_test).item())
    return {
        "steps": history.steps,
        "train_seconds": history.total_time,
        "start_seconds": getattr(history, "start_time", 0.0),
        "batch_loss": history.loss[-1],
        "test_loss": test_loss,
        "test_accuracy": history.final_test_accuracy,
    }


def measure(preset: str, steps: int, engine: str, workers: int, threads: int | None) -> dict:
    """One configuration in a fresh process; `threads` pins PyTorch's threads in it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    command = [
        sys.executable,
        __file__,
        "--one",
        engine,
        "--preset",
        preset,
        "--steps",
        str(steps),
        "--workers",
        str(workers),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{engine} on {workers} worker(s) failed:\n{result.stderr}")
    return {"wall": wall, **json.loads(result.stdout.strip().splitlines()[-1])}


def best(repeats: int, *args: Any) -> dict[str, Any]:
    runs = [measure(*args) for _ in range(repeats)]
    fastest = min(runs, key=lambda r: r["train_seconds"])
    return {**fastest, "wall": min(r["wall"] for r in runs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cnn-mnist5k", choices=list(RECIPES))
    parser.add_argument("--steps", type=int, default=200, help="updates per run (default 200)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per figure; best is kept")
    parser.add_argument(
        "--workers",
        help="worker counts, comma-separated (default: 1,2 and 4 where there are 4 cores)",
    )
    parser.add_argument("--one", choices=["tensor", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # a configuration's own process
        print(json.dumps(one_run(args.preset, args.steps, args.one, int(args.workers or 1))))
        return 0

    import torch

    n_cores = cores()
    counts = [int(w) for w in args.workers.split(",")] if args.workers else [1, 2]
    if not args.workers and n_cores >= 4:
        counts.append(4)
    default_threads = torch.get_num_threads()
    print(
        f"{args.preset}: {args.steps} steps of {RECIPES[args.preset]['batch']} examples, best "
        f"of {args.repeats} runs; {n_cores} cores, PyTorch {torch.__version__} (default "
        f"threads {default_threads}), Python {sys.version.split()[0]}"
    )
    if 4 not in counts:
        print(f"(4 workers left out: this machine has {n_cores} cores; --workers 1,2,4 runs them)")
    s, p = args.steps, args.preset
    rows = [("chainrule tensor", "numpy", best(args.repeats, p, s, "tensor", 1, None))]
    for w in counts:
        if w == 1:
            rows.append(
                (
                    "torch, 1 worker",
                    str(default_threads),
                    best(args.repeats, p, s, "torch", 1, None),
                )
            )
            if default_threads > 1:
                rows.append(("torch, 1 worker", "1", best(args.repeats, p, s, "torch", 1, 1)))
        else:
            threads = max(1, n_cores // w)
            rows.append(
                (f"torch, {w} workers", str(threads), best(args.repeats, p, s, "torch", w, None))
            )
    base = next((r for name, _, r in rows if name == "torch, 1 worker"), None)
    header = (
        f"{'engine':<18} {'threads':>7} {'steps/s':>8} {'speed-up':>8} {'train s':>8} "
        f"{'start s':>7} {'wall s':>7} {'batch loss':>10} {'held-out loss':>13} {'acc':>6}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for name, thread_count, r in rows:
        speedup = f"{base['train_seconds'] / r['train_seconds']:.2f}x" if base else "-"
        print(
            f"{name:<18} {thread_count:>7} {r['steps'] / r['train_seconds']:>8.1f} {speedup:>8} "
            f"{r['train_seconds']:>8.2f} {r['start_seconds']:>7.2f} {r['wall']:>7.1f} "
            f"{r['batch_loss']:>10.4f} {r['test_loss']:>13.4f} {100 * r['test_accuracy']:>5.1f}%"
        )
    print(
        "\nspeed-up: the training time of 1 torch worker on PyTorch's default threads over this "
        "row's.\nstart: starting the workers and forming the group; wall: the whole process."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
