"""AlexNet on two devices, one column on each, as the paper trained it on two GTX 580s.

Each column (one device) holds half the kernels of every layer: 48 of conv1's 96, 128 of
conv2's 256, ..., half of fc6's and fc7's 4096 units and half of fc8's outputs. The columns
exchange activations only at the inputs of conv3, fc6, fc7 and fc8, where each column reads
both halves; conv2, conv4 and conv5 read their own column only (Krizhevsky et al. 2012,
section 3.2 and figure 2; Krizhevsky's cuda-convnet config writes the same net as a/b layers
pinned to gpu 0/1). The exchanges are :class:`Exchange` modules, the only places where a
tensor moves between the columns' devices, so a forward hook on them sees every crossing
(:mod:`alexnet_lab.analysis.wire` counts the bytes). The logits of the second column are
gathered on the first device, where the loss is computed.

:class:`alexnet_lab.model.AlexNet` with ``two_columns=True`` computes the same net on one
device with ``groups=2``; :func:`to_two_devices` and :func:`to_grouped` convert weights
between the two exactly. One difference: the grouped model's LRN sums the squares of the 5
neighbouring maps over all 96 (256) maps of a layer, so the two maps on either side of the
column boundary (46-49 in lrn1, 126-129 in lrn2) also see the other column's maps; here, as
in the paper and cuda-convnet, each column normalizes its own maps. With ``lrn=False`` the
two models compute exactly the same function.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from alexnet_lab.model import AlexNet, CeilConv2d, LocalResponseNorm

# The layers each column runs between two crossings, keyed by the layer whose input is the
# crossing ("conv1" reads the image, which both columns get).
PARTS = OrderedDict(
    conv1=("conv1", "act1", "lrn1", "pool1", "conv2", "act2", "lrn2", "pool2"),
    conv3=("conv3", "act3", "conv4", "act4", "conv5", "act5", "pool5", "avgpool", "flatten"),
    fc6=("fc6", "act6", "drop6"),
    fc7=("fc7", "act7", "drop7"),
    fc8=("fc8",),
)
CROSSINGS = ("conv3", "fc6", "fc7", "fc8")  # the layers whose input crosses between columns
# Per-column widths: conv1..conv5 kernels, fc6 and fc7 units (the paper's, halved).
_WIDTH = {"conv1": 48, "conv2": 128, "conv3": 192, "conv4": 192, "conv5": 128, "fc6": 2048,
          "fc7": 2048}  # fmt: skip
WEIGHTED = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")


def parse_devices(devices: str | Sequence[str | torch.device]) -> tuple[torch.device, ...]:
    """Two torch devices from ``"cuda:0,cpu"`` or a pair such as ``("cpu", "cpu")``.

    Raises:
        ValueError: not exactly two devices, or a name torch does not know.
    """
    names = devices.split(",") if isinstance(devices, str) else list(devices)
    if len(names) != 2:
        raise ValueError(f"two devices are needed, one per column, got {devices!r}")
    try:
        return tuple(torch.device(d.strip() if isinstance(d, str) else d) for d in names)
    except RuntimeError as e:
        raise ValueError(f"not a torch device in {devices!r}: {e}") from None


def named_layers(model: AlexNet) -> dict[str, nn.Module]:
    """An AlexNet's layers by name: conv1 ... pool5, fc6 ... fc8."""
    return {**dict(model.features.named_children()), **dict(model.classifier.named_children())}


def fc8_split(num_classes: int) -> tuple[int, int]:
    """How many of fc8's outputs each column holds (the first takes the odd one)."""
    return (num_classes + 1) // 2, num_classes // 2


class Column(nn.Module):
    """One column of the paper's net: half the kernels and units of every layer.

    The layers carry :class:`alexnet_lab.model.AlexNet`'s names (conv1 ... fc8);
    :meth:`run` runs one part of them (see :data:`PARTS`). conv3, fc6, fc7 and fc8 take
    both columns' maps (the wider input), the other layers their own column's.

    Args:
        outputs: this column's share of fc8's outputs.
        lrn, overlap_pool, dropout, activation: as in :class:`alexnet_lab.model.AlexNet`.
    """

    def __init__(
        self, outputs: int, *, lrn: bool, overlap_pool: bool, dropout: float, activation: str
    ) -> None:
        super().__init__()
        act = nn.ReLU if activation == "relu" else nn.Tanh
        norm = LocalResponseNorm if lrn else nn.Identity
        pool_k = 3 if overlap_pool else 2
        w = _WIDTH
        self.conv1 = CeilConv2d(3, w["conv1"], kernel_size=11, stride=4)  # 48 x 55 x 55
        self.act1, self.lrn1 = act(), norm()
        self.pool1 = nn.MaxPool2d(kernel_size=pool_k, stride=2)  # 48 x 27 x 27
        self.conv2 = nn.Conv2d(w["conv1"], w["conv2"], 5, padding=2)  # 128 x 27 x 27, own column
        self.act2, self.lrn2 = act(), norm()
        self.pool2 = nn.MaxPool2d(kernel_size=pool_k, stride=2)  # 128 x 13 x 13
        self.conv3 = nn.Conv2d(2 * w["conv2"], w["conv3"], 3, padding=1)  # both: 192 x 13 x 13
        self.act3 = act()
        self.conv4 = nn.Conv2d(w["conv3"], w["conv4"], 3, padding=1)  # 192 x 13 x 13, own
        self.act4 = act()
        self.conv5 = nn.Conv2d(w["conv4"], w["conv5"], 3, padding=1)  # 128 x 13 x 13, own
        self.act5 = act()
        self.pool5 = nn.MaxPool2d(kernel_size=pool_k, stride=2)  # 128 x 6 x 6
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # identity for 224 and 227 inputs
        self.flatten = nn.Flatten()  # 4608
        self.fc6 = nn.Linear(2 * w["conv5"] * 6 * 6, w["fc6"])  # both columns: 9216 -> 2048
        self.act6, self.drop6 = act(), nn.Dropout(dropout)
        self.fc7 = nn.Linear(2 * w["fc6"], w["fc7"])  # both: 4096 -> 2048
        self.act7, self.drop7 = act(), nn.Dropout(dropout)
        self.fc8 = nn.Linear(2 * w["fc7"], outputs)  # both: 4096 -> this column's classes

    def run(self, part: str, x: torch.Tensor) -> torch.Tensor:
        """The layers of ``part`` (a key of :data:`PARTS`) applied to ``x`` in order."""
        for name in PARTS[part]:
            x = getattr(self, name)(x)
        return x


class Exchange(nn.Module):
    """A crossing: each column sends its maps to the other and gets both halves back.

    Autograd sends the gradients back the same way in the backward pass.

    Shape: (N, C, ...) on ``devices[0]`` and (N, C', ...) on ``devices[1]`` ->
    (N, C + C', ...) on each device, the first column's maps first.
    """

    def __init__(self, devices: tuple[torch.device, torch.device]) -> None:
        super().__init__()
        self.devices = devices

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        da, db = self.devices
        return torch.cat([a, b.to(da)], 1), torch.cat([a.to(db), b], 1)

    def extra_repr(self) -> str:
        return f"{self.devices[0]} <-> {self.devices[1]}"


class TwoDeviceAlexNet(nn.Module):
    """The paper's two-column AlexNet with each column on its own device.

    Initialized as :class:`alexnet_lab.model.AlexNet` with the same options would be under
    the same seed (it splits one). The input may be on any device; the logits come back on
    the first. Under autocast on the first device's type, each column runs under autocast
    on its own device type too. Each column normalizes (LRN) and drops out its own units.

    Args:
        num_classes: size of fc8, split between the columns (:func:`fc8_split`).
        devices: the columns' devices, e.g. ("cuda:0", "cuda:1"), ("cuda:0", "cpu") or
            ("cpu", "cpu"); or one string "cuda:0,cpu".
        lrn, overlap_pool, dropout, activation, init, conv1_std: as in
            :class:`alexnet_lab.model.AlexNet`.

    Shape: (N, 3, H, W) -> (N, num_classes) on ``devices[0]``.
    """

    min_size = AlexNet.min_size

    def __init__(
        self,
        num_classes: int = 1000,
        devices: str | Sequence[str | torch.device] = ("cpu", "cpu"),
        *,
        lrn: bool = True,
        overlap_pool: bool = True,
        dropout: float = 0.5,
        activation: str = "relu",
        init: str = "paper",
        conv1_std: float | None = None,
    ) -> None:
        super().__init__()
        options = {"lrn": lrn, "overlap_pool": overlap_pool, "dropout": dropout,
                   "activation": activation}  # fmt: skip
        # A grouped AlexNet checks the options and draws the weights; the columns split it.
        grouped = AlexNet(num_classes, two_columns=True, init=init, conv1_std=conv1_std, **options)
        self.devices = parse_devices(devices)
        self.num_classes = num_classes
        with torch.device("meta"):  # no init of their own: load_grouped sets every weight
            columns = [Column(n, **options) for n in fc8_split(num_classes)]
        self.columns = nn.ModuleList(
            c.to_empty(device=d) for c, d in zip(columns, self.devices, strict=True)
        )
        self.exchange = nn.ModuleDict({name: Exchange(self.devices) for name in CROSSINGS})
        self.load_grouped(grouped)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        da, db = self.devices
        ha, hb = self._run("conv1", x.to(da), x.to(db))  # conv1..pool2: own column
        ha, hb = self._run("conv3", *self.exchange["conv3"](ha, hb))  # conv3 reads both
        ha, hb = self._run("fc6", *self.exchange["fc6"](ha, hb))
        ha, hb = self._run("fc7", *self.exchange["fc7"](ha, hb))
        ha, hb = self._run("fc8", *self.exchange["fc8"](ha, hb))
        return torch.cat([ha, hb.to(da)], 1)  # the loss is computed on the first device

    def _run(self, part: str, ha: torch.Tensor, hb: torch.Tensor):
        """Both columns' layers of ``part``, each under autocast on its own device type if
        the caller turned autocast on for the first device's type (as ``train_step`` does)."""
        first = self.devices[0].type
        on, dtype = torch.is_autocast_enabled(first), torch.get_autocast_dtype(first)
        out = []
        for column, h, dev in zip(self.columns, (ha, hb), self.devices, strict=True):
            with torch.autocast(dev.type, dtype=dtype, enabled=on):
                out.append(column.run(part, h))
        return tuple(out)

    @torch.no_grad()
    def load_grouped(self, model: AlexNet) -> None:
        """Copy the weights of a grouped (``two_columns=True``) AlexNet into the columns.

        Column c gets output kernels (units) c of every layer: rows [c * k, (c + 1) * k) of
        each weight. Input channels stay in the grouped model's order (the first column's
        maps first), which is also the order in which :class:`Exchange` concatenates them,
        and conv2/conv4/conv5's groups=2 weights already hold only their own group's inputs.

        Raises:
            ValueError: ``model`` is a one-column AlexNet, or has another number of classes.
        """
        if model.features.conv2.groups != 2:
            raise ValueError("a one-column AlexNet (two_columns=False) has no columns to split")
        if model.classifier.fc8.out_features != self.num_classes:
            raise ValueError(
                f"the model has {model.classifier.fc8.out_features} classes, this one "
                f"{self.num_classes}"
            )
        layers = named_layers(model)
        for name in WEIGHTED:
            sizes = fc8_split(self.num_classes) if name == "fc8" else (_WIDTH[name],) * 2
            for part in ("weight", "bias"):
                halves = getattr(layers[name], part).split(sizes)
                for column, half in zip(self.columns, halves, strict=True):
                    getattr(getattr(column, name), part).copy_(half)


def to_two_devices(
    model: AlexNet, devices: str | Sequence[str | torch.device] = ("cpu", "cpu")
) -> TwoDeviceAlexNet:
    """The two-column ``model`` (``two_columns=True``) with one column on each device.

    The architecture options (LRN, pooling, dropout, activation) are read from ``model``,
    the weights copied exactly (:meth:`TwoDeviceAlexNet.load_grouped`), in ``model``'s
    dtype. With LRN the result differs from ``model`` at the maps next to the column
    boundary (see the module docstring); without, it computes the same function.

    Raises:
        ValueError: ``model`` is a one-column AlexNet.
    """
    f, c = model.features, model.classifier
    split = TwoDeviceAlexNet(
        c.fc8.out_features,
        devices,
        lrn=not isinstance(f.lrn1, nn.Identity),
        overlap_pool=f.pool1.kernel_size == 3,
        dropout=c.drop6.p,
        activation="relu" if isinstance(f.act1, nn.ReLU) else "tanh",
    ).to(f.conv1.weight.dtype)
    split.load_grouped(model)
    return split.train(model.training)


@torch.no_grad()
def to_grouped(model: TwoDeviceAlexNet) -> AlexNet:
    """The one-device AlexNet (``two_columns=True``, on the CPU) with ``model``'s weights.

    Each weight of the grouped model is the concatenation of the columns' halves; the
    inverse of :func:`to_two_devices`, exactly.
    """
    a = model.columns[0]
    with torch.device("meta"):  # no init of its own: every weight is set below
        grouped = AlexNet(
            model.num_classes,
            lrn=not isinstance(a.lrn1, nn.Identity),
            overlap_pool=a.pool1.kernel_size == 3,
            dropout=a.drop6.p,
            two_columns=True,
            activation="relu" if isinstance(a.act1, nn.ReLU) else "tanh",
        )
    grouped = grouped.to_empty(device="cpu").to(a.conv1.weight.dtype)
    layers = named_layers(grouped)
    for name in WEIGHTED:
        for part in ("weight", "bias"):
            halves = [getattr(getattr(col, name), part).cpu() for col in model.columns]
            getattr(layers[name], part).copy_(torch.cat(halves))
    return grouped.train(model.training)
