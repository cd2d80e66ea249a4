"""Training checkpoints: one file per run, replaced atomically after every epoch.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads
with ``torch.load(weights_only=True)`` (no code runs while loading). Keys:

* "model", "optimizer", "scheduler": their ``state_dict()``;
* "epoch": epochs finished; "step": batches finished in the epoch after that (0 at an
  epoch boundary, more after Ctrl-C) and "order", that epoch's shuffled indices;
* "rng": the torch (CPU and CUDA), Python and data/augmentation generator states;
* "history": one dict of metrics per epoch (also in ``history.json``);
* "config": the profile and options the run was started with, "stats": colour statistics
  of the training pack, "classes": class names in label order.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from alexnet_lab.pack import save_atomic

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.json"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit the model."""


def save_checkpoint(state: dict, path: Path) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, then ``os.replace``)."""
    save_atomic(state, path)


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint with ``weights_only=True``; clear errors for bad files."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {path}. Train one with `alexnet-lab train`.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"Cannot read checkpoint {path}: {type(e).__name__}: {e}") from e


def load_model_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Load ``state`` into ``model``, or say which keys and shapes differ and in which file."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]
    if missing or unexpected or shapes:
        parts = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unexpected {', '.join(unexpected)}" if unexpected else "",
            f"different shapes: {'; '.join(shapes)}" if shapes else "",
        ]
        raise CheckpointError(
            f"Checkpoint {path} does not match the model ({type(model).__name__}): "
            + " | ".join(p for p in parts if p)
        )
    model.load_state_dict(state)
