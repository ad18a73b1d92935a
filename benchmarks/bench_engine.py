"""chainrule's scalar engine against micrograd 0.1.0 on micrograd's own demo workload.

The workload is micrograd's moons demo, step for step: make_moons(100, noise=0.1), an MLP
2-16-16-1 with ReLU hidden layers and a linear output, SVM max-margin loss + 1e-4 * L2, full
batch, SGD with lr = 1.0 - 0.9*k/100. Both engines start from the same weights and run the same
user-level training code with Python's default garbage-collector settings, as a user runs it,
each starting from a collected heap; their losses must agree (to rounding: the engines add a
weight's gradient contributions in different orders), which this script checks.

Three figures are printed, each with its ratio to micrograd:

* chainrule.nn  - the model from `chainrule.nn.MLP` (one fused `dot` node per neuron);
* lecture code  - the same network written as in the lecture, `sum(wi*xi ...)` with chainrule
                  Values (one node per multiply and add, the graph micrograd builds);
* memory        - bytes per graph node of the lecture-style graph after backward (tracemalloc),
                  and the bytes of one whole training-step graph of each engine.

Run: python benchmarks/bench_engine.py [--steps N] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

TARGET_SPEEDUP = 20.0
TARGET_BYTES_PER_NODE = 150.0


def moons(seed: int) -> tuple[list[list[float]], list[int]]:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.1, random_state=seed)
    return X.tolist(), [int(v) * 2 - 1 for v in y]


def micrograd_model(seed: int) -> Any:
    from micrograd.nn import MLP

    random.seed(seed)
    return MLP(2, [16, 16, 1])  # ReLU hidden layers, linear output


def chainrule_model(reference: Any) -> Any:
    """chainrule's MLP with the reference model's exact weights."""
    from chainrule.nn import MLP

    model = MLP(2, [16, 16, 1], activation="relu", output_activation=None)
    for layer, ref_layer in zip(model.layers, reference.layers, strict=True):
        for neuron, ref in zip(layer.neurons, ref_layer.neurons, strict=True):
            for w, ref_w in zip(neuron.w, ref.w, strict=True):
                w.data = ref_w.data
            neuron.b.data = ref.b.data
    return model


def lecture_forward(model: Any) -> Callable[[list[Any]], Any]:
    """The same network evaluated the lecture's way: one node per multiply and per add."""

    def forward(x: list[Any]) -> Any:
        layers = model.layers
        for i, layer in enumerate(layers):
            acts = [sum((wi * xi for wi, xi in zip(n.w, x)), n.b) for n in layer.neurons]
            x = [a.relu() for a in acts] if i < len(layers) - 1 else acts
        return x[0]

    return forward


def build_loss(Value: type, forward: Callable, params: list, X: list, y: list) -> tuple[Any, float]:
    """micrograd demo's `loss()`: SVM max-margin data loss + L2, and the accuracy."""
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(forward, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


def train(Value: type, forward: Callable, params: list, X: list, y: list, steps: int) -> dict:
    """micrograd demo's optimisation loop; returns per-step times, losses, final accuracy."""
    times, losses, acc = [], [], 0.0
    gc.collect()  # start from a clean heap: garbage left by another engine is not ours to scan
    for k in range(steps):
        start = time.perf_counter()
        loss, acc = build_loss(Value, forward, params, X, y)
        for p in params:
            p.grad = 0.0
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad
        times.append(time.perf_counter() - start)
        losses.append(loss.data)
    return {"times": times, "losses": losses, "accuracy": acc}


def graph_nodes(root: Any) -> list:
    """Every node of a graph, for either engine (both keep their operands in `_prev`)."""
    from chainrule.autograd import topological_order

    return topological_order(root, lambda v: tuple(v._prev))


def graph_memory(Value: type, forward: Callable, params: list, X: list, y: list) -> tuple[int, int]:
    """(bytes allocated and still held by one step's graph after backward, node count)."""
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        loss, _ = build_loss(Value, forward, params, X, y)
        loss.backward()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        nodes = len(graph_nodes(loss)) - len(params)  # the parameters exist before and after
        return held, nodes
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per engine (10)")
    parser.add_argument("--seed", type=int, default=1337, help="data and weight seed (1337)")
    args = parser.parse_args()

    import micrograd.engine
    import micrograd.nn  # noqa: F401

    import chainrule

    X, y = moons(args.seed)
    mg_model = micrograd_model(args.seed)
    cr_model = chainrule_model(mg_model)
    cr_lecture = chainrule_model(mg_model)
    mg_value, cr_value = micrograd.engine.Value, chainrule.Value

    print(f"micrograd's moons demo: 100 points, MLP 2-16-16-1, {args.steps} timed steps each")
    print(f"python {sys.version.split()[0]}, default gc thresholds {gc.get_threshold()}\n")

    runs = {
        "micrograd 0.1.0": train(mg_value, mg_model, mg_model.parameters(), X, y, args.steps),
        "chainrule.nn": train(cr_value, cr_model, cr_model.parameters(), X, y, args.steps),
        "chainrule, lecture code": train(
            cr_value, lecture_forward(cr_lecture), cr_lecture.parameters(), X, y, args.steps
        ),
    }
    base = statistics.mean(runs["micrograd 0.1.0"]["times"])
    for name, run in runs.items():
        mean = statistics.mean(run["times"])
        print(f"{name:<26} {mean * 1000:9.2f} ms/step   {base / mean:6.1f}x micrograd")
    reference = runs["micrograd 0.1.0"]["losses"]
    for name in ("chainrule.nn", "chainrule, lecture code"):
        worst = max(abs(a - b) / abs(b) for a, b in zip(runs[name]["losses"], reference))
        print(f"losses of {name} vs micrograd's, largest relative difference: {worst:.1e}")
        if worst > 1e-9:
            print("error: the engines disagree", file=sys.stderr)
            return 1

    model = chainrule_model(micrograd_model(args.seed))
    start = time.perf_counter()
    result = train(cr_value, model, model.parameters(), X, y, 100)
    total = time.perf_counter() - start
    print(
        f"\nchainrule.nn, all 100 steps: {total:.2f} s, final loss {result['losses'][-1]:.4f}, "
        f"train accuracy {result['accuracy']:.0%}"
    )

    print("\nmemory of one training step's graph after backward (tracemalloc):")
    mg_bytes, mg_nodes = graph_memory(mg_value, mg_model, mg_model.parameters(), X, y)
    lec_bytes, lec_nodes = graph_memory(
        cr_value, lecture_forward(cr_lecture), cr_lecture.parameters(), X, y
    )
    nn_bytes, nn_nodes = graph_memory(cr_value, cr_model, cr_model.parameters(), X, y)
    for name, held, nodes in (
        ("micrograd 0.1.0", mg_bytes, mg_nodes),
        ("chainrule, lecture code", lec_bytes, lec_nodes),
        ("chainrule.nn", nn_bytes, nn_nodes),
    ):
        print(f"{name:<26} {held / 1e6:7.2f} MB  {nodes:7d} nodes  {held / nodes:6.0f} bytes/node")

    speedup = base / statistics.mean(runs["chainrule.nn"]["times"])
    per_node = lec_bytes / lec_nodes
    print(
        f"\nspeed: chainrule.nn is {speedup:.1f}x micrograd (target >= {TARGET_SPEEDUP:.0f}x): "
        f"{'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}"
    )
    print(
        f"memory: {per_node:.0f} bytes per node (target <= {TARGET_BYTES_PER_NODE:.0f}): "
        f"{'met' if per_node <= TARGET_BYTES_PER_NODE else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
