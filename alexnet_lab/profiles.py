"""Run profiles: how big every notebook and training run is.

``smoke`` runs in seconds (tests, nbval), ``cpu`` is the book's CPU run, ``gpu`` is
paper scale. The profile comes from the ``ALEXNET_LAB_PROFILE`` environment variable;
unset, it is ``gpu`` where CUDA is available and ``cpu`` elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

PROFILE_ENV = "ALEXNET_LAB_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Sizes for one profile.

    Attributes:
        name: "smoke", "cpu" or "gpu".
        image_size: side of the square crops the network sees.
        train_per_class: training images per class (None: all).
        val_per_class: validation images per class (None: all).
        epochs: training epochs.
        batch_size: images per SGD step.
    """

    name: str
    image_size: int
    train_per_class: int | None
    val_per_class: int | None
    epochs: int
    batch_size: int


PROFILES = {
    "smoke": Profile(
        "smoke", image_size=64, train_per_class=8, val_per_class=4, epochs=1, batch_size=16
    ),
    "cpu": Profile(
        "cpu", image_size=128, train_per_class=None, val_per_class=None, epochs=16, batch_size=128
    ),
    "gpu": Profile(
        "gpu", image_size=224, train_per_class=None, val_per_class=None, epochs=30, batch_size=128
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$ALEXNET_LAB_PROFILE``, else gpu/cpu by hardware."""
    source = "argument" if name else PROFILE_ENV
    name = name or os.environ.get(PROFILE_ENV) or ("gpu" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r} (from the {source}); choose one of {', '.join(PROFILES)}"
        )
    return PROFILES[name]
