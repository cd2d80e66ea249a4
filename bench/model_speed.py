"""Pure-compute training speed of AlexNet variants: where does the paper net lose time?

Random tensors already on the device, the trainer's own step
(:func:`alexnet_lab.train.train_step`), so only the network is measured. Each variant
changes one thing against the paper net (bf16 autocast and channels_last where the hardware
has bf16, :func:`alexnet_lab.precision.use_bf16`):

* ``paper``: :class:`alexnet_lab.model.AlexNet` as trained;
* ``paper_nn_lrn``: PyTorch's ``nn.LocalResponseNorm`` (alpha * 5) instead of ours;
* ``paper_no_lrn``, ``paper_one_column``: without LRN, without the two columns;
* ``paper_fp32``: float32, contiguous (NCHW) layout;
* ``paper_compiled``: through ``torch.compile``; the ``*_compiled`` variants likewise;
* ``paper_plain_lrn_compiled``: LRN written as plain tensor operations, so that the compiler
  also derives its backward pass;
* ``paper_split_compiled``: each grouped convolution run as two convolutions, one per column;
* ``paper_cudagraphs``: compiled with ``mode="reduce-overhead"`` (CUDA graphs);
* ``paper_triton_lrn``, ``paper_triton_lrn_compiled``, ``paper_triton_lrn_cudagraphs``: the
  LRN as two fused Triton kernels (``bench/triton_lrn.py``; GPU only);
* ``torchvision_bf16``, ``torchvision_fp32``: torchvision's one-column AlexNet.

First a ``torch.profiler`` table of the paper net's slowest kernels.

    python bench/model_speed.py --size 224 --batch 256 --out speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from train_throughput import machine, make_step, random_batches, timed

from alexnet_lab.model import (
    AlexNet,
    ColumnConv,
    PlainLRN,
    TorchvisionAlexNet,
    torch_lrn,
)
from alexnet_lab.precision import use_bf16


def with_nn_lrn(model: AlexNet) -> AlexNet:
    model.features.lrn1, model.features.lrn2 = torch_lrn(), torch_lrn()
    return model


def with_plain_lrn(model: AlexNet) -> AlexNet:
    model.features.lrn1, model.features.lrn2 = PlainLRN(), PlainLRN()
    return model


def with_triton_lrn(model: AlexNet) -> AlexNet:
    from triton_lrn import TritonLRN  # GPU only: Triton compiles for the device

    model.features.lrn1, model.features.lrn2 = TritonLRN(), TritonLRN()
    return model


def with_split_columns(model: AlexNet) -> AlexNet:
    for name in ("conv2", "conv4", "conv5"):
        setattr(model.features, name, ColumnConv(getattr(model.features, name)))
    return model


def paper(**kwargs) -> AlexNet:
    return AlexNet(10, init="kaiming", **kwargs)


def triton_paper() -> AlexNet:
    return with_triton_lrn(paper())


VARIANTS = {  # name: (model factory, bf16 + channels_last, torch.compile mode or None)
    "paper": (paper, True, None),
    "paper_nn_lrn": (lambda: with_nn_lrn(paper()), True, None),
    "paper_no_lrn": (lambda: paper(lrn=False), True, None),
    "paper_one_column": (lambda: paper(two_columns=False), True, None),
    "paper_fp32": (paper, False, None),
    "torchvision_bf16": (lambda: TorchvisionAlexNet(10), True, None),
    "torchvision_fp32": (lambda: TorchvisionAlexNet(10), False, None),
    "paper_compiled": (paper, True, "default"),
    "paper_no_lrn_compiled": (lambda: paper(lrn=False), True, "default"),
    "paper_plain_lrn_compiled": (lambda: with_plain_lrn(paper()), True, "default"),
    "paper_split_compiled": (lambda: with_split_columns(paper()), True, "default"),
    "torchvision_compiled": (lambda: TorchvisionAlexNet(10), True, "default"),
    "paper_cudagraphs": (paper, True, "reduce-overhead"),
    "paper_triton_lrn": (triton_paper, True, None),
    "paper_triton_lrn_compiled": (triton_paper, True, "default"),
    "paper_triton_lrn_cudagraphs": (triton_paper, True, "reduce-overhead"),
}


def time_variant(name: str, args: argparse.Namespace, device: torch.device) -> dict:
    """Median img/s of the variant ``name`` over ``args.repeats`` runs of ``args.steps``."""
    factory, fast, mode = VARIANTS[name]
    fast = fast and use_bf16(device)
    torch.manual_seed(0)
    model = factory().to(device)
    if fast:
        model = model.to(memory_format=torch.channels_last)
    t0 = time.perf_counter()
    step = make_step(torch.compile(model, mode=mode) if mode else model, amp=fast)
    batches = random_batches(args.batch, args.size, 10, device)
    timed(batches, step, 1, 2, device)  # warm-up: cuDNN autotuning, compilation
    warm_s = time.perf_counter() - t0
    runs = [timed(batches, step, args.steps, 2, device) for _ in range(args.repeats)]
    return {
        "img_per_s": statistics.median(r["img_per_s"] for r in runs),
        "warmup_seconds": warm_s,
        "repeats": runs,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--only", nargs="*", default=list(VARIANTS), help="variants to run")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = device.type == "cuda"
    record: dict = {"machine": machine(device), "settings": vars(args) | {"out": str(args.out)}}
    torch.manual_seed(0)
    model = paper().to(device)
    fast = use_bf16(device)
    if fast:
        model = model.to(memory_format=torch.channels_last)
    step, batches = make_step(model, amp=fast), random_batches(args.batch, args.size, 10, device)
    timed(batches, step, 3, 0, device)
    cuda = device.type == "cuda"
    activities = [torch.profiler.ProfilerActivity.CPU]
    if cuda:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        timed(batches, step, 5, 0, device)
    sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    try:
        text = prof.key_averages().table(sort_by=sort, row_limit=25, max_name_column_width=70)
    except Exception:  # newer releases call it device time
        text = prof.key_averages().table(
            sort_by="self_device_time_total", row_limit=25, max_name_column_width=70
        )
    print(text)
    record["profile_table"] = text
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    results = record["results"] = {}
    for name in args.only:
        try:
            results[name] = time_variant(name, args, device)
        except Exception as e:  # one failing variant (a kernel that does not build) ends no run
            results[name] = {"error": f"{type(e).__name__}: {e}"[:3000]}
            print(f"{name:<20} failed: {results[name]['error'][:300]}", flush=True)
            continue
        print(f"{name:<20}{results[name]['img_per_s']:>10.0f} img/s "
              f"(warm-up {results[name]['warmup_seconds']:.1f} s)", flush=True)  # fmt: skip
        args.out.write_text(json.dumps(record, indent=1) + "\n")
    args.out.write_text(json.dumps(record, indent=1) + "\n")

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
