"""Receptive fields: which input pixels one unit of a convolutional layer sees.

:func:`receptive_box` gives the square of input pixels behind one output unit (the side
and the step between units agree with :func:`alexnet_lab.layer_table.layer_table`; the box
adds where it starts). :func:`plot_receptive_fields` draws boxes on an image and
:func:`plot_receptive_field_growth` plots the side of the box layer after layer.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import nn


class Box(NamedTuple):
    """A square of input pixels: rows top..top+size-1, columns left..left+size-1.

    It may reach past the image border (into the padding), so ``top`` and ``left`` may be
    negative and the far edge may be beyond the image.
    """

    top: int
    left: int
    size: int


def receptive_box(features: nn.Sequential, layer: str, row: int, col: int) -> Box:
    """The input pixels that unit (``row``, ``col``) of ``layer``'s output sees.

    Args:
        features: the convolutional part of the network, e.g. ``AlexNet().features``;
            convolutions and max-pools are windows, every other layer is pointwise.
        layer: name of a layer in ``features``, such as "conv1" or "pool5".
        row, col: position of the unit in that layer's output map.
    """
    names = [name for name, _ in features.named_children()]
    if layer not in names:
        raise KeyError(f"no layer {layer!r} in features; its layers are {names}")
    size, jump, start = 1, 1, 0  # box side, step between units, first pixel of unit 0
    for name, module in features.named_children():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            window = (module.kernel_size, module.stride, module.padding)
            k, s, p = (v[0] if isinstance(v, tuple) else v for v in window)
            start -= p * jump
            size += (k - 1) * jump
            jump *= s
        if name == layer:
            break
    return Box(start + row * jump, start + col * jump, size)
