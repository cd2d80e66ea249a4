"""Read a network's layers: find one by name, record its outputs with forward hooks."""

from __future__ import annotations

import torch
from torch import nn


def layer_by_name(model: nn.Module, name: str) -> nn.Module:
    """The module called ``name``: its own name ("conv1") or its full name ("features.0")."""
    found: dict[str, nn.Module] = {}
    for qualname, module in model.named_modules():
        if qualname:
            found[qualname] = module
            found.setdefault(qualname.rsplit(".", 1)[-1], module)
    if name not in found:
        names = [n for n in found if "." not in n]
        raise KeyError(f"no layer {name!r}; the model's layers are {names}")
    return found[name]


def activations(
    model: nn.Module, images: torch.Tensor, layers: tuple[str, ...] | list[str]
) -> dict[str, torch.Tensor]:
    """Outputs of the named layers for a batch of images, recorded with forward hooks.

    Args:
        model: for example :class:`AlexNet`; its train/eval mode is left as it is.
        images: (N, 3, H, W).
        layers: layer names, such as ("conv1", "act1", "lrn1") or "features.0".

    Returns: {name: output (N, ...)}, in the order of ``layers``; detached copies, so
    in-place layers after them do not change them.
    """
    modules = {name: layer_by_name(model, name) for name in layers}
    recorded: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            recorded[name] = output.detach().clone()

        return record

    handles = [modules[name].register_forward_hook(hook(name)) for name in layers]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for h in handles:
            h.remove()
    return {name: recorded[name] for name in layers}
