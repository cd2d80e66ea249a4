"""The training recipe of the paper next to the book's, row by row.

The paper's column quotes Krizhevsky et al. (2012), section 5 and section 4; the book's column
is built from a :class:`~alexnet_lab.config.Config` (a profile) and the trainer's constants, so it
follows them when they change.
"""

from __future__ import annotations

from dataclasses import dataclass

from alexnet_lab.analysis.tables import DisplayTable, ShownAsTable
from alexnet_lab.augment import PCA_STD, resize_for
from alexnet_lab.config import MOMENTUM, PLATEAU_PATIENCE, Config

INIT = {
    "paper": "N(0, 0.01^2); biases 1 in conv2, conv4, conv5, fc6, fc7, else 0 (as the paper)",
    "kaiming": "He-normal (N(0, 2 / fan_in)), biases 0",
}


@dataclass(frozen=True, repr=False)
class RecipeTable(ShownAsTable):
    """Rows of (what, the paper, this profile); prints as text, shows as HTML in notebooks."""

    profile: str
    rows: tuple[tuple[str, str, str], ...]

    @property
    def columns(self) -> tuple[str, str, str]:
        return ("", "paper (ImageNet)", f"profile '{self.profile}' (Imagenette)")

    def row(self, what: str) -> tuple[str, str, str]:
        """The row called ``what``, e.g. ``table.row("epochs")``."""
        for r in self.rows:
            if r[0] == what:
                return r
        raise KeyError(f"no row {what!r}; rows are {[r[0] for r in self.rows]}")

    def display_table(self) -> DisplayTable:
        return DisplayTable(self.columns, self.rows)

    def __repr__(self) -> str:
        return str(self)


def recipe_table(profile: Config) -> RecipeTable:
    """The paper's training recipe against the one :func:`alexnet_lab.train.train` follows
    for ``profile``."""
    p = profile
    side = resize_for(p.image_size)
    images = "all" if p.train_per_class is None else f"{p.train_per_class} per class"
    if p.schedule == "plateau":
        schedule = f"/ 10 after {PLATEAU_PATIENCE} epochs without a better val top-1"
    else:
        warm = f"linear warm-up over {p.warmup_epochs} epochs, then " if p.warmup_epochs else ""
        schedule = f"{warm}cosine, down to 0 at the end of the run, updated every step"
    colour = "PCA colour (alpha * sqrt(lambda) * p)" if p.pca_colour else "no PCA colour"
    if p.min_crop_area is None:
        crops = f"random crops and flips as the paper, {colour}; batched on the training device"
    else:
        crops = (
            f"random boxes of {p.min_crop_area:.0%}-100% of the image area, aspect 3/4-4/3, "
            f"resized to {p.image_size}x{p.image_size}; flips, {colour}; batched on the "
            "training device"
        )
    parts = [
        "two columns (groups=2)" if p.two_columns else "one column",
        "LRN" if p.lrn else "no LRN",
        "overlapping pooling (3x3, stride 2)" if p.overlap_pool else "pooling 2x2, stride 2",
    ]
    network = ", ".join(parts) + ("" if p.activation == "relu" else f", {p.activation}")
    normalization = (
        "subtract the per-channel mean (0..255 pixels)"
        if p.normalize == "mean"
        else "subtract the per-channel mean, divide by the per-channel std"
    )
    loss = "cross-entropy" + (
        f", label smoothing {p.label_smoothing:g}" if p.label_smoothing else ""
    )
    rows = (
        ("data", "ILSVRC-2012: 1.2M images, 1,000 classes", f"Imagenette: 10 classes, {images}"),
        ("network", "two columns, LRN, overlapping pooling", network),
        ("input", "224x224 crops of 256x256 images", f"{p.image_size}x{p.image_size} crops of "
         f"{side}x{side} images"),
        ("augmentation", f"random crops, flips, PCA colour (alpha ~ N(0, {PCA_STD}^2))", crops),
        ("normalization", "subtract the mean image", normalization),
        ("initialization", INIT["paper"].split(" (")[0], INIT[p.init] + (
            f"; conv1 N(0, {p.conv1_std:g}^2)" if p.conv1_std is not None else "")),
        ("loss", "cross-entropy (multinomial logistic regression)", loss),
        ("optimizer", "SGD, momentum 0.9, weight decay 5e-4",
         f"SGD, momentum {MOMENTUM:g}, weight decay {p.weight_decay:g}"),
        ("batch size", "128", str(p.batch_size)),
        ("learning rate", "0.01, / 10 when val error stops improving (3 times)",
         f"{p.lr:g}, {schedule}"),
        ("dropout", "0.5 in fc6 and fc7", f"{p.dropout:g} in fc6 and fc7"),
        ("epochs", "about 90", str(p.epochs)),
        ("test", "softmax averaged over 10 patches", "centre crop, and 10 patches (below)"),
        ("hardware", "two GTX 580 3GB, 5-6 days", "one computer, time printed below"),
    )  # fmt: skip
    return RecipeTable(p.name, rows)
