"""The look every figure shares: the palette, the figure resolution, the one way to get axes
to draw on, and the one way to turn a tensor into an image.

- Colours: :data:`COLOURS` (a cycle, for series without a meaning of their own) and the named
  colours the figures give a meaning to (:data:`KIND_COLOURS`, :data:`APPROACH_COLOURS`).
- :func:`axes_or_new`: every ``plot_*`` function takes ``ax=``; this gives it the axes to draw
  on, the caller's or a new figure's. :func:`finish` lays out a figure the function made.
- :func:`to_image`: a (3, H, W) or (H, W) tensor as an image for ``imshow`` (``stats=``
  undoes the training normalization).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

DPI = 72  # photo figures: about the pixels of the images, and small notebooks

# The palette (seaborn's "deep" colours), by name and as a cycle.
RED, BLUE, GREEN, ORANGE, PURPLE, BROWN = (
    "#c44e52",
    "#4c72b0",
    "#55a868",
    "#dd8452",
    "#8172b2",
    "#937860",
)
GREY, LIGHT_GREY, DARK_GREY = "#8c8c8c", "#cccccc", "#444444"
HIGHLIGHT = "crimson"  # the one thing a figure points at (the 2012 gap)
COLOURS = (RED, BLUE, GREEN, ORANGE, PURPLE, BROWN)
# Layer kinds, as :class:`alexnet_lab.analysis.layer_table.Layer` names them.
KIND_COLOURS = {"conv": BLUE, "fc": ORANGE, "pool": GREY}
# The activations of the ReLU chapter (``ACTIVATIONS`` in analysis/activation_functions.py).
ACTIVATION_COLOURS = {"relu": BLUE, "tanh": ORANGE, "sigmoid": GREEN}
# The two approaches of the ILSVRC winners (the ``approach`` column of ``ilsvrc_winners``).
APPROACH_COLOURS = {"features + linear SVM": ORANGE, "CNN": BLUE}

AxesArg = Axes | Sequence[Axes] | np.ndarray | None


def axes_or_new(
    ax: AxesArg,
    nrows: int = 1,
    ncols: int = 1,
    *,
    squeeze: bool = True,
    **subplots_kw,
) -> tuple[Figure, Axes | np.ndarray]:
    """The axes a ``plot_*`` function draws on, and their figure.

    Args:
        ax: None to make a new figure with ``plt.subplots(nrows, ncols, **subplots_kw)``;
            else the caller's axes: one :class:`~matplotlib.axes.Axes`, or an array or
            sequence (any shape) of ``nrows * ncols`` of them, taken in row-major order.
        nrows, ncols: the grid of panels the function draws.
        squeeze: as in :func:`matplotlib.pyplot.subplots`: a single Axes for a 1x1 grid, a
            1-D array for one row or column. With False, always an (nrows, ncols) array.
        subplots_kw: for a new figure only (``figsize``, ``dpi``, ``gridspec_kw``, ...).

    Returns:
        (figure, axes): the figure of the first axes, and the axes shaped as described.

    Raises:
        ValueError: ``ax`` does not hold ``nrows * ncols`` axes.
        TypeError: something in ``ax`` is not an Axes.
    """
    if ax is None:
        fig, grid = plt.subplots(nrows, ncols, squeeze=False, **subplots_kw)
    else:
        flat = [ax] if isinstance(ax, Axes) else list(np.asarray(ax, dtype=object).flat)
        need = nrows * ncols
        if len(flat) != need:
            raise ValueError(
                f"this figure needs {need} axes ({nrows} row(s) x {ncols} column(s)), "
                f"got {len(flat)}"
            )
        for a in flat:
            if not isinstance(a, Axes):
                raise TypeError(f"ax must hold matplotlib Axes, got {type(a).__name__}")
        grid = np.empty(need, dtype=object)
        grid[:] = flat
        grid = grid.reshape(nrows, ncols)
        fig = flat[0].figure
    if not squeeze:
        return fig, grid
    if grid.size == 1:
        return fig, grid[0, 0]
    return fig, grid.reshape(-1) if 1 in grid.shape else grid


def finish(fig: Figure, new: bool, title: str | None = None, **tight_layout_kw) -> Figure:
    """Title and lay out a figure; a caller's figure (``new`` False) keeps its own layout.

    ``title`` becomes the figure's suptitle: always for a new figure (as given), and on a
    caller's figure only if it is not empty.
    """
    if title is not None and (new or title):
        fig.suptitle(title)
    if new:
        fig.tight_layout(**tight_layout_kw)
    return fig


def to_image(
    x: torch.Tensor,
    *,
    stats: dict[str, torch.Tensor] | None = None,
    rescale: bool = False,
    square: bool = False,
) -> torch.Tensor:
    """A tensor as an image for ``imshow``: (3, H, W) -> (H, W, 3), (H, W) -> (H, W), as a
    float CPU tensor in [0, 1].

    By default the values are pixels: uint8 (0..255) or float (0..1), clipped to [0, 1].

    Args:
        stats: undo the training normalization (``x * std + mean`` per channel, see
            :func:`alexnet_lab.augment.normalize`), then clip.
        rescale: min-max scale the whole tensor to [0, 1] (a constant tensor becomes 0),
            for feature maps and kernels, whose values have no pixel scale.
        square: centre-crop to the largest square first.

    Raises:
        ValueError: both ``stats`` and ``rescale``, or a shape other than (3, H, W) or
            (H, W).
    """
    if stats is not None and rescale:
        raise ValueError("to_image: give stats (undo the normalization) or rescale, not both")
    if not (x.dim() == 2 or (x.dim() == 3 and x.shape[0] == 3)):
        raise ValueError(f"to_image takes (3, H, W) or (H, W), got {tuple(x.shape)}")
    x = x.detach().cpu()
    if square:
        h, w = x.shape[-2:]
        s = min(h, w)
        top, left = round((h - s) / 2), round((w - s) / 2)
        x = x[..., top : top + s, left : left + s]
    x = x.float() / 255 if not x.is_floating_point() else x.float()
    if stats is not None:
        if x.dim() != 3:
            raise ValueError("to_image: stats undo a per-channel normalization of (3, H, W)")
        x = x * stats["std"].cpu().view(3, 1, 1) + stats["mean"].cpu().view(3, 1, 1)
    if rescale:
        lo, hi = x.min(), x.max()
        x = (x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)
    x = x.clamp(0, 1)
    return x.permute(1, 2, 0) if x.dim() == 3 else x
