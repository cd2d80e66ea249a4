"""Training checkpoints: one file per run, replaced atomically after every epoch.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads
with ``torch.load(weights_only=True)`` (no code runs while loading). Keys:

* "model", "optimizer", "scheduler": their ``state_dict()``;
* "epoch": epochs finished; "step": batches finished in the epoch after that (0 at an
  epoch boundary, more after Ctrl-C) and "order", that epoch's shuffled indices;
* "rng": the torch (CPU and CUDA), Python and data/augmentation generator states;
* "history": one dict of metrics per epoch (also in ``history.json``);
* "config": the :class:`~alexnet_lab.config.Config` as a dict, "variant": its name,
  "dataset": the dataset folder, "stats": the colour statistics inputs are normalized with,
  "classes": class names in label order.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import torch
from torch import nn

from alexnet_lab.pack import save_atomic

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.json"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit the model."""


def _cpu_copy(obj: object) -> object:
    """``obj`` with every tensor in its dicts, lists and tuples copied to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu_copy(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_cpu_copy(v) for v in obj)
    return obj


class CheckpointWriter:
    """Writes checkpoints to ``path`` in a background thread, while training goes on.

    A checkpoint holds 0.5 GB (weights and momentum), so writing it can take as long as a
    fast epoch. :meth:`save` copies the state's tensors to the CPU (the next steps change the
    weights in place) and writes the copy atomically (temporary file, then ``os.replace``) in
    a thread, then ``history.json`` from its "history". The next :meth:`save`, :meth:`wait`
    and the end of the ``with`` block wait for that write, and raise its error if it failed.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(self, state: dict) -> None:
        self.wait()
        snapshot = _cpu_copy(state)
        self._thread = threading.Thread(target=self._write, args=(snapshot,), daemon=False)
        self._thread.start()

    def _write(self, snapshot: dict) -> None:
        try:
            save_atomic(snapshot, self.path)
            # history.json follows the checkpoint, so it never gets ahead of it.
            history = self.path.with_name(HISTORY)
            tmp = history.with_name(f".{HISTORY}.tmp")
            tmp.write_text(json.dumps(snapshot["history"], indent=1))
            os.replace(tmp, history)
        except BaseException as e:  # handed to the training thread by wait()
            self._error = e

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise CheckpointError(f"Could not write checkpoint {self.path}: {error}") from error

    def __enter__(self) -> CheckpointWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.wait()


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint with ``weights_only=True``; clear errors for bad files."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {path}. Train one with `alexnet-lab train`.")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"Cannot read checkpoint {path}: {type(e).__name__}: {e}") from e
    if not isinstance(ck, dict) or not {"model", "config", "epoch"} <= set(ck):
        raise CheckpointError(
            f"{path} is not an alexnet-lab checkpoint (a plain state_dict or tensor?): it has "
            "no model, config and epoch. `alexnet-lab train` writes them."
        )
    return ck


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
