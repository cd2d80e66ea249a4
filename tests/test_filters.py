"""The smoothness statistic of first-layer kernels (alexnet_lab/analysis/filters.py)."""

from __future__ import annotations

import math

import pytest
import torch

from alexnet_lab.analysis.filters import high_frequency_share, smoothness_table, white_noise_share


def gabor(k: int = 11, wavelength: float = 8.0, sigma: float = 2.5, angle: float = 0.6):
    """A smooth oriented grating under a Gaussian, in all three colours: (1, 3, k, k)."""
    r = torch.arange(k, dtype=torch.float64) - k // 2
    y, x = torch.meshgrid(r, r, indexing="ij")
    along = x * math.cos(angle) + y * math.sin(angle)
    g = torch.exp(-(x**2 + y**2) / (2 * sigma**2)) * torch.cos(2 * math.pi * along / wavelength)
    return g.expand(1, 3, k, k).float()


def test_white_noise_scores_the_share_of_bins_above_the_cutoff():
    assert white_noise_share(11, 0.25) == pytest.approx(100 / 121)  # 21 of 121 bins within 0.25
    noise = torch.randn(4000, 3, 11, 11, generator=torch.Generator().manual_seed(0))
    share = high_frequency_share(noise)
    assert share.shape == (4000,)
    assert share.mean().item() == pytest.approx(100 / 121, abs=0.005)  # "about 0.8"


def test_smooth_kernels_score_low_and_a_checkerboard_scores_one():
    gaussian = torch.exp(-((torch.arange(11.0) - 5) ** 2) / 8)
    blob = (gaussian[:, None] * gaussian[None, :]).expand(1, 3, 11, 11)
    assert high_frequency_share(blob).item() < 0.01
    assert high_frequency_share(gabor()).item() < 0.05
    checker = (torch.arange(10)[:, None] + torch.arange(10)[None, :]) % 2 * 2.0 - 1
    assert high_frequency_share(checker.expand(1, 3, 10, 10)).item() == pytest.approx(1.0)


def test_the_statistic_does_not_depend_on_the_kernels_scale_or_sign():
    w = torch.cat([gabor(), torch.randn(5, 3, 11, 11)])
    for factor in (1e-3, 7.5, -2.0):
        torch.testing.assert_close(high_frequency_share(w * factor), high_frequency_share(w))


def test_the_statistic_sums_the_colour_channels_energy():
    # a smooth red channel with a noisy blue one of equal energy lies between the two
    smooth, noisy = gabor()[0, 0], torch.randn(11, 11, generator=torch.Generator().manual_seed(1))
    noisy = noisy / noisy.norm() * smooth.norm()
    w = torch.stack([smooth, torch.zeros(11, 11), noisy])[None]
    alone = [high_frequency_share(c.expand(1, 3, 11, 11)).item() for c in (smooth, noisy)]
    assert high_frequency_share(w).item() == pytest.approx(sum(alone) / 2, abs=1e-5)


def test_the_table_has_a_row_per_model_with_column_means_and_accuracy():
    w = torch.cat([gabor().expand(48, 3, 11, 11), torch.randn(48, 3, 11, 11)])
    table = smoothness_table(
        {"mixed": w, "noise": torch.randn(96, 3, 11, 11)}, val_top1={"mixed": 81.25}
    )
    assert table.columns == ("model", "high-frequency share", "column 1", "column 2", "val top-1")
    mixed, noise = table.rows
    share = high_frequency_share(w)
    assert mixed == ("mixed", f"{share.mean():.2f}", f"{share[:48].mean():.2f}",
                     f"{share[48:].mean():.2f}", "81.2%")  # fmt: skip
    assert float(mixed[2]) < 0.05 < 0.7 < float(mixed[3])
    assert noise[-1] == ""
    assert "white noise: 0.83" in table.notes[0]
    assert smoothness_table({"one": w}, columns=1).columns == (
        "model",
        "high-frequency share",
        "val top-1",
    )
