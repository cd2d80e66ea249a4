"""Train AlexNet the paper's way, on packed images that live on the training device.

One function, :func:`train`, does it all: pack the data (once), augment every batch on the
device (:func:`alexnet_lab.augment.train_batch`), step SGD, evaluate the centre crops of the
validation set after every epoch, and write ``checkpoint.pt`` and ``history.json`` into the
run folder. Ctrl-C saves the exact state before stopping; ``resume=True`` continues from it
and gives the same weights as a run that was never stopped.

Launched by ``torchrun`` (``RANK`` and ``WORLD_SIZE`` set), it trains with
DistributedDataParallel: each of the W processes takes 1/W of every batch of
``profile.batch_size`` images, so the result matches one process (up to float rounding and
dropout masks).

On a GPU, and on CPUs with native bf16 (:func:`alexnet_lab.precision.use_bf16`), batches go
through the net in channels_last memory format under bf16 autocast; ``compile=True`` also
runs it through ``torch.compile``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import signal
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from alexnet_lab import augment
from alexnet_lab.checkpoint import (
    CHECKPOINT,
    HISTORY,
    CheckpointError,
    CheckpointWriter,
    load_checkpoint,
    load_model_state,
)
from alexnet_lab.config import Profile
from alexnet_lab.data import find_dataset
from alexnet_lab.evaluate import evaluate, topk_correct
from alexnet_lab.model import AlexNet
from alexnet_lab.pack import ensure_pack, load_pack, quiet
from alexnet_lab.precision import use_bf16

STATS = ("mean", "std", "eigvals", "eigvecs")
MOMENTUM, WEIGHT_DECAY = 0.9, 5e-4  # the paper's SGD (section 5)
PLATEAU_PATIENCE = 5  # epochs without a new best val top-1 before lr / 10
# Profile fields a resumed run must share with its checkpoint.
SAME_ON_RESUME = (
    "image_size", "train_per_class", "val_per_class", "batch_size", "lr", "schedule", "init",
    "dropout", "min_crop_area", "label_smoothing", "warmup_epochs",
)  # fmt: skip


class DivergedError(RuntimeError):
    """The training loss became NaN or infinite."""


def find_data(data: str | os.PathLike | None) -> Path:
    """A dataset folder with train/ and val/: ``data`` itself, or the Imagenette copy under
    the data root ``data`` (see :func:`alexnet_lab.data.find_dataset`)."""
    if data is not None and (Path(data) / "train").is_dir():
        return Path(data)
    return find_dataset("imagenette", data)


def build_model(profile: Profile, num_classes: int) -> AlexNet:
    """The paper's two-column AlexNet with the profile's init and dropout."""
    return AlexNet(num_classes, init=profile.init, dropout=profile.dropout)


def make_scheduler(opt: torch.optim.Optimizer, profile: Profile, epochs: int, steps: int):
    """ReduceLROnPlateau on val top-1 (stepped per epoch) or cosine over ``epochs`` of
    ``steps`` batches, after ``profile.warmup_epochs`` of linear warm-up (stepped per batch)."""
    if profile.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="max", factor=0.1, patience=PLATEAU_PATIENCE
        )
    if profile.schedule == "cosine":
        warm = profile.warmup_epochs * steps
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps - warm)
        if not warm:
            return cosine
        linear = torch.optim.lr_scheduler.LinearLR(opt, 1 / warm, total_iters=warm)
        return torch.optim.lr_scheduler.SequentialLR(opt, [linear, cosine], milestones=[warm])
    raise ValueError(f"schedule must be 'plateau' or 'cosine', got {profile.schedule!r}")


def sgd(model: nn.Module, lr: float) -> torch.optim.SGD:
    """The paper's optimizer: SGD with momentum 0.9 and weight decay 5e-4.

    PyTorch's fused implementation updates each tensor in one pass; on 2 CPU cores it took
    22 ms per step against 115 ms for the default one (61M parameters).
    """
    return torch.optim.SGD(
        model.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, fused=True
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


def _check_config(saved: dict, profile: Profile, path: Path) -> None:
    diff = [
        f"{k}: checkpoint {saved['profile'].get(k)!r}, now {getattr(profile, k)!r}"
        for k in SAME_ON_RESUME
        if saved["profile"].get(k) != getattr(profile, k)
    ]
    if diff:
        raise CheckpointError(f"Cannot resume {path} with a different setup: {'; '.join(diff)}")


def _write_history(history: list[dict], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(history, indent=1))
    os.replace(tmp, path)


class _StopFlag:
    """Turns the first Ctrl-C (SIGINT) into a flag that the loop checks after each step."""

    def __init__(self) -> None:
        self.set = False
        self.previous = None

    def __enter__(self) -> _StopFlag:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self.previous = None
        return self

    def _handle(self, signum, frame) -> None:
        if self.set:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.set = True

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def train(
    profile: Profile,
    out: str | os.PathLike,
    data: str | os.PathLike | None = None,
    *,
    epochs: int | None = None,
    resume: bool = False,
    packs: str | os.PathLike | None = None,
    compile: bool = False,
    seed: int = 0,
    bf16: bool | None = None,
) -> list[dict]:
    """Train AlexNet with ``profile``'s recipe and write the run into the folder ``out``.

    Args:
        profile: sizes and recipe (see :mod:`alexnet_lab.config`).
        out: run folder; gets ``checkpoint.pt`` and ``history.json`` after every epoch.
        data: a dataset folder (``<data>/{train,val}/<class>/``) or a data root holding
            Imagenette; None: ``$ALEXNET_LAB_DATA``.
        epochs: total epochs (default ``profile.epochs``).
        resume: continue the checkpoint in ``out`` (exactly where it stopped).
        packs: folder of the packed datasets (default ``packs/`` in the repository).
        compile: run the model through ``torch.compile``.
        seed: seeds the weights, the data order, the augmentation and dropout.
        bf16: bf16 autocast and channels_last; None: where the hardware has bf16
            (:func:`alexnet_lab.precision.use_bf16`).

    Returns:
        The history: one dict per epoch with "epoch", "lr", "train_loss", "train_top1",
        "train_top5", "val_loss", "val_top1", "val_top5" (accuracies in %), "img_per_s" and
        "seconds" (wall time since the start of the run).

    Raises:
        KeyboardInterrupt: after Ctrl-C, once the checkpoint is saved.
        DivergedError: the loss became NaN or inf (names the epoch and step).
        CheckpointError: ``out`` already has a checkpoint and ``resume`` is False, or the
            checkpoint does not fit the profile.
    """
    out = Path(out)
    epochs = epochs or profile.epochs
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    own_group = distributed and not dist.is_initialized()
    if own_group:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        return _train(profile, out, data, epochs, resume, packs, compile, seed, bf16, distributed)
    finally:
        if own_group:
            dist.destroy_process_group()


def _train(
    profile: Profile,
    out: Path,
    data: str | os.PathLike | None,
    epochs: int,
    resume: bool,
    packs: str | os.PathLike | None,
    compile: bool,
    seed: int,
    bf16: bool | None,
    distributed: bool,
) -> list[dict]:
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    fast = use_bf16(device) if bf16 is None else bf16
    torch.backends.cudnn.benchmark = device.type == "cuda"  # fixed shapes: fastest kernels
    path = out / CHECKPOINT
    if path.exists() and not resume:
        raise CheckpointError(
            f"{path} exists: resume it (--resume) or choose another run folder (--out)."
        )
    if profile.batch_size % world:
        raise ValueError(f"batch size {profile.batch_size} does not split over {world} processes")
    out.mkdir(parents=True, exist_ok=True)

    # Data: packed once, then held on the device as uint8.
    dataset = find_data(data)
    side = augment.resize_for(profile.image_size)
    splits = (("train", profile.train_per_class), ("val", profile.val_per_class))
    if rank > 0:
        dist.barrier()  # wait for rank 0 to write the packs
    tr, va = (load_pack(ensure_pack(dataset, split, side, n, packs)) for split, n in splits)
    if rank == 0 and distributed:
        dist.barrier()
    stats = {k: tr[k].to(device) for k in STATS}
    x_train, y_train = tr["images"].to(device), tr["labels"].to(device)
    x_val, y_val = va["images"][rank::world].to(device), va["labels"][rank::world].to(device)
    n_train, batch, local = len(x_train), profile.batch_size, profile.batch_size // world
    steps = n_train // batch  # the last incomplete batch is dropped
    if steps == 0:
        raise ValueError(f"batch size {batch} is larger than the {n_train} training images")

    torch.manual_seed(seed)
    random.seed(seed)
    gen = torch.Generator().manual_seed(seed)  # data order and augmentation
    model = build_model(profile, len(tr["classes"])).to(device)
    if fast:
        model = model.to(memory_format=torch.channels_last)
    opt = sgd(model, profile.lr)
    sched = make_scheduler(opt, profile, epochs, steps)
    history: list[dict] = []
    start_epoch, start_step, order, sums = 0, 0, None, torch.zeros(4, dtype=torch.float64)
    elapsed = 0.0
    if resume and path.exists():
        ck = load_checkpoint(path)
        _check_config(ck["config"], profile, path)
        load_model_state(model, ck["model"], path)
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        _set_rng_state(ck["rng"], gen)
        history, start_epoch, start_step = ck["history"], ck["epoch"], ck["step"]
        order, sums, elapsed = ck["order"], ck["sums"], ck["elapsed"]
    net = DistributedDataParallel(model) if distributed else model
    net = torch.compile(net) if compile else net
    config = {"profile": dataclasses.asdict(profile), "epochs": epochs, "seed": seed}
    config["dataset"] = str(dataset)
    show = rank == 0 and not quiet()

    def state(epoch: int, step: int) -> dict:
        return {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "rng": _rng_state(gen),
            "epoch": epoch,
            "step": step,
            "order": order if step else None,
            "sums": sums,
            "elapsed": elapsed + time.perf_counter() - t0,
            "history": history,
            "config": config,
            "stats": {k: v.cpu() for k, v in stats.items()},
            "classes": tr["classes"],
        }

    t0 = time.perf_counter()
    if rank == 0:
        print(
            f"Training {profile.name}: {n_train} images at {profile.image_size}px "
            f"(packed at {side}px), {epochs} epochs of {steps} steps of {batch}, "
            f"{profile.schedule} schedule, on {device} x{world}. Run folder: {out}",
            flush=True,
        )
    epoch_bar = tqdm(range(start_epoch, epochs), desc="epochs", disable=not show, initial=0)
    with _StopFlag() as stop, CheckpointWriter(path) as checkpoint:
        for epoch in epoch_bar:
            net.train()
            if start_step == 0:
                order = torch.randperm(n_train, generator=gen)
                sums = torch.zeros(4, dtype=torch.float64)  # loss, top1, top5, n
            bar = tqdm(range(start_step, steps), desc=f"epoch {epoch + 1}", leave=False,
                       disable=not show)  # fmt: skip
            t_epoch, seen = time.perf_counter(), 0
            for step in bar:
                params = augment.draw_augmentation(
                    batch, side, profile.image_size, profile.min_crop_area, gen
                )
                part = slice(rank * local, (rank + 1) * local)
                idx = order[step * batch : (step + 1) * batch][part].to(device, non_blocking=True)
                x = augment.train_batch(
                    x_train[idx], profile.image_size, stats, params=[p[part] for p in params]
                )
                y = y_train[idx]
                try:
                    batch_sums = train_step(net, opt, x, y, fast, profile.label_smoothing)
                except DivergedError as e:
                    raise DivergedError(
                        f"{e} at epoch {epoch + 1}, step {step + 1} (lr "
                        f"{opt.param_groups[0]['lr']:g}). Lower the learning rate, or check the "
                        "inputs for NaN or inf."
                    ) from None
                if profile.schedule == "cosine":
                    sched.step()
                sums += torch.cat([batch_sums.double(), torch.tensor([len(y)])])
                seen += len(y) * world
                if show:
                    bar.set_postfix(
                        loss=f"{sums[0] / sums[3]:.3f}",
                        top1=f"{100 * sums[1] / sums[3]:.1f}%",
                        img_s=f"{seen / (time.perf_counter() - t_epoch):.0f}",
                    )
                if stop.set:
                    if rank == 0:
                        checkpoint.save(state(epoch, step + 1))
                        checkpoint.wait()
                        print(
                            f"\nInterrupted at epoch {epoch + 1}, step {step + 1}: saved "
                            f"{path}; continue with --resume.",
                            flush=True,
                        )
                    raise KeyboardInterrupt
            img_s = seen / (time.perf_counter() - t_epoch)
            start_step = 0
            if distributed:
                dist.all_reduce(sums)
            val = evaluate(model, x_val, y_val, profile.image_size, stats, bf16=fast)
            val_sums = torch.tensor([val["loss"], val["top1"], val["top5"], 1.0]) * val["n"]
            if distributed:
                dist.all_reduce(val_sums)
            row = {
                "epoch": epoch + 1,
                "lr": opt.param_groups[0]["lr"],
                "train_loss": (sums[0] / sums[3]).item(),
                "train_top1": (100 * sums[1] / sums[3]).item(),
                "train_top5": (100 * sums[2] / sums[3]).item(),
                "val_loss": (val_sums[0] / val_sums[3]).item(),
                "val_top1": (val_sums[1] / val_sums[3]).item(),
                "val_top5": (val_sums[2] / val_sums[3]).item(),
                "img_per_s": img_s,
                "seconds": elapsed + time.perf_counter() - t0,
            }
            history.append(row)
            if profile.schedule == "plateau":
                sched.step(row["val_top1"])
            if rank == 0:
                checkpoint.save(state(epoch + 1, 0))
                _write_history(history, out / HISTORY)
                line = (
                    f"epoch {epoch + 1}/{epochs}: train loss {row['train_loss']:.3f} top-1 "
                    f"{row['train_top1']:.1f}% | val top-1 {row['val_top1']:.1f}% top-5 "
                    f"{row['val_top5']:.1f}% | lr {row['lr']:.2g}, {img_s:.0f} img/s, "
                    f"{row['seconds'] / 60:.1f} min"
                )
                if show:
                    epoch_bar.write(line)
                else:
                    print(line, flush=True)
    return history
