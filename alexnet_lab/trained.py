"""Trained models: load one with what it was trained on, training it first if needed.

Chapters call :func:`load_trained` for a trained AlexNet and its :class:`TrainedMeta`, and
:func:`load_history` for its training curves. Both read ``runs/<profile>/<variant>/`` in
the repository, which ``alexnet-lab train --profile <profile> [--set field=value ...]``
writes.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from alexnet_lab.checkpoint import (
    CHECKPOINT,
    HISTORY,
    CheckpointError,
    load_checkpoint,
    load_model_state,
)
from alexnet_lab.config import Config, config_diff, get_profile, variant_name
from alexnet_lab.model import AlexNet
from alexnet_lab.paths import RUNS
from alexnet_lab.split import to_grouped
from alexnet_lab.train import build_model, train


@dataclass(frozen=True)
class TrainedMeta:
    """What a trained model was trained with and how well it did, read from its checkpoint.

    Attributes:
        config: the :class:`~alexnet_lab.config.Config` of the run.
        variant: its name (``"base"``, or the overridden fields).
        classes: class folder names in label order.
        stats: "mean" (3,), "std" (3,), "eigvals" (3,), "eigvecs" (3, 3): the colour
            statistics its inputs are normalized with (:func:`alexnet_lab.augment.normalize`).
        epochs: epochs trained.
        metrics: the last epoch's row of the history ("val_top1", "val_top5", ...).
        dataset: the dataset folder it was trained on.
        path: the checkpoint file.
        commits: the git commits of the code that trained it (empty for checkpoints written
            before they were recorded).
    """

    config: Config
    variant: str
    classes: list[str]
    stats: dict[str, torch.Tensor]
    epochs: int
    metrics: dict[str, float]
    dataset: str
    path: Path
    commits: tuple[str, ...] = ()


def _as_config(profile: str | Config | None) -> Config:
    return profile if isinstance(profile, Config) else get_profile(profile)


def run_dir(profile: str | Config | None = None, runs: str | os.PathLike | None = None) -> Path:
    """The run folder of a config: ``runs/<profile>/<variant>`` (``runs`` defaults to the
    repository's)."""
    config = _as_config(profile)
    return Path(runs or RUNS) / config.name / variant_name(config)


def load_run(path: str | os.PathLike) -> tuple[AlexNet, TrainedMeta]:
    """The AlexNet stored in a checkpoint file (or run folder), in eval mode on the CPU, and
    its :class:`TrainedMeta`. A run trained on two devices comes back as the same network in
    one piece (:func:`alexnet_lab.split.to_grouped`)."""
    path = Path(path)
    ck = load_checkpoint(path)
    path = path / CHECKPOINT if path.is_dir() else path
    try:
        config = Config(**ck["config"])
    except TypeError as e:
        raise CheckpointError(
            f"{path} was written by another version of alexnet_lab ({e}); retrain it."
        ) from e
    if config.two_devices is None:
        model = build_model(config, len(ck["classes"]))
        load_model_state(model, ck["model"], path)
    else:  # its devices may not exist here: load the columns on the CPU, as one grouped model
        split = build_model(dataclasses.replace(config, two_devices="cpu,cpu"), len(ck["classes"]))
        load_model_state(split, ck["model"], path)
        model = to_grouped(split)
    meta = TrainedMeta(
        config=config,
        variant=ck["variant"],
        classes=list(ck["classes"]),
        stats=ck["stats"],
        epochs=ck["epoch"],
        metrics=ck["history"][-1] if ck["history"] else {},
        dataset=ck["dataset"],
        path=path,
        commits=tuple(ck.get("commits", ())),
    )
    return model.eval(), meta


def load_trained(
    profile: str | Config | None = None,
    data: str | os.PathLike | None = None,
    runs: str | os.PathLike | None = None,
) -> tuple[AlexNet, TrainedMeta]:
    """The AlexNet trained with ``profile`` (in eval mode, on the CPU) and its metadata.

    If its run folder has no finished run, this trains one first (resuming an unfinished
    one; through ``torch.compile`` where CUDA is available), saying how long that takes.

    Args:
        profile: "smoke", "cpu", "gpu", or a :class:`~alexnet_lab.config.Config` (a variant);
            None: ``$ALEXNET_LAB_PROFILE`` (see :func:`alexnet_lab.config.get_profile`).
        data: data root or dataset folder for training (default ``$ALEXNET_LAB_DATA``).
        runs: folder of the run folders (default ``runs/`` in the repository).
    """
    config = _as_config(profile)
    folder = run_dir(config, runs)
    path = folder / CHECKPOINT
    if path.exists():
        model, meta = load_run(path)
        diff = config_diff(meta.config.recipe(), config.recipe())
        if diff:
            changed = "; ".join(f"{k}: run {a!r}, asked {b!r}" for k, (a, b) in diff.items())
            raise CheckpointError(
                f"{path} was trained with another config ({changed}). Move the run folder "
                "away to train this one, or load the run with load_run()."
            )
        if meta.epochs >= config.epochs:
            return model, meta
    what = "Continuing the unfinished" if path.exists() else "No trained model yet; training a"
    compile = torch.cuda.is_available()
    sets = "".join(f" --set {part}" for part in variant_name(config).split(",") if "=" in part)
    command = f"alexnet-lab train --profile {config.name}{sets}" + (" --compile" * compile)
    epochs = f"{config.epochs} epoch" + ("s" if config.epochs > 1 else "")
    minutes = config.expected_minutes()
    if minutes is not None:
        epochs += f", about {minutes:.2g} min on {config.timed_on}"
    print(f"{what} run in {folder}: {epochs} (`{command}` does the same).", flush=True)
    train(config, folder, data, resume=path.exists(), compile=compile)
    return load_run(path)


def load_history(
    profile: str | Config | None = None, runs: str | os.PathLike | None = None
) -> list[dict[str, float]]:
    """Per-epoch metrics of a run (see :func:`alexnet_lab.train.train`)."""
    path = run_dir(profile, runs) / HISTORY
    if not path.exists():
        raise FileNotFoundError(
            f"No training history at {path}. Train first: `alexnet-lab train --profile "
            f"{_as_config(profile).name}` or load_trained()."
        )
    return json.loads(path.read_text())
