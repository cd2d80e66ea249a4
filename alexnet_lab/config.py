"""Run configurations: a profile (how big a run is) plus the recipe and the architecture.

A :class:`Config` holds everything a training run depends on. The three profiles are
named configs: ``smoke`` runs in seconds (tests, nbval), ``cpu`` is the book's CPU run and
``gpu`` is paper scale. The profile comes from the ``ALEXNET_LAB_PROFILE`` environment
variable; unset, it is ``gpu`` where CUDA is available and ``cpu`` elsewhere.

A variant is a profile with a few fields overridden, as on the command line::

    alexnet-lab train --profile cpu --set lrn=false --set seed=1

:func:`with_overrides` applies ``"field=value"`` strings and :func:`variant_name` names the
result by the fields that differ from the profile (``"lrn=false,seed=1"``; ``"base"`` when
none do), which is also its run folder, ``runs/<profile>/<variant>/``. How the profiles'
recipes were chosen, and what they measured, is in ``bench/README.md``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch

from alexnet_lab.model import AlexNet, CifarNet

PROFILE_ENV = "ALEXNET_LAB_PROFILE"
MOMENTUM, WEIGHT_DECAY = 0.9, 5e-4  # the paper's SGD (section 5)
PLATEAU_PATIENCE = 5  # epochs without a new best val top-1 before lr / 10
BASE = "base"  # the variant name of a profile without overrides
# Fields that describe the run's bookkeeping, not what it trains.
NOT_RECIPE = ("name", "minutes", "timed_on")


@dataclass(frozen=True)
class Config:
    """One training run: data, recipe and architecture.

    Attributes:
        name: the profile it derives from: "smoke", "cpu" or "gpu".
        image_size: side of the square crops the network sees.
        train_per_class: training images per class (None: all).
        val_per_class: validation images per class (None: all).
        epochs: training epochs.
        batch_size: images per SGD step.
        dataset: folder name under the data root, or "imagenette" for the first copy of
            Imagenette found (see :func:`alexnet_lab.data.find_dataset`).
        lr: peak learning rate.
        schedule: "plateau" (the paper: lr / 10 when val top-1 stalls), "cosine" or
            "constant" (``lr`` throughout, as in the paper's Figure 1).
        warmup_epochs: epochs of linear lr warm-up before the cosine schedule.
        min_crop_area: None for the paper's fixed crops, else the smallest share of the image
            area a random-resized training crop covers.
        pca_colour: the paper's PCA colour augmentation.
        label_smoothing: weight of the uniform target in the cross-entropy.
        weight_decay: SGD's L2 penalty on every weight and bias (the paper: 5e-4).
        seed: seeds the weights, the data order, the augmentation and dropout.
        lrn, overlap_pool, dropout, two_columns, activation, init, conv1_std: the
            architecture, see :class:`alexnet_lab.model.AlexNet`.
        two_devices: None (one device), or two devices, one per column, as in the paper's
            two GPUs: "cuda:0,cuda:1", "cuda:0,cpu", "cpu,cpu" (trains
            :class:`alexnet_lab.split.TwoDeviceAlexNet`; the batches live on the first).
        normalize: "mean" (the paper: subtract the per-channel mean from 0..255 pixels) or
            "mean_std" (0..1 pixels, minus the mean, divided by the per-channel std).
        arch: "alexnet" (:class:`alexnet_lab.model.AlexNet`) or "cifar", the paper's
            four-layer CIFAR-10 net (:class:`alexnet_lab.model.CifarNet`, built for
            ``image_size``; it reads lrn, activation, init and conv1_std, and has no pooling,
            dropout, column or width options).
        width: share of AlexNet's conv1-conv4 kernels; 0.5 with ``two_columns=False`` is the
            paper's one-GPU net (:class:`alexnet_lab.model.NarrowAlexNet`).
        holdout: 0, or images per class held out of the training split (the last ones of
            each class) and evaluated on instead of the dataset's val/ or test/ split, which
            training then never reads: for choosing a recipe without the test set.
        augment: random crops and flips in training; False trains on the centre crops,
            unflipped, as evaluated (no augmentation, with ``pca_colour=False``).
        minutes: expected wall time of ``alexnet-lab train`` on ``timed_on``.
        timed_on: the machine ``minutes`` was measured (or estimated) for.
    """

    name: str
    image_size: int
    train_per_class: int | None
    val_per_class: int | None
    epochs: int
    batch_size: int
    dataset: str = "imagenette"
    lr: float = 0.01
    schedule: str = "plateau"
    warmup_epochs: int = 0
    min_crop_area: float | None = None
    pca_colour: bool = True
    label_smoothing: float = 0.0
    weight_decay: float = WEIGHT_DECAY
    seed: int = 0
    lrn: bool = True
    overlap_pool: bool = True
    dropout: float = 0.5
    two_columns: bool = True
    activation: str = "relu"
    init: str = "kaiming"
    conv1_std: float | None = None
    two_devices: str | None = None
    normalize: str = "mean_std"
    arch: str = "alexnet"
    width: float = 1.0
    holdout: int = 0
    augment: bool = True
    minutes: float = 1.0
    timed_on: str = "2 CPU cores"

    def __post_init__(self) -> None:
        choices = {
            "schedule": ("plateau", "cosine", "constant"),
            "activation": ("relu", "tanh"),
            "init": ("paper", "kaiming"),
            "normalize": ("mean", "mean_std"),
            "arch": ("alexnet", "cifar"),
        }
        for field, allowed in choices.items():
            if getattr(self, field) not in allowed:
                raise ValueError(f"{field} must be one of {allowed}, got {getattr(self, field)!r}")
        if self.width <= 0 or self.holdout < 0:
            raise ValueError(
                f"width must be positive and holdout at least 0, got width={self.width}, "
                f"holdout={self.holdout}"
            )
        least = (CifarNet if self.arch == "cifar" else AlexNet).min_size
        if self.epochs < 1 or self.batch_size < 1 or self.image_size < least:
            raise ValueError(
                "epochs and batch_size must be at least 1 and image_size at least "
                f"{least} (arch={self.arch}), got "
                f"epochs={self.epochs}, batch_size={self.batch_size}, "
                f"image_size={self.image_size}"
            )
        if self.schedule == "cosine" and self.warmup_epochs >= self.epochs:
            raise ValueError(
                f"the cosine schedule needs more epochs ({self.epochs}) than warm-up epochs "
                f"({self.warmup_epochs}): --set epochs={self.warmup_epochs + 1} or more, or "
                "--set warmup_epochs=0"
            )

    def expected_minutes(self) -> float | None:
        """``minutes`` scaled to this config's epochs and pixels per image (a variant of a
        profile with other epochs or image size takes proportionally longer or shorter); None
        for another dataset or network, which the profile's time says nothing about."""
        base = PROFILES.get(self.name, self)
        if (self.dataset, self.arch) != (base.dataset, base.arch):
            return None
        return self.minutes * self.epochs / base.epochs * (self.image_size / base.image_size) ** 2

    def recipe(self) -> dict:
        """The fields that decide what is trained (all but name, minutes and timed_on)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in NOT_RECIPE}


PROFILES = {
    "smoke": Config(
        "smoke", image_size=64, train_per_class=8, val_per_class=4, epochs=1, batch_size=16,
        minutes=0.5,
    ),
    "cpu": Config(
        "cpu", image_size=128, train_per_class=None, val_per_class=None, epochs=45,
        batch_size=128, lr=0.04, schedule="cosine", min_crop_area=0.35, label_smoothing=0.1,
        warmup_epochs=2, minutes=50, timed_on="2 AMD EPYC cores with bf16",
    ),
    "gpu": Config(
        "gpu", image_size=224, train_per_class=None, val_per_class=None, epochs=120,
        batch_size=128, lr=0.04, schedule="cosine", min_crop_area=0.35, label_smoothing=0.1,
        warmup_epochs=2, minutes=3.7, timed_on="one H100 with --compile (an estimate)",
    ),
}  # fmt: skip


def get_profile(name: str | None = None) -> Config:
    """The profile called ``name``, else ``$ALEXNET_LAB_PROFILE``, else gpu/cpu by hardware."""
    source = "argument" if name else PROFILE_ENV
    name = name or os.environ.get(PROFILE_ENV) or ("gpu" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r} (from the {source}); choose one of {', '.join(PROFILES)}"
        )
    return PROFILES[name]


def _parse(field: dataclasses.Field, text: str) -> object:
    """``text`` as a value of ``field``'s type: bool, int, float, str, or None where allowed."""
    kind = str(field.type)
    low = text.strip().lower()
    if "None" in kind and low in ("none", "null", ""):
        return None
    if kind.startswith("bool"):
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{field.name} takes true or false, got {text!r}")
    for name, cast in (("int", int), ("float", float)):
        if kind.startswith(name):
            try:
                return cast(text)
            except ValueError:
                raise ValueError(f"{field.name} takes a number ({name}), got {text!r}") from None
    return text.strip()


def with_overrides(config: Config, overrides: list[str] | tuple[str, ...] | dict) -> Config:
    """``config`` with fields replaced: ``["lrn=false", "seed=1"]`` or ``{"lrn": False}``.

    Raises:
        ValueError: an unknown field (the message lists the known ones), a value of the wrong
            type, or a field that names the profile rather than the recipe.
    """
    fields = {f.name: f for f in dataclasses.fields(Config) if f.name not in NOT_RECIPE}
    if isinstance(overrides, dict):
        items = [(k, v) for k, v in overrides.items()]
    else:
        items = []
        for item in overrides:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--set takes field=value, got {item!r}")
            items.append((key.strip(), value))
    changes = {}
    for key, value in items:
        if key not in fields:
            raise ValueError(
                f"Unknown config field {key!r} in --set; the fields are {', '.join(fields)}"
            )
        changes[key] = _parse(fields[key], value) if isinstance(value, str) else value
    return dataclasses.replace(config, **changes)


def _show(value: object) -> str:
    return str(value).lower() if isinstance(value, bool | None) else str(value)


def config_diff(old: dict, new: dict) -> dict[str, tuple[object, object]]:
    """{field: (old value, new value)} for the recipe fields where two configs differ, in the
    order of :class:`Config`'s fields.

    A field missing from a dict (a run saved before the field existed) counts as its default.
    """
    fields = dataclasses.fields(Config)
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    old, new = {**defaults, **old}, {**defaults, **new}
    keys = [f.name for f in fields] + [k for k in {**old, **new} if k not in defaults]
    keys = list(dict.fromkeys(k for k in keys if k not in NOT_RECIPE))
    return {k: (old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)}


def variant_name(config: Config) -> str:
    """``"base"`` for a profile as it is, else its changed fields: ``"lrn=false,seed=1"``."""
    diff = config_diff(get_profile(config.name).recipe(), config.recipe())
    return ",".join(f"{k}={_show(new)}" for k, (_, new) in sorted(diff.items())) or BASE
