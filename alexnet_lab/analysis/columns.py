"""The two columns: which input maps each kernel reads, and how much of a kernel is colour."""

from __future__ import annotations

import torch
from torch import nn


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
