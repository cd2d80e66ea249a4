"""Drawings of attribution maps (:mod:`alexnet_lab.analysis.attribution`): maps over the photo,
the sanity check, the deletion and insertion curves, and the explorer.

The figures draw each map with captum's own ``visualize_image_attr`` (a heat map blended
over the grey photo); the explorer renders the same picture with numpy and a matplotlib
colour map straight to a PIL image (:func:`attribution_overlay`), fast enough for hundreds of
views. Both scale a map the way captum does (:func:`scale_map`) and use :data:`CMAPS`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from captum.attr import visualization as viz
from matplotlib.figure import Figure
from torch import nn

from alexnet_lab.analysis.attribution import (
    METHODS,
    RANDOM,
    Faithfulness,
    SanityCheck,
    attribute,
    class_probabilities,
    without_inplace,
)
from alexnet_lab.augment import eval_transform
from alexnet_lab.classes import class_name
from alexnet_lab.evaluate import top_classes
from alexnet_lab.viz.style import COLOURS, DPI, GREY, AxesArg, axes_or_new, finish, to_image
from alexnet_lab.viz.widgets import Choice, Explorer, View, pil_image

# A map's colours by what it shows (Method.sign): magnitude black -> yellow, signed blue
# (against the class) -> white -> red (for it).
CMAPS = {"absolute_value": "inferno", "positive": "inferno", "all": "RdBu_r"}
METHOD_COLOURS = {**dict(zip(METHODS, COLOURS, strict=True)), RANDOM: GREY}
OUTLIER_PERC = 2  # captum's default: the top 2% of the total |attribution| saturate


def _label(method: str) -> str:
    return METHODS[method].label if method in METHODS else "random order"


def _class_names(classes: Sequence[str]) -> list[str]:
    """Readable names of class folder names: ImageNet WordNet ids become their names."""
    names = []
    for c in classes:
        try:
            names.append(class_name(c))
        except KeyError:
            names.append(str(c))
    return names


def scale_map(values: np.ndarray, sign: str) -> tuple[np.ndarray, float]:
    """A map as captum's ``visualize_image_attr`` scales it: keep the values ``sign`` names
    (absolute, positive or all), divide by the value below which 98% of the total
    |attribution| lies, clip to [-1, 1].

    Returns: the scaled (H, W) map, and that value (0 for an all-zero map, left at 0).
    """
    v = np.abs(values) if sign == "absolute_value" else values
    v = np.maximum(v, 0) if sign == "positive" else v
    flat = np.sort(np.abs(v).ravel())
    sums = np.cumsum(flat, dtype=np.float64)
    if sums[-1] <= 0:
        return np.zeros_like(v, dtype=np.float64), 0.0
    top = float(flat[np.searchsorted(sums, sums[-1] * (100 - OUTLIER_PERC) / 100)])
    return np.clip(v / top, -1, 1), top


def attribution_overlay(
    photo: np.ndarray, values: np.ndarray, sign: str, alpha: float = 0.5
) -> np.ndarray:
    """The map's colours (:data:`CMAPS`) blended over the grey photo, as captum's
    ``blended_heat_map`` draws it.

    Args:
        photo: (H, W, 3) in 0..1 (e.g. ``to_image(image, stats=...)``).
        values: (H, W) the map, as :func:`~alexnet_lab.analysis.attribution.attribute` gives it.
        sign: which values to show (:attr:`~alexnet_lab.analysis.attribution.Method.sign`).

    Returns: (H, W, 3) float in 0..1.
    """
    scaled, _ = scale_map(values, sign)
    lo = -1 if sign == "all" else 0
    heat = matplotlib.colormaps[CMAPS[sign]]((scaled - lo) / (1 - lo))[..., :3]
    grey = np.repeat(np.asarray(photo).mean(-1, keepdims=True), 3, -1)
    return (1 - alpha) * grey + alpha * heat


def _draw_map(ax, photo: np.ndarray, values: np.ndarray, sign: str, blend: bool = True) -> None:
    """captum's heat map of one map on ``ax``, blended over the grey photo or alone (an
    all-zero map: the grey photo, or an empty panel)."""
    if not np.any(values if sign != "positive" else values > 0):
        if blend:
            ax.imshow(photo.mean(-1), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(np.ones_like(values), cmap="gray", vmin=0, vmax=1)
            ax.text(0.5, 0.5, "all 0", ha="center", va="center", transform=ax.transAxes)
    else:
        with warnings.catch_warnings():  # tiny values (guided Grad-CAM) are scaled as well
            warnings.filterwarnings("ignore", message="Attempting to normalize by value")
            viz.visualize_image_attr(
                values[..., None], photo, method="blended_heat_map" if blend else "heat_map",
                sign=sign, cmap=CMAPS[sign], outlier_perc=OUTLIER_PERC,
                plt_fig_axis=(ax.figure, ax), use_pyplot=False,
            )  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])


def plot_attributions(
    images: torch.Tensor,
    columns: dict[str, tuple[torch.Tensor, str]],
    stats: dict[str, torch.Tensor],
    row_labels: Sequence[str] | None = None,
    title: str = "",
    ax: AxesArg = None,
) -> Figure:
    """One row per image: the photo, then one attribution map per column, over the photo.

    Args:
        images: (N, 3, H, W) normalized with ``stats``.
        columns: {column title: (maps (N, H, W), sign)}, e.g.
            ``{"Grad-CAM": (maps, METHODS["grad_cam"].sign)}``.
        row_labels: one per image, written beside the photo.
        ax: N x (1 + len(columns)) Axes to draw on, row by row (None: a new figure).
    """
    n, ncols = len(images), 1 + len(columns)
    new = ax is None
    size = (1.55 * ncols + (1.2 if row_labels else 0), 1.6 * n + 0.5)
    fig, axes = axes_or_new(ax, n, ncols, squeeze=False, figsize=size, dpi=DPI)
    for i, row in enumerate(axes):
        photo = to_image(images[i], stats=stats).numpy()
        row[0].imshow(photo)
        row[0].set_xticks([])
        row[0].set_yticks([])
        if row_labels:
            row[0].set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=8)
        for a, (maps, sign) in zip(row[1:], columns.values(), strict=True):
            _draw_map(a, photo, maps[i].numpy(), sign)
    for a, name in zip(axes[0], ["image", *columns], strict=True):
        a.set_title(name, fontsize=9)
    return finish(fig, new, title, pad=0.3)


def plot_sanity_check(check: SanityCheck, ax: AxesArg = None) -> Figure:
    """How alike each method's maps stay as the layers are randomized from fc8 down:
    rank correlation (left) and SSIM (right) against the trained model's maps.

    ``ax``: two Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, axes = axes_or_new(ax, 1, 2, figsize=(10, 3.6), sharey=True)
    x = np.arange(len(check.steps))
    for a, values, name in ((axes[0], check.spearman, "rank correlation (Spearman) of |map|"),
                            (axes[1], check.ssim, "SSIM of the maps")):  # fmt: skip
        for i, m in enumerate(check.methods):
            a.plot(x, values[i].numpy(), "o-", color=METHOD_COLOURS[m], label=_label(m), ms=4)
        a.axhline(0, color="black", lw=0.5)
        a.set_xticks(x, ["trained", *check.steps[1:]], rotation=45)
        a.set(xlabel="randomized from fc8 down to", ylabel=name)
    low = min(-0.2, check.spearman.min().item() - 0.05, check.ssim.min().item() - 0.05)
    for a in axes:
        a.set_ylim(low, 1.05)
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    return finish(fig, new, "Cascading randomization: do the maps notice?")


def plot_randomized_maps(
    check: SanityCheck,
    images: torch.Tensor,
    stats: dict[str, torch.Tensor],
    index: int = 0,
    ax: AxesArg = None,
) -> Figure:
    """One image (top left) and its maps, a row per method, a column per randomization
    step; the maps alone, without the photo under them.

    Args:
        images: the (N, 3, H, W) images ``check`` was computed on; ``index`` picks one.
        ax: len(methods) x (1 + len(steps)) Axes to draw on, row by row (None: a new figure).
    """
    rows, cols = len(check.methods), 1 + len(check.steps)
    new = ax is None
    size = (1.1 * cols + 0.4, 1.1 * rows + 0.3)
    fig, axes = axes_or_new(ax, rows, cols, squeeze=False, figsize=size, dpi=DPI)
    photo = to_image(images[index], stats=stats).numpy()
    axes[0, 0].imshow(photo)
    axes[0, 0].set_title("image", fontsize=8)
    for a in axes[:, 0]:
        a.axis("off")
    for r, m in enumerate(check.methods):
        for c in range(1, cols):
            values = check.maps[m][c - 1, index].numpy()
            _draw_map(axes[r, c], photo, values, METHODS[m].sign, blend=False)
        axes[r, 1].set_ylabel(_label(m), fontsize=8)
    for c, step in enumerate(check.steps, start=1):
        axes[0, c].set_title("trained" if step == "none" else f"to {step}", fontsize=8)
    return finish(fig, new, None, pad=0.2)


def plot_deletion_insertion(faith: Faithfulness, ax: AxesArg = None) -> Figure:
    """Mean deletion and insertion curves of each method, with their areas in the legend.

    ``ax``: two Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, axes = axes_or_new(ax, 1, 2, figsize=(10, 3.8), sharey=True)
    x = 100 * faith.fractions.numpy()
    for a, curve, what in ((axes[0], "deletion", "deleted (set to the mean colour)"),
                           (axes[1], "insertion", "inserted into the blurred image")):  # fmt: skip
        areas, curves = faith.auc(curve), getattr(faith, curve)
        for m, c in curves.items():
            style = "--" if m == RANDOM else "-"
            a.plot(x, c.mean(0).numpy(), style, color=METHOD_COLOURS[m],
                   label=f"{_label(m)} ({areas[m]:.2f})")  # fmt: skip
        a.set(xlabel=f"% of pixels {what}, most important first", title=curve)
        a.legend(fontsize=7, title="method (area)", title_fontsize=7)
    axes[0].set_ylabel("probability of the class explained")
    axes[0].set_ylim(0, 1)
    return finish(fig, new, "Faithfulness: remove or restore what the map points at")


def AttributionExplorer(
    model: nn.Module,
    images: torch.Tensor,
    stats: dict[str, torch.Tensor],
    classes: Sequence[str],
    labels: torch.Tensor | None = None,
    *,
    image_labels: Sequence[str] | None = None,
    methods: Sequence[str] = tuple(METHODS),
    static_images: int | None = 6,
    zoom: int | None = None,
    maps: dict[str, torch.Tensor] | None = None,
    **options,
) -> Explorer:
    """Pick an image, a method and the class to explain; see the map next to the photo.

    The classes: the predicted one, the true one, the 2nd and 3rd most likely (these four
    are on the static page), and every class by name (live only). The live widget also takes
    the reader's own photo (prepared as the validation images are).

    Args:
        model: the classifier (a copy without in-place ReLUs is used if needed).
        images: (N, 3, H, W) normalized with ``stats``.
        classes: class folder names in label order (WordNet ids are shown by name).
        labels: (N,) the true classes (None: unknown; "true class" shows the predicted one).
        image_labels: the text of each image's option (default: "image i (true class)").
        static_images: how many of the images the static page holds (None: all).
        zoom: how many times the views are enlarged (None: to at least 128 pixels high).
        maps: {method: (N, H, W)} maps already computed for each image's predicted class
            (with the same ``options``); they are shown instead of being computed again.
        options: for :func:`~alexnet_lab.analysis.attribution.attribute` (e.g. ``n_steps``).
    """
    net = without_inplace(model)
    names = _class_names(classes)
    size = images.shape[-1]
    zoom = zoom or max(1, math.ceil(128 / size))
    to_value = eval_transform(size, stats)
    probs: dict[object, torch.Tensor] = dict(enumerate(class_probabilities(net, images)))
    ranked = {i: top_classes(p[None], len(p))[1][0].tolist() for i, p in probs.items()}
    known: dict[tuple, np.ndarray] = {}  # (image key, method, class) -> map
    for m, given in (maps or {}).items():
        for i in range(len(images)):
            known[(i, m, ranked[i][0])] = given[i].numpy()
    kinds = ("predicted class", "2nd most likely", "3rd most likely")

    def pick(key: object, target: tuple[str, int]) -> tuple[int, str]:
        """The class ``target`` names for an image, and how it was chosen."""
        kind, k = target
        if kind == "class":
            return k, "chosen class"
        if kind == "true" and labels is not None and isinstance(key, int):
            return int(labels[key]), "true class"
        k = 0 if kind == "true" else k
        return ranked[key][k], kinds[k]

    def attribution(key: object, x: torch.Tensor, method: str, target: tuple[str, int]):
        """The map of one image; the first time a (method, target) is asked for, computed for
        all the images at once, each for its own class of that kind (batches are faster)."""
        c = pick(key, target)[0]
        if (key, method, c) not in known and isinstance(key, int):
            batch = [pick(j, target)[0] for j in range(len(images))]
            computed = attribute(net, images, torch.tensor(batch), method, **options)
            for j, cj in enumerate(batch):
                known.setdefault((j, method, cj), computed[j].numpy())
        elif (key, method, c) not in known:
            known[(key, method, c)] = attribute(net, x[None], c, method, **options)[0].numpy()
        return known[(key, method, c)]

    def render(image: int | torch.Tensor, method: str, target: tuple[str, int]) -> View:
        key = image if isinstance(image, int) else ("photo", id(image))  # an int: our images
        x = images[image] if isinstance(image, int) else image
        if key not in probs:  # an uploaded photo
            probs[key] = class_probabilities(net, x[None])[0]
            ranked[key] = top_classes(probs[key][None], len(probs[key]))[1][0].tolist()
        p, (c, which) = probs[key], pick(key, target)
        values, sign = attribution(key, x, method, target), METHODS[method].sign
        photo = to_image(x, stats=stats).numpy()
        gap = np.ones((size, max(2, size // 32), 3))
        view = pil_image(np.concatenate([photo, gap, attribution_overlay(photo, values, sign)], 1))
        view = view.resize((view.width * zoom, view.height * zoom), resample=0)  # nearest
        _, top = scale_map(values, sign)
        true = int(labels[key]) if labels is not None and isinstance(key, int) else None
        truth = "true class unknown" if true is None else f"true class {names[true]}"
        top1 = ranked[key][0]
        caption = (
            f"{METHODS[method].label} for {names[c]} ({which}, p = {p[c]:.0%}); the model "
            f"predicts {names[top1]} (p = {p[top1]:.0%}), {truth}. "
            + (f"Colour scale: {_SCALES[sign]} {top:.3g}." if top else "The map is all 0.")
        )
        return View(view, caption)

    n_static = len(images) if static_images is None else min(static_images, len(images))
    texts = image_labels or [
        f"image {i + 1}" + (f" ({names[int(labels[i])]})" if labels is not None else "")
        for i in range(len(images))
    ]
    targets = (
        ("predicted class", ("rank", 0)), ("true class", ("true", 0)),
        ("2nd most likely", ("rank", 1)), ("3rd most likely", ("rank", 2)),
        *((f"class: {n}", ("class", c)) for c, n in enumerate(names)),
    )  # fmt: skip
    choices = [
        Choice("image", "Image", tuple((t, i) for i, t in enumerate(texts)), static=n_static),
        Choice("method", "Method", tuple((METHODS[m].label, m) for m in methods)),
        Choice("target", "Explain", targets, static=4),
    ]
    return Explorer(
        "What each method says the network looked at",
        choices,
        render,
        upload=("image", lambda photo: to_value(photo)),
    )


_SCALES = {
    "absolute_value": "|attribution| from 0 (dark) to",
    "positive": "attribution from 0 (dark) to",
    "all": "attribution from blue (against the class) to red (for it), saturating at +-",
}
