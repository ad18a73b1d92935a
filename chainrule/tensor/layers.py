"""Neural-network layers on the tensor engine: `Linear`, `Sequential`, the activations, and
the layers of the next lectures (`Conv2d`, `MaxPool2d`, `Flatten`; makemore's `Embedding`,
`BatchNorm1d`, `LayerNorm`, `Dropout`), with the lectures' two models built from them.

They are PyTorch's `torch.nn` layers of the same names, with the same weight layout
(`Linear.weight` is (out_features, in_features)) and the same initialisation, so a model moves
to PyTorch and back (`chainrule.interop`) without any reshaping. A whole batch goes through a
layer as one array: a (32, 64) input times a (128, 64) weight is one node of the graph, where
the scalar `MLP` would make 8,192 `dot` nodes.

Every layer describes itself with `config()` (a JSON-able dict; `from_config` rebuilds the
architecture) and its learned numbers with `state_dict()` (name -> nested lists), which
`load_state_dict` checks and puts back: together they are what a saved model holds. Both come
from `chainrule.nn.Module`; `KINDS` lists the layers by name, what model files are rebuilt
from. Each layer is a thin shell over its functional form (`chainrule.tensor.functional`): it
holds the weights and checks the input's shape, so that an error names the layer, the shape it
expects and the shape it got. BatchNorm and Dropout behave differently in training and in
evaluation (`Module.train()` / `.eval()`); BatchNorm's running statistics are buffers, saved
with the weights and carried to and from PyTorch, but never given gradients.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..nn import (
    ACTIVATIONS,
    ConfigError,
    Module,
    build_model,
    check_activation,
    check_size,
    count_parameters,
)
from .functional import (
    batch_norm,
    conv2d,
    conv_output_size,
    dropout,
    embedding,
    layer_norm,
    linear,
    max_pool2d,
    pair,
)
from .tensor import Tensor

__all__ = [
    "ACTIVATIONS",
    "KINDS",
    "Activation",
    "BatchNorm1d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "LayerNorm",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TensorModule",
    "arguments",
    "digits_cnn",
    "from_config",
    "mlp",
    "names_mlp",
    "parameter_count",
    "shape_error",
]


def _as_tensor(x: Any, dtype: Any) -> Tensor:
    """A layer's input: Tensors pass through; arrays and lists become constants of `dtype`."""
    if isinstance(x, Tensor):
        return x
    return Tensor(np.asarray(x, dtype=dtype))


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A layer's `seed` as a generator: a Generator is used as it is (a model's layers then
    draw one after the other from it), anything else seeds a new one."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _uniform_parameters(
    shape: tuple[int, ...],
    fan_in: int,
    bias: bool,
    seed: int | np.random.Generator | None,
    dtype: Any,
) -> tuple[Tensor, Tensor | None]:
    """A weight of `shape` and, if `bias`, a bias of `shape[0]`, both uniform in
    [-1/sqrt(fan_in), 1/sqrt(fan_in)]: PyTorch's default for Linear and Conv2d (kaiming_uniform
    with a=sqrt(5) works out to exactly that bound), which keeps the output's scale independent
    of the number of inputs. The weight is drawn before the bias: a seeded layer's numbers
    depend on that order."""
    rng = _generator(seed)
    bound = 1.0 / math.sqrt(fan_in)
    w = rng.uniform(-bound, bound, shape).astype(dtype)
    weight = Tensor(w, requires_grad=True, label="weight")
    if not bias:
        return weight, None
    b = rng.uniform(-bound, bound, shape[0]).astype(dtype)
    return weight, Tensor(b, requires_grad=True, label="bias")


class TensorModule(Module):
    """The base of the tensor layers: a `Module` whose parameters are `Tensor`s."""

    def config(self) -> dict[str, Any]:
        """A JSON-able description of the architecture; `from_config` rebuilds it: the layer's
        arguments (`arguments`), read back from its attributes of the same names."""
        config: dict[str, Any] = {"type": type(self).__name__}
        for name in arguments(type(self)):
            value = getattr(self, name)
            if name == "bias":  # the flag, where the attribute is the tensor
                value = getattr(self, "_has_bias", value is not None)
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """A layer without weights (an activation, a pool, Flatten, Dropout) learns nothing."""
        return 0

    def _apply(self, op: Callable[..., Tensor], *args: Any) -> Tensor:
        """`op(*args)`, its error said of this layer, where the user sees it: 'Conv2d(1, 8,
        kernel_size=(3, 3)): expected input of shape (N, 1, H, W) or (1, H, W), got (64, 784)'."""
        try:
            return op(*args)
        except (ValueError, TypeError, IndexError) as err:
            said = str(err).split(": ", 1)[-1]  # without the op's own name
            raise type(err)(f"{type(self).__name__}({self.extra_repr()}): {said}") from None


class Linear(TensorModule):
    """`y = x @ weight.T + bias`, PyTorch's `nn.Linear`.

    Weight (nout, nin) and bias (nout,) start uniform in [-1/sqrt(nin), 1/sqrt(nin)], PyTorch's
    default (see `_uniform_parameters`). `seed` makes the draw reproducible.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.nin = check_size(nin, "Linear nin")
        self.nout = check_size(nout, "Linear nout")
        shape = (self.nout, self.nin)
        self.weight, self.bias = _uniform_parameters(shape, self.nin, bias, seed, dtype)

    @property
    def in_features(self) -> int:  # PyTorch's names
        return self.nin

    @property
    def out_features(self) -> int:
        return self.nout

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, self.weight.data.dtype)
        try:
            return linear(x, self.weight, self.bias)
        except ValueError:  # name the layer: in a CNN this is where a wrong Flatten size shows
            if x.shape[-1:] == (self.nin,):
                raise
            raise ValueError(
                f"Linear({self.extra_repr()}): expected input of shape (N, {self.nin}), got "
                f"{x.shape}"
            ) from None

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin = check_size(config.get("nin"), "Linear nin")
        nout = check_size(config.get("nout"), "Linear nout")
        return nin * nout + (nout if config.get("bias", True) else 0)

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}" + ("" if self.bias is not None else ", bias=False")


class ReLU(TensorModule):
    """max(x, 0), elementwise."""

    def __call__(self, x: Any) -> Tensor:
        return (x if x.__class__ is Tensor else _as_tensor(x, np.float32)).relu()


class Tanh(TensorModule):
    """tanh(x), elementwise."""

    def __call__(self, x: Any) -> Tensor:
        return (x if x.__class__ is Tensor else _as_tensor(x, np.float32)).tanh()


class Sigmoid(TensorModule):
    """1 / (1 + e^-x), elementwise."""

    def __call__(self, x: Any) -> Tensor:
        return (x if x.__class__ is Tensor else _as_tensor(x, np.float32)).sigmoid()


class Sequential(TensorModule):
    """Layers applied one after the other: `Sequential(Linear(64, 128), ReLU(), Linear(128, 10))`.

    Parameters are named by position, `layers.0.weight`, `layers.2.bias`, ...
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not callable(layer) or not isinstance(layer, Module):
                kind = type(layer).__name__
                raise TypeError(f"Sequential: layer {i} must be a Module, got {kind}")
        self.layers: list[Any] = list(layers)  # Modules, each callable

    def __call__(self, x: Any) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def config(self) -> dict[str, Any]:
        configs = []
        for i, layer in enumerate(self.layers):
            if not hasattr(layer, "config"):
                raise TypeError(f"Sequential.config: layer {i} ({type(layer).__name__}) has none")
            configs.append(layer.config())
        return {"type": "Sequential", "layers": configs}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sequential:
        layers = _layers(config)
        return cls(*(build_model(c, KINDS) for c in layers))

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        return sum(count_parameters(c, KINDS) for c in _layers(config))


class Activation(TensorModule):
    """An activation of the op table by name, elementwise: `Activation('gelu')`, any of
    `chainrule.nn.ACTIVATIONS` (ReLU, Tanh and Sigmoid are such layers too)."""

    def __init__(self, name: str) -> None:
        self.name = check_activation(name)

    def __call__(self, x: Any) -> Tensor:
        row = ACTIVATIONS[self.name]
        x = x if x.__class__ is Tensor else _as_tensor(x, np.float32)
        return x if row is None else row(x)

    def extra_repr(self) -> str:
        return repr(self.name)


# The activations that have a layer class of their own, PyTorch's; the others of
# `ACTIVATIONS` are an `Activation` layer, and 'linear' / None no layer at all.
ACTIVATION_LAYERS: dict[str, type[TensorModule]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def mlp(
    sizes: list[int],
    activation: str | None = "relu",
    output_activation: str | None = None,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """A multi-layer perceptron on the tensor engine: the twin of `chainrule.nn.MLP`.

    `sizes` lists the layer widths, inputs first (`[64, 128, 10]`); the hidden layers use
    `activation` and the last one `output_activation` (any of `ACTIVATIONS`: 'relu', 'tanh',
    'gelu', ..., or 'linear'/None for none). `seed` makes the initial weights reproducible.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes must list the inputs and at least one layer, got {sizes!r}")
    hidden, last = check_activation(activation), check_activation(output_activation)
    rng = np.random.default_rng(seed)
    layers: list[Module] = []
    for i, (nin, nout) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(nin, nout, seed=rng, dtype=dtype))
        name = last if i == len(sizes) - 2 else hidden
        if name in ACTIVATION_LAYERS:
            layers.append(ACTIVATION_LAYERS[name]())
        elif name != "linear":
            layers.append(Activation(name))
    return Sequential(*layers)


# -- convolution ----------------------------------------------------------------------------


def shape_error(layer: TensorModule, expected: str, got: tuple[int, ...]) -> ValueError:
    """'Conv2d(1, 8, kernel_size=(3, 3)): expected input of shape (N, 1, H, W), got (64, 784)'."""
    name = f"{type(layer).__name__}({layer.extra_repr()})"
    return ValueError(f"{name}: expected input of shape {expected}, got {tuple(got)}")


def _nonneg_pair(value: Any, what: str, low: int) -> tuple[int, int]:
    a, b = pair(value, what)
    if a < low or b < low:
        raise ValueError(f"{what} must be >= {low}, got {value!r}")
    return a, b


class Conv2d(TensorModule):
    """2-D convolution over a batch of images (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    PyTorch's `nn.Conv2d` (no dilation or groups).

    `weight` is (out_channels, in_channels, kH, kW) and `bias` (out_channels,); both start
    uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = in_channels * kH * kW, PyTorch's
    default. `kernel_size`, `stride` and `padding` are ints or (height, width) pairs.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.in_channels = check_size(in_channels, "Conv2d in_channels")
        self.out_channels = check_size(out_channels, "Conv2d out_channels")
        self.kernel_size = _nonneg_pair(kernel_size, "Conv2d kernel_size", 1)
        self.stride = _nonneg_pair(stride, "Conv2d stride", 1)
        self.padding = _nonneg_pair(padding, "Conv2d padding", 0)
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels, kh, kw)
        fan_in = self.in_channels * kh * kw
        self.weight, self.bias = _uniform_parameters(shape, fan_in, bias, seed, dtype)

    def output_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """(C_out, H_out, W_out) for an input image of this height and width."""
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        h = conv_output_size(height, kh, sh, ph)
        return self.out_channels, h, conv_output_size(width, kw, sw, pw)

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, self.weight.data.dtype)
        return self._apply(conv2d, x, self.weight, self.bias, self.stride, self.padding)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        cin = check_size(config.get("in_channels"), "Conv2d in_channels")
        cout = check_size(config.get("out_channels"), "Conv2d out_channels")
        kh, kw = _nonneg_pair(config.get("kernel_size"), "Conv2d kernel_size", 1)
        return cout * cin * kh * kw + (cout if config.get("bias", True) else 0)

    def extra_repr(self) -> str:
        out = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            out += f", stride={self.stride}"
        if self.padding != (0, 0):
            out += f", padding={self.padding}"
        return out + ("" if self.bias is not None else ", bias=False")


class MaxPool2d(TensorModule):
    """The largest value of each kernel_size window, PyTorch's `nn.MaxPool2d` (no dilation or
    ceil_mode): `stride` defaults to `kernel_size`, so a 2x2 pool halves height and width."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        self.kernel_size = _nonneg_pair(kernel_size, "MaxPool2d kernel_size", 1)
        self.stride = (
            self.kernel_size if stride is None else _nonneg_pair(stride, "MaxPool2d stride", 1)
        )
        self.padding = _nonneg_pair(padding, "MaxPool2d padding", 0)
        if 2 * self.padding[0] > self.kernel_size[0] or 2 * self.padding[1] > self.kernel_size[1]:
            raise ValueError(
                f"MaxPool2d padding {self.padding} must be at most half the kernel size "
                f"{self.kernel_size}"
            )

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32)
        return self._apply(max_pool2d, x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        out = f"kernel_size={self.kernel_size}, stride={self.stride}"
        return out + (f", padding={self.padding}" if self.padding != (0, 0) else "")


class Flatten(TensorModule):
    """Dimensions start_dim..end_dim merged into one, PyTorch's `nn.Flatten`: by default every
    dimension but the batch's, so (N, C, H, W) becomes (N, C*H*W), what a Linear layer takes."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Flatten {name} must be an int, got {value!r}")
        self.start_dim, self.end_dim = start_dim, end_dim

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32)
        n = x.ndim
        start = self.start_dim + n if self.start_dim < 0 else self.start_dim
        end = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not (0 <= start < n and 0 <= end < n) or start > end:
            need = max(self.start_dim + 1, self.end_dim + 1, -self.start_dim, -self.end_dim)
            raise shape_error(self, f"at least {need} dimensions", x.shape)
        shape = x.shape
        return x.reshape(shape[:start] + (-1,) + shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# -- makemore's layers: lookup, normalisation, dropout --------------------------------------


def _positive_float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
        raise ValueError(f"{what} must be a number > 0, got {value!r}")
    return float(value)


class Embedding(TensorModule):
    """A table of `num_embeddings` vectors of size `embedding_dim`, looked up by integer index:
    (N, ...) indices -> (N, ..., embedding_dim), PyTorch's `nn.Embedding`.

    The table starts standard normal, N(0, 1), as in PyTorch. `padding_idx`: that row starts
    at zero and gets no gradient. Indices must be an integer array (or Tensor).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.num_embeddings = check_size(num_embeddings, "Embedding num_embeddings")
        self.embedding_dim = check_size(embedding_dim, "Embedding embedding_dim")
        if padding_idx is not None:
            n = self.num_embeddings
            if not isinstance(padding_idx, int) or not -n <= padding_idx < n:
                raise ValueError(
                    f"Embedding padding_idx must be an index of the table, got {padding_idx!r}"
                )
            padding_idx %= n
        self.padding_idx = padding_idx
        shape = (self.num_embeddings, self.embedding_dim)
        table = _generator(seed).standard_normal(shape).astype(dtype)
        if padding_idx is not None:
            table[padding_idx] = 0
        self.weight = Tensor(table, requires_grad=True, label="weight")

    def __call__(self, x: Any) -> Tensor:
        return self._apply(embedding, x, self.weight, self.padding_idx)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        n = check_size(config.get("num_embeddings"), "Embedding num_embeddings")
        return n * check_size(config.get("embedding_dim"), "Embedding embedding_dim")

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class BatchNorm1d(TensorModule):
    """Batch normalisation of (N, C) or (N, C, L) per feature C, PyTorch's `nn.BatchNorm1d`.

    Training: each feature is normalised with the batch's mean and variance, then scaled by
    `weight` (starts at 1) and shifted by `bias` (starts at 0); `running_mean` (starts 0) and
    `running_var` (starts 1) move towards the batch's statistics by `momentum` (None: a plain
    average over all batches so far), and `num_batches_tracked` counts the batches.
    Evaluation: normalised with the running statistics, so one sample's output no longer
    depends on the rest of its batch. `track_running_stats=False` keeps no running statistics
    and always uses the batch's.
    """

    _buffer_names = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        self.num_features = C = check_size(num_features, "BatchNorm1d num_features")
        self.eps = _positive_float(eps, "BatchNorm1d eps")
        if momentum is not None:
            momentum = float(momentum)
            if not 0 <= momentum <= 1:
                raise ValueError(f"BatchNorm1d momentum must be in [0, 1] or None, got {momentum}")
        self.momentum = momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight: Tensor | None = None
        self.bias: Tensor | None = None
        if affine:
            self.weight = Tensor(np.ones(C, dtype), requires_grad=True, label="weight")
            self.bias = Tensor(np.zeros(C, dtype), requires_grad=True, label="bias")
        self.running_mean: Tensor | None = None
        self.running_var: Tensor | None = None
        self.num_batches_tracked: Tensor | None = None
        if track_running_stats:
            self.running_mean = Tensor(np.zeros(C, dtype), label="running_mean")
            self.running_var = Tensor(np.ones(C, dtype), label="running_var")
            self.num_batches_tracked = Tensor(np.array(0, np.int64), label="num_batches_tracked")

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32 if self.weight is None else self.weight.data.dtype)
        C = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != C:
            raise shape_error(self, f"(N, {C}) or (N, {C}, L)", x.shape)
        momentum = 0.0 if self.momentum is None else self.momentum
        rm, rv, count = self.running_mean, self.running_var, self.num_batches_tracked
        if self.training and count is not None:
            if x.size // C <= 1:
                expected = f"(N, {C}) with N > 1 in training (call .eval() to predict one sample)"
                raise shape_error(self, expected, x.shape)
            count.data += 1
            if self.momentum is None:  # the average of all batches so far
                momentum = 1.0 / float(count.data)
        return batch_norm(
            x,
            None if rm is None else rm.data,
            None if rv is None else rv.data,
            self.weight,
            self.bias,
            self.training or rm is None,
            momentum,
            self.eps,
        )

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        n = check_size(config.get("num_features"), "BatchNorm1d num_features")
        return 2 * n if config.get("affine", True) else 0

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}"


class LayerNorm(TensorModule):
    """Normalisation of each sample over its last dimensions (`normalized_shape`), PyTorch's
    `nn.LayerNorm`: the same in training and evaluation. `weight` starts at 1, `bias` at 0,
    both of `normalized_shape` (`elementwise_affine=False`: neither; `bias=False`: no bias).
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        shape = [normalized_shape] if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(check_size(n, "LayerNorm normalized_shape") for n in shape)
        if not self.normalized_shape:
            raise ValueError("LayerNorm normalized_shape must name at least one dimension")
        self.eps = _positive_float(eps, "LayerNorm eps")
        self.elementwise_affine = bool(elementwise_affine)
        self._has_bias = bool(bias)
        self.weight: Tensor | None = None
        self.bias: Tensor | None = None
        if elementwise_affine:
            self.weight = Tensor(np.ones(self.normalized_shape, dtype), True, "weight")
            if bias:
                self.bias = Tensor(np.zeros(self.normalized_shape, dtype), True, "bias")

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32 if self.weight is None else self.weight.data.dtype)
        return self._apply(layer_norm, x, self.normalized_shape, self.weight, self.bias, self.eps)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        shape = config.get("normalized_shape")
        shape = [shape] if isinstance(shape, int) else shape
        if not isinstance(shape, list) or not shape:
            raise ValueError(f"LayerNorm normalized_shape must be a size or a list, got {shape!r}")
        n = math.prod(check_size(s, "LayerNorm normalized_shape") for s in shape)
        if not config.get("elementwise_affine", True):
            return 0
        return n * (2 if config.get("bias", True) else 1)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps:g}"


class Dropout(TensorModule):
    """In training, zero each element with probability `p` and scale the rest by 1 / (1 - p);
    in evaluation, pass the input through. PyTorch's `nn.Dropout`. `seed` makes the masks
    reproducible (each Dropout draws from its own generator)."""

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout p must be a probability in [0, 1], got {p!r}")
        self.p: float = float(p)
        self._generator: np.random.Generator = np.random.default_rng(seed)

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32)
        return dropout(x, self.p, self.training, self._generator)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


# -- the lectures' two models ---------------------------------------------------------------
#
# Built in one place so that the notebooks, the CLI presets and the benchmark train the same
# thing: `names_mlp`, makemore's MLP (Bengio et al. 2003, with the BatchNorm of makemore part
# 3), and `digits_cnn`, a small convolutional net for 28x28 digits.


def names_mlp(
    vocab: int = 27,
    block_size: int = 3,
    embedding_dim: int = 10,
    hidden: int = 200,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """Embedding(vocab, dim) -> Flatten -> Linear(block*dim, hidden, no bias) -> BatchNorm1d
    -> Tanh -> Linear(hidden, vocab): makemore part 3's model. The first Linear has no bias
    because BatchNorm subtracts the mean straight after (a bias would be learned for nothing).
    Takes (N, block_size) integer contexts, returns (N, vocab) logits."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Embedding(vocab, embedding_dim, seed=rng, dtype=dtype),
        Flatten(),
        Linear(block_size * embedding_dim, hidden, bias=False, seed=rng, dtype=dtype),
        BatchNorm1d(hidden, dtype=dtype),
        Tanh(),
        Linear(hidden, vocab, seed=rng, dtype=dtype),
    )


def digits_cnn(
    channels: tuple[int, int] = (6, 16),
    classes: int = 10,
    size: int = 28,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """Conv2d(1, c1, 3, padding=1) -> MaxPool2d(2) -> ReLU -> Conv2d(c1, c2, 3, padding=1) ->
    MaxPool2d(2) -> ReLU -> Flatten -> Linear(c2 * (size/4)^2, classes). Takes (N, 1, size,
    size) images, returns (N, classes) logits. The padding keeps each convolution's output
    the size of its input, so only the pools shrink the image: 28 -> 14 -> 7. The channel
    counts, 6 then 16, are LeNet-5's.

    Pooling before the ReLU, as PyTorch's MNIST example does, computes the same function as
    after it (max and ReLU commute: both keep the order of numbers), on a quarter of the
    numbers."""
    c1, c2 = channels
    rng = np.random.default_rng(seed)
    side = size // 2 // 2
    return Sequential(
        Conv2d(1, c1, 3, padding=1, seed=rng, dtype=dtype),
        MaxPool2d(2),
        ReLU(),
        Conv2d(c1, c2, 3, padding=1, seed=rng, dtype=dtype),
        MaxPool2d(2),
        ReLU(),
        Flatten(),
        Linear(c2 * side * side, classes, seed=rng, dtype=dtype),
    )


# Every kind of tensor layer by the "type" of its config: what a Sequential's layers and a
# model file are rebuilt from (a class of your own is never built from a file).
KINDS: dict[str, type[TensorModule]] = {
    kind.__name__: kind
    for kind in (
        Sequential, Linear, ReLU, Tanh, Sigmoid, Activation, Conv2d, MaxPool2d, Flatten,
        Embedding, BatchNorm1d, LayerNorm, Dropout,
    )
}  # fmt: skip


# -- rebuilding a model from its config (what a saved file holds) ---------------------------


def arguments(kind: type) -> list[str]:
    """The arguments of a layer's constructor that its config holds (all but `seed` and
    `dtype`): PyTorch's names for its namesake's, so `chainrule.interop` reads them too."""
    return [a for a in inspect.signature(kind).parameters if a not in ("seed", "dtype")]


def _layers(config: Mapping[str, Any]) -> list[Any]:
    layers, extra = config.get("layers"), set(config) - {"type", "layers"}
    if extra or not isinstance(layers, list):
        shown = {k: v for k, v in config.items() if k != "type"}
        raise ConfigError(f"Sequential config needs exactly a 'layers' list, got {shown!r}")
    return layers


def from_config(config: Mapping[str, Any]) -> Module:
    """A fresh tensor model (new random weights) of the architecture `config` describes
    (a model of either engine: `chainrule.learn.io.from_config`)."""
    return build_model(config, KINDS)


def parameter_count(config: Mapping[str, Any]) -> int:
    """How many numbers a tensor model of this config learns, counted without building it."""
    return count_parameters(config, KINDS)
