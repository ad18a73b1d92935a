"""Data-parallel training by PyTorch (`chainrule.interop.distributed`, `--engine torch`).

What DDP promises is checked, not assumed: 2 workers give the weights 1 worker gives (to float32
round-off), each worker trains on its own share of every batch, and the PyTorch path follows
chainrule's own tensor engine step for step on the runs of the presets and of the digits. The
failures are checked too: a worker killed mid-run, a port in use, too many workers, no PyTorch,
and no process may be left behind. Runs are short (a few steps) and every wait has a timeout.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chainrule import io
from chainrule.cli import main
from chainrule.interop import distributed
from chainrule.interop.distributed import WorkerFailed, fit_distributed
from chainrule.learn import data, optim
from chainrule.learn.advice import TrainingDiverged
from chainrule.learn.loop import fit
from chainrule.tensor.layers import BatchNorm1d, digits_cnn, mlp, names_mlp

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
STEPS, BATCH, SEED = 12, 32, 3


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """PyTorch in this process on one thread, as each worker process is on a machine with
    one core per worker: on a busy machine, its threads wait for each other's cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def largest_difference(a, b) -> float:
    return max(float(np.abs(p.data - q.data).max()) for p, q in zip(a.parameters(), b.parameters()))


def fit_batches(n: int, batch: int, steps: int, seed: int) -> list[list[int]]:
    """The global batches of a `fit` run, drawn as `fit` documents it: the order shuffled by
    random.Random(seed) at the start of every epoch, then cut into batches."""
    rng, order, per_epoch, out = random.Random(seed), list(range(n)), -(-n // batch), []
    for k in range(steps):
        start = (k % per_epoch) * batch
        if start == 0:
            rng.shuffle(order)
        out.append(order[start : start + batch])
    return out


# -- the CNN of the cnn-mnist5k preset, three ways --------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    X, y, X_test, y_test = data.mnist5k_arrays(test_size=1000, seed=0)
    mean, std = float(X.mean()), float(X.std())
    return (X[:640] - mean) / std, y[:640], (X_test[:200] - mean) / std, y_test[:200]


@pytest.fixture(scope="module")
def cnn_runs(mnist):
    """The preset's recipe (SGD momentum 0.9, weight decay 5e-4, cosine from 0.05), a few
    steps: on chainrule's tensor engine, on 1 PyTorch worker, on 2."""
    X, y, X_test, y_test = mnist
    runs = {}
    for name, workers in (("tensor", None), ("torch1", 1), ("torch2", 2)):
        model = digits_cnn(seed=SEED)
        sgd = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        options = dict(
            loss="cross_entropy",
            optimizer=sgd,
            steps=STEPS,
            batch_size=BATCH,
            schedule="cosine",
            X_test=X_test,
            y_test=y_test,
            eval_every=4,
            progress=False,
            seed=SEED,
        )
        history: Any = (
            fit(model, X, y, **options)
            if workers is None
            else fit_distributed(model, X, y, workers=workers, record_shards=True, **options)
        )
        runs[name] = (model, history)
    return runs


def test_two_workers_give_the_weights_of_one(cnn_runs):
    (one, h1), (two, h2) = cnn_runs["torch1"], cnn_runs["torch2"]
    assert h1.workers == 1 and h2.workers == 2 and h2.steps == STEPS
    assert largest_difference(one, digits_cnn(seed=SEED)) > 1e-3  # it did train
    assert largest_difference(one, two) < 1e-5  # float32 round-off in the order of the sums
    np.testing.assert_allclose(h2.loss, h1.loss, rtol=1e-5)
    assert h2.train_accuracy == h1.train_accuracy and h2.test_accuracy == h1.test_accuracy


def test_each_worker_trains_on_its_own_share_of_every_batch(cnn_runs, mnist):
    _, history = cnn_runs["torch2"]
    batches = fit_batches(len(mnist[1]), BATCH, STEPS, SEED)
    assert len(history.shards) == STEPS
    for batch, (first, second) in zip(batches, history.shards):
        assert len(first) == len(second) == BATCH // 2
        assert not set(first) & set(second)  # disjoint
        assert sorted(first + second) == sorted(batch)  # together, the global batch
        assert first == batch[0::2] and second == batch[1::2]  # DistributedSampler's stride
    _, one = cnn_runs["torch1"]
    assert [s[0] for s in one.shards] == batches  # one worker: the whole batch


def test_the_cnn_follows_chainrules_own_loss_curve(cnn_runs):
    (ours, tensor), (theirs, torch1) = cnn_runs["tensor"], cnn_runs["torch1"]
    np.testing.assert_allclose(torch1.loss, tensor.loss, rtol=1e-5)
    np.testing.assert_allclose(torch1.lr, tensor.lr, rtol=1e-12)
    assert torch1.train_accuracy == tensor.train_accuracy
    assert torch1.eval_steps == tensor.eval_steps == [0, 4, 8, 12]
    assert torch1.test_accuracy == tensor.test_accuracy
    assert torch1.final_loss == pytest.approx(tensor.final_loss, rel=1e-5)
    assert largest_difference(ours, theirs) < 1e-5


@pytest.mark.filterwarnings("ignore::chainrule.learn.advice.TrainingWarning")
def test_names_mlp_follows_chainrules_own_loss_curve():
    """makemore's MLP (Embedding, BatchNorm1d) on census names, the preset's recipe."""
    words = data.names("first")
    words = [words[i] for i in np.random.default_rng(0).permutation(len(words))]
    X, y = data.name_contexts(words[:3000], 3)
    X_dev, y_dev = data.name_contexts(words[3000:3300], 3)
    runs = []
    for train in (fit, fit_distributed):
        model = names_mlp(seed=SEED)
        history: Any = train(
            model,
            X,
            y,
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            steps=40,
            batch_size=32,
            schedule="cosine",
            X_test=X_dev,
            y_test=y_dev,
            progress=False,
            seed=SEED,
        )
        runs.append((model, history))
    (ours, tensor), (theirs, torch1) = runs
    assert tensor.loss[-1] < tensor.loss[0] - 0.3
    np.testing.assert_allclose(torch1.loss, tensor.loss, rtol=1e-5)
    assert torch1.test_accuracy == tensor.test_accuracy
    assert largest_difference(ours, theirs) < 1e-5
    # 40 steps is early days: both runs say so, the same way (`fit`'s advice)
    assert (
        [w.text("python") for w in torch1.warnings]
        == [w.text("python") for w in tensor.warnings]
        != []
    )
    # the running statistics came back too
    theirs_bn, ours_bn = theirs[3], ours[3]
    assert isinstance(theirs_bn, BatchNorm1d) and isinstance(ours_bn, BatchNorm1d)
    assert theirs_bn.running_var is not None and ours_bn.running_var is not None
    np.testing.assert_allclose(theirs_bn.running_var.data, ours_bn.running_var.data, rtol=1e-5)


def test_digits_mlp_follows_chainrules_own_loss_curve():
    """`chainrule train --data digits`'s recipe: an MLP, SGD with momentum 0.9, an L2 term,
    the linear schedule, batches of 32 with a short last one in every epoch."""
    X, y, X_test, y_test = data.digits_arrays(seed=1)
    runs = []
    for train in (fit, fit_distributed):
        model = mlp([64, 64, 10], "relu", "linear", seed=SEED)
        history: Any = train(
            model,
            X,
            y,
            loss="cross_entropy",
            optimizer="sgd",
            lr=0.1,
            momentum=0.9,
            l2=1e-4,
            epochs=2,
            batch_size=32,
            schedule="linear",
            X_test=X_test,
            y_test=y_test,
            progress=False,
            seed=SEED,
        )
        runs.append((model, history))
    (ours, tensor), (theirs, torch1) = runs
    assert tensor.steps == 86 and tensor.final_train_accuracy > 0.9
    np.testing.assert_allclose(torch1.loss, tensor.loss, rtol=1e-5)
    assert torch1.train_accuracy == tensor.train_accuracy
    assert torch1.test_accuracy == tensor.test_accuracy
    assert torch1.final_loss == pytest.approx(tensor.final_loss, rel=1e-5)
    assert largest_difference(ours, theirs) < 1e-5


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists threads from /proc")
def test_no_thread_of_the_group_outlives_the_run():
    """A group whose gloo threads outlived `destroy_process_group` made the interpreter's exit
    abort now and then (std::terminate on a running thread): none may be left."""
    X, y = data.xor(40, seed=1)
    fit_distributed(mlp([2, 8, 1], "relu", "linear", seed=1), X, y, steps=5, progress=False)
    threads = [
        Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task")
    ]
    assert not [name for name in threads if "gloo" in name or "tcpstore" in name], threads


# -- the command line, under torchrun -----------------------------------------------------------


def test_torchrun_runs_the_command_and_rank_0_writes_a_run_like_any_other(tmp_path, capsys):
    """`torchrun --nproc-per-node 2 -m chainrule train --data xor --engine torch`
    (micrograd's recipe: hinge, an L2 term, full batches): the ranks join torchrun's group,
    rank 0 alone prints and writes, and the run folder is the one chainrule's own engine
    writes (same metadata, same final loss), which `eval` and `predict` use unchanged."""
    flags = ["--data", "xor", "--quiet", "--out"]
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "chainrule",
        "train",
        *flags,
        str(tmp_path / "torch"),
        "--engine",
        "torch",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("done   train accuracy") == 1  # rank 0 reports, rank 1 does not
    assert main(["train", *flags, str(tmp_path / "tensor"), "--engine", "tensor"]) == 0
    ours = io.read_metadata(tmp_path / "tensor" / "model.json")
    theirs = io.read_metadata(tmp_path / "torch" / "model.json")
    assert theirs["engine"] == "torch" and theirs["workers"] == 2 and theirs["steps"] == 100
    assert theirs["l2"] == 1e-4 and theirs["loss"] == "hinge"
    assert set(ours) | {"workers"} == set(theirs)  # the metadata of any other run
    assert theirs["final_loss"] == pytest.approx(ours["final_loss"], rel=1e-4)
    assert theirs["train_accuracy"] == ours["train_accuracy"] > 0.5
    assert theirs["test_accuracy"] == ours["test_accuracy"]
    assert sorted(os.listdir(tmp_path / "torch")) == sorted(os.listdir(tmp_path / "tensor"))
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "torch" / "model.json")]) == 0
    assert f"accuracy {100 * theirs['test_accuracy']:.1f}%" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "torch" / "model.json"), "0.5", "-0.5"]) == 0


# -- failures -----------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_training(tmp_path, training=True):
    """A long `chainrule train --workers 2` run, once its rank 0 has made a step (or, not
    `training`, once its workers were started): the process, its workers' pids, and the text
    it wrote to stderr so far (a growing list)."""
    command = [
        sys.executable,
        "-m",
        "chainrule",
        "train",
        "--data",
        "xor",
        "--engine",
        "torch",
        "--workers",
        "2",
        "--steps",
        "100000",
        "--out",
        str(tmp_path / "run"),
    ]
    # its temporary folder in tmp_path: a folder left by a killed run is cleaned up by the
    # next run that starts workers, and by pytest here
    env = dict(ENV, TMPDIR=str(tmp_path))
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    stdout, stderr = proc.stdout, proc.stderr
    assert stdout is not None and stderr is not None
    err: list[str] = []
    threading.Thread(
        target=lambda: err.extend(iter(lambda: stderr.read(1), "")), daemon=True
    ).start()
    out: list[str] = []
    threading.Thread(target=lambda: out.extend(stdout), daemon=True).start()
    deadline = time.monotonic() + 120
    pids = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"pids (\d+), (\d+)\)", "".join(out))
        if found and (not training or re.search(r"\| *[1-9]\d*/100000", "".join(err))):
            pids = [int(found[1]), int(found[2])]
            break
        time.sleep(0.1)
    if pids is None:
        proc.kill()
        raise AssertionError("the run did not start: " + "".join(out) + "".join(err)[-2000:])
    return proc, pids, err


def wait_gone(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc (Linux)")
def test_a_killed_worker_stops_the_run_naming_its_rank_and_leaves_no_process(tmp_path):
    proc, pids, err = start_training(tmp_path)
    try:
        killed = time.monotonic()
        os.kill(pids[1], signal.SIGKILL)
        code = proc.wait(timeout=30)
        took = time.monotonic() - killed
    finally:
        proc.kill()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert code == 2 and took < 10
    assert wait_gone(pids, 2), "a worker outlived the run"
    time.sleep(0.2)  # the reader thread has the last line
    last = "".join(err).strip().splitlines()[-1]  # on a line of its own, after the bar's
    assert last == (
        "chainrule train: error: worker rank 1 died (killed by SIGKILL); the other worker "
        "was stopped"
    )
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob("chainrule-workers-*"))  # its temporary folder went too


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc (Linux)")
def test_the_workers_end_with_the_process_that_started_them(tmp_path, monkeypatch):
    proc, pids, _ = start_training(tmp_path, training=False)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # nothing can clean up after a SIGKILL but the workers
        proc.wait(timeout=10)
        assert wait_gone(pids, 10), "a worker outlived the process that started it"
    finally:
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    # the killed run's temporary folder, named after it, goes when the next run starts
    left = list(tmp_path.glob("chainrule-workers-*"))
    assert [folder.name.split("-")[2] for folder in left] == [str(proc.pid)]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    distributed._remove_stale_folders()
    assert not list(tmp_path.glob("chainrule-workers-*"))


def test_a_port_in_use_is_reported_before_any_worker_starts(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        argv = [
            "train",
            "--data",
            "xor",
            "--quiet",
            "--out",
            str(tmp_path / "x"),
            "--engine",
            "torch",
            "--workers",
            "2",
            "--port",
            str(port),
        ]
        started = time.monotonic()
        assert main(argv) == 2
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err.strip()
    assert err == (
        f"chainrule train: error: port {port} on 127.0.0.1 is already in use (by another "
        "run?): choose another port, or none to take a free one"
    )
    assert not (tmp_path / "x").exists()


def test_no_workers_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--data", "xor", "--engine", "torch", "--workers", "0"])
    assert stopped.value.code == 2
    assert (
        "argument --workers: must be a whole number from 1 to 1,000,000,000,000"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--workers", "101"],
            "101 workers is more than the 100 examples in a batch: each "
            "worker needs at least one; use at most 100 workers, or larger "
            "batches",
        ),
        (
            ["--workers", "3", "--batch-size", "32", "--samples", "98", "--epochs", "1"],
            "3 workers is more than the 2 examples in the last batch of each epoch (98 = 3 x 32 + "
            "2): each worker needs at least one; use at most 2 workers, or a batch size that "
            "divides 98",
        ),
    ],
)
def test_more_workers_than_examples_are_refused_before_any_process_starts(
    tmp_path, capsys, flags, message
):
    argv = [
        "train",
        "--data",
        "xor",
        "--quiet",
        "--out",
        str(tmp_path / "x"),
        "--engine",
        "torch",
        *flags,
    ]
    started = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - started < 10  # no worker was started (each takes seconds)
    assert capsys.readouterr().err.strip() == f"chainrule train: error: {message}"
    assert not (tmp_path / "x").exists()


def test_workers_need_the_torch_engine(tmp_path, capsys):
    assert main(["train", "--data", "xor", "--workers", "2", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.strip() == (
        "chainrule train: error: --workers needs --engine torch"
    )


def test_without_torch_the_engine_names_the_extra(tmp_path):
    code = (
        "import sys\n"
        "class NotInstalled:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, NotInstalled())\n"
        "from chainrule.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    for argv in (["train", "--data", "xor"], ["preset", "cnn-mnist5k"]):
        result = subprocess.run(
            [sys.executable, "-c", code, *argv, "--engine", "torch", "--out", "x"],
            capture_output=True,
            text=True,
            env=ENV,
            cwd=tmp_path,
            timeout=120,
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.strip().endswith(
            '--engine torch needs torch, which is not installed: pip install "chainrule[torch]"'
        )
    assert os.listdir(tmp_path) == []


def test_a_diverging_run_stops_with_the_advice_of_fit():
    X, y = data.xor(64, seed=1)
    model = mlp([2, 16, 1], "relu", "linear", seed=1)
    with pytest.raises(TrainingDiverged, match="the run diverged") as caught:
        fit_distributed(model, X, y, loss="mse", lr=1e6, steps=30, progress=False, seed=1)
    assert caught.value.advice.tries[0]["lr"] < 1e6


def test_a_worker_that_fails_names_its_rank_and_its_error():
    """BatchNorm cannot train on a shard of one example: the worker says so, by rank."""
    X, y = data.name_contexts(["emma", "olivia", "ava"], 3)
    model = names_mlp(seed=0, hidden=8)
    with pytest.raises(WorkerFailed) as caught:
        fit_distributed(
            model,
            X,
            y,
            workers=2,
            loss="cross_entropy",
            batch_size=3,
            steps=2,
            progress=False,
            seed=0,
        )
    # batches of 3: rank 0 takes positions 0 and 2, rank 1 position 1 alone
    assert caught.value.rank == 1
    assert str(caught.value).startswith(
        "worker rank 1 failed: ValueError: Expected more than 1 value per channel when training"
    )
    assert str(caught.value).endswith("; the other worker was stopped")
