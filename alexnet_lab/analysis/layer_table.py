"""Per-layer shapes, parameters, multiply-accumulates and receptive fields of a CNN."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from alexnet_lab.analysis.tables import DisplayTable, ShownAsTable
from alexnet_lab.model import LocalResponseNorm

_KIND_NAMES = {
    nn.Conv2d: "conv",
    nn.Linear: "fc",
    nn.ReLU: "relu",
    nn.Tanh: "tanh",
    LocalResponseNorm: "lrn",
    nn.MaxPool2d: "pool",
    nn.AdaptiveAvgPool2d: "avgpool",
    nn.Dropout: "drop",
}


@dataclass(frozen=True)
class Layer:
    """One row of a layer table.

    ``receptive_field`` is the side, in input pixels, of the square that one output unit
    sees (the whole image for fully connected layers); ``jump`` is the distance in input
    pixels between neighbouring output units.
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    receptive_field: int
    jump: int


class LayerTable(ShownAsTable, list):
    """A list of :class:`Layer` rows that prints as a table (text, or HTML in Jupyter), with
    a total row.

    ``LayerTable(rows)`` makes one from any rows, e.g. a few of another table's.
    """

    columns = ("layer", "output", "params", "MACs", "RF")

    @property
    def params(self) -> int:
        return sum(r.params for r in self)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self)

    def row(self, name: str) -> Layer:
        """The row called ``name`` (for example "conv1")."""
        for r in self:
            if r.name == name:
                return r
        raise KeyError(f"no layer {name!r}; layers are {[r.name for r in self]}")

    def display_table(self) -> DisplayTable:
        """The rows as text cells, and a total row."""
        rows = [
            (
                r.name,
                "x".join(map(str, r.output_shape)),
                f"{r.params:,}",
                f"{r.macs:,}",
                str(r.receptive_field),
            )
            for r in self
        ]
        total = ("total", "", f"{self.params:,}", f"{self.macs:,}", "")
        return DisplayTable(self.columns, (*rows, total), align="llrrr")


def _window(module: nn.Module, in_size: int, out_size: int) -> tuple[int, int]:
    """(kernel, stride) of a module along one spatial axis; (1, 1) if it is pointwise."""
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
        k, s = module.kernel_size, module.stride
        k = k[0] if isinstance(k, tuple) else k
        s = s[0] if isinstance(s, tuple) else s
        return k, s
    if isinstance(module, nn.AdaptiveAvgPool2d) and in_size != out_size:
        return math.ceil(in_size / out_size), in_size // out_size
    return 1, 1


def layer_table(model: nn.Module, input_size: int = 224) -> LayerTable:
    """Shape, parameters, MACs and receptive field of each leaf layer, in forward order.

    Layers keep their own names where they have one (``conv1`` in :class:`AlexNet`); the
    numbered layers of torchvision-style models are named after the paper (conv1..conv5,
    then fc6.., with relu/pool/drop taking the number of the layer before them).

    Args:
        model: a CNN taking (N, 3, H, W) images.
        input_size: H = W of the input image.

    MACs come from :class:`torch.utils.flop_counter.FlopCounterMode` (FLOPs / 2) for one
    image, so only convolutions and matrix products count.
    """
    calls: list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, name=name: calls.append((name, m, i[0], o)))
        for name, m in model.named_modules()
        if not list(m.children())
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, input_size, input_size))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    table = LayerTable()
    rf, jump, number, convs = 1, 1, 0, 0
    for qualname, module, x, y in calls:
        kind = next((v for t, v in _KIND_NAMES.items() if isinstance(module, t)), "layer")
        if kind == "conv":
            convs += 1
            number = convs
        elif kind == "fc":
            number = max(number, convs) + 1
        own = qualname.rsplit(".", 1)[-1]
        name = own if not own.isdigit() else f"{kind}{number}" if kind != "avgpool" else kind
        if x.dim() == 4:
            k, s = _window(module, x.shape[-1], y.shape[-1])
            rf, jump = rf + (k - 1) * jump, jump * s
        else:
            rf = input_size
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(x.clone())
        table.append(
            Layer(
                name=name,
                kind=kind,
                output_shape=tuple(y.shape[1:]),
                params=sum(p.numel() for p in module.parameters(recurse=False)),
                macs=counter.get_total_flops() // 2,
                receptive_field=min(rf, input_size) if x.dim() == 4 else rf,
                jump=jump,
            )
        )
    return table
