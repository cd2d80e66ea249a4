"""Which images excite a channel most, and where: top-k images and receptive-field patches.

Zeiler & Fergus (2014) show, for a unit of a trained network, the dataset images that
activate it most and the image patch its strongest response sees. :func:`channel_maxima`
runs a set of images once and keeps, for every channel of the named layers, each image's
largest response and where it is; :func:`top_units` picks a channel's ``k`` best images and
:func:`crop_box` cuts out the receptive field
(:func:`alexnet_lab.analysis.receptive_field.receptive_box`) of the unit that responded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from alexnet_lab.analysis.hooks import activations
from alexnet_lab.analysis.receptive_field import Box, receptive_box
from alexnet_lab.augment import centre_crop, normalize


@dataclass(frozen=True)
class ChannelMaxima:
    """The largest response of every channel of one layer on every image, and where it is.

    Attributes:
        layer: the layer's name, e.g. "act3" (conv3 after its ReLU).
        values: (N, C) the maximum of each image's map of each channel.
        rows, cols: (N, C) int64 position of that maximum in the map (the first one in
            row-major order where several are equal).
        map_size: (H, W) of the layer's maps.
    """

    layer: str
    values: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    map_size: tuple[int, int]


def channel_maxima(
    model: nn.Module,
    images: torch.Tensor,
    size: int,
    stats: dict[str, torch.Tensor],
    layers: tuple[str, ...] | list[str],
    batch_size: int = 128,
) -> dict[str, ChannelMaxima]:
    """Run ``images`` through ``model`` once and keep each channel's maximum per image.

    Images are prepared as for evaluation (centre ``size`` crop, normalized with ``stats``);
    the model runs in eval mode under ``torch.inference_mode`` on its own device, and its
    mode is restored afterwards.

    Args:
        images: (N, 3, S, S) uint8 with S >= size, as :mod:`alexnet_lab.pack` stores them.
        layers: layer names with (N, C, H, W) outputs, e.g. ("act1", "act3", "act5").

    Returns: {layer: :class:`ChannelMaxima`} in the order of ``layers``, on the CPU.
    """
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    found: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {name: [] for name in layers}
    shapes: dict[str, tuple[int, int]] = {}
    try:
        with torch.inference_mode():
            for i in range(0, len(images), batch_size):
                x = normalize(centre_crop(images[i : i + batch_size].to(dev), size), stats)
                for name, a in activations(model, x, layers).items():
                    shapes[name] = tuple(a.shape[-2:])
                    values, flat = a.flatten(2).max(dim=2)  # first maximum of each map
                    found[name].append((values.float().cpu(), flat.cpu()))
    finally:
        model.train(was_training)
    result = {}
    for name in layers:
        values = torch.cat([v for v, _ in found[name]])
        flat = torch.cat([f for _, f in found[name]])
        w = shapes[name][1]
        result[name] = ChannelMaxima(name, values, flat // w, flat % w, shapes[name])
    return result


@dataclass(frozen=True)
class TopUnit:
    """One of a channel's best images: its index, the response and the unit that gave it."""

    image: int  # row of the images given to channel_maxima
    value: float  # the largest response of the channel on that image
    row: int  # position of that unit in the channel's map
    col: int
    box: Box  # the input pixels that unit sees


def top_units(
    maxima: ChannelMaxima, channel: int, k: int, features: nn.Sequential
) -> list[TopUnit]:
    """The ``k`` images on which ``channel`` responds most, strongest first (equal responses:
    lower image index first), each with the receptive field of its strongest unit.

    Args:
        maxima: from :func:`channel_maxima`.
        features: the model's convolutional part (``model.features``), for the boxes.
    """
    values = maxima.values[:, channel]
    order = values.sort(descending=True, stable=True).indices[:k]
    units = []
    for i in order.tolist():
        r, c = maxima.rows[i, channel].item(), maxima.cols[i, channel].item()
        box = receptive_box(features, maxima.layer, r, c)
        units.append(TopUnit(i, values[i].item(), r, c, box))
    return units


def crop_box(image: torch.Tensor, box: Box, fill: float = 0.0) -> torch.Tensor:
    """The pixels of ``image`` inside ``box``; where the box reaches past the border (into
    the zero padding the network saw) the patch holds ``fill``.

    Shape: (C, H, W) -> (C, box.size, box.size), the dtype of ``image``.
    """
    c, h, w = image.shape
    out = torch.full((c, box.size, box.size), fill, dtype=image.dtype)
    top, left = max(box.top, 0), max(box.left, 0)
    bottom, right = min(box.top + box.size, h), min(box.left + box.size, w)
    if bottom > top and right > left:
        out[:, top - box.top : bottom - box.top, left - box.left : right - box.left] = image[
            :, top:bottom, left:right
        ]
    return out
