"""Figures for the layer chapters: feature maps, kernels, pooling windows, column
connectivity, LRN and dropout."""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from alexnet_lab.analysis.columns import connectivity
from alexnet_lab.analysis.layer_stats import DropoutCheck
from alexnet_lab.analysis.layer_table import LayerTable
from alexnet_lab.model import LRN_BETA, LRN_K, conv_output_size
from alexnet_lab.viz.style import (
    BLUE,
    GREEN,
    GREY,
    KIND_COLOURS,
    LIGHT_GREY,
    RED,
    AxesArg,
    axes_or_new,
    finish,
    to_image,
)


def _grid_of_maps(
    images: list[torch.Tensor], nrows: int, ncols: int, ax: AxesArg, side: float, title: str
) -> Figure:
    """``images`` (each (H, W) or (3, H, W), scaled to its own range) on an nrows x ncols
    grid, row by row; the cells left over stay empty."""
    new = ax is None
    size = (ncols * side, nrows * side + 0.4)
    fig, axes = axes_or_new(ax, nrows, ncols, squeeze=False, figsize=size)
    for i, a in enumerate(axes.flat):
        if i < len(images):
            grey = {"cmap": "gray", "vmin": 0, "vmax": 1} if images[i].dim() == 2 else {}
            a.imshow(to_image(images[i], rescale=True).numpy(), interpolation="nearest", **grey)
        a.axis("off")
    return finish(fig, new, title, pad=0.2)


def plot_feature_maps(
    maps: torch.Tensor, ncols: int = 12, title: str = "", ax: AxesArg = None
) -> Figure:
    """A grid of feature maps, each scaled to its own range (dark = low, bright = high).

    Args:
        maps: (C, H, W), the output of one layer for one image.
        ncols: maps per row.
        ax: ``ceil(C / ncols) * ncols`` Axes to draw on, row by row (None: a new figure).
    """
    maps = maps.detach().cpu()
    return _grid_of_maps(list(maps), math.ceil(len(maps) / ncols), ncols, ax, 0.7, title)


def plot_layer_maps(
    acts: dict[str, torch.Tensor], per_layer: int = 8, ax: AxesArg = None
) -> Figure:
    """The first ``per_layer`` maps of several layers, one row per layer.

    Args:
        acts: {layer name: (C, H, W)} for one image.
        ax: ``len(acts)`` x ``per_layer`` Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, axes = axes_or_new(
        ax, len(acts), per_layer, squeeze=False, figsize=(per_layer * 1.0, len(acts) * 1.1)
    )
    for row, (name, maps) in zip(axes, acts.items(), strict=True):
        for i, a in enumerate(row):
            a.imshow(to_image(maps[i], rescale=True).numpy(), cmap="gray", vmin=0, vmax=1,
                     interpolation="nearest")  # fmt: skip
            a.set_xticks([])
            a.set_yticks([])
        h, w = maps.shape[-2:]
        row[0].set_ylabel(f"{name}\n{h}x{w}", rotation=0, ha="right", va="center")
    return finish(fig, new, pad=0.3)


def plot_kernels(
    weight: torch.Tensor, ncols: int = 12, title: str = "", ax: AxesArg = None
) -> Figure:
    """RGB kernels of a first convolution as small images, each scaled to its own range.

    Args:
        weight: (C_out, 3, k, k), e.g. ``model.features.conv1.weight``.
        ax: ``ceil(C_out / ncols) * ncols`` Axes to draw on, row by row (None: a new figure).
    """
    w = weight.detach().cpu()
    return _grid_of_maps(list(w), math.ceil(len(w) / ncols), ncols, ax, 0.6, title)


def plot_pooling_windows(
    size: int = 9, schemes: tuple[tuple[int, int], ...] = ((3, 2), (2, 2)), ax: AxesArg = None
) -> Figure:
    """How often each input cell is covered by a pooling window, for each (kernel, stride).

    The windows of the first output row are outlined. Overlapping pooling (kernel >
    stride) covers some cells twice or four times; 2/2 covers every cell once.
    ``ax``: one Axes per scheme to draw on (None: a new figure).
    """
    new = ax is None
    fig, axes = axes_or_new(ax, 1, len(schemes), squeeze=False, figsize=(4.2 * len(schemes), 4.2))
    for ax, (k, s) in zip(axes[0], schemes, strict=True):
        out = conv_output_size(size, k, s)
        cover = torch.zeros(size, size, dtype=torch.int64)
        for i in range(out):
            for j in range(out):
                cover[i * s : i * s + k, j * s : j * s + k] += 1
        ax.imshow(cover.numpy(), cmap="Blues", vmin=0, vmax=4.5)
        for i in range(size):
            for j in range(size):
                ax.text(j, i, str(cover[i, j].item()), ha="center", va="center", fontsize=8)
        for j in range(out):  # the first row of windows, alternately inset to tell them apart
            inset = 0.1 if j % 2 else 0.0
            ax.add_patch(
                Rectangle(
                    (j * s - 0.5 + inset, -0.5 + inset),
                    k - 2 * inset,
                    k - 2 * inset,
                    fill=False,
                    lw=2.5,
                    color=GREEN if j % 2 else RED,
                )
            )
        ax.set_title(f"kernel {k}, stride {s}: {size}x{size} -> {out}x{out}")
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig, new, "Number of pooling windows covering each input cell")


def plot_connectivity(convs: dict[str, nn.Conv2d], ax: AxesArg = None) -> Figure:
    """:func:`connectivity` of each convolution: white where no weight exists.

    ``ax``: one Axes per convolution to draw on (None: a new figure).
    """
    new = ax is None
    fig, axes = axes_or_new(ax, 1, len(convs), squeeze=False, figsize=(3.2 * len(convs), 3.4))
    for ax, (name, conv) in zip(axes[0], convs.items(), strict=True):
        c = connectivity(conv)
        ax.imshow(
            (c > 0).numpy(), cmap="Greys", vmin=0, vmax=1.6, aspect="auto", interpolation="nearest"
        )
        ax.set_title(f"{name}: groups={conv.groups}")
        ax.set_xlabel(f"input channel (0..{conv.in_channels - 1})")
        ax.set_ylabel(f"output channel (0..{conv.out_channels - 1})")
    return finish(fig, new, "Which input maps each kernel reads (grey: a weight exists)")


def plot_lrn_effect(
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]], points: int = 4000, ax: AxesArg = None
) -> Figure:
    """LRN output against LRN input, one panel per case (a random sample of ``points`` values).

    Args:
        pairs: {label: (input of the LRN layer, its output)}, tensors of the same shape.
        ax: one Axes per pair to draw on (None: a new figure).
    """
    new = ax is None
    fig, axes = axes_or_new(ax, 1, len(pairs), squeeze=False, figsize=(4.2 * len(pairs), 3.6))
    gen = torch.Generator().manual_seed(0)
    for ax, (label, (a, b)) in zip(axes[0], pairs.items(), strict=True):
        a, b = a.flatten(), b.flatten()
        pick = torch.randint(len(a), (points,), generator=gen)
        ax.scatter(a[pick].numpy(), b[pick].numpy(), s=3, alpha=0.4)
        top = a.max().item()
        line = f"a / k^beta = a / {LRN_K**LRN_BETA:.2f} (quiet neighbours)"
        ax.plot([0, top], [0, top / LRN_K**LRN_BETA], "--", color=GREY, lw=1, label=line)
        ax.set(title=label, xlabel="input a (after ReLU)", ylabel="output b")
        ax.legend()
    return finish(fig, new)


def plot_dropout(check: DropoutCheck, units: int = 40, ax: AxesArg = None) -> Figure:
    """The first ``units`` units: eval output, one training-mode output, and the mean of all.

    ``ax``: one Axes to draw on (None: a new figure).
    """
    idx = np.arange(units)
    eval_output = check.eval_output.flatten()[:units].numpy()
    one_pass = check.samples[0].flatten()[:units].numpy()
    mean = check.samples.mean(0).flatten()[:units].numpy()
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(9, 3.2))
    ax.bar(idx, eval_output, color=LIGHT_GREY, label="eval mode (= input)")
    ax.scatter(idx, one_pass, marker="x", color=RED, zorder=3, label="one training-mode pass")
    label = f"mean of {len(check.samples)} training-mode passes"
    ax.plot(idx, mean, "o", mfc="none", color=BLUE, label=label)
    ax.axhline(0, color="black", lw=0.5)
    ax.set(xlabel="unit", ylabel="value")
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return finish(fig, new)


def plot_params_and_macs(table: LayerTable, title: str = "", ax: AxesArg = None) -> Figure:
    """Two bar charts: each weight layer's share of all parameters and of all MACs.

    ``ax``: two Axes to draw on, parameters then MACs (None: a new figure).
    """
    rows = [r for r in table if r.params]
    names = [r.name for r in rows]
    new = ax is None
    fig, axes = axes_or_new(ax, 1, 2, figsize=(10, 3.2), sharey=True)
    for ax, values, total, label in (
        (axes[0], [r.params for r in rows], table.params, "parameters"),
        (axes[1], [r.macs for r in rows], table.macs, "multiply-accumulates"),
    ):
        shares = [100 * v / total for v in values]
        bars = ax.barh(names, shares, color=[KIND_COLOURS.get(r.kind, GREY) for r in rows])
        ax.bar_label(bars, [f"{s:.1f}%" for s in shares], padding=2, fontsize=8)
        ax.set_xlabel(f"share of {total:,} {label} (%)")
        ax.set_xlim(0, max(shares) * 1.25)
    for ax in axes:  # first layer on top (axes shared on a new figure: invert once)
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
    return finish(fig, new, title)
