"""Chapter glue: what every notebook runs first, the trained model the layer chapters look
at, and real Imagenette images to feed it.

:func:`begin_chapter` seeds torch, picks the profile and says which it is;
:func:`chapter_model` is the network the layer chapters look at; :func:`imagenette_image`
and :func:`imagenette_batch` load validation images prepared as the trainer evaluates them.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch

from alexnet_lab.augment import eval_transform
from alexnet_lab.classes import IMAGENETTE_WNIDS
from alexnet_lab.config import BASE, Config, get_profile, with_overrides
from alexnet_lab.data import ImageFolder, find_dataset, load_rgb
from alexnet_lab.experiments import run_experiment
from alexnet_lab.model import AlexNet
from alexnet_lab.paths import REPO
from alexnet_lab.train import build_model
from alexnet_lab.trained import TrainedMeta, load_trained


def device() -> torch.device:
    """The device chapters compute on: the first CUDA GPU if there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


class Chapter:
    """A running chapter: ``chapter.profile`` holds its sizes, ``chapter.done()`` its time."""

    def __init__(self, profile: Config) -> None:
        self.profile = profile
        self.start = time.perf_counter()

    def done(self) -> None:
        """Print how long the chapter took to execute, and where."""
        seconds = time.perf_counter() - self.start
        print(
            f"Executed with profile '{self.profile.name}' in {seconds:.1f} s on {_device_name()}."
        )


def begin_chapter(profile: str | None = None, seed: int = 0) -> Chapter:
    """Seed torch, pick the profile (see :func:`get_profile`) and say which it is."""
    torch.manual_seed(seed)
    p = get_profile(profile)
    print(f"Profile '{p.name}': {p.image_size}px images, torch {torch.__version__.split('+')[0]}")
    return Chapter(p)


# The variant the chapters on what the network learned and why it decides look at: conv1
# drawn from N(0, 0.01^2) instead of He-normal, so that the little training a CPU budget
# gives is not buried under the initial noise (the "filters" study measures it).
SMOOTH_CONV1 = {"conv1_std": 0.01}


def chapter_model(profile: Config, overrides: dict | None = None) -> tuple[AlexNet, TrainedMeta]:
    """The network a chapter looks at, and its metadata: ``load_trained(profile)``, or the
    variant ``overrides`` makes of it (for example :data:`SMOOTH_CONV1`).

    The AlexNet trained on Imagenette (10 classes) with that config, in eval mode on the
    CPU. ``meta.stats`` holds the colour statistics its inputs are normalized with. Trains
    it first if its run folder has no finished run.
    """
    return load_trained(with_overrides(profile, overrides or {}))


RESULTS = REPO / "book" / "results"  # committed results of long studies, shown by chapters


def committed_results(study: str, profile: str) -> dict:
    """The results JSON of a study run in full (``alexnet-lab experiment STUDY --profile
    PROFILE --out book/results/STUDY-PROFILE.json``; for ``"scaling"``, ``alexnet-lab
    scaling``) and committed with the book, so a chapter can show hours of training without
    repeating them."""
    path = RESULTS / f"{study}-{profile}.json"
    if not path.exists():
        command = "scaling" if study == "scaling" else f"experiment {study}"
        raise FileNotFoundError(
            f"No committed results at {path}. Make them with `alexnet-lab {command} "
            f"--profile {profile} --out {path}`."
        )
    return json.loads(path.read_text())


def study_results(study: str, profile: Config, scratch: str | os.PathLike) -> dict:
    """The results of a study that a chapter executed with ``profile`` shows.

    With the smoke profile, the study re-run from scratch in the folder ``scratch`` (tiny
    networks, seconds: it shows that every step runs, with meaningless numbers). Otherwise the
    full run stored with the book, ``book/results/STUDY-PROFILE.json``, or the cpu profile's
    where this profile has none (see :func:`committed_results`, which names the command that
    makes a missing one).
    """
    if profile.name == "smoke":
        scratch = Path(scratch)
        out = run_experiment(study, profile, runs=scratch / "runs", out=scratch / f"{study}.json")
        return json.loads(out.read_text())
    stored = [p for p in (profile.name, "cpu") if (RESULTS / f"{study}-{p}.json").exists()]
    return committed_results(study, stored[0] if stored else profile.name)


def model_summary(meta: TrainedMeta) -> str:
    """One line on a trained model: profile, variant, epochs, image size, last validation
    accuracy (centre crops of the profile's validation images)."""
    c, m = meta.config, meta.metrics
    variant = "" if meta.variant == BASE else f" ({meta.variant})"
    return (
        f"AlexNet trained with the '{c.name}' profile{variant}: {meta.epochs} epochs on "
        f"{Path(meta.dataset).name} at {c.image_size}px; validation top-1 "
        f"{m['val_top1']:.1f}%, top-5 {m['val_top5']:.1f}%"
    )


def initial_model(meta: TrainedMeta) -> AlexNet:
    """The trained network's weights before training, in eval mode.

    :func:`alexnet_lab.train.train` seeds torch with ``config.seed`` and then builds the
    model, so doing the same gives the initial weights.
    """
    torch.manual_seed(meta.config.seed)
    return build_model(meta.config, len(meta.classes)).eval()


def _val_files(root: str | os.PathLike | None) -> list[list[str]]:
    """Validation image paths per class, in label order, each list sorted by file name."""
    folder = ImageFolder(find_dataset("imagenette", root) / "val")
    files: list[list[str]] = [[] for _ in folder.classes]
    for path, label in folder.samples:
        files[label].append(path)
    return files


def imagenette_image(
    wnid: str,
    index: int,
    size: int,
    stats: dict[str, torch.Tensor],
    root: str | os.PathLike | None = None,
) -> torch.Tensor:
    """The ``index``-th validation image (sorted by file name) of class ``wnid``.

    Resized and centre-cropped to ``size`` as in evaluation
    (:func:`alexnet_lab.augment.eval_transform`), normalized with ``stats`` (a model's
    ``model.stats``). Returns: (3, size, size).
    """
    label = IMAGENETTE_WNIDS.index(wnid)
    return eval_transform(size, stats)(load_rgb(_val_files(root)[label][index]))


def imagenette_batch(
    n: int, size: int, stats: dict[str, torch.Tensor], root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` validation images taken in turn from the 10 classes (first files first).

    Prepared as by :func:`imagenette_image`. Returns: images (n, 3, size, size) and
    labels (n,) in Imagenette label order.
    """
    files = _val_files(root)
    transform = eval_transform(size, stats)
    images, labels = [], []
    for i in range(n):
        label, index = i % len(files), i // len(files)
        images.append(transform(load_rgb(files[label][index])))
        labels.append(label)
    return torch.stack(images), torch.tensor(labels)
