"""Train variants of a profile's recipe side by side, and compare their val accuracy.

Accuracy depends on the recipe, not on the machine, so one GPU can try in minutes the
recipes that each take an hour on 2 CPU cores; the chosen one is then trained, and timed,
where it is meant to run. Each variant is a separate process running
:func:`alexnet_lab.train.train`, at most ``--parallel`` at a time on the same device.

    python bench/recipe_sweep.py --base cpu --data DIR --runs /dev/shm/sweep \
        --variant epochs=26,lr=0.02 --variant image_size=96,epochs=32 --out sweep.json

Without ``--variant`` it trains the base profile as it is (for example ``--base gpu`` to
time the gpu profile). Each result holds the variant, the final and best val top-1/top-5,
seconds per epoch, the wall time and, on a GPU, the peak memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from alexnet_lab import augment
from alexnet_lab.config import Config, get_profile, with_overrides
from alexnet_lab.data import eval_split, find_data
from alexnet_lab.pack import ensure_pack
from alexnet_lab.train import train


def parse_variant(base: Config, text: str) -> Config:
    """``base`` with the fields of ``"key=value,key=value"`` replaced (see
    :func:`alexnet_lab.config.with_overrides`; an empty text gives ``base``)."""
    return with_overrides(base, [item for item in text.split(",") if item])


def run_one(profile: Config, out: Path, data: str | None, compile: bool = False) -> dict:
    """Train ``profile`` into the run folder ``out`` and summarize the run."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    history = train(profile, out, data, compile=compile)
    best = max(history, key=lambda row: row["val_top1"])
    return {
        "profile": dataclasses.asdict(profile),
        "final_val_top1": history[-1]["val_top1"],
        "final_val_top5": history[-1]["val_top5"],
        "best_val_top1": best["val_top1"],
        "best_epoch": best["epoch"],
        "seconds_per_epoch": history[-1]["seconds"] / len(history),
        "train_img_per_s": sorted(row["img_per_s"] for row in history)[len(history) // 2],
        "wall_seconds": time.perf_counter() - t0,
        "peak_gpu_gib": torch.cuda.max_memory_allocated() / 2**30
        if torch.cuda.is_available()
        else None,
        "history": history,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="cpu", help="profile the variants start from")
    p.add_argument("--variant", action="append", default=[], help="key=value,... (repeatable)")
    p.add_argument("--data", help="dataset folder or data root (default $ALEXNET_LAB_DATA)")
    p.add_argument("--runs", type=Path, required=True, help="folder for the run folders")
    p.add_argument("--parallel", type=int, default=4, help="variants training at once")
    p.add_argument("--out", type=Path, required=True, help="JSON file for the results")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: train this one variant
    args = p.parse_args(argv)
    base = get_profile(args.base)

    if args.one is not None:  # child process
        torch.set_num_threads(2)
        result = run_one(parse_variant(base, args.one), args.out.parent, args.data, args.compile)
        args.out.write_text(json.dumps(result, indent=1))
        return 0

    variants = args.variant or [""]
    profiles = [parse_variant(base, v) for v in variants]  # fail early on a typo
    dataset = find_data(args.data)
    for side in sorted({augment.resize_for(prof.image_size) for prof in profiles}):
        for split, n in (
            ("train", base.train_per_class),
            (eval_split(dataset), base.val_per_class),
        ):
            ensure_pack(dataset, split, side, n)  # once, before the processes start
    running: list[tuple[str, subprocess.Popen, Path]] = []
    results = []
    queue = list(variants)
    while queue or running:
        while queue and len(running) < args.parallel:
            v = queue.pop(0)
            out = args.runs / (v.replace("=", "-").replace(",", "_") or base.name) / "result.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, __file__, "--base", args.base, "--runs", str(args.runs),
                   "--out", str(out), "--one", v, "--data", str(dataset)]  # fmt: skip
            cmd += ["--compile"] if args.compile else []
            log = open(out.parent / "log.txt", "w")
            running.append((v, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), out))
        time.sleep(1)
        for item in [r for r in running if r[1].poll() is not None]:
            v, proc, out = item
            running.remove(item)
            if proc.returncode == 0:
                result = json.loads(out.read_text())
            else:
                tail = (out.parent / "log.txt").read_text()[-2000:]
                result = {"profile": v, "error": f"exit {proc.returncode}: {tail}"}
            result["variant"] = v or "(base)"
            results.append(result)
            summary = {k: val for k, val in result.items() if k not in ("history", "profile")}
            print(json.dumps(summary), flush=True)
            args.out.write_text(json.dumps(results, indent=1))
    print(f"\n{'variant':<40}{'final top-1':>12}{'best top-1':>12}{'s/epoch':>10}")
    for r in sorted(results, key=lambda r: -r.get("final_val_top1", -1)):
        if "error" in r:
            print(f"{r['variant']:<40} failed")
            continue
        print(f"{r['variant']:<40}{r['final_val_top1']:>12.2f}{r['best_val_top1']:>12.2f}"
              f"{r['seconds_per_epoch']:>10.1f}")  # fmt: skip
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    os.environ.setdefault("CI", "1")  # no progress bars in the logs
    raise SystemExit(main())
