"""The two columns: which input maps each kernel reads, how much of a kernel is colour, and
whether one column of conv1 is more colourful than the other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from alexnet_lab.analysis.tables import DisplayTable


def colour_share(weight: torch.Tensor) -> torch.Tensor:
    """Share of each RGB kernel's squared norm that is colour rather than brightness.

    A kernel splits into its grey part (the mean of its three channels, the same in R, G
    and B) and the rest; this is ``|rest|^2 / |kernel|^2``: 0 for a kernel that only sees
    brightness (colour-agnostic), 1 for one whose channels cancel out, 2/3 on average for
    random kernels with independent channels.

    Shape: (C_out, 3, k, k) -> (C_out,).
    """
    w = weight.detach().double()
    colour = w - w.mean(dim=1, keepdim=True)
    return (colour.square().sum((1, 2, 3)) / w.square().sum((1, 2, 3))).float()


def connectivity(conv: nn.Conv2d) -> torch.Tensor:
    """Sum of |weights| from each input channel to each output channel.

    A grouped convolution has no weights between groups; they are zeros here.
    Shape: (out_channels, in_channels).
    """
    g = conv.groups
    out_per, in_per = conv.out_channels // g, conv.in_channels // g
    strength = conv.weight.detach().abs().sum(dim=(2, 3))  # (out, in / groups)
    full = torch.zeros(conv.out_channels, conv.in_channels)
    for i in range(g):
        rows, cols = slice(i * out_per, (i + 1) * out_per), slice(i * in_per, (i + 1) * in_per)
        full[rows, cols] = strength[rows]
    return full


@dataclass(frozen=True)
class ColourGap:
    """How differently colourful the two halves of a conv1 are (:func:`colour_gap`).

    Attributes:
        first, second: mean colour share of kernels 0..n/2-1 and n/2..n-1 (in a two-column
            net: the kernels that feed column 1 and column 2).
        gap: ``|first - second|``.
        p: share of random splits of the kernels into two equal halves whose gap is at least
            as large (a one-sided permutation test; the smallest possible value is
            ``1 / (permutations + 1)``).
    """

    first: float
    second: float
    gap: float
    p: float


def colour_gap(
    shares: Sequence[float] | torch.Tensor, permutations: int = 10_000, seed: int = 0
) -> ColourGap:
    """Do the two halves of conv1 differ in colour more than a random split of its kernels?

    The paper (section 6.1) says the kernels of one GPU come out "largely color-agnostic"
    and those of the other "largely color-specific", in every run. If so, the gap between
    the halves' mean :func:`colour_share` is far larger than the gaps of random halves.

    Args:
        shares: the colour share of each conv1 kernel, in kernel order. Shape: (C_out,),
            C_out even.
        permutations: random splits to compare with.
        seed: seeds the random splits.
    """
    x = torch.as_tensor(shares, dtype=torch.float64)
    n = len(x)
    if n % 2:
        raise ValueError(f"shares: {n} kernels do not split into two equal halves")
    first, second = x[: n // 2].mean().item(), x[n // 2 :].mean().item()
    gap = abs(first - second)
    gen = torch.Generator().manual_seed(seed)
    order = torch.argsort(torch.rand(permutations, n, generator=gen), dim=1)
    halves = x[order].view(permutations, 2, n // 2).mean(-1)
    random_gaps = (halves[:, 0] - halves[:, 1]).abs()
    p = ((random_gaps >= gap - 1e-12).sum().item() + 1) / (permutations + 1)
    return ColourGap(first, second, gap, p)


def _run_gaps(runs: list[dict], permutations: int) -> list[ColourGap | None]:
    """:func:`colour_gap` of each run (seeded with its seed), None for a run that diverged."""
    return [None if "diverged" in r else
            colour_gap(r["measures"]["colour_share"], permutations, seed=r["seed"])
            for r in runs]  # fmt: skip


def _summary(runs: list[dict], gaps: list[ColourGap | None], alpha: float) -> dict[str, dict]:
    by_label: dict[str, list[ColourGap]] = {}
    for run, g in zip(runs, gaps, strict=True):
        if g is not None:
            by_label.setdefault(run["label"], []).append(g)
    summary = {}
    for label, found in by_label.items():
        values = torch.tensor([g.gap for g in found], dtype=torch.float64)
        summary[label] = {
            "seeds": len(found),
            "gap": values.mean().item(),
            "gap_std": values.std().item() if len(found) > 1 else float("nan"),
            "min_p": min(g.p for g in found),
            "significant": sum(g.p < alpha for g in found),
        }
    return summary


def colour_summary(
    runs: list[dict], permutations: int = 10_000, alpha: float = 0.05
) -> dict[str, dict]:
    """The "colour" study per variant: {label: {"seeds", "gap" (mean over seeds), "gap_std"
    (nan for one seed), "min_p", "significant" (runs whose p < ``alpha``)}}, from each
    finished run's :func:`colour_gap` (``runs`` as in :func:`colour_table`)."""
    return _summary(runs, _run_gaps(runs, permutations), alpha)


def colour_table(runs: list[dict], permutations: int = 10_000) -> DisplayTable:
    """The "colour" study's results (``run_experiment``'s "runs", each with the colour share
    of its conv1 kernels as ``measures["colour_share"]``) as a table: one row per run with
    its :func:`colour_gap`, and under it the gap's mean and std over each variant's seeds
    (:func:`colour_summary`)."""
    gaps = _run_gaps(runs, permutations)
    rows = []
    for run, g in zip(runs, gaps, strict=True):
        if g is None:
            rows.append((run["label"], run["seed"], "diverged", "", "", "", ""))
            continue
        rows.append((run["label"], run["seed"], f"{g.first:.3f}", f"{g.second:.3f}",
                     f"{g.gap:.3f}", f"{g.p:.3g}", f"{run['final']['val_top1']:.1f}%"))  # fmt: skip
    spread = [
        f"{label}: gap {s['gap']:.3f}"
        + (f" ± {s['gap_std']:.3f} (std over {s['seeds']} seeds)" if s["seeds"] > 1 else "")
        for label, s in _summary(runs, gaps, 0.05).items()
    ]
    return DisplayTable(
        columns=("run", "seed", "kernels 1-48", "kernels 49-96", "gap", "p", "val top-1"),
        rows=tuple(rows),
        notes=(
            "Mean colour share of each half of conv1 (0: grey kernels, 1: no brightness at "
            "all). In a two-column net kernels 1-48 feed column 1 and 49-96 column 2; in a "
            "one-column net the halves are arbitrary. p: share of random halves of the same "
            f"kernels ({permutations:,} splits) with a gap at least as large.",
            *spread,
        ),
        align="lrrrrrr",
    )


def sort_halves(weight: torch.Tensor, shares: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """conv1's kernels with each half sorted by colour share, greyest first (for drawing
    the two columns side by side, as the paper's Figure 3 shows them).

    Shape: (C_out, 3, k, k) and (C_out,) -> (C_out, 3, k, k).
    """
    s = torch.as_tensor(shares, dtype=torch.float64)
    half = len(s) // 2
    order = torch.cat([torch.argsort(s[:half]), half + torch.argsort(s[half:])])
    return weight.detach()[order]
