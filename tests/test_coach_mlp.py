"""check_mlp: a learner's Neuron/Layer/MLP against chainrule's, with the same weights."""

import re
import sys
from pathlib import Path

from chainrule.exercises import check_mlp

COACH = Path(__file__).resolve().parent / "coach"
sys.path.insert(0, str(COACH))
import lecture_mlp  # noqa: E402
import mutants  # noqa: E402


def mlp_on(value_source):
    """tests/coach/lecture_mlp.py's classes, built on the Value of `value_source`."""
    namespace = {"__name__": "learner"}
    exec(compile(value_source, "engine.py", "exec"), namespace)
    code = (COACH / "lecture_mlp.py").read_text().replace("from lecture_engine import Value", "")
    exec(compile(code, "mlp.py", "exec"), namespace)
    return namespace


def rows(report):
    return {
        f.title: re.search(
            rf"^  {re.escape(f.title)} +(\S+) +(.*)$", report.format(), re.M
        ).groups()
        for f in report.findings
    }


def test_the_lecture_mlp_passes():
    report = check_mlp(lecture_mlp.MLP, lecture_mlp.Value)
    assert report.passed
    assert [f.status for f in report.findings] == ["pass"] * 5
    table = rows(report)
    assert table["parameters()"] == ("pass", "MLP(3, [4, 4, 1]) has 41 parameters")
    assert re.fullmatch(r"the loss went down, [\d.]+ -> [\d.]+", table["one training step"][1])


def test_a_zero_grad_that_does_not_reset_is_named_by_its_symptom():
    report = check_mlp(lecture_mlp.ForgetfulMLP, lecture_mlp.Value)
    [failure] = report.failures
    assert failure.title == "zero_grad()"
    assert failure.message == "the gradients grow step after step: 1x, 2x, 3x the first"
    assert "forgetting to zero the gradients" in failure.explanation
    assert "gradients not zeroed" in report.format()


def test_biases_left_out_of_parameters():
    report = check_mlp(lecture_mlp.NoBiasMLP, lecture_mlp.Value)
    assert [f.message for f in report.findings] == [
        "32 parameters, expected 41: the biases are not in parameters()"
    ]


def test_micrograds_mlp_is_told_how_it_differs_from_the_lecture():
    from micrograd.engine import Value
    from micrograd.nn import MLP

    report = check_mlp(MLP, Value)
    forward = next(f for f in report.findings if f.title == "forward")
    assert forward.status == "fail"
    assert forward.message.startswith("MLP(xs[0]) = ")
    assert "relu hidden layers and a linear last layer (micrograd's nn.py)" in forward.explanation


def test_a_wrong_value_shows_in_the_gradients_and_the_step():
    wrong_sign = mutants.BASE.replace(
        "self.grad += (1 - t**2) * out.grad  # tanh", "self.grad += -(1 - t**2) * out.grad"
    )
    learner = mlp_on(wrong_sign)
    report = check_mlp(learner["MLP"], learner["Value"])
    table = rows(report)
    assert table["forward"][0] == "pass"
    status, message = table["gradients"]
    assert status == "FAIL" and re.fullmatch(r"L1\.n1\.w1\.grad = \S+, expected \S+", message)
    assert table["one training step"][0] == "FAIL"
    assert "not down" in table["one training step"][1]


def test_a_blank_is_missing_not_wrong():
    learner = mlp_on(mutants.BASE)

    def parameters(self):
        raise NotImplementedError("every layer's parameters, in one list")

    learner["MLP"].parameters = parameters
    report = check_mlp(learner["MLP"], learner["Value"])
    assert report.passed
    assert rows(report) == {
        "parameters()": ("missing", "not written yet: every layer's parameters, in one list")
    }


def test_weights_are_copied_in_parameters_order_without_the_lectures_structure():
    learner = mlp_on(mutants.BASE)

    class Hidden(learner["MLP"]):  # no .layers to read the weights' places from
        def __init__(self, nin, nouts):
            super().__init__(nin, nouts)
            self._hidden, self.layers = self.layers, None

        def __call__(self, x):
            for layer in self._hidden:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self._hidden for p in layer.parameters()]

    assert check_mlp(Hidden, learner["Value"]).passed
