"""Does the two-device AlexNet compute what the grouped one-device AlexNet computes?

:func:`split_equivalence` runs one batch through both, with the same weights, and compares
the logits, the loss and every layer's weight gradient (the split model's halves put back
together in the grouped model's order, as :func:`alexnet_lab.split.to_grouped` does).
"""

from __future__ import annotations

import torch
from torch import nn

from alexnet_lab.analysis.tables import DisplayTable
from alexnet_lab.model import AlexNet
from alexnet_lab.split import WEIGHTED, TwoDeviceAlexNet, named_layers


def split_equivalence(
    grouped: AlexNet, split: TwoDeviceAlexNet, images: torch.Tensor, labels: torch.Tensor
) -> DisplayTable:
    """The largest difference between the two models' logits and weight gradients on one
    batch, each relative to the largest value it compares (0 where they agree exactly).

    Both models should hold the same weights (``split = to_two_devices(grouped, ...)``) and
    be in eval mode (dropout draws its own masks in each). Gradients are left in both.

    Args:
        grouped: a two-column AlexNet on one device.
        split: the same weights on two devices.
        images: (N, 3, H, W) on ``grouped``'s device.
        labels: (N,) class indices.
    """
    grouped.zero_grad(set_to_none=True)
    split.zero_grad(set_to_none=True)
    out_g, out_s = grouped(images), split(images.to(split.devices[0]))
    loss_g = nn.functional.cross_entropy(out_g, labels.to(out_g.device))
    loss_s = nn.functional.cross_entropy(out_s, labels.to(out_s.device))
    loss_g.backward()
    loss_s.backward()

    def relative(a: torch.Tensor, b: torch.Tensor) -> float:
        b = b.detach().cpu()
        return ((a.detach().cpu() - b).abs().max() / b.abs().max()).item()

    rows = [("logits", "x".join(map(str, out_g.shape)), f"{relative(out_s, out_g):.1e}"),
            ("loss", "", f"{relative(loss_s, loss_g):.1e}")]  # fmt: skip
    grouped_layers = named_layers(grouped)
    for name in WEIGHTED:
        want = grouped_layers[name].weight.grad
        got = torch.cat([getattr(c, name).weight.grad.cpu() for c in split.columns])
        rows.append((f"{name} weight gradient", "x".join(map(str, want.shape)),
                     f"{relative(got, want):.1e}"))  # fmt: skip
    dtype = str(images.dtype).removeprefix("torch.")
    return DisplayTable(
        columns=("compared", "shape", "largest difference (relative)"),
        rows=tuple(rows),
        notes=(
            f"One batch of {len(images)} images in {dtype}; split model on "
            f"{', '.join(map(str, split.devices))}.",
        ),  # fmt: skip
        align="llr",
    )
