import subprocess
import sys

import chainrule
from chainrule import Value


def test_lecture_L_example():
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    L = (a * b + c) * f
    L.backward()
    assert (L.data, a.grad, b.grad, c.grad, f.grad) == (-8.0, 6.0, -4.0, -2.0, 4.0)


def test_cli_runs_as_a_module():
    cmd = [sys.executable, "-m", "chainrule", "--version"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"chainrule {chainrule.__version__}"
