"""The look every figure shares, and the one way to turn a tensor into an image."""

from __future__ import annotations

import torch


def to_display(image: torch.Tensor, stats: dict[str, torch.Tensor]) -> torch.Tensor:
    """Undo the normalization for plotting: (3, H, W) -> (H, W, 3) in [0, 1]."""
    mean, std = stats["mean"].view(3, 1, 1), stats["std"].view(3, 1, 1)
    return (image.detach().cpu() * std + mean).clamp(0, 1).permute(1, 2, 0)
