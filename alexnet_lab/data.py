"""Where datasets live, how they are downloaded, and how images are read robustly.

Datasets use torchvision's ImageFolder layout, ``<dataset>/<split>/<class>/<image>``,
under a data root that comes from (first match wins):

1. the ``root`` argument (``--data`` on the command line);
2. the ``ALEXNET_LAB_DATA`` environment variable;
3. ``data/`` in the repository.
"""

from __future__ import annotations

import errno
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torchvision
from PIL import Image

from alexnet_lab.paths import REPO_DATA

DATA_ENV = "ALEXNET_LAB_DATA"


# Folder names an Imagenette copy may have, best first: the 224x224 copy used by the
# book, then the official archives (same layout, larger images).
IMAGENETTE_FOLDERS = ("imagenette-224", "imagenette2-320", "imagenette2-160", "imagenette2")
IMAGENETTE_ARCHIVES = torchvision.datasets.Imagenette._ARCHIVES  # size -> (url, md5)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
SPLIT_NAMES = ("train", "val", "test")  # folders that make a folder a dataset, not a split


class DataNotFoundError(FileNotFoundError):
    """A dataset is not where the data root says, and could not be downloaded."""


class UnreadableImageError(OSError):
    """An image file that PIL cannot decode (corrupt, truncated or not an image)."""


class DatasetLinkError(ValueError):
    """A symlink in a class folder that is a loop or leads out of the dataset folder."""


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


def _full_scale(im: Image.Image) -> int:
    """The white level of an integer greyscale image (modes "I;16*" and "I")."""
    if im.mode.startswith("I;16"):
        return 0xFFFF
    tags = getattr(im, "tag_v2", {})  # a TIFF's BitsPerSample and SampleFormat
    if tags.get(258):
        bits = tags[258][0] if isinstance(tags[258], tuple) else tags[258]
        signed = tags.get(339) in (2, (2,))
        return 2 ** (int(bits) - signed) - 1
    # "I" from a 16-bit PNG (older Pillow) or a PGM with maxval > 255 (scaled to 65535).
    return 0xFFFF if im.getextrema()[1] <= 0xFFFF else 2**31 - 1


def to_8bit(im: Image.Image) -> Image.Image:
    """``im`` with 8-bit samples: integer greyscale images ("I;16", "I;16B", "I") scaled from
    their bit depth to 0..255 (divided by 257 for 16 bits) as mode "L"; others unchanged.

    PIL's own conversion clips these modes at 255 instead, turning a 16-bit image white.
    16-bit RGB(A) PNGs need nothing: PIL already opens them as 8-bit "RGB"/"RGBA".
    """
    if not (im.mode == "I" or im.mode.startswith("I;16")):
        return im
    pixels = np.asarray(im).astype(np.float64) * (255 / _full_scale(im))
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "L")


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """Open an image as 3-channel RGB (grayscale, 16-bit, CMYK, RGBA and palette images
    converted).

    Raises:
        UnreadableImageError: the file cannot be decoded; the message names it.
    """
    try:
        with Image.open(path) as im:
            im.load()
            return to_8bit(im).convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise UnreadableImageError(
            f"Cannot read image {path}: {e}. Replace or delete the file; "
            "`alexnet-lab check-data DIR` lists every such file."
        ) from e


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def image_files(class_dir: str | os.PathLike, root: str | os.PathLike | None = None) -> list[Path]:
    """The image files of a class folder, in sub-folders too, following symlinks: the files
    torchvision's ImageFolder reads, in its order (by folder path, then file name).

    :class:`ImageFolder`, :mod:`alexnet_lab.pack` and :func:`check_data` all list files
    with this function, so check-data checks exactly the files training reads. Links are
    followed as long as they stay in the dataset folder ``root`` (default: the folder two
    levels up, ``<dataset>`` of ``<dataset>/<split>/<class>``) or in the class folder itself
    (which may be a link to elsewhere). A link to a file is listed once, under its own name.

    Raises:
        DatasetLinkError: a symlink loop (a link to a folder that holds it, or links that
            point at each other), or a link to somewhere outside ``root``.
    """
    class_dir = Path(class_dir)
    root = Path(root) if root is not None else Path(os.path.abspath(class_dir)).parent.parent
    allowed = (Path(os.path.realpath(root)), Path(os.path.realpath(class_dir)))
    found: list[tuple[str, list[str]]] = []  # (folder, image file names), like os.walk

    def loop(link: Path, target: str) -> DatasetLinkError:
        return DatasetLinkError(
            f"Symlink loop in {class_dir}: {link} points to {target}, which leads back to the "
            "link itself, so the images under it would be listed again and again, some under "
            f"the wrong class. Remove the link (rm '{link}') and put the images it should add "
            f"in {class_dir} as files or sub-folders."
        )

    def walk(folder: Path, chain: tuple[Path, ...]) -> None:
        names = []
        with os.scandir(folder) as entries:
            entries = sorted(entries, key=lambda e: e.name)
        for entry in entries:
            path = folder / entry.name
            real = chain[-1] / entry.name
            if entry.is_symlink():
                try:
                    os.stat(path)
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        raise loop(path, os.readlink(path)) from None
                real = Path(os.path.realpath(path))
                if not any(_inside(real, a) for a in allowed):
                    raise DatasetLinkError(
                        f"{path} is a symlink to {real}, outside the dataset folder "
                        f"{allowed[0]}. Links that leave the dataset are not followed: copy "
                        f"what it points to into {class_dir} and remove the link "
                        f"(rm '{path}'), or move the data into the dataset folder."
                    )
            if entry.is_dir():  # follows links
                if entry.is_symlink() and any(_inside(c, real) for c in chain):
                    raise loop(path, str(real))
                walk(path, (*chain, real))
            elif entry.name.lower().endswith(IMAGE_EXTENSIONS):
                names.append(entry.name)  # a dangling link too: check-data reports it
        found.append((str(folder), names))

    walk(class_dir, (allowed[1],))
    return [Path(folder, name) for folder, names in sorted(found) for name in names]


def _class_dirs(split_dir: Path) -> list[Path]:
    return sorted(d for d in split_dir.iterdir() if d.is_dir())


def _empty_split(split_dir: Path, class_dirs: list[Path]) -> DataNotFoundError:
    why = (
        f"none of its {len(class_dirs)} class folders ({', '.join(d.name for d in class_dirs)}) "
        f"holds an image ({' '.join(IMAGE_EXTENSIONS)})"
        if class_dirs
        else "it has no class folders"
    )
    return DataNotFoundError(
        f"{split_dir} is empty: {why}. Put its images in {split_dir}/<class>/, or remove "
        f"the folder if the dataset has no {split_dir.name!r} split. "
        + _layout_help(split_dir.parent.parent)
    )


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
        super().__init__(str(root), transform=transform, loader=load_rgb)
        self.on_error = on_error
        self.skipped: set[str] = set()

    def find_classes(self, directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
        class_dirs = _class_dirs(Path(directory))
        if not class_dirs:
            raise _empty_split(Path(directory), class_dirs)
        classes = [d.name for d in class_dirs]
        return classes, {c: i for i, c in enumerate(classes)}

    def make_dataset(self, directory, class_to_idx, extensions=None, is_valid_file=None, **_):
        """The (path, label) samples, listed by :func:`image_files` (not torchvision's walk)."""
        directory = Path(directory)
        samples, empty = [], []
        for name, label in sorted(class_to_idx.items()):
            files = image_files(directory / name)
            samples += [(str(f), label) for f in files]
            if not files:
                empty.append(name)
        if len(empty) == len(class_to_idx):
            raise _empty_split(directory, _class_dirs(directory))
        if empty:
            raise DataNotFoundError(
                f"Class folders without images in {directory}: {', '.join(empty)}. Add images "
                "(extensions " + " ".join(IMAGE_EXTENSIONS) + ") or remove the folders."
            )
        return samples

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
            to_8bit(im).convert("RGB")  # what load_rgb does after decoding
            return path, None, im.mode != "RGB"
    except Exception as e:
        return path, f"{type(e).__name__}: {e}", False


def _is_dataset(subdirs: list[Path]) -> bool:
    """Whether folders ``subdirs`` are splits (``<split>/<class>/``) rather than classes: one
    is named train, val or test, or each holds folders and no images of its own."""
    if any(d.name in SPLIT_NAMES for d in subdirs):
        return True
    return bool(subdirs) and all(
        _class_dirs(d) and not any(f.name.lower().endswith(IMAGE_EXTENSIONS) for f in d.iterdir())
        for d in subdirs
    )


def check_data(path: str | os.PathLike, workers: int = 4) -> DataReport:
    """Decode every image of a dataset folder and count images per split and class.

    ``path`` is a dataset (``<path>/<split>/<class>/``) or a single split
    (``<path>/<class>/``). Files are listed with :func:`image_files`, the same way
    :class:`ImageFolder` lists them for training, so sub-folders count too.

    Raises:
        DataNotFoundError: ``path`` is not a folder, or a split has no images (the message
            says "<split folder> is empty").
        DatasetLinkError: a symlink loop, or a link out of the dataset, in a class folder.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataNotFoundError(
            f"{path} is not a folder. Give a dataset folder laid out as "
            "<dataset>/{train,val}/<class>/<image>.JPEG, or one split of it."
        )
    subdirs = _class_dirs(path)
    name = Path(os.path.abspath(path)).name  # of "." too
    is_dataset = name not in SPLIT_NAMES and _is_dataset(subdirs)
    splits = {d.name: d for d in subdirs} if is_dataset else {name: path}
    if not is_dataset and not subdirs:
        raise DataNotFoundError(f"No class folders with images in {path}. " + _layout_help(path))
    report = DataReport(path)
    files = []
    for split, split_dir in splits.items():
        report.counts[split] = {}
        class_dirs = _class_dirs(split_dir)
        split_files = []
        for class_dir in class_dirs:
            images = image_files(class_dir)
            report.counts[split][class_dir.name] = len(images)
            if not images:
                report.empty.append(class_dir)
            split_files += images
        if not split_files:
            raise _empty_split(split_dir, class_dirs)
        files += split_files
    with ThreadPoolExecutor(workers) as pool:
        for file, error, not_rgb in pool.map(_check_image, files):
            if error:
                report.unreadable.append((file, error))
            report.not_rgb += not_rgb
    return report
