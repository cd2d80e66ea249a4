"""Named studies: lists of variants of one profile, trained with one budget, and a runner.

A :class:`Study` is a set of variants (small overrides of a profile's config, see
:func:`alexnet_lab.config.with_overrides`), the seeds to train each with, and the budget
every variant shares (more overrides, such as ``epochs``). :func:`run_experiment` trains
each (variant, seed) into its own run folder, ``runs/<profile>/<variant>/``, with
:func:`alexnet_lab.trained.load_trained` (which resumes an unfinished run, never re-runs a
finished one and refuses a folder trained with another config), and writes one results
JSON: the numbers and curves of every run, its seed, wall time, the machine and the git
commit::

    alexnet-lab experiment tiny --profile smoke
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from alexnet_lab.checkpoint import HISTORY
from alexnet_lab.config import Config, with_overrides
from alexnet_lab.paths import REPO, RUNS
from alexnet_lab.trained import load_history, load_trained, run_dir


@dataclass(frozen=True)
class Study:
    """A named experiment.

    Attributes:
        name: what ``alexnet-lab experiment NAME`` calls it.
        question: what it measures, in one sentence.
        variants: {label: overrides}; the baseline is ``{}``.
        seeds: every variant is trained once per seed.
        budget: overrides every variant shares (for example ``{"epochs": 10}``).
    """

    name: str
    question: str
    variants: dict[str, dict] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    budget: dict = field(default_factory=dict)

    def configs(self, profile: Config) -> list[tuple[str, int, Config]]:
        """(label, seed, config) of every run of the study on ``profile``."""
        return [
            (label, seed, with_overrides(profile, {**self.budget, **overrides, "seed": seed}))
            for label, overrides in self.variants.items()
            for seed in self.seeds
        ]


STUDIES = {
    s.name: s
    for s in (
        Study(
            "tiny",
            "Does the runner train, record and skip finished runs? LRN on and off, one seed.",
            variants={"baseline": {}, "no LRN": {"lrn": False}},
        ),
    )
}


def get_study(name: str) -> Study:
    """The study called ``name``; the error lists the known ones."""
    if name not in STUDIES:
        raise ValueError(f"Unknown experiment {name!r}; choose one of {', '.join(STUDIES)}")
    return STUDIES[name]


def machine() -> dict[str, str | int]:
    """The machine a result was measured on: CPU or GPU, threads, torch version."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "device": gpu or f"CPU ({platform.processor() or platform.machine()})",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def git_commit() -> str | None:
    """The repository's commit (with "+dirty" for uncommitted changes), or None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def run_experiment(
    name: str,
    profile: Config,
    data: str | os.PathLike | None = None,
    runs: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
) -> Path:
    """Train every run of study ``name`` on ``profile`` and write its results JSON.

    Args:
        name: a key of :data:`STUDIES`.
        profile: the profile the variants override.
        data: data root or dataset folder (default ``$ALEXNET_LAB_DATA``).
        runs: folder of the run folders (default ``runs/`` in the repository).
        out: the results file (default ``<runs>/<profile>/experiments/<name>.json``).

    Returns:
        The path of the results JSON: {"study", "question", "profile", "machine", "commit",
        "finished", "runs": [{"label", "variant", "seed", "config", "final", "history",
        "wall_seconds", "trained_now"}]}.
    """
    study = get_study(name)
    runs = Path(runs or RUNS)
    out = Path(out or runs / profile.name / "experiments" / f"{name}.json")
    results = []
    for label, seed, config in study.configs(profile):
        history = run_dir(config, runs) / HISTORY
        finished = history.exists() and len(load_history(config, runs)) >= config.epochs
        print(f"{study.name}: {label}, seed {seed}", flush=True)
        _, meta = load_trained(config, data, runs)  # trains or resumes it if unfinished
        curves = load_history(config, runs)
        results.append({
            "label": label,
            "variant": meta.variant,
            "seed": seed,
            "config": asdict(meta.config),
            "final": meta.metrics,
            "history": curves,
            "wall_seconds": curves[-1]["seconds"],
            "trained_now": not finished,
        })  # fmt: skip
    record = {
        "study": study.name,
        "question": study.question,
        "profile": profile.name,
        "machine": machine(),
        "commit": git_commit(),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "runs": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, out)
    return out
