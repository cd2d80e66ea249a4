"""Figures for the ReLU chapter: the three activations and the gradient that reaches each layer."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from alexnet_lab.analysis.activation_functions import ACTIVATIONS
from alexnet_lab.viz.style import ACTIVATION_COLOURS, GREY, AxesArg, axes_or_new, finish


def plot_saturation(span: float = 6.0, ax: AxesArg = None) -> Figure:
    """ReLU, tanh and sigmoid (left) and their derivatives (right) on [-span, span].

    ``ax``: two Axes to draw on, functions then derivatives (None: a new figure).
    """
    z = torch.linspace(-span, span, 601, requires_grad=True)
    new = ax is None
    fig, (ax_f, ax_d) = axes_or_new(ax, 1, 2, figsize=(10, 3.4))
    for name, act in ACTIVATIONS.items():
        y = act()(z)
        (slope,) = torch.autograd.grad(y.sum(), z)
        colour = ACTIVATION_COLOURS.get(name)
        ax_f.plot(z.detach().numpy(), y.detach().numpy(), color=colour, label=name)
        ax_d.plot(z.detach().numpy(), slope.numpy(), color=colour, label=name)
    ax_f.set(title="f(z)", xlabel="z (input to the nonlinearity)", ylim=(-1.5, 4))
    ax_d.set(title="f'(z): the factor the gradient is multiplied by", xlabel="z")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color=GREY, lw=0.5)
        ax.axvline(0, color=GREY, lw=0.5)
        ax.legend()
    return finish(fig, new)


def plot_gradient_by_depth(
    gradients: dict[str, dict[str, float]], title: str = "", ax: AxesArg = None
) -> Figure:
    """One line per activation: gradient RMS per layer (log scale), from
    :func:`alexnet_lab.analysis.activation_functions.gradient_by_depth`.

    ``gradients`` maps an activation name to what ``gradient_by_depth`` returned for it.
    ``ax``: one Axes to draw on (None: a new figure).
    """
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(5.5, 3.6))
    for name, grads in gradients.items():
        ax.semilogy(list(grads), list(grads.values()), marker="o", label=name,
                    color=ACTIVATION_COLOURS.get(name))  # fmt: skip
    ax.set(title=title, ylabel="RMS of d loss / d layer output", xlabel="layer (input side left)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return finish(fig, new)
