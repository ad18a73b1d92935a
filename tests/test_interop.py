"""to_torch / from_torch: the same weights, outputs and gradients on both sides."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from chainrule import Value
from chainrule.interop import from_torch, to_torch
from chainrule.nn import MLP
from chainrule.tensor import Tensor
from chainrule.tensor.layers import Linear, ReLU, Sequential, Sigmoid, Tanh

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench_tensor.py"


def tensor_model():
    return Sequential(
        Linear(3, 8, seed=1), ReLU(), Linear(8, 8, seed=2), Tanh(), Linear(8, 2, seed=3), Sigmoid()
    )


def test_to_torch_sequential_same_outputs_and_gradients():
    model = tensor_model()
    theirs = to_torch(model)
    assert isinstance(theirs, torch.nn.Module)
    assert [type(m).__name__ for m in theirs] == [
        "Linear",
        "ReLU",
        "Linear",
        "Tanh",
        "Linear",
        "Sigmoid",
    ]
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out = model(x)
    tout = theirs(torch.from_numpy(x))
    assert tout.dtype == torch.float32
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-6, atol=1e-7)
    out.sum().backward()
    tout.sum().backward()
    for p, tp in zip(model.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_to_torch_copies_the_weights():
    model = Sequential(Linear(2, 2, seed=0))
    theirs = to_torch(model)
    with torch.no_grad():
        theirs[0].weight.add_(1.0)
    assert not np.allclose(model.layers[0].weight.data, theirs[0].weight.detach().numpy())
    single = to_torch(Linear(2, 3, seed=0, bias=False))
    assert isinstance(single, torch.nn.Linear) and single.bias is None


@pytest.mark.parametrize(
    "activation, output_activation",
    [("tanh", "tanh"), ("relu", None), ("sigmoid", "tanh"), ("relu", "sigmoid")],
)
def test_to_torch_scalar_mlp(activation, output_activation):
    model = MLP(3, [4, 4, 2], activation=activation, output_activation=output_activation, seed=0)
    theirs = to_torch(model)
    assert theirs[0].weight.dtype == torch.float64  # exactly the Python floats
    rows = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    tout = theirs(torch.tensor(rows, dtype=torch.float64))
    loss = 0
    for i, row in enumerate(rows):
        out = model([Value(v) for v in row])
        np.testing.assert_allclose([o.data for o in out], tout[i].detach().numpy(), rtol=1e-12)
        loss = loss + out[0] + out[1] * 2
    loss.backward()
    (tout[:, 0] + tout[:, 1] * 2).sum().backward()
    layers = [m for m in theirs if isinstance(m, torch.nn.Linear)]
    for layer, tlayer in zip(model.layers, layers):
        np.testing.assert_allclose(
            [[w.grad for w in n.w] for n in layer.neurons], tlayer.weight.grad.numpy(), rtol=1e-10
        )
        np.testing.assert_allclose(
            [n.b.grad for n in layer.neurons], tlayer.bias.grad.numpy(), rtol=1e-10
        )


def test_from_torch_round_trip():
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 6),
        torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.Tanh()),
    )
    ours = from_torch(theirs)
    assert isinstance(ours, Sequential)
    assert [type(m).__name__ for m in ours] == ["Linear", "ReLU", "Linear", "Tanh"]
    assert ours.layers[0].weight.dtype == np.float32
    x = np.random.default_rng(1).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-7
    )
    back = to_torch(ours)
    for p, q in zip(theirs.parameters(), back.parameters()):
        assert torch.equal(p, q)
    single = from_torch(torch.nn.Linear(2, 5))
    assert isinstance(single, Linear) and single.weight.shape == (5, 2)


def test_from_torch_names_an_unsupported_layer():
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.GELU(), torch.nn.Linear(6, 1))
    with pytest.raises(TypeError, match=r"unsupported layer '1' \(GELU"):
        from_torch(theirs)


def test_to_torch_rejects_what_it_cannot_convert():
    with pytest.raises(TypeError, match="cannot convert Tensor"):
        to_torch(Tensor([1.0]))


def test_missing_torch_gives_a_clear_import_error():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from chainrule.interop import to_torch\n"
        "from chainrule.tensor.layers import Linear\n"
        "try:\n    to_torch(Linear(2, 2))\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "needs torch, which is not installed" in out.stdout
    assert 'pip install "chainrule[torch]"' in out.stdout


def test_benchmark_runs_quickly():
    cmd = [
        sys.executable,
        str(BENCH),
        "--quick",
        "--repeats",
        "1",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "ratio" in out.stdout and "digits test accuracy" in out.stdout
    # both frameworks did the same work: every pair of final losses (four workloads, one
    # thread then the default threads) agrees to float32 rounding
    pairs = re.findall(
        r"final loss: chainrule (\S+)   PyTorch (\S+)   apart \S+ \((\w+)", out.stdout
    )
    assert len(pairs) == 8, out.stdout
    for ours, theirs, verdict in pairs:
        assert verdict == "agree" and float(ours) == pytest.approx(float(theirs), rel=1e-3)


def test_benchmark_fails_when_the_two_frameworks_do_different_work(monkeypatch, capsys):
    """The losses are checked, not only printed: PyTorch's moons loop one update short makes
    the benchmark exit 1, whatever the timings."""
    spec = importlib.util.spec_from_file_location("bench_tensor", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    real = bench.moons_torch
    monkeypatch.setattr(bench, "moons_torch", lambda m, X, y, steps: real(m, X, y, steps - 1))
    threads = torch.get_num_threads()
    try:
        code = bench.main(["--quick", "--repeats", "1", "--only", "moons"])
    finally:
        torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    assert code == 1
    assert out.count("DISAGREE") == 2 and "did not do the same work" in err
    assert bench.losses_agree(0.5304551, 0.5304552) and not bench.losses_agree(0.53, 0.54)
    assert not bench.losses_agree(float("nan"), float("nan"))


def test_benchmark_runs_one_workload():
    cmd = [sys.executable, str(BENCH), "--quick"]
    out = subprocess.run(
        [*cmd, "--repeats", "1", "--only", "moons"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    rows = [line.split()[0] for line in out.stdout.splitlines() if "(target <=" in line]
    assert rows == ["moons", "moons"]  # one thread, then the default threads
    assert "digits test accuracy" not in out.stdout
    bad = subprocess.run([*cmd, "--only", "resnet"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "invalid choice: 'resnet'" in bad.stderr
