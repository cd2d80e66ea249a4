"""Where datasets live, how they are downloaded, and how images are read robustly.

Datasets use torchvision's ImageFolder layout, ``<dataset>/<split>/<class>/<image>``,
under a data root that comes from (first match wins):

1. the ``root`` argument (``--data`` on the command line);
2. the ``ALEXNET_LAB_DATA`` environment variable;
3. ``data/`` in the repository.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torchvision
from PIL import Image

from alexnet_lab.paths import REPO_DATA

DATA_ENV = "ALEXNET_LAB_DATA"


# Folder names an Imagenette copy may have, best first: the 224x224 copy used by the
# book, then the official archives (same layout, larger images).
IMAGENETTE_FOLDERS = ("imagenette-224", "imagenette2-320", "imagenette2-160", "imagenette2")
IMAGENETTE_ARCHIVES = torchvision.datasets.Imagenette._ARCHIVES  # size -> (url, md5)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class DataNotFoundError(FileNotFoundError):
    """A dataset is not where the data root says, and could not be downloaded."""


class UnreadableImageError(OSError):
    """An image file that PIL cannot decode (corrupt, truncated or not an image)."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$ALEXNET_LAB_DATA``, else ``data/``."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return REPO_DATA


def _layout_help(root: Path) -> str:
    return (
        f"Expected the layout {root}/<dataset>/{{train,val}}/<class>/<image>.JPEG. Point "
        f"the code at your data with --data DIR or {DATA_ENV}=DIR (now "
        f"{os.environ.get(DATA_ENV, 'unset')})."
    )


def find_dataset(name: str, root: str | os.PathLike | None = None, download: bool = False) -> Path:
    """The folder of dataset ``name`` under the data root.

    ``name`` is a folder name, or "imagenette" for the first Imagenette copy found
    (``imagenette-224``, ``imagenette2-320``, ``imagenette2-160``, ``imagenette2``). With
    ``download=True`` a missing Imagenette is downloaded (imagenette2-160, checksummed).
    """
    base = data_root(root)
    candidates = IMAGENETTE_FOLDERS if name == "imagenette" else (name,)
    for folder in candidates:
        if (base / folder).is_dir():
            return base / folder
    if name == "imagenette" and download:
        return download_imagenette(base)
    hint = (
        f" Or download it: `alexnet-lab download` (or download=True) fetches "
        f"{IMAGENETTE_ARCHIVES['160px'][0]} into {base}."
        if name == "imagenette"
        else ""
    )
    raise DataNotFoundError(
        f"Dataset {name!r} not found: none of {', '.join(candidates)} is in {base}. "
        + _layout_help(base)
        + hint
    )


def find_data(data: str | os.PathLike | None, name: str = "imagenette") -> Path:
    """A dataset folder: ``data`` itself if it holds ``train/``, else dataset ``name`` under
    the data root ``data`` (see :func:`find_dataset`)."""
    if data is not None and (Path(data) / "train").is_dir():
        return Path(data)
    return find_dataset(name, data)


def eval_split(dataset: str | os.PathLike) -> str:
    """The split a dataset is evaluated on: "val" (Imagenette) or, without one, "test"
    (CIFAR-10)."""
    for split in ("val", "test"):
        if (Path(dataset) / split).is_dir():
            return split
    raise DataNotFoundError(
        f"{dataset} has no val/ or test/ folder to evaluate on. " + _layout_help(Path(dataset))
    )


def download_imagenette(root: str | os.PathLike | None = None, size: str = "160px") -> Path:
    """Download and unpack an official Imagenette archive (md5-checked) into the data root.

    Args:
        size: "160px", "320px" or "full" (the archives imagenette2-160/-320/imagenette2).
    """
    if size not in IMAGENETTE_ARCHIVES:
        raise ValueError(f"size must be one of {sorted(IMAGENETTE_ARCHIVES)}, got {size!r}")
    url, md5 = IMAGENETTE_ARCHIVES[size]
    base = data_root(root)
    folder = base / Path(url).name.removesuffix(".tgz")
    if folder.is_dir():
        return folder
    base.mkdir(parents=True, exist_ok=True)
    try:
        torchvision.datasets.utils.download_and_extract_archive(url, str(base), md5=md5)
    except Exception as e:  # no network, HTTP error, bad checksum
        raise DataNotFoundError(
            f"Could not download {url} ({type(e).__name__}: {e}). Download it by hand, check "
            f"its md5 is {md5}, unpack it into {base} (giving {folder}/train and "
            f"{folder}/val), or use a copy you already have. " + _layout_help(base)
        ) from e
    return folder


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """Open an image as 3-channel RGB (grayscale, CMYK, RGBA and palette images converted).

    Raises:
        UnreadableImageError: the file cannot be decoded; the message names it.
    """
    try:
        with Image.open(path) as im:
            im.load()
            return im.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise UnreadableImageError(
            f"Cannot read image {path}: {e}. Replace or delete the file; "
            "`alexnet-lab check-data DIR` lists every such file."
        ) from e


class ImageFolder(torchvision.datasets.ImageFolder):
    """torchvision's ImageFolder, reading every image as RGB and reporting bad files.

    Args:
        root: a split folder, ``<dataset>/<split>``, with one sub-folder per class.
        transform: applied to the PIL image.
        on_error: "raise" stops on an unreadable image with its path; "skip" warns once
            per file and returns the next readable image instead.

    Raises:
        DataNotFoundError: ``root`` is missing, has no class folders, or a class folder
            has no images.
    """

    def __init__(
        self, root: str | os.PathLike, transform: Callable | None = None, on_error: str = "raise"
    ) -> None:
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        root = Path(root)
        if not root.is_dir():
            raise DataNotFoundError(f"{root} is not a folder. " + _layout_help(root.parent.parent))
        empty = [d.name for d in sorted(root.iterdir()) if d.is_dir() and not _images_in(d)]
        if empty:
            raise DataNotFoundError(
                f"Class folders without images in {root}: {', '.join(empty)}. Add images "
                "(extensions " + " ".join(IMAGE_EXTENSIONS) + ") or remove the folders."
            )
        try:
            super().__init__(str(root), transform=transform, loader=load_rgb)
        except FileNotFoundError as e:
            raise DataNotFoundError(f"{e} " + _layout_help(root.parent.parent)) from e
        self.on_error = on_error
        self.skipped: set[str] = set()

    def __getitem__(self, index: int):
        for offset in range(len(self.samples)):
            i = (index + offset) % len(self.samples)
            try:
                return super().__getitem__(i)
            except UnreadableImageError as e:
                if self.on_error == "raise":
                    raise
                path = self.samples[i][0]
                if path not in self.skipped:
                    self.skipped.add(path)
                    warnings.warn(f"skipping: {e}", stacklevel=2)
        raise UnreadableImageError(f"No image in {self.root} can be read.")


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


@dataclass
class DataReport:
    """What :func:`check_data` found: image counts and the files that cannot be read."""

    root: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> class -> n
    unreadable: list[tuple[Path, str]] = field(default_factory=list)  # (path, reason)
    empty: list[Path] = field(default_factory=list)  # class folders without images
    not_rgb: int = 0  # readable images stored as grayscale, CMYK, RGBA, ...

    @property
    def ok(self) -> bool:
        return not self.unreadable and not self.empty


def _check_image(path: Path) -> tuple[Path, str | None, bool]:
    try:
        with Image.open(path) as im:
            im.load()
            return path, None, im.mode != "RGB"
    except Exception as e:
        return path, f"{type(e).__name__}: {e}", False


def check_data(path: str | os.PathLike, workers: int = 4) -> DataReport:
    """Decode every image of a dataset folder and count images per split and class.

    ``path`` is a dataset (``<path>/<split>/<class>/``) or a single split
    (``<path>/<class>/``).
    """
    path = Path(path)
    if not path.is_dir():
        raise DataNotFoundError(
            f"{path} is not a folder. Give a dataset folder laid out as "
            "<dataset>/{train,val}/<class>/<image>.JPEG, or one split of it."
        )
    subdirs = sorted(d for d in path.iterdir() if d.is_dir())
    is_dataset = subdirs and all(any(c.is_dir() for c in d.iterdir()) for d in subdirs)
    splits = {d.name: d for d in subdirs} if is_dataset else {path.name: path}
    report = DataReport(path)
    files = []
    for split, split_dir in splits.items():
        report.counts[split] = {}
        for class_dir in sorted(d for d in split_dir.iterdir() if d.is_dir()):
            images = _images_in(class_dir)
            report.counts[split][class_dir.name] = len(images)
            if not images:
                report.empty.append(class_dir)
            files += images
    if not files and not report.empty:
        raise DataNotFoundError(f"No class folders with images in {path}. " + _layout_help(path))
    with ThreadPoolExecutor(workers) as pool:
        for file, error, not_rgb in pool.map(_check_image, files):
            if error:
                report.unreadable.append((file, error))
            report.not_rgb += not_rgb
    return report
