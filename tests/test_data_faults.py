"""Dataset faults check-data must catch before training trips on them: a bad file in a
sub-folder, symlink loops and links out of the dataset, an empty split, 16-bit images.

Every case is a small generated folder; the links are real symlinks."""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet_lab import data, pack
from alexnet_lab.cli import main


def sample_paths(split: Path) -> list[str]:
    return [p for p, _ in data.ImageFolder(split).samples]


def test_corrupt_file_in_a_sub_folder_is_listed_and_fails_check_data(image_folder, capsys):
    bad = image_folder / "train" / "cat" / "extra" / "bad.jpg"
    bad.parent.mkdir()
    bad.write_bytes((image_folder / "train" / "cat" / "cat_0.jpg").read_bytes()[:200])
    assert str(bad) in sample_paths(image_folder / "train")  # training reads it ...
    report = data.check_data(image_folder)  # ... so check-data decodes it
    assert report.counts["train"] == {"cat": 5, "dog": 4}
    assert [p for p, _ in report.unreadable] == [bad] and not report.ok
    assert main(["check-data", str(image_folder)]) == 1
    assert f"UNREADABLE: {bad}" in capsys.readouterr().out


# (where the link is, what it points to): each makes the walk come back to where it was.
LOOPS = {
    "to its split": ("train/cat/loop", ".."),
    "to its class folder": ("train/cat/loop", "."),
    "to the dataset": ("train/cat/loop", "../.."),
    "two levels down": ("train/cat/sub/up", ".."),
    "file links in a ring": ("train/cat/a.jpg", "b.jpg"),
}


@pytest.mark.parametrize("link, target", LOOPS.values(), ids=LOOPS.keys())
def test_symlink_loop_is_refused_by_check_data_and_the_loader(image_folder, capsys, link, target):
    link = image_folder / link
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(target)
    if link.name == "a.jpg":
        (link.parent / "b.jpg").symlink_to("a.jpg")
    shown = target if link.name == "a.jpg" else os.path.realpath(link)
    expected = re.escape(
        f"Symlink loop in {image_folder / 'train' / 'cat'}: {link} points to {shown}"
    )
    for check in (
        lambda: data.check_data(image_folder),
        lambda: data.check_data(image_folder / "train"),
        lambda: data.ImageFolder(image_folder / "train"),
        lambda: pack.make_pack(image_folder / "train", 16),
    ):
        with pytest.raises(data.DatasetLinkError, match=expected) as e:
            check()
        assert f"rm '{link}'" in str(e.value)
    assert main(["check-data", str(image_folder)]) == 2
    assert "error: Symlink loop in" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_symlink_out_of_the_dataset_is_refused(image_folder, tmp_path, capsys, kind):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.jpg").write_bytes((image_folder / "val" / "dog" / "dog_0.jpg").read_bytes())
    link = image_folder / "train" / "cat" / ("more" if kind == "folder" else "far.jpg")
    link.symlink_to(outside if kind == "folder" else outside / "x.jpg")
    target = outside if kind == "folder" else outside / "x.jpg"
    expected = re.escape(f"{link} is a symlink to {target}, outside the dataset folder ")
    for check in (
        lambda: data.check_data(image_folder),
        lambda: data.ImageFolder(image_folder / "train"),
    ):
        with pytest.raises(data.DatasetLinkError, match=expected) as e:
            check()
        assert f"rm '{link}'" in str(e.value)
    assert main(["check-data", str(image_folder / "train")]) == 2
    assert "outside the dataset folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, target, added",
    [("alias.jpg", "../../val/cat/cat_0.jpg", 1), ("more", "../../val/cat", 4)],
    ids=["file", "folder"],
)
def test_symlink_inside_the_dataset_is_followed_once(image_folder, name, target, added):
    link = image_folder / "train" / "cat" / name
    link.symlink_to(target)
    report = data.check_data(image_folder)
    assert report.ok and report.counts["train"] == {"cat": 4 + added, "dog": 4}
    assert report.counts["val"] == {"cat": 4, "dog": 4}
    samples = data.ImageFolder(image_folder / "train").samples
    linked = [(p, label) for p, label in samples if p.startswith(str(link))]
    assert len(linked) == added and {label for _, label in linked} == {0}  # cat
    assert len(samples) == 8 + added and len(set(samples)) == len(samples)


def test_a_class_folder_that_is_a_link_is_followed(image_folder, tmp_path):
    # A subset built by linking class folders from a bigger copy keeps working.
    real = tmp_path / "big" / "bird"
    real.mkdir(parents=True)
    for i in range(2):
        (real / f"bird_{i}.jpg").write_bytes((image_folder / "val/cat/cat_0.jpg").read_bytes())
    (image_folder / "train" / "bird").symlink_to(real)
    assert data.check_data(image_folder).counts["train"] == {"bird": 2, "cat": 4, "dog": 4}
    assert data.ImageFolder(image_folder / "train").classes == ["bird", "cat", "dog"]


@pytest.mark.parametrize("how", ["no class folders", "no images"])
def test_empty_val_is_reported_as_empty(image_folder, capsys, how):
    val = image_folder / "val"
    for f in sorted(val.rglob("*.*")):
        f.unlink()
    if how == "no class folders":
        for d in val.iterdir():
            d.rmdir()
    expected = re.escape(f"{val} is empty: ")
    with pytest.raises(data.DataNotFoundError, match=expected) as e:
        data.check_data(image_folder)
    assert ("no class folders" if how == "no class folders" else "cat, dog") in str(e.value)
    with pytest.raises(data.DataNotFoundError, match=expected):
        data.ImageFolder(val)
    assert main(["check-data", str(image_folder)]) == 2
    assert f"error: {val} is empty: " in capsys.readouterr().err
    assert data.check_data(image_folder / "train").ok  # the train split alone is fine


GRADIENT = np.linspace(0, 0xFFFF, 64 * 64).round().astype(np.uint16).reshape(64, 64)


def _png_16bit_rgb(path: Path, rgb: np.ndarray) -> None:
    """A 16-bit RGB PNG (PIL can read but not write one)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    h, w, _ = rgb.shape
    rows = b"".join(b"\0" + rgb[y].astype(">u2").tobytes() for y in range(h))
    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _write(path: Path, kind: str) -> np.ndarray:
    """Write GRADIENT as ``kind``; return the 16-bit (H, W, 3) samples the file holds."""
    if kind == "png-I;16":
        Image.fromarray(GRADIENT).save(path)  # mode I;16
    elif kind == "tiff-I;16B":
        Image.frombytes("I;16B", (64, 64), GRADIENT.astype(">u2").tobytes()).save(path)
    elif kind == "pgm-I":
        path.write_bytes(b"P5 64 64 65535\n" + GRADIENT.astype(">u2").tobytes())
    elif kind == "tiff-I-32bit":  # signed 32-bit samples, 2**31 - 1 is white
        Image.fromarray(GRADIENT.astype(np.int32) * 32768).save(path)
    else:  # a 16-bit RGB PNG
        rgb = np.stack([GRADIENT, GRADIENT[::-1], GRADIENT.T], axis=-1)
        _png_16bit_rgb(path, rgb)
        return rgb
    return np.repeat(GRADIENT[..., None], 3, axis=-1)


@pytest.mark.parametrize(
    "kind, suffix, mode",
    [
        ("png-I;16", ".png", "I;16"),
        ("tiff-I;16B", ".tif", "I;16B"),
        ("pgm-I", ".pgm", "I"),
        ("tiff-I-32bit", ".tif", "I"),
        ("png-RGB-16bit", ".png", "RGB"),  # PIL already reduces these to 8 bits
    ],
)
def test_high_bit_depth_images_are_scaled_to_8_bits(tmp_path, kind, suffix, mode):
    path = tmp_path / f"gradient{suffix}"
    samples = _write(path, kind)
    with Image.open(path) as im:
        assert im.mode == mode  # the case this parameter is meant to cover
    got = np.asarray(data.load_rgb(path)).astype(np.float64)
    assert got.shape == (64, 64, 3)
    assert np.abs(got - samples / 257).max() <= 1
    assert (got == 255).mean() < 0.01 and (got == 0).mean() < 0.01  # neither clipped


def test_a_pack_of_16_bit_images_is_not_white(tmp_path):
    for cls in ("cat", "dog"):
        (tmp_path / "ds" / "train" / cls).mkdir(parents=True)
        Image.fromarray(GRADIENT).save(tmp_path / "ds" / "train" / cls / "g.png")
    report = data.check_data(tmp_path / "ds")
    assert report.ok and report.not_rgb == 2
    images = pack.make_pack(tmp_path / "ds" / "train", 32)["images"].double()
    assert 120 < images.mean() < 135 and (images == 255).double().mean() < 0.01


def test_relative_paths_use_the_same_dataset_folder(image_folder, monkeypatch):
    (image_folder / "train" / "cat" / "alias.jpg").symlink_to("../../val/cat/cat_0.jpg")
    monkeypatch.chdir(image_folder / "train")
    report = data.check_data(".")  # a split, named by its absolute path
    assert report.ok and report.counts == {"train": {"cat": 5, "dog": 4}}
    assert len(data.ImageFolder(".")) == 9
    assert data.image_files("cat")[0] == Path("cat/alias.jpg")
