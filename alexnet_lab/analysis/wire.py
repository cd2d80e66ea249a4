"""What crosses the wire between the paper's two GPUs, and what the alternatives would send.

In :class:`~alexnet_lab.split.TwoDeviceAlexNet` the columns exchange activations at the
inputs of conv3, fc6, fc7 and fc8 (:data:`alexnet_lab.split.CROSSINGS`): each column sends
its half of the maps forward, and the gradient of that half comes back in the backward pass.
:func:`crossings` reads the sizes off a forward pass (hooks on the exchanges), so nothing is
typed in; :func:`wire_report` sets them against

- a naive split, in which every layer after conv1 reads both columns (no grouping), so
  every layer's input crosses (:func:`naive_crossings`);
- data parallelism over two devices: each holds the whole net and a ring all-reduce
  sends 2 (N - 1) / N times the parameter bytes per device and step
  (:func:`data_parallel_bytes`);

and estimates the time on the GTX 580s' link, PCIe 2.0 x16: 8 GB/s per direction in theory
(16 lanes of 500 MB/s; the repository's reference facts give no measured figure, and real
transfers reach less). :func:`measure_copy_bandwidth` measures a copy on the machine at hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from alexnet_lab.analysis.tables import DisplayTable, ShownAsTable
from alexnet_lab.split import CROSSINGS, Exchange, TwoDeviceAlexNet

PCIE2_X16 = 8e9  # bytes/s per direction, PCIe 2.0 x16, theoretical (16 lanes x 500 MB/s)
MIB = 2**20


@dataclass(frozen=True)
class Crossing:
    """One place where activations cross between the columns, per image.

    Attributes:
        name: the layer whose input crosses ("conv3"), or "logits" (the second column's
            scores, gathered on the first device for the loss).
        sent: the shapes column 1 and column 2 send per image (() for nothing).
    """

    name: str
    sent: tuple[tuple[int, ...], tuple[int, ...]]

    @property
    def elements(self) -> int:
        """Values crossing per image in the forward pass, both directions together."""
        return sum(torch.Size(s).numel() if s else 0 for s in self.sent)


@dataclass(frozen=True)
class Traffic:
    """One row of :class:`WireReport`: what a way of splitting the work sends.

    ``image_elements`` values per image cross in the forward pass, and as many gradients in
    the backward pass; ``step_elements`` more cross once per step whatever the batch (the
    gradients of data parallelism). Both count the two directions together.
    """

    name: str
    shape: str
    image_elements: int
    step_elements: int = 0

    def step_bytes(self, batch_size: int, dtype: torch.dtype) -> int:
        """Bytes per SGD step (forward and backward, both directions)."""
        size = torch.empty((), dtype=dtype).element_size()
        return (2 * batch_size * self.image_elements + self.step_elements) * size


@dataclass(frozen=True)
class WireReport(ShownAsTable):
    """Traffic between two devices per SGD step: the paper's crossings one by one, their sum,
    the logits, a naive split and data parallelism.

    Attributes:
        rows: the :class:`Traffic` rows, in that order.
        activations: values per image that all layers of the net output (both columns),
            the base of the "share of activations" column.
        batch_size: images per step.
        bandwidth: bytes/s per direction of the link the times are for.
    """

    rows: tuple[Traffic, ...]
    activations: int
    batch_size: int = 128
    bandwidth: float = PCIE2_X16

    def row(self, name: str) -> Traffic:
        """The row called ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no row {name!r}; rows are {[r.name for r in self.rows]}")

    def seconds(self, name: str, dtype: torch.dtype = torch.float32) -> float:
        """Time per step on the link: half the step's bytes go each way, at the same time."""
        return self.row(name).step_bytes(self.batch_size, dtype) / 2 / self.bandwidth

    def display_table(self) -> DisplayTable:
        b = self.batch_size
        rows = []
        for r in self.rows:
            fp32 = r.step_bytes(b, torch.float32)
            bf16 = r.step_bytes(b, torch.bfloat16)
            share = f"{r.image_elements / self.activations:.1%}" if r.image_elements else ""
            per_image = f"{4 * r.image_elements / 1024:,.1f}" if r.image_elements else ""
            ms = f"{self.seconds(r.name) * 1e3:,.1f}"
            rows.append((r.name, r.shape, per_image, per_image, f"{fp32 / MIB:,.1f}",
                         f"{bf16 / MIB:,.1f}", share, ms))  # fmt: skip
        columns = ("traffic", "each column sends", "fwd KiB/image", "bwd KiB/image",
                   f"MiB/step fp32 (x{b})", "MiB/step bf16", "share of activations",
                   "ms/step fp32")  # fmt: skip
        notes = (
            "Both directions together; forward = activations, backward = their gradients "
            f"(float32 per image). Times at {self.bandwidth / 1e9:g} GB/s per direction "
            "(PCIe 2.0 x16, theoretical), half the bytes each way. Data parallel: ring "
            "all-reduce of every gradient, 2(N-1)/N x parameter bytes per device (N = 2); "
            "bf16 if the gradients are sent in bf16.",
        )
        return DisplayTable(columns, tuple(rows), notes, align="llrrrrrr")


def _outputs(model: nn.Module, image_size: int, kinds: tuple[type, ...]) -> list[tuple]:
    """(module name, module, inputs, output) of every module of ``kinds``, in the order a
    one-image forward pass (eval mode, no gradients) calls them."""
    calls = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, n=n: calls.append((n, m, i, o)))
        for n, m in model.named_modules()
        if isinstance(m, kinds)
    ]
    was_training = model.training
    model.eval()
    first = next(model.parameters())
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, image_size, image_size, dtype=first.dtype, device=first.device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return calls


def crossings(model: TwoDeviceAlexNet, image_size: int = 224) -> list[Crossing]:
    """The crossings of a one-image forward pass of ``model``, in order: the exchanges
    (conv3, fc6, fc7, fc8 inputs), then the logits of the second column."""
    calls = _outputs(model, image_size, (Exchange, nn.Linear))
    found = [Crossing(n.rsplit(".", 1)[-1], tuple(tuple(t.shape[1:]) for t in i))
             for n, m, i, _ in calls if isinstance(m, Exchange)]  # fmt: skip
    last = [o for n, m, _, o in calls if n == "columns.1.fc8"][0]
    return [*found, Crossing("logits", ((), tuple(last.shape[1:])))]


def naive_crossings(model: TwoDeviceAlexNet, image_size: int = 224) -> list[Crossing]:
    """What would cross if every layer after conv1 read both columns: each column sends its
    half of the input of conv2, conv3, conv4, conv5, fc6, fc7 and fc8."""
    inputs = {n: i[0] for n, _, i, _ in _outputs(model, image_size, (nn.Conv2d, nn.Linear))}
    layers = [n.split(".")[-1] for n in inputs if n.startswith("columns.0.")][1:]  # not conv1
    out = []
    for layer in layers:
        sent = []
        for column in (0, 1):
            shape = tuple(inputs[f"columns.{column}.{layer}"].shape[1:])
            if layer in CROSSINGS:  # its input holds both halves already: one is sent
                shape = (shape[0] // 2, *shape[1:])
            sent.append(shape)
        out.append(Crossing(layer, tuple(sent)))
    return out


def activation_elements(model: TwoDeviceAlexNet, image_size: int = 224) -> int:
    """Values per image that the layers of both columns output (conv, activation, LRN,
    pooling, fc and dropout layers; not the flatten views or identities)."""
    skip = (nn.Flatten, nn.Identity, Exchange, TwoDeviceAlexNet)
    calls = _outputs(model, image_size, (nn.Module,))
    return sum(
        o.numel() for _, m, _, o in calls if not isinstance(m, skip) and not list(m.children())
    )


def ring_all_reduce_values(values: int, devices: int = 2) -> float:
    """Values each of ``devices`` sends to sum ``values`` numbers over all of them with a ring
    all-reduce (a reduce-scatter, then an all-gather): 2 (N - 1) / N x ``values``."""
    return 2 * (devices - 1) / devices * values


def data_parallel_bytes(
    model: nn.Module, dtype: torch.dtype = torch.float32, devices: int = 2
) -> float:
    """Bytes each device sends per step when ``devices`` devices all-reduce every gradient
    of ``model`` in ``dtype``: 2 (N - 1) / N x parameters x bytes per value."""
    params = sum(p.numel() for p in model.parameters())
    return ring_all_reduce_values(params, devices) * torch.empty((), dtype=dtype).element_size()


def wire_report(
    model: TwoDeviceAlexNet,
    image_size: int = 224,
    batch_size: int = 128,
    bandwidth: float = PCIE2_X16,
) -> WireReport:
    """The traffic of ``model``'s crossings per step against a naive split and data
    parallelism, with times on a link of ``bandwidth`` bytes/s per direction."""

    def shape(c: Crossing) -> str:
        return " | ".join("x".join(map(str, s)) or "-" for s in c.sent)

    paper = crossings(model, image_size)
    rows = [Traffic(f"{c.name} input", shape(c), c.elements) for c in paper if c.name != "logits"]
    exchanged = sum(r.image_elements for r in rows)
    logits = paper[-1]
    naive = sum(c.elements for c in naive_crossings(model, image_size))
    params = sum(p.numel() for p in model.parameters())
    all_reduce = round(2 * ring_all_reduce_values(params, 2))  # what both devices send
    rows += [
        Traffic("paper split", "conv3, fc6, fc7, fc8 inputs", exchanged),
        Traffic("logits (for the loss)", shape(logits), logits.elements),
        Traffic("naive split", "every layer's input after conv1", naive),
        Traffic("data parallel", f"{params:,} gradients", 0, all_reduce),
    ]
    return WireReport(tuple(rows), activation_elements(model, image_size), batch_size, bandwidth)


def measure_copy_bandwidth(
    device_from: str | torch.device,
    device_to: str | torch.device,
    nbytes: int = 64 * MIB,
    repeats: int = 5,
) -> float:
    """Bytes per second of copying ``nbytes`` from one device to another (best of
    ``repeats``, after one warm-up copy).

    CPU to CPU measures a memory copy; a CPU side of a CPU-GPU copy is pinned memory, as a
    training loop that cares about transfer speed would use.
    """
    src_dev, dst_dev = torch.device(device_from), torch.device(device_to)
    pin = "cuda" in (src_dev.type, dst_dev.type)
    src = torch.ones(nbytes, dtype=torch.uint8, device=src_dev)
    dst = torch.empty(nbytes, dtype=torch.uint8, device=dst_dev)
    if pin:
        src = src.pin_memory() if src_dev.type == "cpu" else src
        dst = dst.pin_memory() if dst_dev.type == "cpu" else dst

    def sync() -> None:
        for d in (src_dev, dst_dev):
            if d.type == "cuda":
                torch.cuda.synchronize(d)

    best = float("inf")
    for i in range(repeats + 1):
        sync()
        start = time.perf_counter()
        dst.copy_(src, non_blocking=pin)
        sync()
        if i:  # the first copy warms up (page faults, lazy allocation)
            best = min(best, time.perf_counter() - start)
    return nbytes / best
