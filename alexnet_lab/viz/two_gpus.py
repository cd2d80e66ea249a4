"""Figures for the two-GPU chapter: the training memory against a GTX 580's 3 GiB, the bytes
that cross between the GPUs (computed by :mod:`alexnet_lab.analysis.memory` and
:mod:`alexnet_lab.analysis.wire`), the colour of each column's conv1 kernels (the "colour"
study) and data-parallel step times (:mod:`alexnet_lab.experiments.scaling`)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from matplotlib.figure import Figure

from alexnet_lab.analysis.memory import GTX580_BYTES, MIB, MemoryLedger
from alexnet_lab.analysis.wire import WireReport
from alexnet_lab.viz.style import (
    BLUE,
    COLOURS,
    DARK_GREY,
    GREEN,
    GREY,
    HIGHLIGHT,
    LIGHT_GREY,
    ORANGE,
    PURPLE,
    AxesArg,
    axes_or_new,
    finish,
)

# The parts of a ledger, bottom to top, and their colours.
_PARTS = {"weights": BLUE, "gradients": ORANGE, "momentum": GREEN, "weight copies": PURPLE,
          "activations": GREY}  # fmt: skip


def plot_memory_ledger(
    ledgers: Sequence[MemoryLedger],
    limit: int = GTX580_BYTES,
    title: str = "",
    ax: AxesArg = None,
) -> Figure:
    """One stacked bar per ledger (weights, gradients, momentum, saved activations), with a
    line at ``limit`` (a GTX 580's 3 GiB).

    Args:
        ledgers: e.g. :func:`alexnet_lab.analysis.memory.paper_ledgers`: one GTX 580, then
            each column.
        ax: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(1.6 * len(ledgers) + 3.2, 3.8))
    labels = [ledger.label for ledger in ledgers]
    bottom = [0.0] * len(ledgers)
    for part, colour in _PARTS.items():
        values = [ledger.summary()[part] / MIB for ledger in ledgers]
        if not any(values):
            continue
        ax.bar(labels, values, bottom=bottom, color=colour, label=part, width=0.6)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, total in enumerate(bottom):
        ax.annotate(f"{total:,.0f} MiB", (i, total), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 2), textcoords="offset points")  # fmt: skip
    ax.axhline(limit / MIB, color=HIGHLIGHT, lw=1.2, ls="--")
    ax.annotate(f"GTX 580: {limit / MIB:,.0f} MiB", (1, limit / MIB), color=HIGHLIGHT,
                xycoords=("axes fraction", "data"), ha="right", va="bottom",
                fontsize=8)  # fmt: skip
    first = ledgers[0]
    ax.set(ylabel="MiB", ylim=(0, max(limit / MIB, *bottom) * 1.12),
           title=title or f"Training memory, batch {first.batch_size}, {first.image_size} px, "
           f"{first.dtype}")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return finish(fig, new)


def plot_wire(
    report: WireReport,
    dtype: torch.dtype = torch.float32,
    title: str = "",
    ax: AxesArg = None,
) -> Figure:
    """Bytes per SGD step between the two devices: the paper's split (stacked by crossing),
    the logits, a naive split and data parallelism, each labelled with its time on the
    report's link (PCIe 2.0 x16).

    Args:
        report: from :func:`alexnet_lab.analysis.wire.wire_report`.
        dtype: the dtype of what is sent.
        ax: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(9, 3.2))
    b = report.batch_size
    crossing = [r for r in report.rows if r.name.endswith(" input")]
    others = [r for r in report.rows if r not in crossing and r.name != "paper split"]
    names = ["paper split", *(r.name for r in others)]
    left = 0.0
    for r, colour in zip(crossing, COLOURS, strict=False):
        width = r.step_bytes(b, dtype) / MIB
        ax.barh(0, width, left=left, color=colour, label=r.name, height=0.6)
        left += width
    totals = [left]
    for i, r in enumerate(others, start=1):
        width = r.step_bytes(b, dtype) / MIB
        ax.barh(i, width, color=LIGHT_GREY, edgecolor=DARK_GREY, height=0.6)
        totals.append(width)
    for i, (name, total) in enumerate(zip(names, totals, strict=True)):
        ms = report.seconds(name, dtype) * 1e3
        ax.annotate(f"{total:,.1f} MiB, {ms:,.1f} ms", (total, i), va="center", fontsize=8,
                    xytext=(3, 0), textcoords="offset points")  # fmt: skip
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(totals) * 1.35)
    size = str(dtype).removeprefix("torch.")
    ax.set(xlabel=f"MiB per step (batch {b}, {size}, forward + backward, both directions)",
           title=title or f"What crosses between the two GPUs (times at "
           f"{report.bandwidth / 1e9:g} GB/s per direction)")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return finish(fig, new)


def plot_colour_shares(runs: Sequence[dict], ax: AxesArg = None) -> Figure:
    """The colour share of every conv1 kernel, one strip per half of conv1 and per run, with
    each half's mean as a bar: do the halves of a two-column net differ more than those of a
    one-column net?

    Args:
        runs: the "colour" study's runs (``run_experiment``'s "runs", with
            ``measures["colour_share"]``); runs that diverged are left out.
        ax: one Axes to draw on (None: a new figure).
    """
    runs = [r for r in runs if "measures" in r]
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(1.1 * len(runs) + 2.5, 3.4))
    rng = torch.Generator().manual_seed(0)
    for i, run in enumerate(runs):
        s = torch.tensor(run["measures"]["colour_share"])
        half = len(s) // 2
        for j, (part, colour) in enumerate(((s[:half], BLUE), (s[half:], ORANGE))):
            x = i + (j - 0.5) * 0.36
            jitter = (torch.rand(len(part), generator=rng) - 0.5) * 0.22
            ax.scatter(x + jitter, part, s=6, color=colour, alpha=0.6, lw=0,
                       label=("kernels 1-48", "kernels 49-96")[j] if i == 0 else None)  # fmt: skip
            ax.hlines(part.mean(), x - 0.15, x + 0.15, color=DARK_GREY, lw=2)
    ax.set_xticks(range(len(runs)), [f"{r['label']}\nseed {r['seed']}" for r in runs], fontsize=8)
    ax.set(ylabel="colour share of a kernel", ylim=(0, 1),
           title="conv1: colour share per kernel, by half (bar: the half's mean)")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), markerscale=2)
    return finish(fig, new)


def plot_scaling(rows: Sequence[dict], ax: AxesArg = None) -> Figure:
    """Seconds per SGD step of one global batch against the number of data-parallel
    processes, each bar labelled with what every process all-reduces per step.

    Args:
        rows: the "rows" of :func:`alexnet_lab.experiments.scaling.data_parallel_scaling`'s
            results.
        ax: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(5.5, 3.2))
    names = [f"{r['processes']} x {r['threads']} thread{'s' if r['threads'] > 1 else ''}"
             for r in rows]  # fmt: skip
    seconds = [r["step_seconds"] for r in rows]
    ax.bar(names, seconds, color=BLUE, width=0.6)
    for i, r in enumerate(rows):
        ax.annotate(f"{r['step_seconds']:.2f} s\nsends {r['ring_bytes'] / MIB:,.0f} MiB",
                    (i, r["step_seconds"]), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 2), textcoords="offset points")  # fmt: skip
    ax.set(
        xlabel="processes x threads each",
        ylabel="seconds per step",
        ylim=(0, max(seconds) * 1.35),
        title="Data parallelism: one batch, split over processes",
    )
    return finish(fig, new)
