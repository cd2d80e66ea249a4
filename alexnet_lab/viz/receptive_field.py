"""Figures of receptive fields: boxes on an image, and their growth layer after layer."""

from __future__ import annotations

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from alexnet_lab.analysis.layer_table import LayerTable
from alexnet_lab.analysis.receptive_field import Box
from alexnet_lab.viz.style import KIND_COLOURS, ORANGE, AxesArg, axes_or_new, finish


def plot_receptive_fields(
    image: torch.Tensor | np.ndarray, boxes: dict[str, Box], ax: AxesArg = None
) -> Figure:
    """Draw labelled receptive-field boxes on an image (and on the padding around it).

    Args:
        image: (H, W, 3) in [0, 1], for example from
            ``alexnet_lab.viz.style.to_image(image, stats=...)``.
        boxes: {label: box}, drawn in order, each in its own colour.
        ax: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(7.5, 5))
    ax.imshow(np.asarray(image))
    colors = matplotlib.colormaps["viridis_r"](torch.linspace(0.1, 0.95, len(boxes)).tolist())
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
    return finish(fig, new)


def plot_receptive_field_growth(table: LayerTable, image_size: int, ax: AxesArg = None) -> Figure:
    """Receptive-field side (bars) and step between units (line) for each conv and pool layer.

    Args:
        table: from :func:`alexnet_lab.analysis.layer_table.layer_table` at ``image_size``.
        image_size: the input side, drawn as a dashed line.
        ax: one Axes to draw on (None: a new figure).
    """
    rows = [r for r in table if r.kind in ("conv", "pool")]
    names = [r.name for r in rows]
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(7, 3.4))
    bars = ax.bar(
        names, [r.receptive_field for r in rows], color=[KIND_COLOURS[r.kind] for r in rows]
    )
    ax.bar_label(bars, fontsize=8)
    ax.plot(names, [r.jump for r in rows], "o-", color=ORANGE, label="step between units (px)")
    ax.axhline(image_size, ls="--", color="black", lw=1, label=f"image side ({image_size} px)")
    ax.set(ylabel="pixels", ylim=(0, image_size * 1.15))
    ax.set_title("Receptive field side (bars) of one unit, layer by layer")
    ax.legend(loc="upper left")
    return finish(fig, new)
