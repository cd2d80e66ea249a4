"""The memory training takes: weights, gradients, momentum and saved activations, by layer.

An SGD step with momentum holds, besides the batch itself, four things: the weights, their
gradients, the momentum buffers (one per weight), and the activations that autograd saves
in the forward pass for the backward pass. :func:`memory_ledger` counts all four for a model,
a batch size, an image size and a dtype:

- the saved activations are *measured*: a forward pass under
  :func:`torch.autograd.graph.saved_tensors_hooks` records every tensor autograd keeps,
  counts each storage once (views and tensors that two layers save are not counted twice),
  leaves out the parameters, and names each by the layer whose forward was running
  (module forward pre/post hooks keep track of that);
- and *estimated* from the layer shapes with :func:`analytic_saved`'s rules (a convolution
  keeps its input, a ReLU its output, a max-pool its input and int64 indices, ...), to
  compare with the measurement layer by layer.

Saved activations grow linearly with the batch, so they are measured for a few images
(``measure_batch``, by default one) and scaled to ``batch_size``: a batch of 128 at 224 px
needs over a GiB and seconds of CPU time that the per-image measurement does not.
One exception to linearity lives in :mod:`alexnet_lab.model`: on a CPU, an LRN input of
more than about half a million values (two images at 224 px) goes through in slices and
keeps only the input (the backward pass recomputes the rest), while one image, and any
batch on a GPU, keeps the input, the divisor and its power; measuring one image gives the
GPU's (larger) figure. On the CPU a
dropout layer keeps a mask in the activations' dtype, on a GPU a bool (1 byte) mask.

:func:`column_ledgers` splits the ledger of a :class:`~alexnet_lab.split.TwoDeviceAlexNet`
by column, :func:`paper_ledgers` gives the paper's case (one GTX 580 against each column)
and :func:`check_on_cuda` sets a ledger against ``torch.cuda.max_memory_allocated`` over
an SGD step (:func:`cuda_peak`) where there is a GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace

import torch
from torch import nn

from alexnet_lab.analysis.tables import DisplayTable, ShownAsTable
from alexnet_lab.config import MOMENTUM, WEIGHT_DECAY
from alexnet_lab.model import AlexNet, CeilConv2d, LocalResponseNorm
from alexnet_lab.split import TwoDeviceAlexNet, to_two_devices

GTX580_BYTES = 3 * 2**30  # the paper's GPU: a GeForce GTX 580 with 3 GiB (3072 MiB)
MIB = 2**20


@dataclass(frozen=True)
class SavedLayer:
    """What one layer saves for the backward pass, per image.

    Attributes:
        name: the module's full name ("features.conv1", "columns.0.conv1").
        measured: bytes per image of the storages first saved while this layer ran.
        analytic: bytes per image that :func:`analytic_saved` predicts.
        tensors: what was measured, e.g. "1x96x55x55 float32, 1x96x27x27 int64" (shapes
            at ``measure_batch`` images).
        rule: what the analytic rule says it saves, e.g. "input + int64 indices".
    """

    name: str
    measured: int
    analytic: int
    tensors: str
    rule: str

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class MemoryLedger(ShownAsTable):
    """The training memory of a model (or of one column of it), in bytes.

    Attributes:
        label: what it is ("one GTX 580", "column 1 (cuda:0)").
        batch_size, image_size, dtype: the case it was computed for ("float32", or
            "bfloat16" for bf16 autocast with float32 weights).
        weights, grads, momentum: bytes of the parameters, their gradients and SGD's
            momentum buffers.
        weight_copies: bytes of the low-precision weight copies autocast makes and autograd
            saves (0 without autocast); they do not grow with the batch.
        layers: the saved activations per image, layer by layer, in forward order.
        measure_batch: the images the activations were measured on.
    """

    label: str
    batch_size: int
    image_size: int
    dtype: str
    weights: int
    grads: int
    momentum: int
    weight_copies: int
    layers: tuple[SavedLayer, ...]
    measure_batch: int

    @property
    def activations(self) -> int:
        """Measured saved activations of the whole batch, in bytes."""
        return self.batch_size * sum(r.measured for r in self.layers)

    @property
    def analytic_activations(self) -> int:
        """The analytic estimate of :attr:`activations`."""
        return self.batch_size * sum(r.analytic for r in self.layers)

    @property
    def total(self) -> int:
        """Weights + gradients + momentum + weight copies + saved activations."""
        return self.weights + self.grads + self.momentum + self.weight_copies + self.activations

    def summary(self) -> dict[str, int]:
        """{"weights", "gradients", "momentum", "weight copies", "activations", "total"}:
        bytes."""
        return {"weights": self.weights, "gradients": self.grads, "momentum": self.momentum,
                "weight copies": self.weight_copies, "activations": self.activations,
                "total": self.total}  # fmt: skip

    def display_table(self) -> DisplayTable:
        """Saved activations layer by layer (per image and per batch), then the totals."""
        b = self.batch_size
        rows = [
            (r.short_name, r.tensors, f"{r.measured / 1024:,.1f}", f"{r.analytic / 1024:,.1f}",
             f"{b * r.measured / MIB:,.1f}")
            for r in self.layers
            if r.measured or r.analytic
        ]  # fmt: skip
        rows.append(("activations", "", "", "", f"{self.activations / MIB:,.1f}"))
        for name, value in self.summary().items():
            if name != "activations" and (value or name != "weight copies"):
                rows.append((name, "", "", "", f"{value / MIB:,.1f}"))
        notes = (
            f"{self.label}: batch {b}, {self.image_size} px, {self.dtype}. Saved activations "
            f"measured on {self.measure_batch} image(s) and scaled to {b}; the analytic "
            f"estimate is {self.analytic_activations / MIB:,.1f} MiB.",
        )
        columns = ("layer", "saved tensors", "KiB/image", "analytic KiB/image", f"MiB x{b}")
        return DisplayTable(columns, tuple(rows), notes, align="llrrr")


def _leaves(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """(full name, module) of the modules without children whose name starts ``prefix``."""
    return [
        (n, m) for n, m in model.named_modules() if n.startswith(prefix) and not list(m.children())
    ]


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _describe(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) + " " + _name(t.dtype)


def _autocast(model: nn.Module, dtype: torch.dtype | None):
    """Autocast to ``dtype`` on the device type of ``model``'s first parameter (a
    TwoDeviceAlexNet passes it on to its other column); nothing if ``dtype`` is None."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(next(model.parameters()).device.type, dtype=dtype)


@dataclass
class _Saved:
    module: str
    nbytes: int
    what: str
    weight_copy: bool


def _is_copy(t: torch.Tensor, module: nn.Module) -> bool:
    """Whether ``t``'s storage holds a low-precision copy of one of ``module``'s parameters
    (autocast's cast of a weight): same number of values, another dtype, equal after the
    cast."""
    flat = torch.empty(0, dtype=t.dtype, device=t.device).set_(t.untyped_storage())
    return any(
        p.numel() == flat.numel()
        and p.dtype != t.dtype
        and torch.equal(p.detach().reshape(-1).to(t.dtype), flat)
        for p in module.parameters(recurse=False)
    )


def _measure(model: nn.Module, images: torch.Tensor, autocast: torch.dtype | None) -> list[_Saved]:
    """Every storage autograd saves in a training-mode forward pass of ``images``, once, with
    the innermost module that was running; parameters left out."""
    params = {(p.device, p.untyped_storage().data_ptr()) for p in model.parameters()}
    names = {m: n for n, m in model.named_modules()}
    running: list[nn.Module] = []
    saved: dict[tuple, _Saved] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        key = (t.device, storage.data_ptr())
        if key in params or key in saved:
            return t
        module = running[-1] if running else model
        name = names[module] if running else type(model).__name__
        saved[key] = _Saved(name, storage.nbytes(), _describe(t), _is_copy(t, module))
        return t  # kept alive by the graph until the end: no storage is reused meanwhile

    hooks = []
    for _, m in _leaves(model):
        hooks.append(m.register_forward_pre_hook(lambda m, i: running.append(m)))
        hooks.append(m.register_forward_hook(lambda m, i, o: running.pop() and None))
    was_training = model.training
    model.train()
    try:
        with (
            torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
            _autocast(model, autocast),
        ):
            out = model(images)
        del out
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return list(saved.values())


def analytic_saved(
    module: nn.Module, x: torch.Tensor, y: torch.Tensor, autocast: torch.dtype | None = None
) -> list[tuple[str, torch.Tensor | None, tuple[int, ...], torch.dtype]]:
    """What ``module`` keeps for the backward pass by the rules of its operation.

    Returns a list of (what, tensor, shape, dtype): ``tensor`` is ``x`` or ``y`` where the
    module keeps its own input or output (so that a tensor two layers keep counts once), and
    None for a new tensor:

    - convolution and linear layers: their input (a copy in the autocast dtype under
      autocast; :class:`~alexnet_lab.model.CeilConv2d` the zero-padded input);
    - ReLU and tanh: their output;
    - :class:`~alexnet_lab.model.LocalResponseNorm`: its input (a float32 copy of a
      lower-precision one) and the divisor and its power, in float32 or wider;
    - max-pooling: its input and the int64 index of each maximum;
    - adaptive average pooling: its input;
    - dropout in training: a mask, bool on a GPU, in the input's dtype on a CPU;
    - anything else (flatten, identity, the column exchanges): nothing.

    Shapes: ``x`` is the module's input, ``y`` its output.
    """
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        dtype = autocast or x.dtype
        if isinstance(module, CeilConv2d):  # the input padded to the last window's edge
            k, s = module.kernel_size[0], module.stride[0]
            pad = (*x.shape[:2], *((n - 1) * s + k for n in y.shape[2:]))
            return [("padded input", None, pad, dtype)]
        return [("input", x if dtype == x.dtype else None, tuple(x.shape), dtype)]
    if isinstance(module, (nn.ReLU, nn.Tanh)):
        return [("output", y, tuple(y.shape), y.dtype)]
    if isinstance(module, LocalResponseNorm):
        wide = torch.promote_types(x.dtype, torch.float32)
        shape = tuple(x.shape)
        kept = ("input", x, shape, x.dtype) if wide == x.dtype else ("input", None, shape, wide)
        return [kept, ("divisor", None, shape, wide), ("its power", None, shape, wide)]
    if isinstance(module, nn.MaxPool2d):
        return [("input", x, tuple(x.shape), x.dtype),
                ("indices", None, tuple(y.shape), torch.int64)]  # fmt: skip
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return [("input", x, tuple(x.shape), x.dtype)]
    if isinstance(module, nn.Dropout) and module.training and module.p > 0:
        return [("mask", None, tuple(y.shape), torch.bool if x.is_cuda else y.dtype)]
    return []


def _analytic(model: nn.Module, images: torch.Tensor, autocast: torch.dtype | None):
    """{module name: (bytes, rule text)} by :func:`analytic_saved`, each tensor counted once."""
    calls: list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, name=name: calls.append((name, m, i[0], o)))
        for name, m in _leaves(model)
    ]
    was_training = model.training
    model.train()
    try:
        with torch.no_grad(), _autocast(model, autocast):
            model(images)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    counted: set[tuple] = set()
    out = {}
    for name, module, x, y in calls:
        total, rules = 0, []
        for what, t, shape, dtype in analytic_saved(module, x, y, autocast):
            key = None if t is None else (t.device, t.untyped_storage().data_ptr())
            if key is not None and key in counted:
                rules.append(f"({what}, kept already)")
                continue
            if key is not None:
                counted.add(key)
            total += torch.Size(shape).numel() * torch.empty((), dtype=dtype).element_size()
            rules.append(what if dtype == images.dtype else f"{what} ({_name(dtype)})")
        out[name] = (total, " + ".join(rules))
    return out


def _autocast_dtype(model: nn.Module, dtype: torch.dtype) -> torch.dtype | None:
    """None if ``dtype`` is the weights' dtype, else the autocast dtype (bf16 or fp16)."""
    weights = next(model.parameters()).dtype
    if dtype == weights:
        return None
    if dtype in (torch.bfloat16, torch.float16):
        return dtype
    raise ValueError(
        f"dtype {dtype} is neither the weights' dtype ({weights}) nor an autocast dtype "
        "(bfloat16, float16)"
    )


def memory_ledger(
    model: nn.Module,
    batch_size: int = 128,
    image_size: int = 224,
    dtype: torch.dtype = torch.float32,
    *,
    prefix: str = "",
    label: str = "",
    measure_batch: int = 1,
) -> MemoryLedger:
    """The training memory of ``model`` for batches of ``batch_size`` images.

    Args:
        model: an AlexNet, a TwoDeviceAlexNet or any model of (N, 3, H, W) images; the
            measurement runs where its parameters are, in training mode (restored after).
        batch_size: images per SGD step.
        image_size: side of the square input.
        dtype: the weights' dtype, or bfloat16 / float16 for autocast over float32 weights
            (how :func:`alexnet_lab.train.train_step` trains with bf16).
        prefix: count only the parameters and layers whose names start with it
            ("columns.0." for a column of a TwoDeviceAlexNet).
        label: a name for the ledger (default: the model's class name).
        measure_batch: images in the measured forward pass (the activations are scaled
            from it, see the module docstring).
    """
    autocast = _autocast_dtype(model, dtype)
    device = next(model.parameters()).device
    weight_dtype = next(model.parameters()).dtype
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(measure_batch, 3, image_size, image_size, generator=gen)
    images = images.to(device, weight_dtype)
    saved = _measure(model, images, autocast)
    analytic = _analytic(model, images, autocast)
    names = [name for name, _ in _leaves(model, prefix)]
    if any(s.module not in names and s.module.startswith(prefix) for s in saved):
        names.append(type(model).__name__)  # saved by the model's own forward, between layers
    layers = []
    for name in names:
        mine = [s for s in saved if s.module == name and not s.weight_copy]
        measured = sum(s.nbytes for s in mine)
        guess, rule = analytic.get(name, (0, ""))
        layers.append(SavedLayer(name, measured // measure_batch, guess // measure_batch,
                                 ", ".join(s.what for s in mine), rule))  # fmt: skip
    params = sum(p.numel() * p.element_size() for n, p in model.named_parameters()
                 if n.startswith(prefix))  # fmt: skip
    copies = sum(s.nbytes for s in saved if s.weight_copy and s.module.startswith(prefix))
    return MemoryLedger(
        label=label or type(model).__name__,
        batch_size=batch_size,
        image_size=image_size,
        dtype=_name(dtype),
        weights=params,
        grads=params,
        momentum=params,
        weight_copies=copies,
        layers=tuple(layers),
        measure_batch=measure_batch,
    )


def column_ledgers(
    model: TwoDeviceAlexNet,
    batch_size: int = 128,
    image_size: int = 224,
    dtype: torch.dtype = torch.float32,
    measure_batch: int = 1,
) -> tuple[MemoryLedger, MemoryLedger]:
    """The ledger of each column (device) of ``model``: its half of every layer's weights,
    and the activations its layers save, including the whole input (both halves) of conv3,
    fc6, fc7 and fc8, which each column holds after the exchange."""
    return tuple(
        memory_ledger(model, batch_size, image_size, dtype, prefix=f"columns.{i}.",
                      label=f"column {i + 1} ({device})", measure_batch=measure_batch)
        for i, device in enumerate(model.devices)
    )  # fmt: skip


def paper_ledgers(
    batch_size: int = 128,
    image_size: int = 224,
    dtype: torch.dtype = torch.float32,
    num_classes: int = 1000,
    seed: int = 0,
) -> tuple[MemoryLedger, MemoryLedger, MemoryLedger]:
    """The paper's net (AlexNet(1000), 224 px, batch 128) on one GTX 580 and split over two.

    Returns the ledgers of the whole grouped net (what one GPU would hold) and of each
    column of the same net split with :func:`alexnet_lab.split.to_two_devices` (both on
    the CPU here, where they are measured).
    """
    torch.manual_seed(seed)
    grouped = AlexNet(num_classes)
    one = memory_ledger(grouped, batch_size, image_size, dtype, label="one GTX 580")
    columns = column_ledgers(to_two_devices(grouped), batch_size, image_size, dtype)
    return (one, *(replace(c, label=f"column {i} (GPU {i})") for i, c in enumerate(columns, 1)))


def ledger_table(ledgers: Sequence[MemoryLedger], limit: int = GTX580_BYTES) -> DisplayTable:
    """Several ledgers side by side: weights, gradients, momentum, (weight copies,)
    activations and total in MiB, and the total's share of ``limit`` (a GTX 580's 3 GiB)."""
    keys = list(ledgers[0].summary())
    if not any(ledger.weight_copies for ledger in ledgers):
        keys.remove("weight copies")
    rows = [(k, *(f"{ledger.summary()[k] / MIB:,.1f}" for ledger in ledgers)) for k in keys]
    rows.append((f"share of {limit / MIB:,.0f} MiB", *(f"{x.total / limit:.0%}" for x in ledgers)))
    first = ledgers[0]
    notes = (
        f"MiB; batch {first.batch_size}, {first.image_size} px, {first.dtype}; saved activations "
        "measured with saved_tensors_hooks (see alexnet_lab.analysis.memory).",
    )
    columns = ("", *(ledger.label for ledger in ledgers))
    return DisplayTable(columns, tuple(rows), notes, align="l" + "r" * len(ledgers))


def cuda_peak(
    model: nn.Module,
    batch_size: int = 128,
    image_size: int = 224,
    dtype: torch.dtype = torch.float32,
) -> dict[torch.device, int]:
    """Peak bytes allocated on each CUDA device of ``model`` during an SGD step.

    Runs two steps of the paper's SGD (momentum 0.9, weight decay; a tiny learning rate, but
    it does change the weights) on random images, as :func:`alexnet_lab.train.train_step`
    does (forward, zero_grad, backward, step, autocast for a low-precision ``dtype``), and
    returns ``torch.cuda.max_memory_allocated`` of each device over the second step, the
    first one having made the momentum buffers. Compare with :attr:`MemoryLedger.total`
    (:func:`memory_ledger` or :func:`column_ledgers` for the same case): the peak also holds
    the batch, the logits, the gradients flowing back and cuDNN's workspace, so it is larger.

    Raises:
        RuntimeError: ``model`` has no parameters on a CUDA device.
    """
    devices = sorted({p.device for p in model.parameters() if p.device.type == "cuda"}, key=str)
    if not devices:
        raise RuntimeError("cuda_peak needs a model with parameters on a CUDA device")
    autocast = _autocast_dtype(model, dtype)
    first = next(model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=MOMENTUM,
                          weight_decay=WEIGHT_DECAY)  # fmt: skip
    x = torch.randn(batch_size, 3, image_size, image_size, device=first.device, dtype=first.dtype)
    model.train()
    for step in range(2):
        if step == 1:
            for d in devices:
                torch.cuda.synchronize(d)
                torch.cuda.reset_peak_memory_stats(d)
        with _autocast(model, autocast):
            logits = model(x)
        y = torch.randint(0, logits.shape[1], (batch_size,), device=logits.device)
        loss = nn.functional.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        del logits, loss
    for d in devices:
        torch.cuda.synchronize(d)
    return {d: torch.cuda.max_memory_allocated(d) for d in devices}


def check_on_cuda(
    model: nn.Module,
    batch_size: int = 128,
    image_size: int = 224,
    dtype: torch.dtype = torch.float32,
) -> DisplayTable:
    """The ledger's total against the measured peak (:func:`cuda_peak`) on each CUDA device
    of ``model`` (each column's ledger for a :class:`~alexnet_lab.split.TwoDeviceAlexNet`,
    summed where both columns share a device).

    Raises:
        RuntimeError: ``model`` has no parameters on a CUDA device.
    """
    peaks = cuda_peak(model, batch_size, image_size, dtype)
    if isinstance(model, TwoDeviceAlexNet):
        ledgers = column_ledgers(model, batch_size, image_size, dtype)
        places = [next(c.parameters()).device for c in model.columns]
    else:
        ledgers = (memory_ledger(model, batch_size, image_size, dtype),)
        places = [next(model.parameters()).device]
    rows = []
    for device, peak in peaks.items():
        total = sum(x.total for x, d in zip(ledgers, places, strict=True) if d == device)
        cells = (total / MIB, peak / MIB)
        rows.append((str(device), *(f"{c:,.1f}" for c in cells), f"{peak / total:.2f}"))
    notes = (
        f"MiB; batch {batch_size}, {image_size} px, {_name(dtype)}. The peak also holds the "
        "batch, the logits, the gradients flowing back and cuDNN's workspace.",
    )
    return DisplayTable(("device", "ledger", "peak allocated", "peak / ledger"), tuple(rows),
                        notes, align="lrrr")  # fmt: skip
