"""Class names for ImageNet-1k and Imagenette, shipped with the package (no network)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

# The 10 Imagenette classes, in ImageFolder (sorted WordNet id) order.
IMAGENETTE_WNIDS = (
    "n01440764", "n02102040", "n02979186", "n03000684", "n03028079",
    "n03394916", "n03417042", "n03425413", "n03445777", "n03888257",
)  # fmt: skip


@cache
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """The 1,000 ILSVRC-2012 classes as (wnid, name), in the standard index order."""
    text = files("alexnet_lab.resources").joinpath("imagenet_classes.tsv").read_text()
    rows = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    return tuple((wnid, name) for _, wnid, name in rows)


def class_name(wnid: str) -> str:
    """Human-readable name of an ImageNet WordNet id, e.g. "n01440764" -> "tench"."""
    names = dict(imagenet_classes())
    if wnid not in names:
        raise KeyError(f"{wnid!r} is not one of the 1,000 ILSVRC-2012 WordNet ids")
    return names[wnid]


def imagenette_classes() -> list[str]:
    """Names of the 10 Imagenette classes, in label order."""
    return [class_name(w) for w in IMAGENETTE_WNIDS]
