import os
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader
from torchvision.datasets.folder import make_dataset
from torchvision.transforms import v2

from alexnet_lab import data
from alexnet_lab.classes import IMAGENETTE_WNIDS, class_name, imagenet_classes, imagenette_classes

to_tensor = v2.Compose([v2.ToImage(), v2.Resize((16, 16)), v2.ToDtype(torch.float32, scale=True)])


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    assert data.data_root() == data.REPO_DATA
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.data_root() == tmp_path
    assert data.data_root("/somewhere") == Path("/somewhere")


def test_every_mode_loads_as_rgb(image_folder):
    ds = data.ImageFolder(image_folder / "train")
    assert len(ds) == 8 and ds.classes == ["cat", "dog"]
    for i in range(len(ds)):
        image, label = ds[i]
        assert image.mode == "RGB" and image.size == (32, 32)
    modes = set()
    for p in sorted((image_folder / "train").rglob("*.*")):
        with data.Image.open(p) as im:
            modes.add(im.mode)
    assert {"L", "CMYK", "RGBA", "RGB"} <= modes


def test_corrupt_file_is_raised_with_its_path(corrupt_folder):
    ds = data.ImageFolder(corrupt_folder / "train", transform=to_tensor)
    bad = [i for i, (p, _) in enumerate(ds.samples) if "truncated" in p]
    with pytest.raises(data.UnreadableImageError, match="truncated.jpg"):
        ds[bad[0]]


def test_corrupt_file_in_a_worker_names_the_file(corrupt_folder):
    ds = data.ImageFolder(corrupt_folder / "train", transform=to_tensor)
    loader = DataLoader(ds, batch_size=4, num_workers=1)
    with pytest.raises(data.UnreadableImageError, match=r"(truncated|not_an_image)\.jpg"):
        list(loader)


def test_corrupt_files_can_be_skipped(corrupt_folder):
    ds = data.ImageFolder(corrupt_folder / "train", transform=to_tensor, on_error="skip")
    with pytest.warns(UserWarning, match="skipping"):
        batches = list(DataLoader(ds, batch_size=5, num_workers=0))
    assert sum(len(b[1]) for b in batches) == len(ds) == 10
    assert {Path(p).name for p in ds.skipped} == {"truncated.jpg", "not_an_image.jpg"}


def test_empty_and_missing_class_folders_are_reported(image_folder, tmp_path):
    (image_folder / "train" / "emu").mkdir()
    with pytest.raises(data.DataNotFoundError, match="emu"):
        data.ImageFolder(image_folder / "train")
    with pytest.raises(data.DataNotFoundError, match="not a folder"):
        data.ImageFolder(tmp_path / "nowhere")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "x.txt").write_text("")
    with pytest.raises(data.DataNotFoundError, match=data.DATA_ENV):
        data.ImageFolder(tmp_path / "flat")


def test_missing_dataset_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    with pytest.raises(data.DataNotFoundError) as e:
        data.find_dataset("imagenette", tmp_path)
    msg = str(e.value)
    assert data.DATA_ENV in msg and "{train,val}/<class>" in msg and str(tmp_path) in msg
    assert "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz" in msg


def test_find_dataset_prefers_the_224_copy(tmp_path):
    for name in ("imagenette2-160", "imagenette-224"):
        (tmp_path / name).mkdir()
    assert data.find_dataset("imagenette", tmp_path) == tmp_path / "imagenette-224"
    assert data.find_dataset("imagenette2-160", tmp_path) == tmp_path / "imagenette2-160"


def test_download_offline_fails_clearly(tmp_path):
    try:
        folder = data.download_imagenette(tmp_path, "160px")
    except data.DataNotFoundError as e:
        msg = str(e)
        assert "imagenette2-160.tgz" in msg and "e793b78cc4c9e9a4ccc0c1155377a412" in msg
        assert data.DATA_ENV in msg
    else:  # online: the archive was downloaded, checked and unpacked
        assert (folder / "train").is_dir() and (folder / "val").is_dir()


def test_check_data_counts_and_lists_bad_files(corrupt_folder):
    report = data.check_data(corrupt_folder)
    assert report.counts == {"train": {"cat": 5, "dog": 5}, "val": {"cat": 4, "dog": 4}}
    assert sorted(p.name for p, _ in report.unreadable) == ["not_an_image.jpg", "truncated.jpg"]
    assert not report.ok
    assert report.not_rgb == 3 * 4  # L, CMYK and RGBA images in 4 class folders
    assert data.check_data(corrupt_folder / "val").counts == {"val": {"cat": 4, "dog": 4}}


def test_image_files_lists_sub_folders_in_torchvision_order(image_folder):
    cat = image_folder / "train" / "cat"
    for name in ("b.jpg", "Upper.JPG", "notes.txt", "sub/c.jpg", "sub-2/d.png", "sub/x/e.jpg"):
        (cat / name).parent.mkdir(exist_ok=True)
        (cat / name).write_bytes((cat / "cat_0.jpg").read_bytes())
    walked = make_dataset(str(image_folder / "train"), {"cat": 0}, data.IMAGE_EXTENSIONS)
    files = data.image_files(cat)
    assert files == [Path(p) for p, _ in walked] and len(files) == 9
    names = [str(f.relative_to(cat)) for f in files]
    assert names[:2] == ["Upper.JPG", "b.jpg"]  # a folder's files by name, then sub-folders
    assert names[-3:] == ["sub/c.jpg", "sub-2/d.png", "sub/x/e.jpg"]  # by folder path
    assert [p for p, _ in data.ImageFolder(image_folder / "train").samples][:9] == [
        str(f) for f in files
    ]


def test_a_split_whose_classes_only_have_sub_folders_is_read_as_a_split(image_folder):
    train = image_folder / "train"
    for cls in ("cat", "dog"):
        (train / cls / "more").mkdir()
        for f in sorted((train / cls).glob("*.*")):
            f.rename(train / cls / "more" / f.name)
    assert data.check_data(train).counts == {"train": {"cat": 4, "dog": 4}}
    assert data.check_data(image_folder).counts["train"] == {"cat": 4, "dog": 4}


def test_class_names_work_offline():
    classes = imagenet_classes()
    assert len(classes) == 1000 and len({w for w, _ in classes}) == 1000
    assert classes[0] == ("n01440764", "tench") and classes[-1][0] == "n15075141"
    assert class_name("n03888257") == "parachute"
    assert imagenette_classes() == [
        "tench", "English springer", "cassette player", "chain saw", "church",
        "French horn", "garbage truck", "gas pump", "golf ball", "parachute",
    ]  # fmt: skip
    with pytest.raises(KeyError, match="n00000000"):
        class_name("n00000000")


def test_real_imagenette(shared_data):
    root = data.find_dataset("imagenette", shared_data)
    train = data.ImageFolder(root / "train")
    val = data.ImageFolder(root / "val")
    assert (len(train), len(val)) == (9469, 3425)
    assert train.classes == list(IMAGENETTE_WNIDS)
    grayscale = next(i for i, (p, _) in enumerate(train.samples) if data.Image.open(p).mode == "L")
    assert train[grayscale][0].mode == "RGB"


def test_real_imagenet_samples_match_the_class_list(shared_data):
    files = sorted(os.listdir(shared_data / "imagenet-samples"))
    assert [f.split("_", 1)[0] for f in files] == [w for w, _ in imagenet_classes()]
