"""Figures for the layer chapters: feature maps, kernels, pooling windows, column
connectivity, LRN and dropout."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from alexnet_lab.analysis.columns import connectivity
from alexnet_lab.analysis.layer_stats import DropoutCheck
from alexnet_lab.analysis.layer_table import LayerTable
from alexnet_lab.model import LRN_BETA, LRN_K, conv_output_size


def _normalize(x: torch.Tensor) -> np.ndarray:
    """Scale to [0, 1] for imshow (a constant tensor becomes 0)."""
    x = x.detach().cpu()
    lo, hi = x.min(), x.max()
    return ((x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)).numpy()


def plot_feature_maps(maps: torch.Tensor, ncols: int = 12, title: str = "") -> Figure:
    """A grid of feature maps, each scaled to its own range (dark = low, bright = high).

    Args:
        maps: (C, H, W), the output of one layer for one image.
        ncols: maps per row.
    """
    maps = maps.detach().cpu()
    nrows = math.ceil(len(maps) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.7, nrows * 0.7 + 0.4))
    for i, ax in enumerate(axes.flat):
        if i < len(maps):
            ax.imshow(_normalize(maps[i]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout(pad=0.2)
    return fig


def plot_layer_maps(acts: dict[str, torch.Tensor], per_layer: int = 8) -> Figure:
    """The first ``per_layer`` maps of several layers, one row per layer.

    Args:
        acts: {layer name: (C, H, W)} for one image.
    """
    fig, axes = plt.subplots(
        len(acts), per_layer, figsize=(per_layer * 1.0, len(acts) * 1.1), squeeze=False
    )
    for row, (name, maps) in zip(axes, acts.items(), strict=True):
        for i, ax in enumerate(row):
            ax.imshow(_normalize(maps[i]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        h, w = maps.shape[-2:]
        row[0].set_ylabel(f"{name}\n{h}x{w}", rotation=0, ha="right", va="center")
    fig.tight_layout(pad=0.3)
    return fig


def plot_kernels(weight: torch.Tensor, ncols: int = 12, title: str = "") -> Figure:
    """RGB kernels of a first convolution as small images, each scaled to its own range.

    Args:
        weight: (C_out, 3, k, k), e.g. ``model.features.conv1.weight``.
    """
    w = weight.detach().cpu()
    nrows = math.ceil(len(w) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.6, nrows * 0.6 + 0.4))
    for i, ax in enumerate(axes.flat):
        if i < len(w):
            ax.imshow(_normalize(w[i]).transpose(1, 2, 0), interpolation="nearest")
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout(pad=0.2)
    return fig


def plot_pooling_windows(
    size: int = 9, schemes: tuple[tuple[int, int], ...] = ((3, 2), (2, 2))
) -> Figure:
    """How often each input cell is covered by a pooling window, for each (kernel, stride).

    The windows of the first output row are outlined. Overlapping pooling (kernel >
    stride) covers some cells twice or four times; 2/2 covers every cell once.
    """
    fig, axes = plt.subplots(1, len(schemes), figsize=(4.2 * len(schemes), 4.2))
    for ax, (k, s) in zip(axes, schemes, strict=True):
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
                    color="#55a868" if j % 2 else "#c44e52",
                )
            )
        ax.set_title(f"kernel {k}, stride {s}: {size}x{size} -> {out}x{out}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Number of pooling windows covering each input cell")
    fig.tight_layout()
    return fig


def plot_connectivity(convs: dict[str, nn.Conv2d]) -> Figure:
    """:func:`connectivity` of each convolution: white where no weight exists."""
    fig, axes = plt.subplots(1, len(convs), figsize=(3.2 * len(convs), 3.4))
    for ax, (name, conv) in zip(axes, convs.items(), strict=True):
        c = connectivity(conv)
        ax.imshow(
            (c > 0).numpy(), cmap="Greys", vmin=0, vmax=1.6, aspect="auto", interpolation="nearest"
        )
        ax.set_title(f"{name}: groups={conv.groups}")
        ax.set_xlabel(f"input channel (0..{conv.in_channels - 1})")
        ax.set_ylabel(f"output channel (0..{conv.out_channels - 1})")
    fig.suptitle("Which input maps each kernel reads (grey: a weight exists)")
    fig.tight_layout()
    return fig


def plot_lrn_effect(
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]], points: int = 4000
) -> Figure:
    """LRN output against LRN input, one panel per case (a random sample of ``points`` values).

    Args:
        pairs: {label: (input of the LRN layer, its output)}, tensors of the same shape.
    """
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 3.6), squeeze=False)
    gen = torch.Generator().manual_seed(0)
    for ax, (label, (a, b)) in zip(axes[0], pairs.items(), strict=True):
        a, b = a.flatten(), b.flatten()
        pick = torch.randint(len(a), (points,), generator=gen)
        ax.scatter(a[pick].numpy(), b[pick].numpy(), s=3, alpha=0.4)
        top = a.max().item()
        line = f"a / k^beta = a / {LRN_K**LRN_BETA:.2f} (quiet neighbours)"
        ax.plot([0, top], [0, top / LRN_K**LRN_BETA], "--", color="grey", lw=1, label=line)
        ax.set(title=label, xlabel="input a (after ReLU)", ylabel="output b")
        ax.legend()
    fig.tight_layout()
    return fig


def plot_dropout(check: DropoutCheck, units: int = 40) -> Figure:
    """The first ``units`` units: eval output, one training-mode output, and the mean of all."""
    idx = np.arange(units)
    eval_output = check.eval_output.flatten()[:units].numpy()
    one_pass = check.samples[0].flatten()[:units].numpy()
    mean = check.samples.mean(0).flatten()[:units].numpy()
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.bar(idx, eval_output, color="#cccccc", label="eval mode (= input)")
    ax.scatter(idx, one_pass, marker="x", color="#c44e52", zorder=3, label="one training-mode pass")
    label = f"mean of {len(check.samples)} training-mode passes"
    ax.plot(idx, mean, "o", mfc="none", color="#4c72b0", label=label)
    ax.axhline(0, color="black", lw=0.5)
    ax.set(xlabel="unit", ylabel="value")
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.tight_layout()
    return fig


def plot_params_and_macs(table: LayerTable, title: str = "") -> Figure:
    """Two bar charts: each weight layer's share of all parameters and of all MACs."""
    rows = [r for r in table if r.params]
    names = [r.name for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
    for ax, values, total, label in (
        (axes[0], [r.params for r in rows], table.params, "parameters"),
        (axes[1], [r.macs for r in rows], table.macs, "multiply-accumulates"),
    ):
        shares = [100 * v / total for v in values]
        bars = ax.barh(
            names, shares, color=["#4c72b0" if n.startswith("conv") else "#dd8452" for n in names]
        )
        ax.bar_label(bars, [f"{s:.1f}%" for s in shares], padding=2, fontsize=8)
        ax.set_xlabel(f"share of {total:,} {label} (%)")
        ax.set_xlim(0, max(shares) * 1.25)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
