import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_lab import pack, trained
from alexnet_lab.analysis.columns import colour_share
from alexnet_lab.analysis.hooks import activations, layer_by_name
from alexnet_lab.analysis.layer_stats import paper_pixel_scale
from alexnet_lab.augment import centre_crop, normalize, resize_for
from alexnet_lab.chapters import (
    chapter_model,
    imagenette_batch,
    imagenette_image,
    initial_model,
    model_summary,
)
from alexnet_lab.classes import IMAGENETTE_WNIDS
from alexnet_lab.config import get_profile
from alexnet_lab.model import AlexNet, TorchvisionAlexNet
from alexnet_lab.pack import make_pack
from alexnet_lab.train import train
from alexnet_lab.viz.style import to_image

# ImageNet's per-channel pixel statistics (0..1 scale), in the form of ``model.stats``
STATS = {"mean": torch.tensor([0.485, 0.456, 0.406]), "std": torch.tensor([0.229, 0.224, 0.225])}


@pytest.fixture
def tiny_imagenette(tmp_path: Path) -> Path:
    """A data root with imagenette-224/{train,val}/<wnid>/ holding 2 small JPEGs per class."""
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for label, wnid in enumerate(IMAGENETTE_WNIDS):
            folder = tmp_path / "imagenette-224" / split / wnid
            folder.mkdir(parents=True)
            for i in range(2):
                pixels = np.full((40, 48, 3), 10 * label + 100 * i, dtype=np.uint8)
                pixels[:4] = rng.integers(0, 256, (4, 48, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"img_{i}.JPEG")
    return tmp_path


def test_activations_are_the_layer_outputs():
    torch.manual_seed(0)
    model = AlexNet(num_classes=10, init="kaiming").eval()
    x = torch.randn(2, 3, 64, 64)
    acts = activations(model, x, ("conv1", "act1", "pool5", "fc8"))
    assert list(acts) == ["conv1", "act1", "pool5", "fc8"]
    conv1 = model.features.conv1(x)
    torch.testing.assert_close(acts["conv1"], conv1)
    torch.testing.assert_close(acts["act1"], torch.relu(conv1))
    torch.testing.assert_close(acts["fc8"], model(x))
    assert acts["conv1"].shape == (2, 96, 15, 15)
    assert not acts["conv1"].requires_grad
    assert not model.features.conv1._forward_hooks  # hooks are removed


def test_activations_survive_in_place_layers_and_take_full_names():
    model = TorchvisionAlexNet(num_classes=10).eval()  # its ReLUs work in place
    x = torch.randn(1, 3, 64, 64)
    conv1 = activations(model, x, ["features.0"])["features.0"]
    assert (conv1 < 0).any()  # recorded before features.1 clipped it in place
    torch.testing.assert_close(conv1, model.features[0](x))


def test_unknown_layer_names_the_layers():
    with pytest.raises(KeyError, match="conv1"):
        activations(AlexNet(num_classes=10), torch.zeros(1, 3, 64, 64), ["conv9"])
    assert layer_by_name(AlexNet(num_classes=10), "lrn2").size == 5


def test_chapter_model_is_the_trained_run_and_initial_model_its_start(
    tiny_imagenette: Path, tmp_path: Path, monkeypatch
):
    # a real 'smoke' run with lr 0, so training leaves the weights where they started
    monkeypatch.setattr(trained, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(pack, "PACKS", tmp_path / "packs")
    frozen = dataclasses.replace(get_profile("smoke"), lr=0.0, batch_size=10)
    train(frozen, tmp_path / "runs" / "smoke" / "batch_size=10,lr=0.0", tiny_imagenette)
    model, meta = chapter_model(frozen)
    assert not model.training and meta.config == frozen
    assert meta.classes == list(IMAGENETTE_WNIDS) and set(meta.stats) >= {"mean", "std"}
    start = initial_model(meta)
    assert not start.training
    for (name, a), b in zip(model.state_dict().items(), start.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    reseeded = dataclasses.replace(meta, config=dataclasses.replace(frozen, seed=1))
    assert not torch.equal(
        initial_model(reseeded).features.conv1.weight, start.features.conv1.weight
    )
    assert model_summary(meta).startswith("AlexNet trained with the 'smoke' profile (")
    assert "1 epochs on imagenette-224 at 64px; validation top-1 " in model_summary(meta)


def test_colour_share_separates_grey_from_colour_kernels():
    torch.manual_seed(0)
    pattern = torch.randn(4, 1, 5, 5)
    grey = pattern.expand(4, 3, 5, 5)
    opponent = pattern * torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)  # red against green
    torch.testing.assert_close(colour_share(grey), torch.zeros(4))
    torch.testing.assert_close(colour_share(opponent), torch.ones(4))
    assert abs(colour_share(torch.randn(2000, 3, 5, 5)).mean() - 2 / 3) < 0.01


def test_images_are_prepared_as_the_trainer_evaluates_them(tiny_imagenette: Path):
    # the trainer packs images at resize_for(size), then centre-crops and normalizes them
    size = 64  # the smoke profile: 73px packs, an odd margin of 9
    val = make_pack(tiny_imagenette / "imagenette-224" / "val", resize_for(size))
    stats = {k: val[k] for k in ("mean", "std")}
    images, labels = imagenette_batch(20, size, stats, root=tiny_imagenette)
    order = labels * 2 + torch.arange(20) // 10  # the pack is sorted by class, then file
    expected = normalize(centre_crop(val["images"], size), stats)[order]
    torch.testing.assert_close(images, expected, rtol=0, atol=1e-5)


def test_images_are_normalized_with_the_stats_and_to_image_inverts(tiny_imagenette: Path):
    image = imagenette_image(IMAGENETTE_WNIDS[9], 0, 32, STATS, root=tiny_imagenette)
    assert image.shape == (3, 32, 32)
    # class 9, image 0 is a flat grey of 90 below its noisy top rows
    grey = torch.full((3,), 90 / 255)
    expected = (grey - STATS["mean"]) / STATS["std"]
    torch.testing.assert_close(image[:, -1, -1], expected, atol=0.03, rtol=0)
    other = {"mean": torch.zeros(3), "std": torch.ones(3)}
    raw = imagenette_image(IMAGENETTE_WNIDS[9], 0, 32, other, root=tiny_imagenette)
    torch.testing.assert_close(raw[:, -1, -1], grey, atol=0.01, rtol=0)
    shown = to_image(image, stats=STATS)
    assert shown.shape == (32, 32, 3)
    torch.testing.assert_close(shown[-1, -1], grey, atol=0.01, rtol=0)
    centred = paper_pixel_scale(image[None], STATS)[0, :, -1, -1]
    torch.testing.assert_close(centred, 90 - 255 * STATS["mean"], atol=2.0, rtol=0)


def test_batch_cycles_through_classes(tiny_imagenette: Path):
    images, labels = imagenette_batch(12, 32, STATS, root=tiny_imagenette)
    assert images.shape == (12, 3, 32, 32)
    assert labels.tolist() == [*range(10), 0, 1]
    one = imagenette_image(IMAGENETTE_WNIDS[1], 1, 32, STATS, root=tiny_imagenette)
    torch.testing.assert_close(one, images[11])  # the second image of class 1
    assert not torch.allclose(images[1], images[11])


def test_real_imagenette_images(shared_data: Path):
    images, labels = imagenette_batch(20, 64, STATS, root=shared_data)
    assert images.shape == (20, 3, 64, 64) and labels.tolist() == list(range(10)) * 2
    assert -3 < images.mean() < 3 and 0.3 < images.std() < 3  # standardized pixels
    church = imagenette_image("n03028079", 0, 64, STATS, root=shared_data)
    torch.testing.assert_close(church, images[4])
