"""Numbers about what layers do to real activations: LRN, dropout and the top-5 readout.

- :func:`activation_stats` and :func:`stats_table`: mean, std and share of zeros;
- :func:`lrn_divisor`: what the paper's LRN divides each activation by;
- :func:`check_dropout`: a dropout layer in training against evaluation mode;
- :func:`top_k_table` and :func:`top_k_error`: reading out the softmax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from alexnet_lab.evaluate import top_classes, topk_correct
from alexnet_lab.model import LRN_BETA, lrn_scale


@dataclass(frozen=True)
class Stats:
    """Summary of a batch of activations."""

    mean: float
    std: float
    zeros: float  # share of values that are exactly 0
    max: float


def activation_stats(x: torch.Tensor) -> Stats:
    """Mean, standard deviation, share of exact zeros and maximum of all values in ``x``."""
    x = x.double()
    return Stats(x.mean().item(), x.std().item(), (x == 0).double().mean().item(), x.max().item())


def stats_table(acts: dict[str, torch.Tensor]) -> str:
    """A text table of :func:`activation_stats` for each named tensor (e.g. from
    :func:`alexnet_lab.activations.activations`)."""
    width = max(8, *(len(name) + 2 for name in acts))
    lines = [f"{'':<{width}}{'shape':>14}{'mean':>10}{'std':>10}{'max':>10}{'zeros':>8}"]
    for name, x in acts.items():
        s = activation_stats(x)
        shape = "x".join(map(str, x.shape[1:]))
        lines.append(
            f"{name:<{width}}{shape:>14}{s.mean:>10.3f}{s.std:>10.3f}{s.max:>10.3f}{s.zeros:>8.1%}"
        )
    return "\n".join(lines)


def lrn_divisor(a: torch.Tensor) -> torch.Tensor:
    """The paper's LRN denominator (k + alpha * sum of a_j^2 over n neighbouring maps)^beta.

    :class:`alexnet_lab.model.LocalResponseNorm` computes ``a / lrn_divisor(a)``.

    Shape: (N, C, H, W) -> (N, C, H, W).
    """
    return lrn_scale(a)[0].pow(LRN_BETA)


def train_mode_outputs(module: nn.Module, x: torch.Tensor, trials: int) -> torch.Tensor:
    """``trials`` outputs of ``module`` in training mode (fresh dropout masks each time).

    The module's mode is restored afterwards. Shape: x (...) -> (trials, *output shape).
    """
    was_training = module.training
    module.train()
    try:
        with torch.no_grad():
            return torch.stack([module(x) for _ in range(trials)])
    finally:
        module.train(was_training)


@dataclass(frozen=True)
class DropoutCheck:
    """A dropout layer run ``trials`` times in training mode against once in eval mode."""

    p: float
    dropped: float  # share of nonzero units set to 0 in training mode, over all trials
    kept_scale: float  # what kept units are multiplied by (inverted dropout: 1 / (1 - p))
    mean_gap: float  # mean |mean of training outputs - eval output| / mean |eval output|
    eval_changes_input: bool  # whether eval mode changes anything at all
    samples: torch.Tensor = field(repr=False)  # (trials, *x.shape) training-mode outputs
    eval_output: torch.Tensor = field(repr=False)  # x.shape

    def __str__(self) -> str:
        return (
            f"p = {self.p}: training mode zeroes {self.dropped:.1%} of the nonzero units and "
            f"multiplies the rest by {self.kept_scale:.3f}\n"
            f"eval mode changes the input: {self.eval_changes_input}\n"
            f"mean of {len(self.samples)} training-mode outputs vs eval output: they differ by "
            f"{self.mean_gap:.1%} on average"
        )


def check_dropout(drop: nn.Dropout, x: torch.Tensor, trials: int) -> DropoutCheck:
    """Run ``drop`` on ``x`` in training mode ``trials`` times and once in eval mode.

    Units that are already 0 in ``x`` (after a ReLU, about half) cannot show whether they
    were dropped, so ``dropped`` and ``kept_scale`` count only the nonzero ones.
    """
    samples = train_mode_outputs(drop, x, trials)
    was_training = drop.training
    drop.eval()
    with torch.no_grad():
        eval_output = drop(x)
    drop.train(was_training)
    active = (x != 0).expand_as(samples)
    kept = (samples != 0) & active
    ratio = samples[kept] / x.expand_as(samples)[kept]
    gap = (samples.mean(0) - eval_output).abs().mean() / eval_output.abs().mean()
    return DropoutCheck(
        p=drop.p,
        dropped=1 - kept.sum().item() / active.sum().item(),
        kept_scale=ratio.mean().item(),
        mean_gap=gap.item(),
        eval_changes_input=not torch.equal(eval_output, x),
        samples=samples,
        eval_output=eval_output,
    )


def top_k_error(logits: torch.Tensor, labels: torch.Tensor, k: int = 5) -> float:
    """Share of images whose label is not among the ``k`` highest scores.

    Shape: logits (N, C), labels (N,).
    """
    return 1 - topk_correct(logits, labels, (k,))[0].item() / len(labels)


def top_k_table(
    logits: torch.Tensor, labels: torch.Tensor, class_names: Sequence[str], k: int = 5
) -> str:
    """One line per image: its true class, then the ``k`` most probable classes by softmax.

    A ``*`` marks the true class where it is among the ``k``. Shape: logits (N, C),
    labels (N,).
    """
    probs = logits.softmax(dim=1)
    values, classes = top_classes(probs, k)
    width = max(len(n) for n in class_names)
    lines = []
    for i, label in enumerate(labels.tolist()):
        guesses = [
            f"{'*' if j == label else ''}{class_names[j]} {p:.0%}"
            for p, j in zip(values[i].tolist(), classes[i].tolist(), strict=True)
        ]
        hit = f"top-{k} " + ("hit " if label in classes[i].tolist() else "miss")
        lines.append(f"{class_names[label]:<{width}}  {hit}  " + ", ".join(guesses))
    return "\n".join(lines)


def paper_pixel_scale(images: torch.Tensor, stats: dict[str, torch.Tensor]) -> torch.Tensor:
    """Normalized images on the paper's input scale: centred raw RGB values (0..255 range).

    The paper subtracts the mean image and feeds pixel values otherwise unscaled; this
    undoes the division by the per-channel std and multiplies by 255. (The paper subtracts
    a per-pixel mean image; here the mean is per channel.)

    Shape: (N, 3, H, W) -> (N, 3, H, W).
    """
    return images * stats["std"].to(images).view(1, 3, 1, 1) * 255
