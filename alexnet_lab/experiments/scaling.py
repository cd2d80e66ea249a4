"""Data parallelism on one machine: one global batch, trained by 1, 2 or 4 processes.

:func:`data_parallel_scaling` launches the trainer under ``torchrun`` (DDP over gloo on the
CPU, NCCL on GPUs) once per process count, on the same config, so every step still takes
``batch_size`` images, split between the processes. It reads back each run's history: the
time per step (from the last epoch's images per second, so start-up and the first epoch's
warm-up are not counted) and the gradient bytes each process gave the all-reduce per step
(:class:`alexnet_lab.train.AllReduceMeter`), and writes them with the machine and the
commit; :func:`scaling_table` shows them::

    alexnet-lab scaling --profile cpu --processes 1 2 4 --out book/results/ddp-cpu.json
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from alexnet_lab.analysis.tables import DisplayTable
from alexnet_lab.analysis.wire import MIB, ring_all_reduce_values
from alexnet_lab.checkpoint import HISTORY, write_json
from alexnet_lab.config import BASE, Config, variant_name, with_overrides
from alexnet_lab.experiments import provenance
from alexnet_lab.paths import RUNS

# Per profile: two epochs without warm-up (the second is timed); on the cpu profile of 20
# steps.
SCALING_BUDGET = {
    "smoke": {"epochs": 2, "warmup_epochs": 0},
    "cpu": {"epochs": 2, "warmup_epochs": 0, "train_per_class": 256, "val_per_class": 10},
    "gpu": {"epochs": 2, "warmup_epochs": 0},
}


def data_parallel_scaling(
    profile: Config,
    processes: Sequence[int] = (1, 2, 4),
    budget: dict | None = None,
    data: str | os.PathLike | None = None,
    runs: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
) -> Path:
    """Train ``profile`` with ``budget`` (default: the profile's :data:`SCALING_BUDGET`) once
    per number of processes, under ``torchrun``; write the time per step and the all-reduce
    volume.

    Each process gets ``os.cpu_count() // n`` threads (at least one), so that together they
    use the machine's cores, as torchrun would on n GPUs. Every run starts afresh in
    ``<runs>/<profile>/scaling/<n>-processes``.

    Returns:
        The results JSON (default ``<runs>/<profile>/experiments/scaling.json``):
        {"profile", "config" (the overrides), "batch_size", "machine", "commit", "finished",
        "rows": [{"processes", "threads", "step_seconds", "img_per_s", "allreduce_bytes",
        "ring_bytes", "val_top1", "wall_seconds"}]}; "allreduce_bytes" is what each process
        gave the all-reduce per step (one process too: DDP runs it, with nobody to talk to)
        and "ring_bytes" what each sends over the wire for it with a ring all-reduce.
    """
    budget = SCALING_BUDGET.get(profile.name, SCALING_BUDGET["gpu"]) if budget is None else budget
    config = with_overrides(profile, budget)
    runs = Path(runs or RUNS)
    out = Path(out or runs / profile.name / "experiments" / "scaling.json")
    variant = variant_name(config)
    sets = [] if variant == BASE else [a for f in variant.split(",") for a in ("--set", f)]
    rows = []
    for n in processes:
        folder = runs / profile.name / "scaling" / f"{n}-processes"
        shutil.rmtree(folder, ignore_errors=True)
        threads = max(1, (os.cpu_count() or 1) // n)
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc_per_node={n}", "-m", "alexnet_lab.cli", "train",
                   "--profile", profile.name, *sets, "--out", str(folder),
                   *(["--data", str(data)] if data else [])]  # fmt: skip
        print(f"scaling: {n} process{'es' if n > 1 else ''} x {threads} threads", flush=True)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(
                f"torchrun with {n} processes failed (exit {done.returncode}):\n"
                f"{done.stdout[-2000:]}{done.stderr[-3000:]}"
            )
        last = json.loads((folder / HISTORY).read_text())[-1]
        reduced = last.get("allreduce_bytes")
        rows.append({
            "processes": n,
            "threads": threads,
            "step_seconds": config.batch_size / last["img_per_s"],
            "img_per_s": last["img_per_s"],
            "allreduce_bytes": reduced,
            "ring_bytes": ring_all_reduce_values(reduced, n) if reduced else 0.0,
            "val_top1": last["val_top1"],
            "wall_seconds": last["seconds"],
        })  # fmt: skip
    record = {"profile": profile.name, "config": budget, "batch_size": config.batch_size,
              **provenance(), "rows": rows}  # fmt: skip
    write_json(record, out)
    return out


def scaling_table(record: dict) -> DisplayTable:
    """:func:`data_parallel_scaling`'s results as a table: one row per number of processes,
    and the machine and commit they were measured on."""
    rows = [(r["processes"], r["threads"], f"{r['step_seconds']:.2f}", f"{r['img_per_s']:.0f}",
             f"{r['allreduce_bytes'] / MIB:,.1f}", f"{r['ring_bytes'] / MIB:,.1f}")
            for r in record["rows"]]  # fmt: skip
    m = record["machine"]
    return DisplayTable(
        columns=(
            "processes",
            "threads each",
            "s per step",
            "img/s",
            "MiB all-reduced",
            "MiB sent (ring)",
        ),  # fmt: skip
        rows=tuple(rows),
        notes=(
            f"Global batch {record['batch_size']}, per process and step; on {m['device']}, "
            f"torch {m['torch']}, commit {(record['commit'] or 'unknown')[:8]}.",
        ),  # fmt: skip
        align="rrrrrr",
    )
