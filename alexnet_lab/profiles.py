"""Run profiles: how big every notebook and training run is.

``smoke`` runs in seconds (tests, nbval), ``cpu`` is the book's CPU run, ``gpu`` is
paper scale. The profile comes from the ``ALEXNET_LAB_PROFILE`` environment variable;
unset, it is ``gpu`` where CUDA is available and ``cpu`` elsewhere.

Training recipe per profile (see :func:`alexnet_lab.train.train`): all train the paper's
two-column AlexNet with SGD (momentum 0.9, weight decay 5e-4, lr 0.01), dropout 0.5 and the
paper's augmentation, with He initialization (``init="kaiming"``; the paper's N(0, 0.01^2)
can stall).

* ``smoke``: the paper's schedule (``"plateau"``: lr / 10 when val top-1 stalls), 1 epoch
  of 5 batches of 16 (8 images per class) at 64 px: ~20 s on 2 CPU cores, packing included.
* ``cpu``: a cosine schedule (lr 0.01 -> 0 over the run), since a one-hour budget ends
  long before validation accuracy plateaus. 112 px crops (from 128 px images), 22 epochs
  of 73 batches of 128. Training runs at 82 img/s on 2 otherwise idle CPU cores, 2.2 min
  per epoch with the evaluation, so about 50 min in all with the packing (40 s); on a
  shared machine it is slower (28-32 img/s, 5-6 min per epoch, measured while other jobs
  ran).
* ``gpu``: the paper's net, schedule and 90 epochs at 224 px. ``minutes`` is an estimate
  for one H100, not a measurement: 4.3 GFLOP per training image (3 x 0.72 GMAC x 2),
  852k training images, at an assumed 15-20k img/s end to end, plus packing and the
  per-epoch checkpoints.
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
        lr: initial learning rate.
        schedule: "plateau" (the paper: lr / 10 when val top-1 stalls) or "cosine".
        init: weight initialization of :class:`alexnet_lab.model.AlexNet`.
        dropout: drop probability in fc6 and fc7.
        minutes: expected wall time of ``alexnet-lab train`` for this profile (packing,
            training and evaluation), on the hardware named in the module docstring.
    """

    name: str
    image_size: int
    train_per_class: int | None
    val_per_class: int | None
    epochs: int
    batch_size: int
    lr: float = 0.01
    schedule: str = "plateau"
    init: str = "kaiming"
    dropout: float = 0.5
    minutes: float = 1.0


PROFILES = {
    "smoke": Profile(
        "smoke", image_size=64, train_per_class=8, val_per_class=4, epochs=1, batch_size=16,
        minutes=0.5,
    ),
    "cpu": Profile(
        "cpu", image_size=112, train_per_class=None, val_per_class=None, epochs=22,
        batch_size=128, schedule="cosine", minutes=50,
    ),
    "gpu": Profile(
        "gpu", image_size=224, train_per_class=None, val_per_class=None, epochs=90,
        batch_size=128, minutes=3,
    ),
}  # fmt: skip


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$ALEXNET_LAB_PROFILE``, else gpu/cpu by hardware."""
    source = "argument" if name else PROFILE_ENV
    name = name or os.environ.get(PROFILE_ENV) or ("gpu" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r} (from the {source}); choose one of {', '.join(PROFILES)}"
        )
    return PROFILES[name]
