"""The model the book trains: load it (training it first if needed) and its history.

Chapters call :func:`load_trained` for a trained AlexNet and :func:`load_history` for its
training curves. Both read ``runs/<profile>/`` in the repository, which
``alexnet-lab train --profile <profile>`` writes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from alexnet_lab.checkpoint import CHECKPOINT, HISTORY, load_checkpoint, load_model_state
from alexnet_lab.config import Profile, get_profile
from alexnet_lab.model import AlexNet
from alexnet_lab.train import build_model, train

RUNS = Path(__file__).resolve().parent.parent / "runs"


def run_dir(profile: str | None = None, runs: str | os.PathLike | None = None) -> Path:
    """The run folder of a profile: ``runs/<profile>`` (``runs`` defaults to the repo's)."""
    return Path(runs or RUNS) / get_profile(profile).name


def model_from_checkpoint(path: str | os.PathLike) -> AlexNet:
    """The AlexNet stored in a checkpoint file (or run folder), in eval mode on the CPU."""
    return _model(load_checkpoint(Path(path)), Path(path))


def _model(ck: dict, path: Path) -> AlexNet:
    profile = Profile(**ck["config"]["profile"])
    model = build_model(profile, len(ck["classes"]))
    load_model_state(model, ck["model"], path)
    model.classes = ck["classes"]
    model.stats = ck["stats"]
    model.profile = profile
    return model.eval()


def load_trained(
    profile: str | None = None,
    data: str | os.PathLike | None = None,
    runs: str | os.PathLike | None = None,
) -> AlexNet:
    """The AlexNet trained with ``profile`` (default: the current one), in eval mode, on CPU.

    If ``runs/<profile>/`` has no finished run, this trains one first (resuming an
    unfinished one; through ``torch.compile`` where CUDA is available), printing how long that
    takes. The model carries ``model.classes`` (class folder names in label order),
    ``model.stats`` (the colour statistics its inputs are normalized with, see
    :func:`alexnet_lab.augment.normalize`) and ``model.profile`` (the
    :class:`~alexnet_lab.profiles.Profile` it was trained with).

    Args:
        profile: "smoke", "cpu" or "gpu"; None: ``$ALEXNET_LAB_PROFILE`` (see
            :func:`alexnet_lab.profiles.get_profile`).
        data: data root or dataset folder for training (default ``$ALEXNET_LAB_DATA``).
        runs: folder of the run folders (default ``runs/`` in the repository).
    """
    p = get_profile(profile)
    folder = run_dir(p.name, runs)
    path = folder / CHECKPOINT
    if path.exists():
        ck = load_checkpoint(path)
        if ck["epoch"] >= p.epochs:
            return _model(ck, path)
    what = "Continuing the unfinished" if path.exists() else "No trained model yet; training a"
    compile = torch.cuda.is_available()  # 1.9x the img/s of eager on an H100 (bench/README.md)
    command = f"alexnet-lab train --profile {p.name}" + (" --compile" if compile else "")
    epochs = f"{p.epochs} epoch" + ("s" if p.epochs > 1 else "")
    print(
        f"{what} '{p.name}' run in {folder}: {epochs}, about {p.minutes:g} min on "
        f"{p.timed_on} (`{command}` does the same).",
        flush=True,
    )
    train(p, folder, data, resume=path.exists(), compile=compile)
    return model_from_checkpoint(path)


def load_history(
    profile: str | None = None, runs: str | os.PathLike | None = None
) -> list[dict[str, float]]:
    """Per-epoch metrics of the ``profile`` run (see :func:`alexnet_lab.train.train`)."""
    path = run_dir(profile, runs) / HISTORY
    if not path.exists():
        raise FileNotFoundError(
            f"No training history at {path}. Train first: `alexnet-lab train --profile "
            f"{get_profile(profile).name}` or load_trained()."
        )
    return json.loads(path.read_text())
