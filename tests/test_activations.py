from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_lab.activations import (
    IMAGENET_STATS,
    activations,
    chapter_model,
    imagenette_batch,
    imagenette_image,
    layer_by_name,
    paper_pixel_scale,
    to_display,
)
from alexnet_lab.classes import IMAGENETTE_WNIDS
from alexnet_lab.model import AlexNet, TorchvisionAlexNet
from alexnet_lab.profiles import get_profile


@pytest.fixture
def tiny_imagenette(tmp_path: Path) -> Path:
    """A data root with imagenette-224/val/<wnid>/ holding 2 small JPEGs per class."""
    rng = np.random.default_rng(0)
    for label, wnid in enumerate(IMAGENETTE_WNIDS):
        folder = tmp_path / "imagenette-224" / "val" / wnid
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


def test_chapter_model_is_seeded_and_in_eval_mode():
    a, b = chapter_model(get_profile("smoke")), chapter_model(get_profile("smoke"))
    assert not a.training
    assert a.classifier.fc8.out_features == 10
    assert set(a.stats) >= {"mean", "std"}  # how its inputs are normalized
    torch.testing.assert_close(a.features.conv1.weight, b.features.conv1.weight)


def test_images_are_normalized_with_the_stats_and_to_display_inverts(tiny_imagenette: Path):
    image = imagenette_image(IMAGENETTE_WNIDS[9], 0, 32, IMAGENET_STATS, root=tiny_imagenette)
    assert image.shape == (3, 32, 32)
    # class 9, image 0 is a flat grey of 90 below its noisy top rows
    grey = torch.full((3,), 90 / 255)
    expected = (grey - IMAGENET_STATS["mean"]) / IMAGENET_STATS["std"]
    torch.testing.assert_close(image[:, -1, -1], expected, atol=0.03, rtol=0)
    other = {"mean": torch.zeros(3), "std": torch.ones(3)}
    raw = imagenette_image(IMAGENETTE_WNIDS[9], 0, 32, other, root=tiny_imagenette)
    torch.testing.assert_close(raw[:, -1, -1], grey, atol=0.01, rtol=0)
    shown = to_display(image, IMAGENET_STATS)
    assert shown.shape == (32, 32, 3)
    torch.testing.assert_close(shown[-1, -1], grey, atol=0.01, rtol=0)
    centred = paper_pixel_scale(image[None], IMAGENET_STATS)[0, :, -1, -1]
    torch.testing.assert_close(centred, 90 - 255 * IMAGENET_STATS["mean"], atol=2.0, rtol=0)


def test_batch_cycles_through_classes(tiny_imagenette: Path):
    images, labels = imagenette_batch(12, 32, IMAGENET_STATS, root=tiny_imagenette)
    assert images.shape == (12, 3, 32, 32)
    assert labels.tolist() == [*range(10), 0, 1]
    one = imagenette_image(IMAGENETTE_WNIDS[1], 1, 32, IMAGENET_STATS, root=tiny_imagenette)
    torch.testing.assert_close(one, images[11])  # the second image of class 1
    assert not torch.allclose(images[1], images[11])


def test_real_imagenette_images(shared_data: Path):
    images, labels = imagenette_batch(20, 64, IMAGENET_STATS, root=shared_data)
    assert images.shape == (20, 3, 64, 64) and labels.tolist() == list(range(10)) * 2
    assert -3 < images.mean() < 3 and 0.3 < images.std() < 3  # standardized pixels
    church = imagenette_image("n03028079", 0, 64, IMAGENET_STATS, root=shared_data)
    torch.testing.assert_close(church, images[4])
