"""Packing a dataset split into one file (on the tiny generated image folder)."""

from __future__ import annotations

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from alexnet_lab import cli, pack
from alexnet_lab.data import ImageFolder, load_rgb


def test_pack_holds_resized_images_labels_classes_and_colour_stats(image_folder, tmp_path):
    path = pack.ensure_pack(image_folder, "train", 36, None, tmp_path / "packs")
    assert path.parent == tmp_path / "packs"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary files
    p = pack.load_pack(path)
    folder = ImageFolder(image_folder / "train")
    assert p["images"].shape == (8, 3, 36, 36) and p["images"].dtype == torch.uint8
    assert p["labels"].tolist() == [label for _, label in folder.samples]
    assert p["classes"] == ["cat", "dog"] and p["side"] == 36
    resize = v2.Compose([v2.Resize(36), v2.CenterCrop(36)])
    for i, (file, _) in enumerate(folder.samples):
        assert torch.equal(p["images"][i], TF.pil_to_tensor(resize(load_rgb(file))))
    assert p["eigvals"].shape == (3,) and p["eigvecs"].shape == (3, 3)
    assert torch.all(p["std"] > 0) and torch.all((p["mean"] > 0) & (p["mean"] < 1))


def test_pack_is_reused_and_a_changed_dataset_gets_a_new_one(image_folder, tmp_path):
    first = pack.ensure_pack(image_folder, "val", 36, None, tmp_path)
    stamp = first.stat().st_mtime_ns
    assert pack.ensure_pack(image_folder, "val", 36, None, tmp_path) == first
    assert first.stat().st_mtime_ns == stamp
    extra = image_folder / "val" / "dog" / "extra.jpg"
    extra.write_bytes((image_folder / "val" / "dog" / "dog_0.jpg").read_bytes())
    second = pack.ensure_pack(image_folder, "val", 36, None, tmp_path)
    assert second != first and len(pack.load_pack(second)["labels"]) == 9


def test_pack_takes_the_first_images_of_each_class(image_folder, tmp_path):
    some = pack.load_pack(pack.ensure_pack(image_folder, "train", 20, 2, tmp_path))
    full = pack.load_pack(pack.ensure_pack(image_folder, "train", 20, None, tmp_path))
    assert some["labels"].tolist() == [0, 0, 1, 1]
    assert torch.equal(some["images"], full["images"][[0, 1, 4, 5]])


def test_cli_pack_writes_the_profiles_train_and_val_packs(image_folder, tmp_path, capsys):
    out = tmp_path / "packs"
    args = ["pack", "--profile", "smoke", "--data", str(image_folder), "--out", str(out)]
    assert cli.main(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert [n.split("_")[:4] for n in names] == [
        ["tiny", "train", "73px", "8"],
        ["tiny", "val", "73px", "4"],
    ]
    assert str(out) in capsys.readouterr().out


def test_a_damaged_pack_is_rebuilt_with_a_message(image_folder, tmp_path, capsys):
    path = pack.ensure_pack(image_folder, "val", 16, None, tmp_path)
    good = pack.load_pack(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    assert pack.ensure_pack(image_folder, "val", 16, None, tmp_path) == path
    assert "is damaged (it cannot be read); rebuilding it" in capsys.readouterr().out
    assert torch.equal(pack.load_pack(path)["images"], good["images"])
