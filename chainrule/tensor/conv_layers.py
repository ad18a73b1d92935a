"""The layers of a convolutional network: `Conv2d`, `MaxPool2d` and `Flatten`, PyTorch's
`torch.nn` layers of the same names, arguments, attributes, weight layout and initialisation.

Each is a thin shell over its functional form (`chainrule.tensor.conv`): it holds the weights,
checks the input's shape (an error names the layer, the shape it expects and the shape it got,
where numpy would complain about arrays the user never made), and describes itself with
`config()`, so a model saved with `chainrule.learn.io` is rebuilt from the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..nn import check_size
from .conv import conv2d, conv_output_size, max_pool2d, pair
from .layers import TensorModule, _as_tensor, _uniform_parameters
from .tensor import Tensor

__all__ = ["Conv2d", "Flatten", "MaxPool2d", "shape_error"]


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
        C = self.in_channels
        if x.ndim not in (3, 4) or x.shape[-3] != C:
            raise shape_error(self, f"(N, {C}, H, W) or ({C}, H, W)", x.shape)
        _, h, w = self.output_shape(*x.shape[-2:])
        if h < 1 or w < 1:
            kh, kw = self.kernel_size
            ph, pw = self.padding
            expected = f"(N, {C}, H, W) with H >= {kh - 2 * ph} and W >= {kw - 2 * pw}"
            raise shape_error(self, expected, x.shape)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def config(self) -> dict[str, Any]:
        return {
            "type": "Conv2d",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "bias": self.bias is not None,
        }

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
        if x.ndim not in (3, 4):
            raise shape_error(self, "(N, C, H, W) or (C, H, W)", x.shape)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        h, w = x.shape[-2:]
        if conv_output_size(h, kh, sh, ph) < 1 or conv_output_size(w, kw, sw, pw) < 1:
            expected = f"(N, C, H, W) with H >= {kh - 2 * ph} and W >= {kw - 2 * pw}"
            raise shape_error(self, expected, x.shape)
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def config(self) -> dict[str, Any]:
        return {
            "type": "MaxPool2d",
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
        }

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

    def config(self) -> dict[str, Any]:
        return {"type": "Flatten", "start_dim": self.start_dim, "end_dim": self.end_dim}

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
