"""Figures of what AlexNet learned: the conv1 kernels as the paper's Figure 3 shows them, the
images and patches that excite a channel most, the paper's Figure 4 (top-5 predictions and
fc7 nearest neighbours), a t-SNE map of fc7, and two explorers.

- :func:`plot_kernel_columns`: conv1 kernels, one grid per column, one value range per grid;
- :func:`plot_top_units`: a channel's strongest images with the receptive field of its
  strongest unit, and those patches (:mod:`alexnet_lab.analysis.top_activations`);
- :func:`plot_top5` and :func:`plot_neighbours`: the two halves of Figure 4;
- :func:`plot_feature_map`: a 2-D map of features coloured by class;
- :func:`FilterExplorer` and :func:`ActivationExplorer`: pick a kernel, or an image, layer
  and channel (:mod:`alexnet_lab.viz.widgets`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from alexnet_lab.analysis.columns import colour_share
from alexnet_lab.analysis.filters import high_frequency_share
from alexnet_lab.analysis.hooks import activations
from alexnet_lab.analysis.top_activations import TopUnit, crop_box
from alexnet_lab.augment import eval_transform
from alexnet_lab.evaluate import top_classes
from alexnet_lab.viz.layers import plot_kernels
from alexnet_lab.viz.style import (
    BLUE,
    DPI,
    HIGHLIGHT,
    RED,
    AxesArg,
    axes_or_new,
    finish,
    to_image,
)
from alexnet_lab.viz.widgets import Choice, Explorer, View, pil_image

ACT_LAYERS = {f"conv{i} (after ReLU)": f"act{i}" for i in range(1, 6)}  # explorer layers
MAP_CMAP = "inferno"  # a non-negative map: black 0 -> yellow max
SIGNED_CMAP = "RdBu_r"  # signed weights: blue negative, white 0, red positive


def kernel_mosaic(weight: torch.Tensor, ncols: int) -> torch.Tensor:
    """Kernels side by side in one image, ``ncols`` per row, with a 1-pixel border, as
    cuda-convnet's ``shownet.py`` lays them out; the border takes the smallest weight, so it
    is black once the mosaic is scaled to its range.

    Shape: (N, 3, k, k) -> (3, rows * (k + 1) + 1, ncols * (k + 1) + 1), rows = ceil(N / ncols).
    """
    w = weight.detach().cpu().float()
    n, c, kh, kw = w.shape
    rows = math.ceil(n / ncols)
    out = torch.full((c, rows * (kh + 1) + 1, ncols * (kw + 1) + 1), w.min().item())
    for i, kernel in enumerate(w):
        r, q = divmod(i, ncols)
        top, left = 1 + r * (kh + 1), 1 + q * (kw + 1)
        out[:, top : top + kh, left : left + kw] = kernel
    return out


def plot_kernel_columns(
    weights: dict[str, torch.Tensor], columns: int = 2, ncols: int = 16, ax: AxesArg = None
) -> Figure:
    """First-layer kernels as the paper's Figure 3: one grid per column, each grid scaled to
    one common range (its smallest weight black, its largest white).

    Figure 3 was drawn with cuda-convnet's ``shownet.py``, which scales all the kernels of a
    layer together (``filters -= filters.min(); filters /= filters.max()``), not each kernel
    on its own, so strong kernels look strong and weak ones faint. In Krizhevsky's two-GPU
    configs each column's half of conv1 is a layer of its own, so each column gets its own
    range here. (:func:`~alexnet_lab.viz.layers.plot_kernels` on separate kernels stretches
    each one to its own range instead; here it gets one mosaic per column.)

    Args:
        weights: {title: (N, 3, k, k)}, e.g. ``{"trained": model.features.conv1.weight}``;
            one row of panels each. Kernels ``0 .. N/columns - 1`` are column 1, and so on.
        columns: 2 for AlexNet's two columns (``config.two_columns``), 1 for one grid.
        ncols: kernels per row of a grid (16: a column of 48 is 3 rows, as in Figure 3).
        ax: len(weights) x columns Axes to draw on, row by row (None: a new figure).
    """
    first = next(iter(weights.values()))
    per = len(first) // columns
    rows = math.ceil(per / ncols)
    k = first.shape[-1] + 1
    new = ax is None
    side = 0.3 * k / 12  # inches per kernel
    size = (columns * ncols * side + 0.3, len(weights) * (rows * side + 0.35) + 0.2)
    fig, axes = axes_or_new(ax, len(weights), columns, squeeze=False, figsize=size)
    for row, (title, w) in zip(axes, weights.items(), strict=True):
        for c, a in enumerate(row):
            part = w[c * per : (c + 1) * per]
            plot_kernels(kernel_mosaic(part, ncols)[None], ncols=1, ax=a)
            which = f", column {c + 1}" if columns > 1 else ""
            a.set_title(f"{title}{which} (kernels {c * per}-{(c + 1) * per - 1})", fontsize=9)
    return finish(fig, new, pad=0.3)


def plot_top_units(
    images: torch.Tensor,
    tops: dict[str, list[TopUnit]],
    fill: int = 128,
    ax: AxesArg = None,
) -> Figure:
    """For each channel, its strongest images with the receptive field of the unit that
    responded most outlined (upper row) and those patches (lower row), strongest first.

    Args:
        images: (N, 3, H, W) uint8 crops, the images the tops were computed on (e.g.
            ``centre_crop(pack_images, size)``).
        tops: {label: units from :func:`~alexnet_lab.analysis.top_activations.top_units`},
            each list as long (k).
        fill: the grey of a patch where the field reaches past the image (the padding).
        ax: 2 * len(tops) x k Axes to draw on, row by row (None: a new figure).
    """
    k = len(next(iter(tops.values())))
    new = ax is None
    size = (1.15 * k + 1, 2.4 * len(tops))
    fig, axes = axes_or_new(ax, 2 * len(tops), k, squeeze=False, figsize=size, dpi=DPI)
    for i, (label, units) in enumerate(tops.items()):
        whole, patches = axes[2 * i], axes[2 * i + 1]
        for a, b, u in zip(whole, patches, units, strict=True):
            image = images[u.image]
            a.imshow(to_image(image).numpy())
            box = u.box
            a.add_patch(Rectangle((box.left - 0.5, box.top - 0.5), box.size, box.size,
                                  fill=False, lw=1.2, color=HIGHLIGHT))  # fmt: skip
            a.set_title(f"{u.value:.2f}", fontsize=7)
            b.imshow(to_image(crop_box(image, box, fill)).numpy())
        for a in (*whole, *patches):
            a.set_xticks([])
            a.set_yticks([])
        h, w = images.shape[-2:]
        for a in whole:  # the field may reach past the image: show all of it
            lo = min(0, *(min(u.box.top, u.box.left) for u in units)) - 0.5
            hi = max(h, w, *(max(u.box.top, u.box.left) + u.box.size for u in units)) - 0.5
            a.set(xlim=(lo, hi), ylim=(hi, lo))
        whole[0].set_ylabel(label, fontsize=8)
        patches[0].set_ylabel(f"{units[0].box.size}x{units[0].box.size} patches", fontsize=7)
    return finish(fig, new, pad=0.3)


def plot_top5(
    images: torch.Tensor,
    probs: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    k: int = 5,
    ax: AxesArg = None,
) -> Figure:
    """Figure 4, left: each image with its true class above and its ``k`` most probable
    classes below as bars; the true class's bar is red where it is among them.

    Args:
        images: (N, 3, H, W) uint8 crops (what the network saw).
        probs: (N, C) class probabilities (e.g. from :func:`alexnet_lab.evaluate.predict`).
        labels: (N,) true classes.
        ax: 2 x N Axes to draw on, images then bars (None: a new figure).
    """
    n = len(images)
    values, classes = top_classes(probs, k)
    new = ax is None
    fig, axes = axes_or_new(ax, 2, n, squeeze=False, figsize=(1.9 * n, 3.9), dpi=DPI,
                            gridspec_kw={"height_ratios": [1.3, 1]})  # fmt: skip
    for i in range(n):
        top, bars = axes[0, i], axes[1, i]
        top.imshow(to_image(images[i]).numpy())
        top.set_title(class_names[int(labels[i])], fontsize=8, fontweight="bold")
        top.axis("off")
        cls = classes[i].tolist()
        colours = [RED if c == int(labels[i]) else BLUE for c in cls]
        y = np.arange(len(cls))
        bars.barh(y, values[i].numpy(), color=colours, height=0.7)
        for j, c in enumerate(cls):
            bars.text(0.02, j, class_names[c], va="center", fontsize=6.5,
                      color="white" if values[i, j] > 0.5 else "black")  # fmt: skip
        bars.set(xlim=(0, 1), yticks=[])
        bars.invert_yaxis()
        bars.tick_params(labelsize=6)
    return finish(fig, new, pad=0.3)


def plot_neighbours(
    queries: torch.Tensor,
    neighbours: dict[str, torch.Tensor],
    query_labels: Sequence[str] | None = None,
    ax: AxesArg = None,
) -> Figure:
    """Figure 4, right: each query image, then its nearest images by each measure.

    Args:
        queries: (N, 3, H, W) uint8 crops, one row each.
        neighbours: {measure: (N, k, 3, H, W) uint8 images, nearest first}, e.g.
            ``{"fc7": ..., "pixels": ...}``; drawn left to right in this order.
        query_labels: text beside each query (e.g. its class).
        ax: N x (1 + total k) Axes to draw on, row by row (None: a new figure).
    """
    n = len(queries)
    ks = [v.shape[1] for v in neighbours.values()]
    ncols = 1 + sum(ks)
    new = ax is None
    fig, axes = axes_or_new(ax, n, ncols, squeeze=False, figsize=(1.05 * ncols, 1.15 * n + 0.3),
                            dpi=DPI)  # fmt: skip
    for i, row in enumerate(axes):
        row[0].imshow(to_image(queries[i]).numpy())
        if query_labels:
            row[0].set_ylabel(query_labels[i], fontsize=7)
        j = 1
        for name, images in neighbours.items():
            for r in range(images.shape[1]):
                row[j].imshow(to_image(images[i, r]).numpy())
                if i == 0:
                    row[j].set_title(f"{name} {r + 1}" if r else f"{name}: nearest", fontsize=7)
                j += 1
        for a in row:
            a.set_xticks([])
            a.set_yticks([])
        for spine in row[0].spines.values():
            spine.set(color=HIGHLIGHT, lw=2)
    axes[0, 0].set_title("query", fontsize=7)
    return finish(fig, new, pad=0.2)


def plot_feature_map(
    points: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    title: str = "",
    ax: AxesArg = None,
) -> Figure:
    """A 2-D map of images (e.g. :func:`~alexnet_lab.analysis.features.tsne_map`), one dot
    per image coloured by its class (matplotlib's ``tab10``, one colour per class).

    Shape: points (N, 2), labels (N,). ``ax``: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(7.5, 5.5))
    cmap = matplotlib.colormaps["tab10"]
    for c, name in enumerate(class_names):
        pick = labels == c
        if pick.any():
            ax.scatter(*points[pick].T.numpy(), s=6, color=cmap(c % 10), label=name, alpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, markerscale=2.5)
    return finish(fig, new, title)


def _coloured(values: np.ndarray, cmap: str) -> np.ndarray:
    """(H, W) values in 0..1 -> (H, W, 3) colours of a matplotlib colour map."""
    return matplotlib.colormaps[cmap](np.clip(values, 0, 1))[..., :3]


def _enlarge(a: np.ndarray, height: int) -> np.ndarray:
    """``a`` (h, w, ...) resized to ``height`` rows by nearest neighbour (each unit a block)."""
    h, w = a.shape[:2]
    rows = (np.arange(height) * h // height).clip(0, h - 1)
    cols = (np.arange(round(w * height / h)) * w // round(w * height / h)).clip(0, w - 1)
    return a[rows][:, cols]


def _side_by_side(panels: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """(H, W_i, 3) panels of one height in a row, with white gaps."""
    space = np.ones((panels[0].shape[0], gap, 3))
    parts = [p for panel in panels for p in (panel, space)][:-1]
    return np.concatenate(parts, axis=1)


def _scaled(m: torch.Tensor) -> tuple[np.ndarray, float]:
    """A non-negative map divided by its max (an all-zero map stays 0), and that max."""
    top = m.max().item()
    return ((m / top).numpy() if top > 0 else np.zeros(tuple(m.shape))), top


def _images_and_upload(
    images: torch.Tensor,
    stats: dict[str, torch.Tensor],
    image_labels: Sequence[str] | None,
    static_images: int | None,
) -> tuple[Choice, tuple]:
    """The "image" choice (values: row numbers) and the upload that adds the reader's photo
    (value: the photo prepared as the validation images are)."""
    texts = image_labels or [f"image {i + 1}" for i in range(len(images))]
    n_static = len(images) if static_images is None else min(static_images, len(images))
    to_value = eval_transform(images.shape[-1], stats)
    choice = Choice("image", "Image", tuple((t, i) for i, t in enumerate(texts)), static=n_static)
    return choice, ("image", lambda photo: to_value(photo))


def FilterExplorer(
    model: nn.Module,
    images: torch.Tensor,
    stats: dict[str, torch.Tensor],
    image_labels: Sequence[str] | None = None,
    *,
    columns: int = 2,
    static_kernels: int = 16,
    static_images: int | None = 2,
    height: int = 128,
) -> Explorer:
    """Pick a conv1 kernel and an image: the kernel enlarged, its R, G and B parts, and its
    response map (conv1 after ReLU) beside the image.

    The static page holds the first ``static_kernels`` kernels of each column (so both
    columns are there) on the first ``static_images`` images; the live widget has every
    kernel and takes the reader's own photo.

    Args:
        model: an AlexNet (``model.features.conv1``, ``act1``), in eval mode.
        images: (N, 3, H, W) normalized with ``stats``.
        image_labels: the text of each image's option (default "image i").
        columns: the columns conv1's kernels split into (for the captions and the order).
        height: the views' height in pixels (everything is enlarged to it).
    """
    weight = model.features.conv1.weight.detach().cpu()
    n = len(weight)
    per = n // columns
    hf, colour = high_frequency_share(weight), colour_share(weight)
    maps: dict[object, torch.Tensor] = {}

    def response(image: int | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        key = image if isinstance(image, int) else id(image)
        x = images[image] if isinstance(image, int) else image
        if key not in maps:
            maps[key] = activations(model, x[None], ("act1",))["act1"][0]
        return x, maps[key]

    def render(kernel: int, image: int | torch.Tensor) -> View:
        x, act = response(image)
        k = weight[kernel]
        own = to_image(k, rescale=True).numpy()
        bound = k.abs().max().item() or 1.0
        parts = [_coloured((k[c].numpy() / bound + 1) / 2, SIGNED_CMAP) for c in range(3)]
        scaled, top = _scaled(act[kernel])
        response_map = _coloured(scaled, MAP_CMAP)
        photo = to_image(x, stats=stats).numpy()
        panels = [own, *parts, photo, response_map]
        view = pil_image(_side_by_side([_enlarge(p, height) for p in panels]))
        h, w = act.shape[-2:]
        caption = (
            f"Kernel {kernel} (column {kernel // per + 1}): high-frequency share "
            f"{hf[kernel]:.2f}, colour share {colour[kernel]:.2f}. Left to right: the kernel "
            f"(scaled to its own range), its R, G and B weights (one scale, blue -{bound:.3f} "
            f"to red +{bound:.3f}), the image, and the kernel's {h}x{w} conv1 map after ReLU "
            + (f"(scaled 0 to its max {top:.2f})." if top > 0 else "(all 0 on this image).")
        )
        return View(view, caption)

    # The first kernels of each column first, so the static page shows both columns.
    half = min(static_kernels // columns, per)
    order = [c * per + i for i in range(half) for c in range(columns)]
    order += [i for i in range(n) if i not in order]
    kernels = Choice(
        "kernel",
        "Kernel",
        tuple((f"{i} (column {i // per + 1})", i) for i in order),
        static=half * columns,
    )
    image_choice, upload = _images_and_upload(images, stats, image_labels, static_images)
    return Explorer("A conv1 kernel and its response", [kernels, image_choice], render, upload)


def ActivationExplorer(
    model: nn.Module,
    images: torch.Tensor,
    stats: dict[str, torch.Tensor],
    image_labels: Sequence[str] | None = None,
    *,
    layers: dict[str, str] = ACT_LAYERS,
    channels: int = 96,
    static_images: int | None = 4,
    static_channels: int = 12,
    height: int = 128,
    alpha: float = 0.8,
) -> Explorer:
    """Pick an image, a layer and a channel: that channel's map over the image.

    Each map is scaled on its own, 0 to its maximum, coloured black (0) to yellow (its max)
    and laid over the grey photo, more opaque where it is higher (where it is 0 the photo
    shows);
    a map smaller than the image is stretched over it, each unit a block. The caption gives
    the layer's shape and the map's statistics.

    Args:
        model: an AlexNet in eval mode.
        images: (N, 3, H, W) normalized with ``stats``.
        image_labels: the text of each image's option (default "image i").
        layers: {shown name: layer name}, default conv1..conv5 after their ReLUs.
        channels: the first ``channels`` channels of every layer are offered (conv1 has 96).
        static_images, static_channels: what the static page holds (all layers).
        height: the views' height in pixels.
        alpha: the opacity of the map's colours at its max (sqrt(value / max) * alpha
            elsewhere).
    """
    names = list(layers.values())
    recorded: dict[object, tuple[np.ndarray, dict[str, torch.Tensor]]] = {}

    def record(image: int | torch.Tensor) -> tuple[np.ndarray, dict[str, torch.Tensor]]:
        """The grey photo at ``height`` and the maps of every layer, once per image."""
        key = image if isinstance(image, int) else id(image)
        if key not in recorded:
            x = images[image] if isinstance(image, int) else image
            photo = _enlarge(to_image(x, stats=stats).numpy(), height)
            found = activations(model, x[None], names)
            recorded[key] = (photo.mean(-1, keepdims=True), {k: v[0] for k, v in found.items()})
        return recorded[key]

    def render(image: int | torch.Tensor, layer: str, channel: int) -> View:
        grey, found = record(image)
        a = found[layer]
        m = a[channel]
        scaled, top = _scaled(m)
        big = _enlarge(scaled[..., None], height)[:, : grey.shape[1]]  # (height, W, 1)
        weight = alpha * np.sqrt(big)  # where the map is 0 the grey photo shows through
        view = pil_image((1 - weight) * grey + weight * _coloured(big[..., 0], MAP_CMAP))
        shown = next(k for k, v in layers.items() if v == layer)
        c, h, w = a.shape
        zeros = (m == 0).double().mean().item()
        caption = (
            f"{shown}, channel {channel} of {c}: a {h}x{w} map (the layer's output is "
            f"{c}x{h}x{w}); this map: max {top:.2f}, mean {m.mean():.2f}, {zeros:.0%} zeros. "
            + (
                "Scaled 0 to its own max (black to yellow), laid over the grey image more "
                "strongly where it is higher."
                if top > 0
                else "All 0 on this image."
            )
        )
        return View(view, caption)

    image_choice, upload = _images_and_upload(images, stats, image_labels, static_images)
    choices = [
        image_choice,
        Choice("layer", "Layer", tuple(layers.items())),
        Choice(
            "channel",
            "Channel",
            tuple((str(i), i) for i in range(channels)),
            static=static_channels,
        ),  # fmt: skip
    ]
    return Explorer("One channel of one layer, over the image", choices, render, upload)
