"""Shared fixtures: tiny generated image folders and the real shared datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet_lab.data import DATA_ENV


def _write_image(path: Path, mode: str, size: int = 32, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), "RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "RGBA":
        rgb.convert("RGBA").save(path.with_suffix(".png"))
    else:
        rgb.convert(mode).save(path, "JPEG")


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A dataset ``tmp/tiny/{train,val}/{cat,dog}/`` with RGB, grayscale, CMYK and RGBA images."""
    root = tmp_path / "tiny"
    modes = ["RGB", "L", "CMYK", "RGBA"]
    for split in ("train", "val"):
        for c, cls in enumerate(("cat", "dog")):
            for i, mode in enumerate(modes):
                _write_image(root / split / cls / f"{cls}_{i}.jpg", mode, seed=10 * c + i)
    return root


@pytest.fixture
def corrupt_folder(image_folder: Path) -> Path:
    """``image_folder`` plus a truncated JPEG and a text file posing as a JPEG."""
    good = image_folder / "train" / "cat" / "cat_0.jpg"
    (image_folder / "train" / "cat" / "truncated.jpg").write_bytes(good.read_bytes()[:200])
    (image_folder / "train" / "dog" / "not_an_image.jpg").write_text("hello")
    return image_folder


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared datasets (``$ALEXNET_LAB_DATA``, as `make test` and CI set it)."""
    root = os.environ.get(DATA_ENV)
    if not root or not (Path(root) / "imagenette-224").is_dir():
        pytest.skip(f"real datasets not found: set {DATA_ENV} to the shared data folder")
    return Path(root)
