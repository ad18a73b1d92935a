"""Neural-network layers on the tensor engine, and the lectures' two models built from them.

`Linear`, `Sequential`, the activations, and the layers of the next lectures (`Conv2d`,
`MaxPool2d`, `Flatten`; makemore's `Embedding`, `BatchNorm1d`, `LayerNorm`, `Dropout`).

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
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..nn import (
    ACTIVATIONS,
    ConfigError,
    Module,
    build_model,
    check_activation,
    check_number,
    check_size,
    count_parameters,
)
from .functional import (
    _pool_sizes,
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


def _as_tensor(x: Any, dtype: Any = np.float32) -> Tensor:
    """A layer's input: Tensors pass through; arrays and lists become constants of `dtype`."""
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=dtype))


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A layer's `seed` as a generator: a Generator as it is, anything else seeds a new one.

    A model's layers given one Generator draw one after the other from it.
    """
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _uniform_parameters(
    shape: tuple[int, ...], bias: bool, seed: int | np.random.Generator | None, dtype: Any
) -> tuple[Tensor, Tensor | None]:
    """A weight of `shape` and, if `bias`, a bias of `shape[0]`, both uniform in ±1/sqrt(fan_in).

    fan_in is what one output sums over: every dimension of the weight but the first (the
    inputs of a Linear layer, channels x kernel of a convolution).
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] is PyTorch's default for Linear and Conv2d (kaiming_uniform
    with a=sqrt(5) works out to exactly that bound), which keeps the output's scale independent
    of the number of inputs. The weight is drawn before the bias: a seeded layer's numbers
    depend on that order.
    """
    rng = _generator(seed)
    bound = 1.0 / math.sqrt(math.prod(shape[1:]))
    w = rng.uniform(-bound, bound, shape).astype(dtype)
    weight = Tensor(w, requires_grad=True, label="weight")
    if not bias:
        return weight, None
    b = rng.uniform(-bound, bound, shape[0]).astype(dtype)
    return weight, Tensor(b, requires_grad=True, label="bias")


class TensorModule(Module):
    """The base of the tensor layers: a `Module` whose parameters are `Tensor`s.

    It describes a layer by its constructor's arguments (`config`), and turns the errors of the
    functional op a layer runs into errors that name the layer (`_apply`).

    Examples:
        >>> from chainrule.tensor.layers import Dropout, TensorModule
        >>> isinstance(Dropout(0.1), TensorModule), Dropout(0.1).config()
        (True, {'type': 'Dropout', 'p': 0.1})
    """

    def config(self) -> dict[str, Any]:
        """Describe the architecture, JSON-able; `from_config` rebuilds it.

        The layer's arguments (`arguments`), read back from its attributes of the same names.
        """
        config: dict[str, Any] = {"type": type(self).__name__}
        for name in arguments(type(self)):
            value = getattr(self, name)
            if name == "bias":  # the flag, where the attribute is the tensor
                value = getattr(self, "_has_bias", value is not None)
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count nothing: a layer without weights (an activation, a pool, Flatten) learns none."""
        return 0

    def _apply(self, op: Callable[..., Tensor], *args: Any) -> Tensor:
        """`op(*args)`, its error said of this layer, where the user sees it.

        'Conv2d(1, 8, kernel_size=(3, 3)): expected input of shape (N, 1, H, W) or (1, H, W),
        got (64, 784)'.
        """
        try:
            return op(*args)
        except (ValueError, TypeError, IndexError) as err:
            said = str(err).split(": ", 1)[-1]  # without the op's own name
            raise type(err)(f"{type(self).__name__}({self.extra_repr()}): {said}") from None


class Linear(TensorModule):
    """`y = x @ weight.T + bias`, PyTorch's `nn.Linear`.

    Weight (nout, nin) and bias (nout,) start uniform in [-1/sqrt(nin), 1/sqrt(nin)], PyTorch's
    default (see `_uniform_parameters`).

    Args:
        nin: The number of inputs (PyTorch's in_features).
        nout: The number of outputs (out_features).
        bias: Whether to add a learned bias.
        seed: A seed or a numpy Generator, for a reproducible draw.
        dtype: The weights' numpy dtype.

    Raises:
        ValueError: A size is not a positive whole number; called, the input's last dimension
            is not `nin`.

    Examples:
        >>> from chainrule.tensor.layers import Linear
        >>> layer = Linear(3, 2, seed=0)
        >>> layer, layer.weight.shape, layer([[1.0, 2.0, 3.0]]).shape
        (Linear(3 -> 2)  # 8 parameters, (2, 3), (1, 2))
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
        self.weight, self.bias = _uniform_parameters((self.nout, self.nin), bias, seed, dtype)

    @property
    def in_features(self) -> int:
        """The number of inputs, PyTorch's name for `nin`."""
        return self.nin

    @property
    def out_features(self) -> int:
        """The number of outputs, PyTorch's name for `nout`."""
        return self.nout

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        x = _as_tensor(x, self.weight.data.dtype)
        if x.shape[-1:] != (self.nin,):  # name the layer: in a CNN a wrong Flatten size shows here
            raise shape_error(self, f"(N, {self.nin})", x.shape)
        return linear(x, self.weight, self.bias)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the numbers a layer of `config` learns, without building it."""
        nin = check_size(config.get("nin"), "Linear nin")
        nout = check_size(config.get("nout"), "Linear nout")
        return nin * nout + (nout if config.get("bias", True) else 0)

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
        return f"{self.nin} -> {self.nout}" + ("" if self.bias is not None else ", bias=False")


class ReLU(TensorModule):
    """max(x, 0), elementwise, PyTorch's `nn.ReLU`.

    Examples:
        >>> from chainrule.tensor.layers import ReLU
        >>> ReLU()([-1.0, 2.0]).tolist()
        [0.0, 2.0]
    """

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        return _as_tensor(x).relu()


class Tanh(TensorModule):
    """tanh(x), elementwise, PyTorch's `nn.Tanh`.

    Examples:
        >>> from chainrule.tensor.layers import Tanh
        >>> Tanh()([0.0]).tolist()
        [0.0]
    """

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        return _as_tensor(x).tanh()


class Sigmoid(TensorModule):
    """1 / (1 + e^-x), elementwise, PyTorch's `nn.Sigmoid`.

    Examples:
        >>> from chainrule.tensor.layers import Sigmoid
        >>> Sigmoid()([0.0]).tolist()
        [0.5]
    """

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        return _as_tensor(x).sigmoid()


class Sequential(TensorModule):
    """Layers applied one after the other, PyTorch's `nn.Sequential`.

    Parameters are named by position, `layers.0.weight`, `layers.2.bias`, ...

    Args:
        *layers: The layers, in order: Modules.

    Raises:
        TypeError: A layer is not a Module.

    Examples:
        >>> from chainrule.tensor.layers import Linear, ReLU, Sequential
        >>> model = Sequential(Linear(4, 8, seed=0), ReLU(), Linear(8, 2, seed=1))
        >>> len(model), model([[1.0, 2.0, 3.0, 4.0]]).shape, model.config()["layers"][1]
        (3, (1, 2), {'type': 'ReLU'})
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not callable(layer) or not isinstance(layer, Module):
                kind = type(layer).__name__
                raise TypeError(f"Sequential: layer {i} must be a Module, got {kind}")
        self.layers: list[Any] = list(layers)  # Modules, each callable

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        """The layer at position `i`."""
        return self.layers[i]

    def __len__(self) -> int:
        """The number of layers."""
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        """The layers, in order."""
        return iter(self.layers)

    def config(self) -> dict[str, Any]:
        """Describe the stack: each layer's config, in order."""
        return {"type": "Sequential", "layers": [layer.config() for layer in self.layers]}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sequential:
        """Build the stack `config` describes, each layer with fresh weights."""
        return cls(*(build_model(c, KINDS) for c in _layers(config)))

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the numbers a layer of `config` learns, without building it."""
        return sum(count_parameters(c, KINDS) for c in _layers(config))


class Activation(TensorModule):
    """An activation of the op table by name, elementwise: `Activation('gelu')`.

    ReLU, Tanh and Sigmoid are such layers too, with PyTorch's names.

    Args:
        name: Any of `chainrule.nn.ACTIVATIONS` ('linear': none).

    Raises:
        ValueError: The name is not an activation.

    Examples:
        >>> from chainrule.tensor.layers import Activation
        >>> Activation("softplus")([0.0]).data.round(4)
        array([0.6931], dtype=float32)
    """

    def __init__(self, name: str) -> None:
        self.name = check_activation(name)

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        row = ACTIVATIONS[self.name]
        x = _as_tensor(x)
        return x if row is None else row(x)

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
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

    Args:
        sizes: The layer widths, inputs first (`[64, 128, 10]`).
        activation: The hidden layers' (any of `ACTIVATIONS`: 'relu', 'tanh', 'gelu', ...,
            or 'linear'/None for none).
        output_activation: The last layer's.
        seed: Makes the initial weights reproducible.
        dtype: The weights' numpy dtype.

    Returns:
        A Sequential of Linear layers and activations.

    Raises:
        ValueError: Fewer than two sizes, a size that is not positive, an unknown activation.

    Examples:
        >>> from chainrule.tensor.layers import mlp
        >>> mlp([2, 16, 1], seed=0)
        Sequential(
          (layers.0): Linear(2 -> 16)
          (layers.1): ReLU()
          (layers.2): Linear(16 -> 1)
        )  # 65 parameters
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
    """The error of a layer called on an input of the wrong shape, naming all three.

    Args:
        layer: The layer, named with its arguments.
        expected: The shape it takes, as words: '(N, 1, H, W)'.
        got: The shape it was given.

    Returns:
        The ValueError to raise.

    Examples:
        >>> from chainrule.tensor.layers import Linear, shape_error
        >>> shape_error(Linear(3, 2), "(N, 3)", (4, 5))
        ValueError('Linear(3 -> 2): expected input of shape (N, 3), got (4, 5)')
    """
    name = f"{type(layer).__name__}({layer.extra_repr()})"
    return ValueError(f"{name}: expected input of shape {expected}, got {tuple(got)}")


class Conv2d(TensorModule):
    """2-D convolution of images, PyTorch's `nn.Conv2d` (no dilation or groups).

    (N, C_in, H, W) -> (N, C_out, H_out, W_out). `weight` is (out_channels, in_channels, kH, kW)
    and `bias` (out_channels,); both start uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] with
    fan_in = in_channels * kH * kW, PyTorch's default.

    Args:
        in_channels: The input's channels.
        out_channels: The output's: one kernel each.
        kernel_size: An int or a (height, width) pair.
        stride: The step between positions, an int or a pair.
        padding: The zeros added on each side, an int or a pair.
        bias: Whether to add a learned bias per output channel.
        seed: A seed or a numpy Generator, for a reproducible draw.
        dtype: The weights' numpy dtype.

    Raises:
        ValueError: A size is out of range; called, the input's shape does not fit.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor.layers import Conv2d
        >>> conv = Conv2d(1, 4, 3, padding=1, seed=0)
        >>> conv, conv(np.zeros((2, 1, 8, 8))).shape
        (Conv2d(1, 4, kernel_size=(3, 3), padding=(1, 1))  # 40 parameters, (2, 4, 8, 8))
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
        self.kernel_size = pair(kernel_size, "Conv2d kernel_size", 1)
        self.stride = pair(stride, "Conv2d stride", 1)
        self.padding = pair(padding, "Conv2d padding", 0)
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels, kh, kw)
        self.weight, self.bias = _uniform_parameters(shape, bias, seed, dtype)

    def output_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """(C_out, H_out, W_out) for an input image of this height and width."""
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        h = conv_output_size(height, kh, sh, ph)
        return self.out_channels, h, conv_output_size(width, kw, sw, pw)

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        x = _as_tensor(x, self.weight.data.dtype)
        return self._apply(conv2d, x, self.weight, self.bias, self.stride, self.padding)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the numbers a layer of `config` learns, without building it."""
        cin = check_size(config.get("in_channels"), "Conv2d in_channels")
        cout = check_size(config.get("out_channels"), "Conv2d out_channels")
        kh, kw = pair(config.get("kernel_size"), "Conv2d kernel_size", 1)
        return cout * cin * kh * kw + (cout if config.get("bias", True) else 0)

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
        out = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            out += f", stride={self.stride}"
        if self.padding != (0, 0):
            out += f", padding={self.padding}"
        return out + ("" if self.bias is not None else ", bias=False")


class MaxPool2d(TensorModule):
    """The largest value of each window, PyTorch's `nn.MaxPool2d` (no dilation or ceil_mode).

    Args:
        kernel_size: The window, an int or a (height, width) pair.
        stride: The step between windows; by default the kernel size, so that a 2x2 pool
            halves height and width.
        padding: -inf added on each side, at most half the kernel.

    Raises:
        ValueError: A size is out of range; called, the input's shape does not fit.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor.layers import MaxPool2d
        >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        sizes = _pool_sizes("MaxPool2d", kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = sizes

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        x = _as_tensor(x)
        return self._apply(max_pool2d, x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
        out = f"kernel_size={self.kernel_size}, stride={self.stride}"
        return out + (f", padding={self.padding}" if self.padding != (0, 0) else "")


class Flatten(TensorModule):
    """Dimensions start_dim..end_dim merged into one, PyTorch's `nn.Flatten`.

    By default every dimension but the batch's, so (N, C, H, W) becomes (N, C*H*W), what a
    Linear layer takes.

    Args:
        start_dim: The first dimension merged (negative: from the end).
        end_dim: The last one.

    Raises:
        ValueError: A dimension is not an int; called, the input has too few dimensions.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor.layers import Flatten
        >>> Flatten()(np.zeros((2, 3, 4, 5))).shape
        (2, 60)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Flatten {name} must be an int, got {value!r}")
        self.start_dim, self.end_dim = start_dim, end_dim

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        x = _as_tensor(x)
        n = x.ndim
        start = self.start_dim + n if self.start_dim < 0 else self.start_dim
        end = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not (0 <= start < n and 0 <= end < n) or start > end:
            need = max(self.start_dim + 1, self.end_dim + 1, -self.start_dim, -self.end_dim)
            raise shape_error(self, f"at least {need} dimensions", x.shape)
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1 :])

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# -- makemore's layers: lookup, normalisation, dropout --------------------------------------


class Embedding(TensorModule):
    """A table of vectors looked up by integer index, PyTorch's `nn.Embedding`.

    (N, ...) indices -> (N, ..., embedding_dim). The table starts standard normal, N(0, 1), as
    in PyTorch. Indices must be an integer array (or Tensor).

    Args:
        num_embeddings: The rows of the table (the vocabulary's size).
        embedding_dim: The size of each vector.
        padding_idx: A row that starts at zero and gets no gradient.
        seed: A seed or a numpy Generator, for a reproducible draw.
        dtype: The table's numpy dtype.

    Raises:
        ValueError: A size is not positive, or `padding_idx` is not a row.

    Examples:
        >>> from chainrule.tensor.layers import Embedding
        >>> emb = Embedding(27, 10, padding_idx=0, seed=0)
        >>> emb([[0, 5, 5]]).shape, emb.weight.data[0].tolist() == [0.0] * 10
        ((1, 3, 10), True)
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
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        return self._apply(embedding, x, self.weight, self.padding_idx)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the numbers a layer of `config` learns, without building it."""
        n = check_size(config.get("num_embeddings"), "Embedding num_embeddings")
        return n * check_size(config.get("embedding_dim"), "Embedding embedding_dim")

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class BatchNorm1d(TensorModule):
    """Batch normalisation of (N, C) or (N, C, L) per feature C, PyTorch's `nn.BatchNorm1d`.

    Training: each feature is normalised with the batch's mean and variance, then scaled by
    `weight` (starts at 1) and shifted by `bias` (starts at 0); `running_mean` (starts 0) and
    `running_var` (starts 1) move towards the batch's statistics by `momentum` (None: a plain
    average over all batches so far), and `num_batches_tracked` counts the batches.
    Evaluation: normalised with the running statistics, so one sample's output no longer
    depends on the rest of its batch.

    Args:
        num_features: C, the features (channels) normalised.
        eps: Added to the variance, so that a constant feature does not divide by 0.
        momentum: How far the running statistics move towards each batch's; None: a plain
            average over all batches so far.
        affine: Whether to learn `weight` and `bias`.
        track_running_stats: False keeps no running statistics and always uses the batch's.
        dtype: The numpy dtype of the weights and statistics.

    Raises:
        ValueError: An argument is out of range; called, the input's shape does not fit, or a
            training batch has one value per feature.

    Examples:
        >>> from chainrule.tensor.layers import BatchNorm1d
        >>> bn = BatchNorm1d(1)
        >>> bn([[1.0], [3.0]]).data.round(4).tolist(), bn.running_mean.tolist()
        ([[-1.0], [1.0]], [0.20000000298023224])
        >>> bn.eval()([[2.0]]).data.round(3)
        array([[1.716]], dtype=float32)
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
        self.eps = float(check_number(eps, "BatchNorm1d eps", lambda v: v > 0, "a number > 0"))
        if momentum is not None:
            momentum = float(momentum)
            if not 0 <= momentum <= 1:
                raise ValueError(f"BatchNorm1d momentum must be in [0, 1] or None, got {momentum}")
        self.momentum = momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Tensor(np.ones(C, dtype), True, "weight") if affine else None
        self.bias = Tensor(np.zeros(C, dtype), True, "bias") if affine else None
        track = track_running_stats
        self.running_mean = Tensor(np.zeros(C, dtype), label="running_mean") if track else None
        self.running_var = Tensor(np.ones(C, dtype), label="running_var") if track else None
        count = Tensor(np.array(0, np.int64), label="num_batches_tracked")
        self.num_batches_tracked = count if track else None

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
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
        training = self.training or rm is None
        return batch_norm(x, rm, rv, self.weight, self.bias, training, momentum, self.eps)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the numbers a layer of `config` learns, without building it."""
        n = check_size(config.get("num_features"), "BatchNorm1d num_features")
        return 2 * n if config.get("affine", True) else 0

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}"


def _normalized_shape(value: Any) -> tuple[int, ...]:
    """LayerNorm's `normalized_shape` as a tuple of sizes: a size, or a list or tuple of them."""
    shape = [value] if isinstance(value, int) else value
    if not isinstance(shape, (list, tuple)) or not shape:
        raise ValueError(f"LayerNorm normalized_shape must name at least one dimension: {value!r}")
    return tuple(check_size(n, "LayerNorm normalized_shape") for n in shape)


class LayerNorm(TensorModule):
    """Normalisation of each sample over its last dimensions, PyTorch's `nn.LayerNorm`.

    The same in training and evaluation. `weight` starts at 1, `bias` at 0, both of
    `normalized_shape`.

    Args:
        normalized_shape: The last dimensions, normalised together: a size or a list of them.
        eps: Added to the variance, so that a constant sample does not divide by 0.
        elementwise_affine: Whether to learn `weight` and `bias`.
        bias: Whether to learn `bias` (with `elementwise_affine`).
        dtype: The weights' numpy dtype.

    Raises:
        ValueError: A size or `eps` is out of range; called, the input's shape does not fit.

    Examples:
        >>> from chainrule.tensor.layers import LayerNorm
        >>> LayerNorm(2)([[1.0, 3.0]]).data.round(4).tolist()
        [[-1.0, 1.0]]
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = float(check_number(eps, "LayerNorm eps", lambda v: v > 0, "a number > 0"))
        self.elementwise_affine = bool(elementwise_affine)
        self._has_bias = bool(bias)
        shape, affine = self.normalized_shape, elementwise_affine
        self.weight = Tensor(np.ones(shape, dtype), True, "weight") if affine else None
        self.bias = Tensor(np.zeros(shape, dtype), True, "bias") if affine and bias else None

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        x = _as_tensor(x, np.float32 if self.weight is None else self.weight.data.dtype)
        return self._apply(layer_norm, x, self.normalized_shape, self.weight, self.bias, self.eps)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the numbers a layer of `config` learns, without building it."""
        n = math.prod(_normalized_shape(config.get("normalized_shape")))
        if not config.get("elementwise_affine", True):
            return 0
        return n * (2 if config.get("bias", True) else 1)

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
        return f"{self.normalized_shape}, eps={self.eps:g}"


class Dropout(TensorModule):
    """Zero elements at random in training, PyTorch's `nn.Dropout`.

    In training, each element is zeroed with probability `p` and the rest scaled by
    1 / (1 - p); in evaluation, the input passes through.

    Args:
        p: The probability of zeroing an element.
        seed: Makes the masks reproducible (each Dropout draws from its own generator).

    Raises:
        ValueError: `p` is not a probability.

    Examples:
        >>> from chainrule.tensor.layers import Dropout
        >>> drop = Dropout(0.5, seed=0)
        >>> set(drop([1.0] * 8).tolist()) <= {0.0, 2.0}, drop.eval()([1.0]).tolist()
        (True, [1.0])
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        self.p = float(
            check_number(p, "Dropout p", lambda v: 0 <= v <= 1, "a probability in [0, 1]")
        )
        self._generator: np.random.Generator = np.random.default_rng(seed)

    def __call__(self, x: Any) -> Tensor:
        """Run the layer on `x`: a Tensor, or an array or a list made one."""
        x = _as_tensor(x)
        return dropout(x, self.p, self.training, self._generator)

    def extra_repr(self) -> str:
        """Show the layer's arguments in `repr()`."""
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
    """Makemore part 3's model: characters in, the next character's logits out.

    Embedding(vocab, dim) -> Flatten -> Linear(block*dim, hidden, no bias) -> BatchNorm1d
    -> Tanh -> Linear(hidden, vocab). The first Linear has no bias because BatchNorm subtracts
    the mean straight after (a bias would be learned for nothing).

    Args:
        vocab: The number of characters.
        block_size: The characters of context.
        embedding_dim: The size of each character's vector.
        hidden: The hidden layer's width.
        seed: Makes the initial weights reproducible.
        dtype: The weights' numpy dtype.

    Returns:
        A Sequential taking (N, block_size) integer contexts, giving (N, vocab) logits.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor.layers import names_mlp
        >>> names_mlp(seed=0)(np.zeros((4, 3), np.int64)).shape
        (4, 27)
    """
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
    """A small convolutional net for digits: two convolutions, each pooled, then a Linear layer.

    Conv2d(1, c1, 3, padding=1) -> MaxPool2d(2) -> ReLU -> Conv2d(c1, c2, 3, padding=1) ->
    MaxPool2d(2) -> ReLU -> Flatten -> Linear(c2 * (size/4)^2, classes). The padding keeps
    each convolution's output the size of its input, so only the pools shrink the image:
    28 -> 14 -> 7. The channel counts, 6 then 16, are LeNet-5's.

    Pooling before the ReLU, as PyTorch's MNIST example does, computes the same function as
    after it (max and ReLU commute: both keep the order of numbers), on a quarter of the
    numbers.

    Args:
        channels: The two convolutions' output channels.
        classes: The number of classes.
        size: The images' height and width.
        seed: Makes the initial weights reproducible.
        dtype: The weights' numpy dtype.

    Returns:
        A Sequential taking (N, 1, size, size) images, giving (N, classes) logits.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor.layers import digits_cnn, parameter_count
        >>> model = digits_cnn(seed=0)
        >>> model(np.zeros((2, 1, 28, 28))).shape, parameter_count(model.config())
        ((2, 10), 8790)
    """
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
    """The arguments of a layer's constructor that its config holds: all but `seed` and `dtype`.

    They are PyTorch's names for its namesake's, so `chainrule.interop` reads them too.

    Args:
        kind: A layer class.

    Returns:
        The argument names, in order.

    Examples:
        >>> from chainrule.tensor.layers import Conv2d, arguments
        >>> arguments(Conv2d)
        ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'bias']
    """
    return [a for a in inspect.signature(kind).parameters if a not in ("seed", "dtype")]


def _layers(config: Mapping[str, Any]) -> list[Any]:
    layers, extra = config.get("layers"), set(config) - {"type", "layers"}
    if extra or not isinstance(layers, list):
        shown = {k: v for k, v in config.items() if k != "type"}
        raise ConfigError(f"Sequential config needs exactly a 'layers' list, got {shown!r}")
    return layers


def from_config(config: Mapping[str, Any]) -> Module:
    """A fresh tensor model (new random weights) of the architecture `config` describes.

    A model of either engine: `chainrule.learn.io.from_config`.

    Args:
        config: What a tensor model's `config()` returned.

    Returns:
        The model.

    Raises:
        ConfigError: The config is malformed or names an unknown layer.

    Examples:
        >>> from chainrule.tensor.layers import from_config
        >>> from_config({"type": "Sequential", "layers": [{"type": "Tanh"}]})
        Sequential(
          (layers.0): Tanh()
        )  # 0 parameters
    """
    return build_model(config, KINDS)


def parameter_count(config: Mapping[str, Any]) -> int:
    """How many numbers a tensor model of this config learns, counted without building it.

    Args:
        config: What a tensor model's `config()` returned.

    Returns:
        The number of learned numbers.

    Raises:
        ConfigError: The config is malformed or names an unknown layer.
        ValueError: A size in it is out of range.

    Examples:
        >>> from chainrule.tensor.layers import parameter_count
        >>> parameter_count({"type": "Linear", "nin": 2, "nout": 3, "bias": True})
        9
    """
    return count_parameters(config, KINDS)
