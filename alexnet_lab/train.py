"""Train AlexNet on packed images that live on the training device.

:func:`train` wires three pieces: :func:`train_one_epoch` (augment every batch on the
device with :func:`alexnet_lab.augment.train_batch`, step SGD), :func:`evaluate_epoch`
(centre crops of the validation set) and a checkpoint after every epoch
(:func:`checkpoint_state`, written by :class:`~alexnet_lab.checkpoint.CheckpointWriter`
with ``history.json`` beside it). Ctrl-C or SIGTERM saves the exact state before stopping;
``resume=True`` continues from it and gives the same weights as a run that never stopped.

Launched by ``torchrun`` (``RANK`` and ``WORLD_SIZE`` set), it trains with
DistributedDataParallel: each of the W processes takes 1/W of every batch of
``config.batch_size`` images, so the result matches one process (up to float rounding and
dropout masks).

On a GPU, and on CPUs with native bf16 (:func:`alexnet_lab.precision.use_bf16`), batches go
through the net in channels_last memory format under bf16 autocast; ``compile=True`` also
runs it through ``torch.compile``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import signal
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from alexnet_lab import augment
from alexnet_lab.checkpoint import (
    CHECKPOINT,
    CheckpointError,
    CheckpointWriter,
    RunLock,
    clean_temporary,
    load_checkpoint,
    load_model_state,
    write_history,
)
from alexnet_lab.config import (
    MOMENTUM,
    PLATEAU_PATIENCE,
    WEIGHT_DECAY,
    Config,
    config_diff,
    variant_name,
)
from alexnet_lab.data import eval_split, find_data
from alexnet_lab.evaluate import evaluate, topk_correct
from alexnet_lab.model import AlexNet, CifarNet, NarrowAlexNet
from alexnet_lab.pack import ensure_pack, load_pack, quiet
from alexnet_lab.paths import git_commit
from alexnet_lab.precision import use_bf16
from alexnet_lab.split import TwoDeviceAlexNet, parse_devices

STATS = ("mean", "std", "eigvals", "eigvecs")


class DivergedError(RuntimeError):
    """The training loss became NaN or infinite."""


def build_model(config: Config, num_classes: int) -> AlexNet | TwoDeviceAlexNet | CifarNet:
    """The AlexNet that ``config`` describes (LRN, pooling, dropout, columns, activation,
    init); with ``config.two_devices``, a :class:`TwoDeviceAlexNet` with its columns there;
    with a ``width`` other than 1, a :class:`NarrowAlexNet`; with ``arch="cifar"``, the
    :class:`CifarNet` for ``config.image_size``."""
    if config.arch == "cifar" or config.width != 1:
        if config.two_devices is not None:
            raise ValueError("two_devices splits the paper's AlexNet (arch=alexnet, width=1)")
        if config.arch == "cifar":
            return CifarNet(num_classes, config.image_size, lrn=config.lrn, init=config.init,
                            activation=config.activation, conv1_std=config.conv1_std)  # fmt: skip
    options = {"lrn": config.lrn, "overlap_pool": config.overlap_pool, "dropout": config.dropout,
               "activation": config.activation, "init": config.init,
               "conv1_std": config.conv1_std}  # fmt: skip
    if config.width != 1:
        return NarrowAlexNet(num_classes, width=config.width, two_columns=config.two_columns,
                             **options)  # fmt: skip
    if config.two_devices is None:
        return AlexNet(num_classes, two_columns=config.two_columns, **options)
    if not config.two_columns:
        raise ValueError("two_devices puts one column on each device: it needs two_columns=true")
    return TwoDeviceAlexNet(num_classes, config.two_devices, **options)


def input_stats(pack: dict, config: Config) -> dict[str, torch.Tensor]:
    """The colour statistics inputs are normalized with (see :func:`augment.normalize`).

    "mean_std": the pack's per-channel mean and std (0..1 pixels). "mean", the paper's:
    the mean is subtracted from 0..255 pixels, which :func:`augment.normalize` computes with
    a std of 1/255.
    """
    stats = {k: pack[k] for k in STATS}
    if config.normalize == "mean":
        stats["std"] = torch.full_like(stats["std"], 1 / 255)
    return stats


def split_holdout(pack: dict, per_class: int) -> tuple[dict, dict]:
    """A training pack split in two: (the rest, the last ``per_class`` images of each class),
    each with the colour statistics of its own images (:func:`augment.pca_colour_stats`).

    Raises:
        ValueError: a class has no more than ``per_class`` images.
    """
    labels = pack["labels"]
    held = torch.zeros(len(labels), dtype=torch.bool)
    for c in labels.unique():
        where = (labels == c).nonzero().flatten()
        if len(where) <= per_class:
            raise ValueError(
                f"holdout={per_class} leaves no training images of class "
                f"{pack['classes'][c]!r}, which has {len(where)}"
            )
        held[where[-per_class:]] = True

    def part(mask: torch.Tensor) -> dict:
        stats = dict(zip(STATS, augment.pca_colour_stats(pack["images"][mask]), strict=True))
        return {**pack, "images": pack["images"][mask], "labels": labels[mask], **stats}

    return part(~held), part(held)


def make_scheduler(opt: torch.optim.Optimizer, config: Config, steps: int):
    """ReduceLROnPlateau on val top-1 (stepped per epoch) or cosine over ``config.epochs`` of
    ``steps`` batches, after ``config.warmup_epochs`` of linear warm-up (stepped per batch);
    "constant" keeps ``config.lr`` (a scheduler that is never stepped)."""
    if config.schedule == "constant":
        return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)
    if config.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="max", factor=0.1, patience=PLATEAU_PATIENCE
        )
    warm = config.warmup_epochs * steps
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * steps - warm)
    if not warm:
        return cosine
    linear = torch.optim.lr_scheduler.LinearLR(opt, 1 / warm, total_iters=warm)
    return torch.optim.lr_scheduler.SequentialLR(opt, [linear, cosine], milestones=[warm])


def sgd(model: nn.Module, lr: float, weight_decay: float = WEIGHT_DECAY) -> torch.optim.SGD:
    """The paper's optimizer: SGD with momentum 0.9 and weight decay (the paper: 5e-4), in
    PyTorch's fused implementation, which updates each tensor in one pass."""
    return torch.optim.SGD(
        model.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=weight_decay, fused=True
    )


def train_step(
    net: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    amp: bool,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """One SGD step on a normalized batch x (N, 3, s, s) with labels y (N,).

    With ``amp`` (see :func:`alexnet_lab.precision.use_bf16`) the batch runs channels_last
    under bf16 autocast. The only device sync is the copy of the result.

    Returns:
        (3,) on the CPU: the summed loss, top-1 hits and top-5 hits of the batch.

    Raises:
        DivergedError: the loss is NaN or inf (the weights are left unchanged).
    """
    if amp:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        logits = net(x)
    loss = F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
    top = topk_correct(logits.detach(), y)
    sums = torch.stack([loss.detach() * len(y), top[0], top[1]]).cpu()
    if not math.isfinite(sums[0].item()):
        raise DivergedError(f"Loss is {sums[0].item() / len(y)}")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return sums


@dataclass
class Progress:
    """Where a run stands: what a checkpoint stores besides the weights and optimizer.

    ``step`` counts the batches done in epoch ``epoch + 1`` (0 at an epoch boundary), with
    that epoch's shuffled ``order`` and running ``sums`` (loss, top-1, top-5, images).
    """

    epoch: int = 0
    step: int = 0
    order: torch.Tensor | None = None
    sums: torch.Tensor = field(default_factory=lambda: torch.zeros(4, dtype=torch.float64))
    history: list[dict] = field(default_factory=list)
    elapsed: float = 0.0


@dataclass
class Batches:
    """The training images on the device and how one process takes its part of a batch."""

    images: torch.Tensor  # (N, 3, S, S) uint8
    labels: torch.Tensor  # (N,)
    stats: dict[str, torch.Tensor]
    rank: int = 0
    world: int = 1


def _rng_state(gen: torch.Generator) -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "data": gen.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(tuple(tuple(x) if isinstance(x, list) else x for x in state["python"]))
    gen.set_state(state["data"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class StopFlag:
    """Turns the first Ctrl-C (SIGINT) or SIGTERM into a flag that the loop checks after each
    step; a second one stops at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.set = False
        self.previous: dict = {}

    def __enter__(self) -> StopFlag:
        for sig in self.SIGNALS:
            try:
                self.previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: leave the signals alone
                pass
        return self

    def _handle(self, signum, frame) -> None:
        if self.set:
            raise KeyboardInterrupt
        self.set = True

    def trip(self) -> None:
        """Stop after the current step (a failed checkpoint write calls this)."""
        self.set = True

    def __exit__(self, *exc) -> None:
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)


def train_one_epoch(
    net: nn.Module,
    opt: torch.optim.Optimizer,
    sched,
    data: Batches,
    config: Config,
    progress: Progress,
    gen: torch.Generator,
    amp: bool,
    stop: StopFlag | None = None,
    show: bool = False,
) -> float:
    """Train epoch ``progress.epoch + 1`` from batch ``progress.step``; update ``progress``.

    Returns the images per second of this process group. If ``stop`` is set after a step,
    returns at once with ``progress.step`` at the next batch (the caller saves and stops);
    otherwise ``progress.step`` is the number of batches.
    """
    n, batch = len(data.images), config.batch_size
    steps, local = n // batch, batch // data.world  # the last incomplete batch is dropped
    part = slice(data.rank * local, (data.rank + 1) * local)
    if progress.step == 0:
        progress.order = torch.randperm(n, generator=gen)
        progress.sums = torch.zeros(4, dtype=torch.float64)
    side = data.images.shape[-1]
    bar = tqdm(range(progress.step, steps), desc=f"epoch {progress.epoch + 1}", leave=False,
               disable=not show)  # fmt: skip
    start, seen = time.perf_counter(), 0
    for step in bar:
        params = augment.draw_augmentation(
            batch, side, config.image_size, config.min_crop_area, gen
        )
        if not config.pca_colour:
            params[5].zero_()
        if not config.augment:  # the centre crop, unflipped, as evaluate() takes it
            centre, size = torch.full((batch,), (side - config.image_size) // 2), config.image_size
            params = (centre, centre, torch.full((batch,), size), torch.full((batch,), size),
                      torch.zeros(batch, dtype=torch.bool), params[5])  # fmt: skip
        idx = progress.order[step * batch : (step + 1) * batch][part].to(data.images.device)
        x = augment.train_batch(
            data.images[idx], config.image_size, data.stats, params=[p[part] for p in params]
        )
        y = data.labels[idx]
        try:
            batch_sums = train_step(net, opt, x, y, amp, config.label_smoothing)
        except DivergedError as e:
            raise DivergedError(
                f"{e} at epoch {progress.epoch + 1}, step {step + 1} (lr "
                f"{opt.param_groups[0]['lr']:g}). Lower the learning rate, or check the inputs "
                "for NaN or inf."
            ) from None
        if config.schedule == "cosine":
            sched.step()
        progress.sums += torch.cat([batch_sums.double(), torch.tensor([len(y)])])
        progress.step = step + 1
        seen += len(y) * data.world
        if show:
            s = progress.sums
            bar.set_postfix(loss=f"{s[0] / s[3]:.3f}", top1=f"{100 * s[1] / s[3]:.1f}%",
                            img_s=f"{seen / (time.perf_counter() - start):.0f}")  # fmt: skip
        if stop is not None and stop.set:
            break
    return seen / max(time.perf_counter() - start, 1e-9)


@dataclass
class AllReduceMeter:
    """Bytes of gradients this process has handed to DDP's all-reduce (see
    :func:`counting_allreduce`)."""

    bytes: int = 0


def counting_allreduce(meter: AllReduceMeter, bucket):
    """DDP's default communication (all-reduce of each gradient bucket, then the mean),
    counting the bytes of every bucket in ``meter``: a DDP communication hook. (``bucket``,
    a ``dist.GradBucket``, and the returned future carry no annotations: DDP checks them
    against the classes, and this module's annotations are strings.)"""
    meter.bytes += bucket.buffer().numel() * bucket.buffer().element_size()
    return allreduce_hook(None, bucket)


def evaluate_epoch(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: Config,
    stats: dict[str, torch.Tensor],
    amp: bool,
    distributed: bool = False,
) -> dict[str, float]:
    """Loss, top-1 and top-5 (%) of the centre crops of ``images`` (N, 3, S, S) uint8, summed
    over all processes when ``distributed``."""
    val = evaluate(model, images, labels, config.image_size, stats, bf16=amp)
    sums = torch.tensor([val["loss"], val["top1"], val["top5"], 1.0]) * val["n"]
    if distributed:
        dist.all_reduce(sums)
    return {"loss": (sums[0] / sums[3]).item(), "top1": (sums[1] / sums[3]).item(),
            "top5": (sums[2] / sums[3]).item()}  # fmt: skip


def checkpoint_state(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched,
    gen: torch.Generator,
    progress: Progress,
    config: Config,
    meta: dict,
) -> dict:
    """Everything a checkpoint holds (see :mod:`alexnet_lab.checkpoint`), in one place."""
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng": _rng_state(gen),
        "epoch": progress.epoch,
        "step": progress.step,
        "order": progress.order if progress.step else None,
        "sums": progress.sums,
        "elapsed": progress.elapsed,
        "history": progress.history,
        "config": dataclasses.asdict(config),
        "variant": variant_name(config),
        **meta,  # "dataset", "classes", "stats", "commits"
    }


def check_resume(saved: dict, config: Config, path: Path) -> None:
    """Refuse to resume ``path`` (saved config dict) with a config that trains something else.

    Only ``epochs`` may change, and only with the plateau schedule: a cosine schedule is
    planned for its run length, so a longer run needs a new run folder.
    """
    diff = config_diff(saved, config.recipe())
    changed = [f"{k}: checkpoint {old!r}, now {new!r}" for k, (old, new) in diff.items()]
    if changed == [] or (list(diff) == ["epochs"] and config.schedule == "plateau"):
        return
    hint = (
        " A cosine schedule decays to 0 at the end of the planned epochs, so a run cannot be "
        "extended: train a new variant (--set epochs=N) instead."
        if "epochs" in diff and config.schedule != "plateau"
        else ""
    )
    raise CheckpointError(
        f"Cannot resume {path} with a different config: {'; '.join(changed)}.{hint}"
    )


def train(
    config: Config,
    out: str | os.PathLike,
    data: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    packs: str | os.PathLike | None = None,
    compile: bool = False,
    bf16: bool | None = None,
) -> list[dict]:
    """Train AlexNet as ``config`` says and write the run into the folder ``out``.

    Args:
        config: data, recipe and architecture (see :mod:`alexnet_lab.config`).
        out: run folder; gets ``checkpoint.pt`` and ``history.json`` after every epoch.
        data: a dataset folder (``<data>/{train,val}/<class>/``) or a data root holding
            ``config.dataset``; None: ``$ALEXNET_LAB_DATA``.
        resume: continue the checkpoint in ``out`` (exactly where it stopped).
        packs: folder of the packed datasets (default ``packs/`` in the repository).
        compile: run the model through ``torch.compile``.
        bf16: bf16 autocast and channels_last; None: where the hardware has bf16
            (:func:`alexnet_lab.precision.use_bf16`).

    Returns:
        The history: one dict per epoch with "epoch", "lr", "train_loss", "train_top1",
        "train_top5", "val_loss", "val_top1", "val_top5" (accuracies in %), "img_per_s" and
        "seconds" (wall time since the start of the run); under torchrun also
        "allreduce_bytes", the gradient bytes each process gave DDP's all-reduce per step.

    Raises:
        KeyboardInterrupt: after Ctrl-C or SIGTERM, once the checkpoint is saved.
        DivergedError: the loss became NaN or inf (names the epoch and step).
        CheckpointError: ``out`` already has a checkpoint and ``resume`` is False, or the
            checkpoint was trained with another config.
    """
    if resume and not (Path(out) / CHECKPOINT).exists():  # before anything is written
        raise CheckpointError(
            f"Nothing to resume: {out} has no {CHECKPOINT}. To start a fresh run there, drop "
            "--resume."
        )
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    if distributed and config.two_devices:
        raise ValueError(
            "two_devices (model parallel) cannot run under torchrun (data parallel): every "
            "process would use the same two devices. Drop --set two_devices, or run one process."
        )
    own_group = distributed and not dist.is_initialized()
    if own_group:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        lock = RunLock(Path(out)) if not distributed or dist.get_rank() == 0 else nullcontext()
        with lock:
            return _train(config, Path(out), data, resume, packs, compile, bf16, distributed)
    finally:
        if own_group:
            dist.destroy_process_group()


def _train(config, out, data, resume, packs, compile, bf16, distributed) -> list[dict]:
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    devices = parse_devices(config.two_devices) if config.two_devices else (device,)
    device = devices[0]  # a TwoDeviceAlexNet takes its batches and gives its logits there
    amp = all(map(use_bf16, devices)) if bf16 is None else bf16
    torch.backends.cudnn.benchmark = any(d.type == "cuda" for d in devices)  # fixed shapes
    path = out / CHECKPOINT
    if path.exists() and not resume:
        raise CheckpointError(
            f"{path} exists: resume it (--resume) or choose another run folder (--out)."
        )
    if rank == 0 and (stale := clean_temporary(out)):
        names = ", ".join(p.name for p in stale)
        print(f"Removed what an interrupted write left in {out}: {names}", flush=True)
    if config.batch_size % world:
        raise ValueError(f"batch size {config.batch_size} does not split over {world} processes")
    out.mkdir(parents=True, exist_ok=True)

    # Data: packed once, then held on the device as uint8.
    dataset = find_data(data, config.dataset)
    side = augment.resize_for(config.image_size)
    splits = (("train", config.train_per_class), (eval_split(dataset), config.val_per_class))
    if config.holdout:  # the eval split is never read: train/ gives both parts
        splits = (("train", config.train_per_class and config.train_per_class + config.holdout),)
    if rank > 0:
        dist.barrier()  # wait for rank 0 to write the packs
    parts = [load_pack(ensure_pack(dataset, split, side, n, packs)) for split, n in splits]
    tr, va = split_holdout(parts[0], config.holdout) if config.holdout else parts
    if rank == 0 and distributed:
        dist.barrier()
    stats = input_stats(tr, config)
    batches = Batches(tr["images"].to(device), tr["labels"].to(device),
                      {k: v.to(device) for k, v in stats.items()}, rank, world)  # fmt: skip
    x_val, y_val = va["images"][rank::world].to(device), va["labels"][rank::world].to(device)
    steps = len(batches.images) // config.batch_size
    if steps == 0:
        raise ValueError(
            f"batch size {config.batch_size} is larger than the {len(batches.images)} "
            "training images"
        )

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)  # data order and augmentation
    model = build_model(config, len(tr["classes"]))
    model = model if config.two_devices else model.to(device)  # the columns stay where they are
    if amp:
        model = model.to(memory_format=torch.channels_last)
    opt = sgd(model, config.lr, config.weight_decay)
    sched = make_scheduler(opt, config, steps)
    progress, commits = Progress(), []
    if resume and path.exists():
        ck = load_checkpoint(path)
        commits = list(ck.get("commits", ["unrecorded"]))  # written before commits were kept
        check_resume(ck["config"], config, path)
        load_model_state(model, ck["model"], path)
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        _set_rng_state(ck["rng"], gen)
        progress = Progress(ck["epoch"], ck["step"], ck["order"], ck["sums"], ck["history"],
                            ck["elapsed"])  # fmt: skip
        if rank == 0:
            write_history(progress.history, out)  # the checkpoint is the truth
    meter = AllReduceMeter()
    if distributed:
        net = DistributedDataParallel(model)
        net.register_comm_hook(meter, counting_allreduce)
    else:
        net = model
    net = torch.compile(net) if compile else net
    commits += [c for c in [git_commit()] if c and c not in commits]  # the code that trains it
    meta = {"dataset": str(dataset), "classes": tr["classes"], "stats": stats, "commits": commits}
    show = rank == 0 and not quiet()
    t0, elapsed0 = time.perf_counter(), progress.elapsed

    def save(writer: CheckpointWriter) -> None:
        progress.elapsed = elapsed0 + time.perf_counter() - t0
        if rank == 0:
            writer.save(checkpoint_state(model, opt, sched, gen, progress, config, meta))

    if rank == 0:
        print(
            f"Training {config.name}/{variant_name(config)}: {len(batches.images)} images at "
            f"{config.image_size}px (packed at {side}px), {config.epochs} epochs of {steps} "
            f"steps of {config.batch_size}, {config.schedule} schedule, on {device} x{world}. "
            f"Run folder: {out}",
            flush=True,
        )
    epoch_bar = tqdm(range(progress.epoch, config.epochs), desc="epochs", disable=not show)
    with StopFlag() as stop, CheckpointWriter(path, on_error=stop.trip) as writer:
        for _ in epoch_bar:
            net.train()
            first, meter.bytes = progress.step, 0
            img_s = train_one_epoch(net, opt, sched, batches, config, progress, gen, amp, stop,
                                    show)  # fmt: skip
            if stop.set:
                writer.wait()  # a failed write stops the run here, with its reason
                save(writer)
                writer.wait()
                if rank == 0:
                    print(f"\nInterrupted at epoch {progress.epoch + 1}, step {progress.step}: "
                          f"saved {path}; continue with --resume.", flush=True)  # fmt: skip
                raise KeyboardInterrupt
            if distributed:
                dist.all_reduce(progress.sums)
            val = evaluate_epoch(model, x_val, y_val, config, batches.stats, amp, distributed)
            s = progress.sums
            row = {
                "epoch": progress.epoch + 1,
                "lr": opt.param_groups[0]["lr"],
                "train_loss": (s[0] / s[3]).item(),
                "train_top1": (100 * s[1] / s[3]).item(),
                "train_top5": (100 * s[2] / s[3]).item(),
                "val_loss": val["loss"],
                "val_top1": val["top1"],
                "val_top5": val["top5"],
                "img_per_s": img_s,
                "seconds": elapsed0 + time.perf_counter() - t0,
            }
            if distributed:  # what each process gave the all-reduce, per step
                row["allreduce_bytes"] = meter.bytes / max(progress.step - first, 1)
            progress.history.append(row)
            progress.epoch, progress.step = progress.epoch + 1, 0
            if config.schedule == "plateau":
                sched.step(row["val_top1"])
            save(writer)
            if rank == 0:
                line = (
                    f"epoch {row['epoch']}/{config.epochs}: train loss {row['train_loss']:.3f} "
                    f"top-1 {row['train_top1']:.1f}% | val top-1 {row['val_top1']:.1f}% top-5 "
                    f"{row['val_top5']:.1f}% | lr {row['lr']:.2g}, {img_s:.0f} img/s, "
                    f"{row['seconds'] / 60:.1f} min"
                )
                epoch_bar.write(line) if show else print(line, flush=True)
    return progress.history
