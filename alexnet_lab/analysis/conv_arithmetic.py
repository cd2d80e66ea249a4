"""Convolution arithmetic: where the windows of a convolution or pooling layer land.

:func:`window_starts` lists the windows along one axis and :func:`layer_arithmetic` works
out every convolution and pooling layer of a network. The widget that draws the windows,
:func:`alexnet_lab.viz.conv_arithmetic.conv_arithmetic_widget`, shows only output sizes from
the table that :func:`alexnet_lab.model.conv_output_size` fills in here
(:func:`_size_table`, over the slider ranges below); its JavaScript only looks them up.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import nn

from alexnet_lab.analysis.tables import DisplayTable, ShownAsTable
from alexnet_lab.model import CeilConv2d, conv_output_size

# The widget's slider ranges; the table of output sizes covers all of them.
SIZES = range(1, 228)  # input size n, up to AlexNet's 227
KERNELS = range(1, 12)  # kernel size k, up to conv1's 11
STRIDES = range(1, 5)  # stride s, up to conv1's 4
PADDINGS = range(0, 4)  # padding p


def window_starts(
    size: int, kernel: int, stride: int = 1, padding: int = 0, ceil: bool = False
) -> list[int]:
    """Where each window starts along one axis, counted in the padded input.

    Position 0 is the first padding zero (the first input pixel when ``padding`` is 0).
    Window ``i`` covers positions ``[i * stride, i * stride + kernel)``. There are
    ``conv_output_size(size, kernel, stride, padding, ceil)`` windows; with ``ceil=True``
    the last one can reach past the padded input, where cuda-convnet reads extra zeros.
    """
    return [i * stride for i in range(conv_output_size(size, kernel, stride, padding, ceil))]


class Step(NamedTuple):
    """The arithmetic of one convolution or pooling layer along one axis.

    ``left`` is what the last window leaves over: padded positions that no window reads
    when rounding down (> 0), or extra zeros past the padded input when rounding up (< 0).
    """

    name: str
    size: int
    kernel: int
    stride: int
    padding: int
    ceil: bool
    output: int
    left: int


class Arithmetic(ShownAsTable, list):
    """A list of :class:`Step` rows that prints as a table (text, or HTML in Jupyter)."""

    columns = ("layer", "n", "k", "s", "p", "(n+2p-k)/s", "output", "fit")

    def display_table(self) -> DisplayTable:
        rows = []
        for r in self:
            q = (r.size + 2 * r.padding - r.kernel) / r.stride
            if r.left == 0:
                fit = "exact"
            elif r.left > 0:
                fit = f"rounded down: last {r.left} unread"
            else:
                fit = f"rounded up: {-r.left} zeros added"
            rows.append((r.name, r.size, r.kernel, r.stride, r.padding, f"{q:g}", r.output, fit))
        return DisplayTable(self.columns, rows, align="lrrrrrrl")


def layer_arithmetic(features: nn.Sequential, size: int) -> Arithmetic:
    """Input size, kernel, stride, padding and output size of each convolution and pooling
    layer in ``features`` (square kernels, no dilation), for a ``size`` x ``size`` input.

    :class:`~alexnet_lab.model.CeilConv2d` rounds up; everything else rounds down.
    """
    steps = Arithmetic()
    for name, m in features.named_children():
        if not isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
            continue
        k, s, p, d = (
            v if isinstance(v, int) else v[0]
            for v in (m.kernel_size, m.stride, m.padding, m.dilation)
        )
        if d != 1 or getattr(m, "ceil_mode", False):
            raise ValueError(f"{name}: dilation and ceil_mode are not covered")
        ceil = isinstance(m, CeilConv2d)
        out = conv_output_size(size, k, s, p, ceil)
        steps.append(Step(name, size, k, s, p, ceil, out, size + 2 * p - ((out - 1) * s + k)))
        size = out
    return steps


def _size_table(ceil: bool) -> list[list[list[list[int]]]]:
    """Output sizes, indexed ``[k - 1][s - 1][p][n - 1]``; 0 where the kernel does not fit."""
    return [
        [
            [
                [conv_output_size(n, k, s, p, ceil) if k <= n + 2 * p else 0 for n in SIZES]
                for p in PADDINGS
            ]
            for s in STRIDES
        ]
        for k in KERNELS
    ]
