"""Figures for the training chapter: augmentation, PCA colour, training curves, errors.

- :func:`plot_augmentations`: random crops, flips and PCA colour shifts of real images;
- :func:`plot_pca_colour`: the RGB eigenvectors and what shifting along them does (their
  table is :func:`alexnet_lab.analysis.colour.describe_pca`);
- :func:`plot_history`: loss, top-1, top-5 and learning rate per epoch;
- :func:`plot_confusion` and :func:`plot_mistakes`: where the trained model goes wrong
  (computed by :mod:`alexnet_lab.analysis.predictions`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from alexnet_lab.analysis.colour import pca_shifts
from alexnet_lab.analysis.predictions import most_confident_mistakes
from alexnet_lab.augment import PCA_STD, centre_crop, draw_augmentation, train_batch
from alexnet_lab.evaluate import top_classes
from alexnet_lab.viz.style import (
    BLUE,
    COLOURS,
    DPI,
    GREY,
    RED,
    AxesArg,
    axes_or_new,
    finish,
    to_image,
)


def plot_augmentations(
    images: torch.Tensor,
    size: int,
    stats: dict[str, torch.Tensor],
    draws: int = 4,
    seed: int = 0,
    min_area: float | None = None,
    ax: AxesArg = None,
) -> Figure:
    """Each image with the windows of ``draws`` random crops, then the augmented crops.

    The crops come from :func:`alexnet_lab.augment.train_batch` with parameters from
    :func:`alexnet_lab.augment.draw_augmentation`, the trainer's own path, and are shown
    un-normalized. A "flip" in a title means the crop was mirrored.

    Args:
        images: (N, 3, S, S) uint8, e.g. from a pack; one row per image.
        size: crop side.
        stats: "mean", "std", "eigvals", "eigvecs" of the training pixels.
        min_area: None for the paper's ``size`` x ``size`` windows, else random-resized boxes
            of at least this share of the image (a profile's ``min_crop_area``).
        ax: N x (draws + 1) Axes to draw on (None: a new figure).
    """
    gen = torch.Generator().manual_seed(seed)
    n, side = len(images), images.shape[-1]
    new = ax is None
    size_in = (1.6 * (draws + 1), 1.75 * n)
    fig, axes = axes_or_new(ax, n, draws + 1, squeeze=False, figsize=size_in, dpi=DPI)
    for row, image in zip(axes, images, strict=True):
        params = draw_augmentation(draws, side, size, min_area, gen)
        top, left, height, width, flip, alpha = params
        batch = image[None].expand(draws, -1, -1, -1)
        crops = train_batch(batch, size, stats, params=params)
        row[0].imshow(to_image(image).numpy())
        row[0].set_title(f"{side}x{side}", fontsize=8)
        for i in range(draws):
            colour = COLOURS[i % len(COLOURS)]
            row[0].add_patch(
                Rectangle((left[i] - 0.5, top[i] - 0.5), width[i], height[i], fill=False,
                          lw=1.2, color=colour)
            )  # fmt: skip
            row[i + 1].imshow(to_image(crops[i], stats=stats).numpy())
            a = ", ".join(f"{v:+.2f}" for v in alpha[i].tolist())
            row[i + 1].set_title(f"{'flip ' if flip[i] else ''}α {a}", fontsize=6.5)
            for spine in row[i + 1].spines.values():
                spine.set(color=colour, lw=2.5)
        for a in row:
            a.set_xticks([])
            a.set_yticks([])
    return finish(fig, new, pad=0.3)


def plot_pca_colour(
    image: torch.Tensor, stats: dict[str, torch.Tensor], sigmas: float = 3.0, ax: AxesArg = None
) -> Figure:
    """The three RGB eigenvectors, and one image moved along each of them.

    Left: each eigenvector ``p_i`` as colour swatches, mid-grey + t * p_i for t from -0.3 to
    0.3, to show its direction in colour space (magnified: the real shifts are smaller).
    Right: ``image`` plus ``alpha_i * sqrt(lambda_i) * p_i`` for alpha_i = -sigmas x 0.1, 0
    and +sigmas x 0.1: the shift of :func:`alexnet_lab.augment.pca_colour_shift` at its
    real scale (alpha ~ N(0, 0.1^2), so a draw beyond 3 sigma is rare).

    Args:
        image: (3, S, S) uint8.
        stats: "eigvals" (3,) and "eigvecs" (3, 3), columns are the eigenvectors.
        ax: 3 x 4 Axes to draw on, one row per eigenvector (None: a new figure).
    """
    eigvals, eigvecs = stats["eigvals"].cpu(), stats["eigvecs"].cpu()
    alphas = (-sigmas * PCA_STD, 0.0, sigmas * PCA_STD)
    unit = pca_shifts(stats, alpha=1.0)  # row i: sqrt(lambda_i) * p_i
    new = ax is None
    widths = {"width_ratios": [1.6, 1, 1, 1]}
    fig, axes = axes_or_new(ax, 3, 4, figsize=(8.4, 6.3), gridspec_kw=widths, dpi=DPI)
    t = torch.linspace(-0.3, 0.3, 7)
    x = image.float() / 255
    for i, row in enumerate(axes):
        p = eigvecs[:, i]
        swatches = (0.5 + t[:, None] * p).clamp(0, 1)  # 7 x 3
        row[0].imshow(swatches[None].numpy(), aspect="auto")
        row[0].set_xticks(range(len(t)), [f"{v:+.1f}" for v in t.tolist()], fontsize=7)
        row[0].set_yticks([])
        rgb = ", ".join(f"{v:+.2f}" for v in p.tolist())
        row[0].set_title(f"p{i + 1} = ({rgb}), λ = {eigvals[i]:.4f}", fontsize=8)
        for a, alpha in zip(row[1:], alphas, strict=True):
            a.imshow(to_image(x + (alpha * unit[i])[:, None, None]).numpy())
            a.set_title(f"α{i + 1} = {alpha:+.1f}" if alpha else "α = 0 (original)", fontsize=8)
            a.set_xticks([])
            a.set_yticks([])
    axes[-1][0].set_xlabel("t in mid-grey + t p (magnified)", fontsize=8)
    return finish(fig, new, pad=0.4)


def plot_history(
    history: Sequence[dict[str, float]], title: str = "", ax: AxesArg = None
) -> Figure:
    """Loss, top-1, top-5 (train and val) and learning rate per epoch.

    Args:
        history: one dict per epoch, as :func:`alexnet_lab.trained.load_history` returns.
        ax: 4 Axes to draw on: loss, top-1, top-5, learning rate (None: a new figure).
    """
    epochs = [h["epoch"] for h in history]
    marker = "o" if len(history) < 12 else None
    new = ax is None
    fig, axes = axes_or_new(ax, 1, 4, figsize=(13, 3.2))
    for ax, key, label in (
        (axes[0], "loss", "cross-entropy loss"),
        (axes[1], "top1", "top-1 accuracy (%)"),
        (axes[2], "top5", "top-5 accuracy (%)"),
    ):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], "--", marker=marker,
                color=BLUE, label="train (augmented, dropout on)")  # fmt: skip
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "-", marker=marker,
                color=RED, label="val (centre crop)")  # fmt: skip
        ax.set(xlabel="epoch", ylabel=label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    axes[3].plot(epochs, [h["lr"] for h in history], marker=marker, color=GREY)
    axes[3].set(xlabel="epoch", ylabel="learning rate at the end of the epoch")
    axes[3].grid(alpha=0.3)
    return finish(fig, new, title)


def plot_confusion(matrix: torch.Tensor, class_names: Sequence[str], ax: AxesArg = None) -> Figure:
    """The confusion matrix, coloured by the share of each true class, with the counts.

    ``ax``: one Axes to draw on (None: a new figure).
    """
    m = matrix.cpu()
    share = m / m.sum(1, keepdim=True).clamp(min=1)
    n = len(class_names)
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(0.62 * n + 2.4, 0.55 * n + 1.6))
    ax.imshow(share.numpy(), cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                colour = "white" if share[i, j] > 0.5 else "black"
                ax.text(j, i, str(m[i, j].item()), ha="center", va="center", fontsize=8,
                        color=colour)  # fmt: skip
    ax.set_xticks(range(n), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), class_names, fontsize=8)
    ax.set(xlabel="predicted class (top-1)", ylabel="true class")
    return finish(fig, new)


def plot_mistakes(
    images: torch.Tensor,
    probs: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    size: int,
    n: int = 8,
    ncols: int = 4,
    ax: AxesArg = None,
) -> Figure:
    """The ``n`` most confident mistakes (:func:`most_confident_mistakes`), as the model saw
    them (centre crop), with the true class and the two top guesses.

    Args:
        images: (N, 3, S, S) uint8, the images ``probs`` were computed on.
        probs: (N, C) class probabilities.
        labels: (N,) true classes.
        size: crop side.
        ax: Axes to draw on, ``ceil(m / ncols) * ncols`` of them (at least ``ncols``) for the
            ``m = min(n, number of mistakes)`` images shown (None: a new figure).
    """
    picked = most_confident_mistakes(probs, labels, n)
    nrows = max(1, -(-len(picked) // ncols))
    size_in = (1.9 * ncols, 2.5 * nrows)
    fig, axes = axes_or_new(
        ax, nrows, ncols, squeeze=False, figsize=size_in, layout="constrained", dpi=DPI
    )
    for a in axes.flat:
        a.axis("off")
    for a, i in zip(axes.flat, picked.tolist(), strict=False):
        a.imshow(to_image(centre_crop(images[i], size)).numpy())
        values, classes = top_classes(probs[i : i + 1], 2)
        guesses = "\n".join(
            f"{k}. {class_names[j]} {p:.0%}"
            for k, (p, j) in enumerate(zip(values[0].tolist(), classes[0].tolist(), strict=True), 1)
        )
        a.set_title(f"true: {class_names[labels[i]]}\n{guesses}", fontsize=7.5)
    return fig
