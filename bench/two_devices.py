"""The two-device AlexNet on a GPU machine (the split chapter's GPU check).

For each pair of devices (default ``cuda:0,cuda:0`` and ``cuda:0,cpu``): the split model's
logits and gradients against the grouped model's (float32, same weights), the time of one
forward and backward pass of a batch against the grouped model's, and the peak memory of each
device against the memory ledger (:func:`alexnet_lab.analysis.memory.check_on_cuda`)::

    python bench/two_devices.py --batch 128 --out /tmp/out/two_devices.json
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn

from alexnet_lab.analysis.memory import check_on_cuda
from alexnet_lab.model import AlexNet
from alexnet_lab.split import WEIGHTED, to_two_devices


def step_seconds(model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int) -> float:
    """Median seconds of one forward and backward pass."""
    times = []
    for _ in range(repeats + 2):
        torch.cuda.synchronize()
        start = time.perf_counter()
        logits = model(x)
        nn.functional.cross_entropy(logits.float(), y.to(logits.device)).backward()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    return sorted(times[2:])[repeats // 2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--pairs", nargs="+", default=["cuda:0,cuda:0", "cuda:0,cpu"])
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.manual_seed(0)
    grouped = AlexNet(1000, dropout=0.0).cuda()
    x = torch.randn(args.batch, 3, args.size, args.size, device="cuda")
    y = torch.randint(0, 1000, (args.batch,), device="cuda")
    seconds = step_seconds(grouped, x, y, args.repeats)
    result = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "pairs": {},
              "batch": args.batch, "size": args.size, "grouped_seconds": seconds}  # fmt: skip
    want_logits = grouped(x)
    nn.functional.cross_entropy(want_logits, y).backward()
    want_logits = want_logits.detach()
    want_grads = {k: p.grad.cpu() for k, p in grouped.named_parameters()}
    for pair in args.pairs:
        split = to_two_devices(grouped.cpu(), pair.split(","))
        grouped.cuda()
        logits = split(x)
        nn.functional.cross_entropy(logits.float(), y.to(logits.device)).backward()
        grad_diff = max(
            (torch.cat([getattr(getattr(c, layer), part).grad.cpu() for c in split.columns])
             - want_grads[f"{'features' if layer.startswith('conv') else 'classifier'}"
                          f".{layer}.{part}"]).abs().max().item()
            for layer in WEIGHTED for part in ("weight", "bias")
        )  # fmt: skip
        split.zero_grad(set_to_none=True)
        result["pairs"][pair] = {
            "max_abs_logit_difference": (logits.float().cpu() - want_logits.cpu())
            .abs()
            .max()
            .item(),
            "max_abs_grad_difference": grad_diff,
            "split_seconds": step_seconds(split, x, y, args.repeats),
            "memory_table": str(check_on_cuda(split, args.batch, args.size)),
        }
        print(pair, json.dumps(result["pairs"][pair], indent=1), flush=True)
    result["grouped_memory_table"] = str(check_on_cuda(grouped, args.batch, args.size))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
