"""Figures for the ReLU chapter: the three activations and the gradient that reaches each layer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from alexnet_lab.analysis.activation_functions import ACTIVATIONS


def plot_saturation(span: float = 6.0) -> Figure:
    """ReLU, tanh and sigmoid (left) and their derivatives (right) on [-span, span]."""
    z = torch.linspace(-span, span, 601, requires_grad=True)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(10, 3.4))
    for name, act in ACTIVATIONS.items():
        y = act()(z)
        (slope,) = torch.autograd.grad(y.sum(), z)
        ax_f.plot(z.detach(), y.detach(), label=name)
        ax_d.plot(z.detach(), slope, label=name)
    ax_f.set(title="f(z)", xlabel="z (input to the nonlinearity)", ylim=(-1.5, 4))
    ax_d.set(title="f'(z): the factor the gradient is multiplied by", xlabel="z")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_gradient_by_depth(
    gradients: dict[str, dict[str, float]], title: str = "", ax: plt.Axes | None = None
) -> Figure:
    """One line per activation: gradient RMS per layer (log scale), from :func:`gradient_by_depth`.

    ``gradients`` maps an activation name to what :func:`gradient_by_depth` returned for it.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, grads in gradients.items():
        ax.semilogy(list(grads), list(grads.values()), marker="o", label=name)
    ax.set(title=title, ylabel="RMS of d loss / d layer output", xlabel="layer (input side left)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure
