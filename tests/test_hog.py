import math

import pytest
import torch
from torchvision.transforms.functional import to_tensor

from alexnet_lab.chapters.hog import (
    L2HYS_CLIP,
    cell_histograms,
    hog,
    hog_glyph,
    image_gradients,
    normalize_blocks,
    strongest_cell,
)
from alexnet_lab.data import find_dataset, load_rgb


def step(h: int, w: int, axis: int) -> torch.Tensor:
    """A (1, h, w) image, 0 before the middle of ``axis`` (1: rows, 2: columns), 1 after."""
    image = torch.zeros(1, h, w)
    if axis == 2:
        image[:, :, w // 2 :] = 1
    else:
        image[:, h // 2 :, :] = 1
    return image


def test_vertical_edge_votes_only_into_the_horizontal_gradient_bin():
    cells = cell_histograms(*image_gradients(step(32, 32, axis=2)))
    total = cells.sum((0, 1))
    assert total[0] == pytest.approx(2 * 32)  # two columns of centred differences, 32 rows
    assert total[1:].abs().max() == 0


def test_horizontal_edge_splits_between_the_bins_around_90_degrees():
    total = cell_histograms(*image_gradients(step(32, 32, axis=1)), bins=9).sum((0, 1))
    assert total[4] == pytest.approx(32) and total[5] == pytest.approx(32)  # 90 = 4.5 bins
    assert total.sum() == pytest.approx(64)
    total = cell_histograms(*image_gradients(step(32, 32, axis=1)), bins=8).sum((0, 1))
    assert total[4] == pytest.approx(64) and total.sum() == pytest.approx(64)


def test_orientation_is_unsigned_and_diagonal_lands_in_its_bin():
    dark_to_light, light_to_dark = step(16, 16, axis=2), 1 - step(16, 16, axis=2)
    a = cell_histograms(*image_gradients(dark_to_light))
    b = cell_histograms(*image_gradients(light_to_dark))
    assert torch.equal(a, b)
    y, x = torch.meshgrid(torch.arange(24.0), torch.arange(24.0), indexing="ij")
    _, orientation = image_gradients((x + y)[None])  # grows along x and y (downwards)
    assert orientation[1:-1, 1:-1] == pytest.approx(torch.full((22, 22), 45.0))


def test_colour_image_uses_the_strongest_channel():
    edge = step(16, 16, axis=2)[0]
    colour = torch.stack([0.1 * edge, edge, torch.zeros_like(edge)])
    for got, want in zip(image_gradients(colour), image_gradients(edge), strict=True):
        assert torch.equal(got, want)


def test_shapes_follow_cells_and_blocks():
    image = torch.rand(3, 50, 70)  # 6 x 8 whole cells of 8px; the rest is dropped
    cells = cell_histograms(*image_gradients(image), cell_size=8, bins=9)
    assert cells.shape == (6, 8, 9)
    assert normalize_blocks(cells, block_size=2).shape == (5, 7, 36)
    assert hog(image).shape == (5 * 7 * 36,)
    assert hog(torch.rand(3, 224, 224)).shape == (27 * 27 * 36,)
    with pytest.raises(ValueError, match="smaller than one"):
        hog(torch.rand(3, 5, 70))


def test_blocks_are_l2_hys_normalized():
    cells = torch.zeros(2, 2, 9)
    cells[0, 0, 0], cells[0, 0, 1] = 10.0, 1.0
    block = normalize_blocks(cells)[0, 0]
    # L2: (10, 1) / sqrt(101); clip at 0.2: (0.2, 0.0995); L2 again
    first = min(10 / math.sqrt(101), L2HYS_CLIP)
    second = 1 / math.sqrt(101)
    norm = math.hypot(first, second)
    assert block[0] == pytest.approx(first / norm, rel=1e-4)
    assert block[1] == pytest.approx(second / norm, rel=1e-4)
    assert block[2:].abs().max() == 0
    blocks = normalize_blocks(cell_histograms(*image_gradients(torch.rand(3, 64, 64))))
    assert blocks.norm(dim=-1) == pytest.approx(torch.ones(7, 7), abs=1e-4)
    assert torch.equal(normalize_blocks(torch.zeros(3, 3, 9)), torch.zeros(2, 2, 36))


def test_glyph_draws_a_vertical_edge_as_a_vertical_stroke():
    cells = cell_histograms(*image_gradients(step(32, 32, axis=2)))
    glyph = hog_glyph(cells, cell_pixels=8)
    assert glyph.shape == (32, 32) and glyph.min() >= 0 and glyph.max() == 1
    cell = glyph[8:16, 8:16]  # a cell on the edge (columns 15 and 16 carry the gradient)
    assert cell[:, 3:5].sum() > 0 and cell[:, :2].sum() == 0 and cell[:, 6:].sum() == 0
    assert glyph[:, :4].sum() == 0  # cells away from the edge stay dark


def test_hog_of_a_real_image(shared_data):
    image_dir = find_dataset("imagenette", shared_data) / "val" / "n03028079"
    image = to_tensor(load_rgb(sorted(image_dir.iterdir())[0]))
    descriptor = hog(image)
    assert image.shape == (3, 224, 224) and descriptor.shape == (26_244,)
    assert torch.isfinite(descriptor).all() and descriptor.min() >= 0
    blocks = descriptor.reshape(27, 27, 36)
    assert blocks.norm(dim=-1).max() <= 1 + 1e-4 and blocks.norm(dim=-1).mean() > 0.9


def test_strongest_cell_finds_the_edge():
    image = torch.zeros(1, 32, 48)
    image[:, 8:16, 28:] = 1  # a bright patch whose left edge crosses cell (1, 3)
    cells = cell_histograms(*image_gradients(image))
    assert strongest_cell(cells) == (1, 3)
