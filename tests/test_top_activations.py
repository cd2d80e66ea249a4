"""Top-k images of a channel and their receptive-field patches
(alexnet_lab/analysis/top_activations.py), checked against a brute force on real images."""

from __future__ import annotations

import pytest
import torch

from alexnet_lab.analysis.hooks import activations
from alexnet_lab.analysis.receptive_field import Box, receptive_box
from alexnet_lab.analysis.top_activations import channel_maxima, crop_box, top_units
from alexnet_lab.augment import centre_crop, normalize
from alexnet_lab.data import ImageFolder
from alexnet_lab.model import AlexNet
from alexnet_lab.pack import first_per_class, make_pack

LAYERS = ("act1", "act3", "act5")


@pytest.fixture(scope="module")
def val_images(shared_data) -> dict:
    """The first validation image of each Imagenette class, decoded at 73 px (no pack file)."""
    split = shared_data / "imagenette-224" / "val"
    assert len(first_per_class(ImageFolder(split), 1)) == 10
    return make_pack(split, 73, per_class=1)


def test_top_units_are_the_k_largest_maxima_of_a_brute_force(val_images):
    torch.manual_seed(0)
    model = AlexNet(10, init="kaiming").train()
    images, stats = val_images["images"], {k: val_images[k] for k in ("mean", "std")}
    maxima = channel_maxima(model, images, 64, stats, LAYERS, batch_size=3)
    assert model.training  # its mode is given back
    model.eval()
    # brute force: one image at a time, every map's maximum
    one_by_one = [
        activations(model, normalize(centre_crop(im[None], 64), stats), LAYERS) for im in images
    ]
    for layer in LAYERS:
        maps = torch.cat([found[layer] for found in one_by_one])
        m = maxima[layer]
        assert m.map_size == tuple(maps.shape[-2:])
        torch.testing.assert_close(m.values, maps.amax((2, 3)), rtol=1e-4, atol=1e-5)
        at = maps[torch.arange(10)[:, None], torch.arange(maps.shape[1]), m.rows, m.cols]
        torch.testing.assert_close(at, m.values, rtol=1e-4, atol=1e-5)  # where the max is
        channel = int(maps.amax((0, 2, 3)).argmax())  # a channel that responds somewhere
        units = top_units(m, channel, k=4, features=model.features)
        brute = maps[:, channel].amax((1, 2)).sort(descending=True, stable=True)
        assert [u.image for u in units] == brute.indices[:4].tolist()
        assert [u.value for u in units] == pytest.approx(brute.values[:4].tolist(), rel=1e-4)
        for u in units:
            assert u.box == receptive_box(model.features, layer, u.row, u.col)


def test_a_top_unit_s_box_is_the_field_of_the_strongest_unit():
    torch.manual_seed(0)
    model = AlexNet(10, init="kaiming").eval()
    images = torch.zeros(2, 3, 64, 64, dtype=torch.uint8)
    images[1, :, 40:51, 20:31] = 255  # a white square: conv1 units see it, at one place
    stats = {"mean": torch.zeros(3), "std": torch.ones(3)}
    maxima = channel_maxima(model, images, 64, stats, ("act1",))
    responding = (maxima["act1"].values[1] > maxima["act1"].values[0]).nonzero().flatten()
    unit = top_units(maxima["act1"], int(responding[0]), k=1, features=model.features)[0]
    assert unit.image == 1 and unit.box.size == 11
    # the box overlaps the square: the strongest unit sees part of it
    assert unit.box.top < 51 and unit.box.top + 11 > 40
    assert unit.box.left < 31 and unit.box.left + 11 > 20


def test_crop_box_fills_what_lies_past_the_border():
    image = torch.arange(2 * 6 * 6).reshape(2, 6, 6)
    assert torch.equal(crop_box(image, Box(1, 2, 3)), image[:, 1:4, 2:5])
    patch = crop_box(image, Box(-2, 4, 4), fill=-1)
    assert patch.shape == (2, 4, 4) and patch.dtype == image.dtype
    assert (patch[:, :2] == -1).all() and (patch[:, :, 2:] == -1).all()
    assert torch.equal(patch[:, 2:, :2], image[:, :2, 4:6])
    assert (crop_box(image, Box(10, 10, 3), fill=7) == 7).all()  # wholly outside
