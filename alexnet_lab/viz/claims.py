"""Figures for the chapter that checks the paper's claims: drawing only.

The numbers come from :mod:`alexnet_lab.experiments.paper` (which uses
:mod:`alexnet_lab.experiments.summary`); viz does not import the experiments, so each
function takes what they computed:

- :func:`plot_error_curves`: error against epochs, a mean line and a ±std band per variant,
  as the paper's Figure 1 (from :func:`~alexnet_lab.experiments.paper.error_curves`);
- :func:`plot_sweep`: what each swept value scored, per variant (a results JSON's "sweep");
- :func:`plot_deltas`: our change beside the paper's, per trick
  (:class:`~alexnet_lab.experiments.paper.Checked` rows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from alexnet_lab.viz.style import (
    ACTIVATION_COLOURS,
    COLOURS,
    DARK_GREY,
    GREY,
    LIGHT_GREY,
    AxesArg,
    axes_or_new,
    finish,
)

Band = tuple[np.ndarray, np.ndarray, np.ndarray]  # epochs (E,), mean (E,), std (E,)


def _colour(label: str, i: int) -> str:
    """The activation's colour for "ReLU" and "tanh", else the i-th of the cycle."""
    return ACTIVATION_COLOURS.get(label.lower(), COLOURS[i % len(COLOURS)])


def plot_error_curves(
    curves: Mapping[str, Band],
    target: float | None = 25.0,
    ylabel: str = "training error (%)",
    title: str = "",
    ax: AxesArg = None,
) -> Figure:
    """Error against epochs in the style of the paper's Figure 1.

    Args:
        curves: {variant: (epochs (E,), mean (E,), std (E,))} over the seeds, e.g.
            ``error_curves(results["runs"])``; one line and one band (mean ± std) each.
        target: a dotted horizontal line at this error (Figure 1: 25%); None for none.
            As in Figure 1, a variant labelled "tanh" is drawn dashed, the others solid.
        ax: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(5.5, 3.8))
    for i, (label, (epochs, mean, std)) in enumerate(curves.items()):
        colour = _colour(label, i)
        dashed = label.lower() == "tanh"  # the paper's Figure 1: ReLU solid, tanh dashed
        ax.plot(epochs, mean, color=colour, linestyle="--" if dashed else "-",
                marker="o" if len(epochs) < 12 else None, label=label)  # fmt: skip
        ax.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.2, linewidth=0)
    if target is not None:
        ax.axhline(target, color=GREY, linestyle=":", linewidth=1, label=f"{target:g}%")
    ax.set(xlabel="epochs", ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return finish(fig, new, title)


def plot_sweep(sweep: Mapping, ylabel: str = "", title: str = "", ax: AxesArg = None) -> Figure:
    """Each swept value's score (lower is better) per variant, on a log x axis.

    Args:
        sweep: a results JSON's "sweep": {"over", "score", "runs" (each with "label",
            "value" and "score", None if it diverged), "chosen": {label: value}}. The chosen
            value gets a ring; diverged values an x at the top of the axes.
        ylabel: what the score is (default: the score function's name).
        ax: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(5.5, 3.8))
    variants = list(dict.fromkeys(r["label"] for r in sweep["runs"]))
    for i, label in enumerate(variants):
        colour = _colour(label, i)
        runs = [r for r in sweep["runs"] if r["label"] == label]
        done = [r for r in runs if r["score"] is not None]
        ax.plot([r["value"] for r in done], [r["score"] for r in done], color=colour,
                marker="o", label=label)  # fmt: skip
        chosen = [r for r in done if r["value"] == sweep["chosen"].get(label)]
        ax.scatter([r["value"] for r in chosen], [r["score"] for r in chosen], s=160,
                   facecolors="none", edgecolors=colour, linewidths=1.5)  # fmt: skip
        diverged = [r["value"] for r in runs if r["score"] is None]
        if diverged:
            ax.scatter(diverged, [0.97] * len(diverged), marker="x", color=colour,
                       transform=ax.get_xaxis_transform(), clip_on=False)  # fmt: skip
    ax.set_xscale("log")
    ax.set(xlabel=sweep["over"], ylabel=f"{ylabel or sweep['score']} (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title="ring: chosen; x: diverged", title_fontsize=8)
    return finish(fig, new, title)


class Delta(Protocol):
    """A row :func:`plot_deltas` draws (as :class:`~alexnet_lab.experiments.paper.Checked`)."""

    @property
    def label(self) -> str: ...

    @property
    def paper(self) -> float | None: ...

    @property
    def ours(self) -> float: ...

    @property
    def std(self) -> float: ...


def plot_deltas(
    rows: Sequence[Delta],
    xlabel: str = "error saved (points): without the trick minus with it",
    title: str = "",
    ax: AxesArg = None,
) -> Figure:
    """Our change (mean, ±std error bar) beside the paper's, one pair of bars per row.

    Args:
        rows: each with ``label``, ``ours`` and ``std`` (nan where not measured: no bar, the
            row says so) and ``paper`` (None where the paper gives no number: no bar).
        ax: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(7, 0.55 * len(rows) + 1.2))
    y = np.arange(len(rows), dtype=float)
    ours = [i for i, r in enumerate(rows) if not math.isnan(r.ours)]
    paper = [i for i, r in enumerate(rows) if r.paper is not None]
    ax.barh(y[ours] - 0.2, [rows[i].ours for i in ours], height=0.38, color=COLOURS[1],
            xerr=[0.0 if math.isnan(rows[i].std) else rows[i].std for i in ours],
            error_kw={"ecolor": DARK_GREY, "capsize": 3}, label="ours")  # fmt: skip
    ax.barh(y[paper] + 0.2, [rows[i].paper for i in paper], height=0.38, color=LIGHT_GREY,
            edgecolor=GREY, label="paper")  # fmt: skip
    for i, r in enumerate(rows):
        if math.isnan(r.ours):
            ax.text(0, y[i] - 0.2, " not measured", va="center", fontsize=8, color=GREY)
    ax.axvline(0, color=DARK_GREY, linewidth=0.8)
    ax.set_yticks(y, [r.label for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # the first row on top
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8)
    return finish(fig, new, title)
