"""ReLU against tanh and sigmoid: where they saturate, and how much gradient gets through.

:func:`plot_saturation` draws the three functions and their slopes;
:func:`alexnet_with_activation` builds the library's :class:`AlexNet` with one of them;
:func:`gradient_by_depth` measures, with one backward pass on real images, how much of the
loss gradient reaches each layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alexnet_lab.analysis.hooks import layer_by_name
from alexnet_lab.model import AlexNet

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
WEIGHT_LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")


def alexnet_with_activation(
    activation: str, num_classes: int = 10, init: str = "paper", seed: int = 0
) -> AlexNet:
    """A seeded :class:`AlexNet` whose nonlinearities are ``activation``.

    "relu" and "tanh" are :class:`AlexNet`'s own ``activation`` option; "sigmoid" is the
    ReLU net with every ``act*`` layer replaced by :class:`torch.nn.Sigmoid`. The same seed
    gives the same weights for all three.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")
    torch.manual_seed(seed)
    model = AlexNet(num_classes, activation="tanh" if activation == "tanh" else "relu", init=init)
    if activation == "sigmoid":
        for stage in (model.features, model.classifier):
            for name, _ in list(stage.named_children()):
                if name.startswith("act"):
                    setattr(stage, name, nn.Sigmoid())
    return model


def gradient_by_depth(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    layers: tuple[str, ...] = WEIGHT_LAYERS,
) -> dict[str, float]:
    """How much loss gradient reaches each layer, from one forward and backward pass.

    Args:
        model: a model with leaf modules named as in ``layers`` (its mode is left as it is;
            use eval mode to keep dropout out of the measurement).
        images: (N, 3, H, W).
        labels: (N,) class indices.
        layers: names of the layers whose outputs are measured, input side first.

    Returns: {layer: root mean square of d(cross-entropy) / d(layer output)}, the
    gradient signal that the layer's weights learn from. Parameter gradients of the
    model are left as the backward pass wrote them.
    """
    modules = {name: layer_by_name(model, name) for name in layers}
    outputs: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def keep(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            output.retain_grad()
            outputs[name] = output

        return keep

    handles = [modules[name].register_forward_hook(hook(name)) for name in layers]
    try:
        F.cross_entropy(model(images), labels).backward()
    finally:
        for h in handles:
            h.remove()
    return {name: outputs[name].grad.pow(2).mean().sqrt().item() for name in layers}


def gradient_table(gradients: dict[str, dict[str, float]]) -> str:
    """A text table of :func:`gradient_by_depth` results, one row per activation.

    The last column is how many times smaller the gradient at the first layer is than at
    the last.
    """
    layers = list(next(iter(gradients.values())))
    lines = ["".join([f"{'':<9}", *(f"{n:>9}" for n in layers), f"{'last/first':>12}"])]
    for name, grads in gradients.items():
        values = [grads[n] for n in layers]
        cells = "".join(f"{v:>9.1e}" for v in values)
        lines.append(f"{name:<9}{cells}{values[-1] / values[0]:>12.1e}")
    return "\n".join(lines)
