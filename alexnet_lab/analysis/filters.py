"""How smooth first-layer kernels are: the share of their spectral energy at high frequencies.

:func:`high_frequency_share` measures one number per kernel: about 0.83 for 11x11 white noise
(:func:`white_noise_share`), near 0 for a smooth blob or a broad edge. :func:`smoothness_table`
compares the mean of several models' ``conv1`` kernels.
"""

from __future__ import annotations

import torch

from alexnet_lab.analysis.tables import DisplayTable


def _radial_frequency(height: int, width: int) -> torch.Tensor:
    """Radial frequency (cycles per pixel) of each bin of an ``height`` x ``width`` FFT2."""
    fy = torch.fft.fftfreq(height, dtype=torch.float64)
    fx = torch.fft.fftfreq(width, dtype=torch.float64)
    return (fy[:, None].square() + fx[None, :].square()).sqrt()


def high_frequency_share(weight: torch.Tensor, cutoff: float = 0.25) -> torch.Tensor:
    """Share of each kernel's spectral energy at radial frequencies above ``cutoff``.

    The energy is |FFT2|^2 of each channel, summed over the channels; frequencies are in
    cycles per pixel (0 to 0.5 along each axis, so up to 0.71 on the diagonal). Smooth
    kernels (blobs, broad edges, coarse gratings) keep their energy at low frequencies and
    score near 0; white noise spreads it evenly over the bins and scores the share of bins
    above the cutoff (:func:`white_noise_share`, 0.83 for 11x11). Multiplying a kernel by a
    number does not change its share. An all-zero kernel gives NaN.

    Shape: (N, C, k, k) -> (N,) float32.
    """
    w = weight.detach().double()
    power = torch.fft.fft2(w).abs().square().sum(1)  # (N, k, k)
    high = _radial_frequency(*w.shape[-2:]) > cutoff
    return (power[:, high].sum(1) / power.sum((1, 2))).float()


def white_noise_share(size: int = 11, cutoff: float = 0.25) -> float:
    """The :func:`high_frequency_share` that white noise has on average: the share of the
    ``size`` x ``size`` frequency bins above ``cutoff`` (every bin gets the same energy)."""
    return (_radial_frequency(size, size) > cutoff).double().mean().item()


def smoothness_table(
    weights: dict[str, torch.Tensor],
    cutoff: float = 0.25,
    val_top1: dict[str, float] | None = None,
    columns: int = 2,
) -> DisplayTable:
    """One row per model: the mean :func:`high_frequency_share` of its kernels, overall and
    per column, and its validation top-1 where ``val_top1`` gives it.

    Args:
        weights: {name: first-layer weight (N, 3, k, k)}, e.g. ``model.features.conv1.weight``.
        val_top1: {name: top-1 accuracy in %}; models missing from it show "".
        columns: the kernels split into this many equal columns (AlexNet: 2, kernels 0-47
            and 48-95); 1 shows the overall mean only.
    """
    val_top1 = val_top1 or {}
    heads = [f"column {c + 1}" for c in range(columns)] if columns > 1 else []
    rows = []
    for name, w in weights.items():
        share = high_frequency_share(w, cutoff)
        parts = share.chunk(columns) if columns > 1 else ()
        top1 = f"{val_top1[name]:.1f}%" if name in val_top1 else ""
        rows.append((name, f"{share.mean():.2f}", *(f"{p.mean():.2f}" for p in parts), top1))
    size = next(iter(weights.values())).shape[-1] if weights else 11
    return DisplayTable(
        columns=("model", "high-frequency share", *heads, "val top-1"),
        rows=tuple(rows),
        notes=(
            f"Share of the kernels' spectral energy above {cutoff} cycles/pixel, mean over "
            f"the kernels; white noise: {white_noise_share(size, cutoff):.2f}, smooth: near 0.",
        ),
        align="l" + "r" * (len(heads) + 2),
    )


def conv1_smoothness(
    weight: torch.Tensor, initial: torch.Tensor, columns: int = 2, cutoff: float = 0.25
) -> dict[str, float]:
    """The numbers the "filters" study records for one trained ``conv1``.

    Args:
        weight: the trained kernels (N, 3, k, k).
        initial: the same kernels before training (N, 3, k, k).
        columns: the kernels split into this many equal columns (AlexNet: 2).

    Returns:
        {"high_frequency_share": mean over the kernels, "column_1", "column_2", ...: the mean
        per column, "change_share": the share of trained minus initial, "cosine_with_initial":
        the cosine similarity of the trained and the initial kernels (1: unchanged)}.
    """
    share = high_frequency_share(weight, cutoff)
    out = {"high_frequency_share": share.mean().item()}
    if columns > 1:
        out |= {f"column_{c + 1}": p.mean().item() for c, p in enumerate(share.chunk(columns))}
    out["change_share"] = high_frequency_share(weight - initial, cutoff).mean().item()
    cosine = torch.nn.functional.cosine_similarity(weight.flatten(), initial.flatten(), dim=0)
    out["cosine_with_initial"] = cosine.item()
    return out


def study_table(runs: list[dict], columns: int = 2) -> DisplayTable:
    """The "filters" study's results (``run_experiment``'s "runs", each with the
    :func:`conv1_smoothness` numbers as "measures") as a table: one row per run."""
    heads = [f"column {c + 1}" for c in range(columns)] if columns > 1 else []
    rows = []
    for run in runs:
        if "diverged" in run:
            rows.append((run["label"], "diverged", *[""] * len(heads), "", "", ""))
            continue
        m = run["measures"]
        rows.append((
            run["label"], f"{m['high_frequency_share']:.2f}",
            *(f"{m[f'column_{c + 1}']:.2f}" for c in range(len(heads))),
            f"{m['change_share']:.2f}", f"{m['cosine_with_initial']:.2f}",
            f"{run['final']['val_top1']:.1f}%",
        ))  # fmt: skip
    return DisplayTable(
        columns=(
            "run",
            "high-frequency share",
            *heads,
            "change's share",
            "cosine with initial",
            "val top-1",
        ),  # fmt: skip
        rows=tuple(rows),
        notes=(
            "High-frequency share: of the conv1 kernels' spectral energy above 0.25 "
            f"cycles/pixel, mean over the kernels (white noise: {white_noise_share():.2f}). "
            "Change: trained minus initial kernels.",
        ),
        align="l" + "r" * (len(heads) + 4),
    )
