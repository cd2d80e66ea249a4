"""Training throughput: the project's pipeline against a torchvision-reference-style one.

Run by hand, never in the tests (it measures time). Same machine, same batch size, one run:

* project, end to end: packed uint8 images held on the device, batched augmentation
  (:func:`alexnet_lab.augment.train_batch`), a train step of the paper's two-column AlexNet
  (channels_last and bf16 autocast on a GPU, as :func:`alexnet_lab.train.train` does);
* reference, end to end: ``torchvision.datasets.ImageFolder`` on the JPEGs, PIL transforms
  (RandomResizedCrop, RandomHorizontalFlip, ToTensor, Normalize), a ``DataLoader`` with
  worker processes, and ``torchvision.models.alexnet`` in float32 (the defaults of
  torchvision's classification reference script);
* data loading alone, for both;
* pure compute (random tensors already on the device), for both nets with their own step.

Every train step is the trainer's own (:func:`alexnet_lab.train.train_step`): forward,
cross-entropy, top-1/top-5 counts, one sync for the NaN check, backward, SGD with momentum
and weight decay.

    ALEXNET_LAB_DATA=/work/shared/data .venv/bin/python bench/train_throughput.py \
        --size 112 --batch 128 --steps 10 --repeats 3

prints a table and writes ``bench/results/<host>-<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import transforms

from alexnet_lab import augment
from alexnet_lab.data import find_data
from alexnet_lab.model import AlexNet
from alexnet_lab.pack import ensure_pack, load_pack
from alexnet_lab.precision import use_bf16
from alexnet_lab.train import sgd, train_step

RESULTS = Path(__file__).resolve().parent / "results"
GOAL = 1.1  # a full epoch (data + compute) within 1.1x the time of pure compute


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_step(model: nn.Module, amp: bool) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The trainer's SGD step (:func:`alexnet_lab.train.train_step`) for ``model``."""
    opt = sgd(model, lr=0.01)
    return lambda x, y: train_step(model, opt, x, y, amp)


def timed(
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    step: Callable[[torch.Tensor, torch.Tensor], object] | None,
    steps: int,
    warmup: int,
    device: torch.device,
) -> dict[str, float]:
    """Run ``warmup`` then ``steps`` batches through ``step`` (None: just fetch them)."""
    images = 0
    for i in range(warmup + steps):
        if i == warmup:
            sync(device)
            start, images = time.perf_counter(), 0
        x, y = next(batches)
        if step is not None:
            step(x, y)
        images += len(x)
    sync(device)
    seconds = time.perf_counter() - start
    return {"img_per_s": images / seconds, "images": images, "seconds": seconds}


def project_batches(
    pack: dict, size: int, batch: int, device: torch.device, seed: int = 0
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The trainer's batches: shuffled indices, random crops, flips and PCA colour."""
    gen = torch.Generator().manual_seed(seed)
    x_train, y_train = pack["images"].to(device), pack["labels"].to(device)
    stats = {k: pack[k].to(device) for k in ("mean", "std", "eigvals", "eigvecs")}
    side = x_train.shape[-1]
    while True:
        order = torch.randperm(len(x_train), generator=gen)
        for s in range(len(x_train) // batch):
            params = augment.draw_augmentation(batch, side, size, generator=gen)
            idx = order[s * batch : (s + 1) * batch].to(device, non_blocking=True)
            yield augment.train_batch(x_train[idx], size, stats, params=params), y_train[idx]


def reference_loader(
    split_dir: Path, size: int, batch: int, workers: int, per_class: int | None, cuda: bool
) -> DataLoader:
    """torchvision's classification reference: ImageFolder, PIL transforms, workers."""
    tf = transforms.Compose(
        [
            transforms.RandomResizedCrop(size),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ]
    )
    dataset = torchvision.datasets.ImageFolder(str(split_dir), tf)
    if per_class is not None:  # the first per_class files of each class, as the pack
        seen: dict[int, int] = {}
        keep = []
        for i, (_, label) in enumerate(dataset.samples):
            seen[label] = seen.get(label, 0) + 1
            if seen[label] <= per_class:
                keep.append(i)
        dataset = Subset(dataset, keep)
    return DataLoader(
        dataset,
        batch_size=batch,
        shuffle=True,
        num_workers=workers,
        pin_memory=cuda,
        drop_last=True,
        persistent_workers=workers > 0,
    )


def reference_batches(
    loader: DataLoader, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    while True:
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def random_batches(
    n: int, size: int, classes: int, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    x = torch.randn(n, 3, size, size, device=device)
    y = torch.randint(classes, (n,), device=device)
    while True:
        yield x, y


def machine(device: torch.device) -> dict[str, object]:
    info: dict[str, object] = {
        "host": socket.gethostname(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "device": str(device),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]  # fmt: skip
        info["cpu"] = names[0] if names else info["cpu"]
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def table(results: dict[str, dict[str, float]]) -> str:
    rows = [("data loading", "data"), ("pure compute", "compute"), ("end to end", "e2e")]
    lines = [f"{'img/s':<26}{'project':>12}{'reference':>12}"]
    for label, key in rows:
        cells = [results[f"{who}_{key}"]["img_per_s"] for who in ("project", "reference")]
        lines.append(f"{label:<26}" + "".join(f"{c:>12.1f}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=112, help="crop side (default 112, the cpu profile)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10, help="timed train steps per measurement")
    p.add_argument("--data-steps", type=int, default=20, help="timed batches, data alone")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps before each measurement")
    p.add_argument("--repeats", type=int, default=3, help="times each measurement is repeated")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="DataLoader workers")
    p.add_argument("--per-class", type=int, default=None, help="images per class (default all)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--data", default=None, help="dataset or data root ($ALEXNET_LAB_DATA)")
    p.add_argument("--compile", action="store_true", help="torch.compile the paper net")
    p.add_argument("--out", type=Path, default=None, help="JSON file (default bench/results/)")
    args = p.parse_args(argv)

    device = torch.device(args.device)
    fast = use_bf16(device)
    torch.backends.cudnn.benchmark = device.type == "cuda"  # as the trainer and the reference
    dataset = find_data(args.data)
    side = augment.resize_for(args.size)
    t0 = time.perf_counter()
    pack = load_pack(ensure_pack(dataset, "train", side, args.per_class))
    pack_s = time.perf_counter() - t0
    classes = len(pack["classes"])
    print(f"{len(pack['images'])} training images, pack at {side}px loaded in {pack_s:.1f} s; "
          f"crops {args.size}px, batch {args.batch}, device {device}, "
          f"{torch.get_num_threads()} threads, {args.workers} workers", flush=True)  # fmt: skip

    torch.manual_seed(0)
    paper = AlexNet(classes, init="kaiming").to(device)
    reference = torchvision.models.alexnet(num_classes=classes).to(device)
    if fast:
        paper = paper.to(memory_format=torch.channels_last)
    paper_step = make_step(torch.compile(paper) if args.compile else paper, amp=fast)
    reference_step = make_step(reference, amp=False)
    loader = reference_loader(
        dataset / "train",
        args.size,
        args.batch,
        args.workers,
        args.per_class,
        device.type == "cuda",
    )
    n, w = args.steps, args.warmup
    runs = {
        "project_data": lambda: timed(
            project_batches(pack, args.size, args.batch, device), None, args.data_steps, w, device
        ),
        "reference_data": lambda: timed(
            reference_batches(loader, device), None, args.data_steps, w, device
        ),
        "project_compute": lambda: timed(
            random_batches(args.batch, args.size, classes, device), paper_step, n, w, device
        ),
        "reference_compute": lambda: timed(
            random_batches(args.batch, args.size, classes, device), reference_step, n, w, device
        ),
        "project_e2e": lambda: timed(
            project_batches(pack, args.size, args.batch, device), paper_step, n, w, device
        ),
        "reference_e2e": lambda: timed(
            reference_batches(loader, device), reference_step, n, w, device
        ),
    }
    # Round robin, so that a slow spell of a shared machine hits every measurement alike;
    # each measurement reports the median of its repeats.
    repeats: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for r in range(args.repeats):
        for name, run in runs.items():
            m = run()
            repeats[name].append(m)
            print(f"{r + 1}/{args.repeats} {name:<18} {m['img_per_s']:10.1f} img/s "
                  f"({m['images']} images in {m['seconds']:.1f} s)", flush=True)  # fmt: skip
    results = {
        name: {"img_per_s": statistics.median(m["img_per_s"] for m in ms), "repeats": ms}
        for name, ms in repeats.items()
    }

    ratio = {
        who: results[f"{who}_compute"]["img_per_s"] / results[f"{who}_e2e"]["img_per_s"]
        for who in ("project", "reference")
    }
    speedup = results["project_e2e"]["img_per_s"] / results["reference_e2e"]["img_per_s"]
    print()
    print(table(results))
    print(f"{'epoch time / compute time':<26}{ratio['project']:>12.2f}{ratio['reference']:>12.2f}")
    met = "met" if ratio["project"] <= GOAL else "not met"
    print(f"project end to end = {speedup:.2f} x reference end to end; "
          f"goal epoch <= {GOAL} x compute: {met}")  # fmt: skip

    out = args.out or RESULTS / f"{socket.gethostname()}-{device.type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "command": "bench/train_throughput.py " + " ".join(argv or sys.argv[1:]),
        "machine": machine(device),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "train_images": len(pack["images"]),
        "pack_seconds": pack_s,
        "results": results,
        "epoch_over_compute": ratio,
        "project_over_reference_e2e": speedup,
        "goal_epoch_over_compute": GOAL,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
