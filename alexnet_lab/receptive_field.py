"""Receptive fields: which input pixels one unit of a convolutional layer sees.

:func:`receptive_box` gives the square of input pixels behind one output unit (the side
and the step between units agree with :func:`alexnet_lab.layer_table.layer_table`; the box
adds where it starts). :func:`plot_receptive_fields` draws boxes on an image and
:func:`plot_receptive_field_growth` plots the side of the box layer after layer.
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from alexnet_lab.layer_table import LayerTable


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


def plot_receptive_fields(
    image: torch.Tensor, boxes: dict[str, Box], ax: plt.Axes | None = None
) -> Figure:
    """Draw labelled receptive-field boxes on an image (and on the padding around it).

    Args:
        image: (H, W, 3) in [0, 1], for example from
            :func:`alexnet_lab.activations.to_display`.
        boxes: {label: box}, drawn in order, each in its own colour.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5))
    ax.imshow(image.numpy())
    colors = plt.cm.viridis_r(torch.linspace(0.1, 0.95, len(boxes)).tolist())
    for (label, box), color in zip(boxes.items(), colors, strict=True):
        ax.add_patch(
            Rectangle(
                (box.left - 0.5, box.top - 0.5),
                box.size,
                box.size,
                fill=False,
                lw=1.5,
                color=color,
                label=f"{label}: {box.size}x{box.size}",
            )
        )
    # Show the whole of every box: the parts outside the image are the zero padding.
    lo = min([0, *(min(b.top, b.left) for b in boxes.values())]) - 3.5
    hi = max([*image.shape[:2], *(max(b.top, b.left) + b.size for b in boxes.values())]) + 2.5
    ax.set(xlim=(lo, hi), ylim=(hi, lo))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    ax.axis("off")
    ax.figure.tight_layout()
    return ax.figure


def plot_receptive_field_growth(table: LayerTable, image_size: int) -> Figure:
    """Receptive-field side (bars) and step between units (line) for each conv and pool layer.

    Args:
        table: from :func:`alexnet_lab.layer_table.layer_table` at ``image_size``.
        image_size: the input side, drawn as a dashed line.
    """
    rows = [r for r in table if r.kind in ("conv", "pool")]
    names = [r.name for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    bars = ax.bar(
        names,
        [r.receptive_field for r in rows],
        color=["#4c72b0" if r.kind == "conv" else "#8c8c8c" for r in rows],
    )
    ax.bar_label(bars, fontsize=8)
    ax.plot(names, [r.jump for r in rows], "o-", color="#dd8452", label="step between units (px)")
    ax.axhline(image_size, ls="--", color="black", lw=1, label=f"image side ({image_size} px)")
    ax.set(ylabel="pixels", ylim=(0, image_size * 1.15))
    ax.set_title("Receptive field side (bars) of one unit, layer by layer")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
