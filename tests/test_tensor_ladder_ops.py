"""The functional forms of the makemore and CNN layers against PyTorch (float64) and against
finite differences: conv2d, max_pool2d, batch_norm, layer_norm, embedding, dropout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from chainrule.calculus.check import gradcheck
from chainrule.tensor import (
    Tensor,
    batch_norm,
    conv2d,
    dropout,
    embedding,
    layer_norm,
    max_pool2d,
    no_grad,
)
from chainrule.tensor import functional as cf

RNG = np.random.default_rng(0)


def pair(array: np.ndarray) -> tuple[Tensor, torch.Tensor]:
    """The same float64 numbers as a chainrule leaf and a torch leaf, both needing grads."""
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


def close(ours: np.ndarray, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def same_as_torch(out: Tensor, theirs: torch.Tensor, *leaves: tuple[Tensor, torch.Tensor]) -> None:
    """Equal outputs; then one random output gradient through both, and equal leaf grads."""
    close(out.data, theirs)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    theirs.backward(torch.tensor(g))
    for ours, t in leaves:
        close(ours.grad, t.grad)


def test_functional_forms_are_reachable_as_in_torch():
    for name in ("conv2d", "max_pool2d", "batch_norm", "layer_norm", "embedding", "dropout"):
        assert callable(getattr(cf, name))


@pytest.mark.parametrize(
    "stride, padding, kernel",
    [(1, 0, 3), (1, 1, 3), (1, 0, 1), (1, 2, (2, 3)), (2, 0, 3), (2, 1, (3, 2)),
     ((2, 1), (0, 2), (2, 3)), (3, 2, 5)],
)  # fmt: skip
def test_conv2d_matches_torch(stride, padding, kernel):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x, tx = pair(RNG.standard_normal((2, 3, 9, 8)))
    w, tw = pair(RNG.standard_normal((4, 3, kh, kw)))
    b, tb = pair(RNG.standard_normal(4))
    out = conv2d(x, w, b, stride, padding)
    theirs = F.conv2d(tx, tw, tb, stride, padding)
    same_as_torch(out, theirs, (x, tx), (w, tw), (b, tb))


@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_of_an_input_that_needs_no_gradient(stride):
    # a network's first layer: only the weights and the bias get gradients
    x = RNG.standard_normal((3, 2, 7, 6))
    w, tw = pair(RNG.standard_normal((4, 2, 3, 3)))
    b, tb = pair(RNG.standard_normal(4))
    out = conv2d(Tensor(x), w, b, stride, 1)
    theirs = F.conv2d(torch.tensor(x), tw, tb, stride, 1)
    same_as_torch(out, theirs, (w, tw))
    close(b.grad, tb.grad)
    with no_grad():  # and evaluation, where nothing is recorded
        close(conv2d(Tensor(x), w, b, stride, 1).data, theirs)


def test_conv2d_without_bias_and_one_image():
    x, tx = pair(RNG.standard_normal((2, 6, 5)))
    w, tw = pair(RNG.standard_normal((3, 2, 3, 3)))
    out = conv2d(x, w, padding=1)
    theirs = F.conv2d(tx, tw, padding=1)
    assert out.shape == tuple(theirs.shape) == (3, 6, 5)
    close(out.data, theirs)
    out.sum().backward()
    theirs.sum().backward()
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)


@pytest.mark.parametrize(
    "kernel, stride, padding",
    [(2, None, 0), (3, 2, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 1)), (2, 1, 0)],
)
def test_max_pool2d_matches_torch(kernel, stride, padding):
    x, tx = pair(RNG.standard_normal((2, 3, 9, 8)))
    out = max_pool2d(x, kernel, stride, padding)
    theirs = F.max_pool2d(tx, kernel, stride, padding)
    same_as_torch(out, theirs, (x, tx))


def test_max_pool2d_gives_a_tied_window_to_its_first_element_as_torch_does():
    # After a ReLU whole windows are 0: PyTorch routes the gradient to one element of each
    x, tx = pair(np.zeros((1, 2, 6, 6)))
    for k, s in ((2, 2), (3, 1)):
        x.grad, tx.grad = None, None
        max_pool2d(x, k, s).sum().backward()
        F.max_pool2d(tx, k, s).sum().backward()
        close(x.grad, tx.grad)


@pytest.mark.parametrize("shape", [(8, 5), (6, 5, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, training):
    x, tx = pair(RNG.standard_normal(shape) * 3 + 1)
    w, tw = pair(RNG.standard_normal(5))
    b, tb = pair(RNG.standard_normal(5))
    mean, var = RNG.standard_normal(5), RNG.random(5) + 0.5
    tmean, tvar = torch.tensor(mean), torch.tensor(var)
    out = batch_norm(x, mean, var, w, b, training, 0.2, 1e-3)
    theirs = F.batch_norm(tx, tmean, tvar, tw, tb, training, 0.2, 1e-3)
    close(mean, tmean)  # the running statistics moved the same way (or not at all)
    close(var, tvar)
    same_as_torch(out, theirs, (x, tx), (w, tw), (b, tb))


def test_batch_norm_without_affine_or_running_statistics():
    x, tx = pair(RNG.standard_normal((7, 3)))
    out = batch_norm(x, None, None, training=True)
    theirs = F.batch_norm(tx, None, None, training=True)
    close(out.data, theirs)
    out.backward(np.arange(21.0).reshape(7, 3))
    theirs.backward(torch.arange(21.0, dtype=torch.float64).reshape(7, 3))
    close(x.grad, tx.grad)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(Tensor(np.ones((1, 3))), None, None, training=True)


@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((3, 4, 5), (4, 5)), ((2, 3, 4), 4)])
def test_layer_norm_matches_torch(shape, normalized):
    x, tx = pair(RNG.standard_normal(shape))
    nshape = (normalized,) if isinstance(normalized, int) else normalized
    w, tw = pair(RNG.standard_normal(nshape))
    b, tb = pair(RNG.standard_normal(nshape))
    out = layer_norm(x, normalized, w, b)
    theirs = F.layer_norm(tx, nshape, tw, tb)
    same_as_torch(out, theirs, (x, tx), (w, tw), (b, tb))


def test_embedding_matches_torch_repeats_and_padding_row():
    idx = np.array([[1, 2, 1], [0, 6, 1]])  # token 1 three times: its row sums three grads
    w, tw = pair(RNG.standard_normal((7, 4)))
    for padding_idx in (None, 1):
        w.grad, tw.grad = None, None
        out = embedding(idx, w, padding_idx)
        theirs = F.embedding(torch.tensor(idx), tw, padding_idx)
        same_as_torch(out, theirs, (w, tw))


def test_embedding_gradient_of_a_large_table_scatters_without_a_one_hot_matrix():
    idx = RNG.integers(0, 20, (300, 2))  # 5000 rows x 600 picks: past the one-hot limit
    w, tw = pair(RNG.standard_normal((5000, 3)))
    out = embedding(idx, w)
    theirs = F.embedding(torch.tensor(idx), tw)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    theirs.backward(torch.tensor(g))
    close(w.grad, tw.grad)


def test_embedding_refuses_floats_and_out_of_range_indices():
    w = Tensor(np.zeros((5, 2)), requires_grad=True)
    with pytest.raises(TypeError, match="expected integer indices"):
        embedding(np.array([1.0, 2.0]), w)
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        embedding(np.array([0, 5]), w)
    with pytest.raises(IndexError, match="index -1"):
        embedding(np.array([-1]), w)


def test_dropout_scales_what_it_keeps_and_passes_gradients_through_the_mask():
    x = Tensor(RNG.random((200, 100)) + 0.5, requires_grad=True)
    out = dropout(x, 0.3, training=True, generator=np.random.default_rng(1))
    kept = out.data != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01  # about p of the elements are dropped
    np.testing.assert_allclose(out.data[kept], x.data[kept] / 0.7)
    out.backward(np.ones(out.shape))
    np.testing.assert_allclose(x.grad, kept / 0.7)
    # PyTorch's dropout has the same expected value and the same scale on what it keeps
    theirs = F.dropout(torch.tensor(x.data), 0.3, training=True)
    tkept = theirs != 0
    np.testing.assert_allclose(theirs[tkept].numpy(), x.data[tkept.numpy()] / 0.7)
    # evaluation, p = 0 and p = 1
    assert dropout(x, 0.3, training=False) is x
    assert F.dropout(torch.tensor(x.data), 0.3, training=False).equal(torch.tensor(x.data))
    assert dropout(x, 0.0) is x
    assert not dropout(x, 1.0).data.any()
    with pytest.raises(ValueError, match="probability"):
        dropout(x, 1.5)


# -- finite differences ---------------------------------------------------------------------


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), (1, 0))])
def test_conv2d_gradients_agree_with_finite_differences(stride, padding):
    x = Tensor(RNG.standard_normal((2, 2, 5, 6)), requires_grad=True)
    w = Tensor(RNG.standard_normal((3, 2, 3, 2)), requires_grad=True)
    b = Tensor(RNG.standard_normal(3), requires_grad=True)
    weights = Tensor(RNG.standard_normal(conv2d(x, w, b, stride, padding).shape))
    assert gradcheck(lambda x, w, b: (conv2d(x, w, b, stride, padding) * weights).sum(), (x, w, b))


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), (2, 1, 1)])
def test_max_pool2d_gradients_agree_with_finite_differences(kernel, stride, padding):
    # distinct values, so no window has a tie that a small step could break
    x = Tensor(RNG.permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) / 7.0, requires_grad=True)
    weights = Tensor(RNG.standard_normal(max_pool2d(x, kernel, stride, padding).shape))
    assert gradcheck(lambda x: (max_pool2d(x, kernel, stride, padding) * weights).sum(), (x,))


def test_norm_gradients_agree_with_finite_differences():
    x = Tensor(RNG.standard_normal((5, 4)), requires_grad=True)
    w = Tensor(RNG.standard_normal(4), requires_grad=True)
    b = Tensor(RNG.standard_normal(4), requires_grad=True)
    weights = Tensor(RNG.standard_normal((5, 4)))
    assert gradcheck(lambda x, w, b: (batch_norm(x, None, None, w, b, True) * weights).sum(),
                     (x, w, b))  # fmt: skip
    assert gradcheck(lambda x, w, b: (layer_norm(x, 4, w, b) * weights).sum(), (x, w, b))


def test_shape_errors_name_the_op_and_both_shapes():
    x = Tensor(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"conv2d: expected input of shape \(N, 4, H, W\).*"
                       r"got \(2, 3, 8, 8\)"):  # fmt: skip
        conv2d(x, Tensor(np.zeros((5, 4, 3, 3))))
    with pytest.raises(ValueError, match="does not fit"):
        conv2d(x, Tensor(np.zeros((5, 3, 9, 9))))
    with pytest.raises(ValueError, match=r"max_pool2d: expected input of shape .*got \(8, 8\)"):
        max_pool2d(Tensor(np.zeros((8, 8))), 2)
    with pytest.raises(ValueError, match=r"layer_norm: expected input of shape \(\*, 5\)"):
        layer_norm(Tensor(np.zeros((2, 4))), 5)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\)"):
        batch_norm(x[:, :, 0, 0], np.zeros(4), np.ones(3))


def _second_order(program, shapes, seed=0):
    """d/dθ of |dL/dθ|² (θ: every input), by chainrule's recorded backward pass and by
    PyTorch's, in float64: the step of each op differentiated again."""
    rng = np.random.default_rng(seed)
    data = [rng.normal(size=shape) for shape in shapes]
    ours = [Tensor(d, requires_grad=True) for d in data]
    program(*ours, None).backward(create_graph=True)
    grads = [t.grad for t in ours]
    for t in ours:
        t.grad = None
    sum((g * g).sum() for g in grads).backward()
    theirs = [torch.tensor(d, requires_grad=True) for d in data]
    first = torch.autograd.grad(program(*theirs, torch), theirs, create_graph=True)
    want = torch.autograd.grad(sum((g * g).sum() for g in first), theirs)
    for g, tg in zip(grads, first):
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    for t, w in zip(ours, want):
        np.testing.assert_allclose(t.grad, w.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("stride, pool_stride", [(1, 1), (2, 2), (1, 2)])
def test_conv2d_and_max_pool2d_are_twice_differentiable(stride, pool_stride):
    def program(x, w, b, lib):
        conv = F.conv2d if lib else conv2d
        pool = F.max_pool2d if lib else max_pool2d
        return pool(conv(x, w, b, stride, 1), 2, pool_stride).tanh().sum()

    _second_order(program, [(2, 2, 6, 6), (3, 2, 3, 3), (3,)])


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_and_layer_norm_are_twice_differentiable(training):
    stats = np.random.default_rng(1).normal(size=(2, 4))

    def program(x, w, b, lib):
        bn = F.batch_norm if lib else batch_norm
        ln = F.layer_norm if lib else layer_norm
        mean, var = (torch.tensor(stats[0]), torch.tensor(stats[1] ** 2)) if lib else (
            stats[0].copy(), stats[1] ** 2
        )  # fmt: skip
        h = bn(x, mean, var, w, b, training)
        return (ln(h.tanh(), (4,), w, b) * h).sum()

    _second_order(program, [(5, 4), (4,), (4,)])


def test_embedding_and_dropout_are_twice_differentiable():
    idx = np.array([[0, 2], [2, 1]])
    mask = np.random.default_rng(2).random((2, 2, 3)) > 0.3

    def program(table, lib):
        if lib:
            return ((F.embedding(torch.tensor(idx), table) * torch.tensor(mask / 0.7)) ** 3).sum()
        return (dropout(embedding(idx, table), 0.3, generator=FixedMask(mask)) ** 3).sum()

    _second_order(program, [(3, 3)])


class FixedMask:
    """A generator whose `random` gives a mask chosen in advance: dropout keeps where True."""

    def __init__(self, keep):
        self.keep = keep

    def random(self, shape, dtype):
        return np.where(self.keep, 1.0, 0.0).astype(dtype)
