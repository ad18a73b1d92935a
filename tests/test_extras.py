"""A plain `pip install .` has none of the optional packages: every command and function that
needs one says which extra to install, in one line, never with a traceback.

Each case runs in a fresh process where an import finder refuses the packages named, as if
they had never been installed.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed copy
TRAIN = 'pip install "chainrule[train]"'

PRELUDE = textwrap.dedent(
    """
    import sys

    BLOCKED = set(sys.argv[1].split(","))


    class NotInstalled:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, NotInstalled())
    for name in list(sys.modules):  # nothing blocked may be imported already
        assert name.partition(".")[0] not in BLOCKED, name
    """
)


def run(blocked, code, *args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-c", PRELUDE + textwrap.dedent(code), ",".join(blocked), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def command(blocked, *args, cwd):
    code = "from chainrule.cli import main\nsys.exit(main(sys.argv[2:]))"
    return run(blocked, code, *args, cwd=cwd)


PLAIN = ["sklearn", "numpy", "matplotlib", "tqdm", "graphviz", "PIL"]  # none of the extras


@pytest.mark.parametrize(
    "args, message",
    [
        (["train"], "chainrule train: error: chainrule train --data moons needs scikit-learn, "
                    f"matplotlib, numpy and tqdm, which are not installed: {TRAIN}"),
        (["train", "--data", "xor", "--quiet"], "chainrule train: error: chainrule train --data "
                                                f"xor needs matplotlib and numpy, which are not "
                                                f"installed: {TRAIN}"),
        (["demo"], "chainrule demo: error: chainrule demo needs scikit-learn, matplotlib, numpy "
                   f"and tqdm, which are not installed: {TRAIN}"),
        (["eval", "{model}"], f"chainrule eval: error: chainrule eval --data moons needs "
                              f"scikit-learn, matplotlib and numpy, which are not installed: "
                              f"{TRAIN}"),
        (["graph"], "chainrule graph: error: drawing graphs needs graphviz, which is not "
                    'installed: pip install "chainrule[viz]"'),
    ],
)  # fmt: skip
def test_commands_in_a_plain_install_name_the_extra(tmp_path, args, message):
    model = tmp_path / "model.json"
    model.write_text(MODEL)
    args = [a.replace("{model}", str(model)) for a in args]
    result = command(PLAIN, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [message] or message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == ["model.json"]  # nothing written


def test_only_what_a_run_uses_is_needed(tmp_path):
    # --quiet needs no progress bar: the toy set trains without tqdm
    result = command(["tqdm"], "train", "--data", "toy", "--quiet", "--out", "t", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "train accuracy 100.0%" in result.stdout
    result = command(["tqdm"], "train", "--data", "toy", "--out", "u", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "chainrule train: error: chainrule train --data toy needs tqdm, which is not installed: "
        + TRAIN
    )


@pytest.mark.parametrize(
    "blocked, code, message",
    [
        (["numpy"], "import chainrule; chainrule.Tensor",
         'chainrule.Tensor (the tensor engine) needs numpy, which is not installed: '
         'pip install "chainrule[tensor]"'),
        (["numpy"], "from chainrule.tensor.layers import mlp",
         'needs numpy, which is not installed: pip install "chainrule[tensor]"'),
        (["sklearn"], "from chainrule import data; data.moons()",
         f"the moons data set needs scikit-learn, which is not installed: {TRAIN}"),
        (["sklearn"], "from chainrule import data; data.digits_arrays()",
         f"the digits data set needs scikit-learn, which is not installed: {TRAIN}"),
        (["tqdm"], "from chainrule import data, learn, nn\n"
                   "X, y = data.xor(10, seed=1)\n"
                   "learn.fit(nn.MLP(2, [3, 1]), X, y, steps=3)",
         "fit's progress bar (progress=False goes without) needs tqdm, which is not installed: "
         f"{TRAIN}"),
    ],
)  # fmt: skip
def test_python_calls_name_the_extra_too(tmp_path, blocked, code, message):
    result = run(blocked, code, cwd=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("chainrule.extras.MissingExtra: ") and message in last, last


def test_without_its_extras_the_engine_and_fit_still_work(tmp_path):
    code = """
        import chainrule
        from chainrule import Value, data, nn
        from chainrule.learn import fit
        X, y = data.xor(20, seed=1)
        h = fit(nn.MLP(2, [4, 1], seed=0), X, y, steps=5, progress=False)
        print(h.steps, (Value(2.0) * 3).data)
    """
    result = run(PLAIN, code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "6.0"]


MODEL = """{"format": "chainrule.model", "version": 1,
 "config": {"type": "MLP", "nin": 2, "nouts": [1], "activation": "linear",
            "output_activation": null},
 "parameters": {"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.w.1": 0.0,
                "layers.0.neurons.0.b": 0.0},
 "metadata": {"loss": "hinge", "data_flags": {"data": "moons"}}}
"""
