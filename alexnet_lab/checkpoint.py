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
  "classes": class names in label order, "commits": the git commits of the code that trained
  it, oldest first (one, unless it was resumed with other code; missing before 2026-11-30).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import resource
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from alexnet_lab.pack import save_atomic

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.json"
LOCK = ".lock"


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


def write_json(obj: object, path: Path) -> None:
    """Write ``obj`` as JSON to ``path`` atomically: to ``.<name>.tmp`` beside it, then rename
    (creates the folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def write_history(history: list[dict], folder: Path) -> None:
    """Write ``history.json`` into ``folder`` atomically (:func:`write_json`)."""
    write_json(history, Path(folder) / HISTORY)


def clean_temporary(folder: Path) -> list[Path]:
    """Remove the temporary files an interrupted checkpoint or history write left in
    ``folder`` (``.checkpoint.pt.<pid>.tmp``, ``.history.json.tmp``); return their paths."""
    stale = sorted(Path(folder).glob(f".{CHECKPOINT}.*.tmp")) + sorted(
        Path(folder).glob(f".{HISTORY}.tmp")
    )
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _why(error: BaseException, folder: Path) -> str:
    """A plain reason for a failed write: a full disk, a file-size limit, or the error."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return f"no space left in {folder}"
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return "the file-size limit (ulimit -f) was reached"
    try:
        if shutil.disk_usage(folder).free < 1 << 30:
            return f"no space left in {folder} ({type(error).__name__}: {error})"
    except OSError:
        pass
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY:
        return f"the file-size limit (ulimit -f) of {limit} bytes was reached"
    return f"{type(error).__name__}: {error}"


class RunLock:
    """An advisory lock on a run folder, held while a training run writes into it.

    ``fcntl.flock`` on ``<folder>/.lock``: the operating system drops it when the process
    ends, however it ends, so a stale lock never blocks. The file holds the PID of the run
    that holds the lock, for the message another run gets.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._file = None

    def __enter__(self) -> RunLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        file = open(self.folder / LOCK, "a+")  # noqa: SIM115 (held until __exit__)
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            pid = file.read().strip() or "unknown"
            file.close()
            raise CheckpointError(
                f"{self.folder} is in use by another training run (PID {pid}). Wait for it to "
                "finish, stop it, or train into another run folder (--out)."
            ) from None
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class CheckpointWriter:
    """Writes checkpoints to ``path`` in a background thread, while training goes on.

    A checkpoint holds 0.5 GB (weights and momentum), so writing it can take as long as a
    fast epoch. :meth:`save` copies the state's tensors to the CPU (the next steps change the
    weights in place) and writes the copy atomically (temporary file, then ``os.replace``) in
    a thread, then ``history.json`` from its "history", so the history never gets ahead of
    the checkpoint. A failed write calls ``on_error`` at once (the trainer stops after the
    current step); the next :meth:`save`, :meth:`wait` and the end of the ``with`` block
    raise it, naming the reason (a full disk, a file-size limit) and the last good epoch.
    """

    def __init__(self, path: Path, on_error: Callable[[], None] | None = None) -> None:
        self.path = Path(path)
        self.on_error = on_error
        self.last_epoch: int | None = None  # epoch of the last checkpoint written here
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
            write_history(snapshot["history"], self.path.parent)
            self.last_epoch = snapshot["epoch"]
        except BaseException as e:  # handed to the training thread by wait()
            self._error = e
            if self.on_error is not None:
                self.on_error()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            last = (
                f"the last good checkpoint is epoch {self.last_epoch}"
                if self.last_epoch is not None
                else "the checkpoint on disk, if any, is the one from before this run"
            )
            raise CheckpointError(
                f"Could not write checkpoint {self.path}: {_why(error, self.path.parent)}; "
                f"{last}. Make room (or raise the limit), then resume with --resume."
            ) from error

    def __enter__(self) -> CheckpointWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.wait()


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint with ``weights_only=True`` (memory-mapped: tensors are read from
    disk when used); clear errors for bad files."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {path}. Train one with `alexnet-lab train`.")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
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
