"""The drawings of what the network learned (alexnet_lab/viz/learned.py): the Figure 3 grids,
the top-unit and Figure 4 panels, and the two explorers, live and static."""

from __future__ import annotations

import datetime
import io
import json
import re

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_lab.analysis.receptive_field import Box
from alexnet_lab.analysis.top_activations import TopUnit
from alexnet_lab.model import AlexNet
from alexnet_lab.viz.learned import (
    ACT_LAYERS,
    ActivationExplorer,
    FilterExplorer,
    kernel_mosaic,
    plot_feature_map,
    plot_kernel_columns,
    plot_neighbours,
    plot_top5,
    plot_top_units,
)
from alexnet_lab.viz.style import to_image

matplotlib.use("Agg")
STATS = {"mean": torch.tensor([0.5, 0.45, 0.4]), "std": torch.tensor([0.25, 0.25, 0.3])}


@pytest.fixture(scope="module")
def model() -> AlexNet:
    torch.manual_seed(0)
    return AlexNet(10, init="kaiming").eval()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    """Three 64 px images, normalized: noise, a bright square and stripes."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 64, 64, generator=gen)
    x[1] = 0.1
    x[1, :, 20:44, 20:44] = 0.9
    x[2] = (torch.arange(64) // 4 % 2).float()[None, None, :]
    return (x - STATS["mean"].view(3, 1, 1)) / STATS["std"].view(3, 1, 1)


def shown(box) -> bytes:
    return box.image.value


def static_views(page: str) -> dict:
    found = re.search(r'<script type="application/json" class="ax-views">(.*?)</script>', page)
    return json.loads(found.group(1).replace("<\\/", "</"))["views"]


def test_the_filter_explorer_follows_its_controls(model, images):
    box = FilterExplorer(model, images, STATS, ["noise", "square", "stripes"]).widget()
    kernel, image = box.dropdowns
    first, caption = shown(box), box.caption.value
    assert caption.startswith("Kernel 0 (column 1)")
    kernel.value = 1  # the second option: the first kernel of column 2
    assert shown(box) != first and box.caption.value.startswith("Kernel 48 (column 2)")
    before = shown(box)
    image.value = 1
    assert shown(box) != before  # same kernel, another image: another response map
    kernel.value = len(kernel.options) - 1  # live: every kernel
    assert len(kernel.options) == 96


def test_the_filter_explorer_page_holds_both_columns_on_the_static_images(model, images):
    explorer = FilterExplorer(model, images, STATS, static_kernels=6, static_images=2)
    views = static_views(explorer.static_html())
    assert sorted(views) == sorted(f"{k}-{i}" for k in range(6) for i in range(2))
    kernels = [v[1].split(" (")[0] for k, v in sorted(views.items()) if k.endswith("-0")]
    assert kernels == ["Kernel 0", "Kernel 48", "Kernel 1", "Kernel 49", "Kernel 2", "Kernel 50"]
    assert explorer.page_bytes() == len(explorer.static_html().encode())


def test_the_activation_explorer_follows_its_controls(model, images):
    box = ActivationExplorer(model, images, STATS).widget()
    image, layer, channel = box.dropdowns
    assert box.caption.value.startswith("conv1 (after ReLU), channel 0 of 96: a 15x15 map")
    seen = {shown(box)}
    layer.value = 4
    assert box.caption.value.startswith("conv5 (after ReLU), channel 0 of 256: a 3x3 map")
    seen.add(shown(box))
    layer.value = 0
    channel.value = 95  # live: channels past the static ones
    assert "channel 95 of 96" in box.caption.value
    seen.add(shown(box))
    image.value = 1
    seen.add(shown(box))
    assert len(seen) == 4


def test_the_activation_explorer_page_has_one_view_per_static_combination(model, images):
    explorer = ActivationExplorer(model, images, STATS, static_images=2, static_channels=3)
    views = static_views(explorer.static_html())
    assert len(views) == 2 * len(ACT_LAYERS) * 3
    assert sorted(views) == sorted(
        f"{i}-{layer}-{c}" for i in range(2) for layer in range(5) for c in range(3)
    )
    assert explorer.static_html().count("<select>") == 3


def test_an_uploaded_photo_becomes_an_image_option(model, images):
    box = ActivationExplorer(model, images, STATS).widget()
    buffer = io.BytesIO()
    Image.fromarray(np.full((90, 120, 3), 200, dtype=np.uint8)).save(buffer, format="PNG")
    upload = box.children[1].children[-1]
    upload.value = ({"name": "me.png", "type": "image/png", "size": len(buffer.getvalue()),
                     "content": memoryview(buffer.getvalue()),
                     "last_modified": datetime.datetime.now()},)  # fmt: skip
    assert box.dropdowns[0].options[-1][0] == "me.png" and box.dropdowns[0].value == 3
    assert Image.open(io.BytesIO(shown(box))).size == (128, 128)


def test_a_kernel_mosaic_keeps_each_kernel_in_place_with_borders_at_the_minimum():
    w = torch.randn(5, 3, 4, 4)
    mosaic = kernel_mosaic(w, ncols=3)
    assert mosaic.shape == (3, 2 * 5 + 1, 3 * 5 + 1)
    assert torch.equal(mosaic[:, 1:5, 1:5], w[0])
    assert torch.equal(mosaic[:, 6:10, 6:10], w[4])  # row 2, column 2
    assert (mosaic[:, 0] == w.min()).all() and (mosaic[:, 6:10, 11:15] == w.min()).all()


def test_kernel_columns_share_one_range_per_column():
    w = torch.randn(96, 3, 11, 11)
    w[50] *= 10  # one strong kernel in column 2
    fig = plot_kernel_columns({"trained": w, "initial": w / 2})
    assert len(fig.axes) == 4
    assert fig.axes[1].get_title() == "trained, column 2 (kernels 48-95)"
    shown_2 = fig.axes[1].images[0].get_array()
    expected = to_image(kernel_mosaic(w[48:], 16), rescale=True).numpy()
    np.testing.assert_allclose(shown_2, expected, atol=1e-6)  # one range, not one per kernel
    faint = shown_2[1:12, 1:12]  # kernel 48 next to the strong one: squeezed into grey
    assert faint.max() - faint.min() < 0.5
    matplotlib.pyplot.close("all")


def test_the_figure_4_and_top_unit_panels_draw():
    gen = torch.Generator().manual_seed(0)
    crops = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=gen)
    probs = torch.softmax(torch.randn(4, 10, generator=gen), 1)
    labels = torch.tensor([0, 1, 2, 3])
    names = [f"class {i}" for i in range(10)]
    fig = plot_top5(crops, probs, labels, names)
    bars = fig.axes[4]
    assert len(fig.axes) == 8 and len(bars.patches) == 5
    top = probs[0].argsort(descending=True)[:5]
    assert [p.get_width() for p in bars.patches] == pytest.approx(probs[0, top].tolist())
    neighbours = {"fc7": crops[None].expand(4, 4, -1, -1, -1)[:, :3], "pixels": crops[:, None]}
    assert len(plot_neighbours(crops, neighbours, names[:4]).axes) == 4 * (1 + 3 + 1)
    units = [TopUnit(i, 1.0 - i / 10, 0, 0, Box(-3, 20, 19)) for i in range(3)]
    assert len(plot_top_units(crops, {"act3 channel 5": units}).axes) == 2 * 3
    points = torch.randn(40, 2, generator=gen)
    fig = plot_feature_map(points, torch.arange(40) % 10, names)
    assert len(fig.axes[0].get_legend().get_texts()) == 10
    matplotlib.pyplot.close("all")
