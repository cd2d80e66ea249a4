"""Decode a dataset split once into one file that loads in seconds.

A pack holds every image of a split as one uint8 tensor, already resized the way the paper
prepares images (short side to :func:`alexnet_lab.augment.resize_for`, centre square), with
the labels, the class names and the colour statistics of the pixels (mean, std and PCA,
see :func:`alexnet_lab.augment.pca_colour_stats`). Training then never touches a JPEG:
the images go to the training device once and are augmented there in batches.

Packs live in ``packs/`` in the repository (git-ignored), never next to the data, which may
be read-only: ``alexnet-lab pack`` or :func:`ensure_pack` writes them, :func:`load_pack`
reads them.
"""

from __future__ import annotations

import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF
from tqdm.auto import tqdm

from alexnet_lab.augment import pca_colour_stats
from alexnet_lab.data import ImageFolder, load_rgb
from alexnet_lab.paths import PACKS


def pack_name(dataset: Path, split: str, side: int, per_class: int | None) -> str:
    """File name of a pack, e.g. ``imagenette-224_train_128px_all_1a2b3c4d.pt``.

    The last part is a fingerprint of the files that go into the pack (names, sizes and
    modification times), so a changed dataset gets a new pack instead of a stale one.
    """
    digest = hashlib.sha1()
    for path, label in first_per_class(ImageFolder(Path(dataset) / split), per_class):
        st = os.stat(path)
        digest.update(
            f"{Path(path).relative_to(dataset)}:{label}:{st.st_size}:{st.st_mtime_ns}\n".encode()
        )
    return f"{Path(dataset).name}_{split}_{side}px_{per_class or 'all'}_{digest.hexdigest()[:8]}.pt"


def quiet() -> bool:
    """True when progress bars should stay off: not on a terminal, or ``$CI`` is set."""
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


def first_per_class(folder: ImageFolder, per_class: int | None) -> list[tuple[str, int]]:
    """The (path, label) samples of ``folder``: the first ``per_class`` files of each class
    in file-name order, or all of them for None."""
    if per_class is None:
        return list(folder.samples)
    seen: dict[int, int] = {}
    keep = []
    for path, label in folder.samples:  # sorted by class, then file name
        if seen.get(label, 0) < per_class:
            seen[label] = seen.get(label, 0) + 1
            keep.append((path, label))
    return keep


def make_pack(split_dir: Path, side: int, per_class: int | None = None) -> dict:
    """Decode the images of one split, resized to ``side`` x ``side``.

    Args:
        split_dir: ``<dataset>/<split>`` with one folder per class.
        side: short side after resizing; the centre square is kept.
        per_class: the first ``per_class`` images of each class (sorted by file name), or
            None for all.

    Returns:
        dict with "images" (N, 3, side, side) uint8, "labels" (N,) int64, "classes" (list of
        folder names), "side", and the colour statistics "mean", "std", "eigvals", "eigvecs".
    """
    folder = ImageFolder(split_dir)
    samples = first_per_class(folder, per_class)
    resize = v2.Compose([v2.Resize(side), v2.CenterCrop(side)])
    images = torch.empty(len(samples), 3, side, side, dtype=torch.uint8)

    def decode(i: int) -> None:
        images[i] = TF.pil_to_tensor(resize(load_rgb(samples[i][0])))

    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        jobs = pool.map(decode, range(len(samples)))
        bar = tqdm(jobs, total=len(samples), desc=f"pack {split_dir.name}", disable=quiet())
        for _ in bar:
            pass
    mean, std, eigvals, eigvecs = pca_colour_stats(images)
    return {
        "images": images,
        "labels": torch.tensor([label for _, label in samples]),
        "classes": list(folder.classes),
        "side": side,
        "mean": mean,
        "std": std,
        "eigvals": eigvals,
        "eigvecs": eigvecs,
    }


def save_atomic(obj: object, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_pack(path: Path) -> dict:
    """Read a pack written by :func:`make_pack` (``weights_only=True``, so safe)."""
    return torch.load(path, weights_only=True)


def ensure_pack(
    dataset: Path,
    split: str,
    side: int,
    per_class: int | None = None,
    out: Path | None = None,
) -> Path:
    """Path of the pack of ``dataset/split``, written first if it is not in ``out`` yet.

    Args:
        dataset: a dataset folder, ``<dataset>/<split>/<class>/<image>``.
        split: "train" or "val".
        side: image side in the pack (:func:`alexnet_lab.augment.resize_for` of the crop).
        per_class: images per class, None for all.
        out: folder of the packs (default ``packs/`` in the repository).
    """
    path = Path(out or PACKS) / pack_name(dataset, split, side, per_class)
    if path.exists() and not _readable(path):
        print(f"{path} is damaged (it cannot be read); rebuilding it from {dataset}.", flush=True)
        path.unlink()
    if not path.exists():
        save_atomic(make_pack(Path(dataset) / split, side, per_class), path)
    return path


def _readable(path: Path) -> bool:
    """True if ``path`` opens as a pack (memory-mapped: the images are not read)."""
    try:
        pack = torch.load(path, weights_only=True, mmap=True)
    except Exception:
        return False
    return isinstance(pack, dict) and {"images", "labels", "classes"} <= set(pack)
