"""Attribution maps (analysis/attribution.py, viz/attribution.py): every method on real images,
in-place ReLUs, the cascading-randomization sanity check, deletion and insertion curves, and
the explorer."""

from __future__ import annotations

import copy
import datetime
import io
import json
import re

import pytest
import torch
from PIL import Image
from torch import nn

from alexnet_lab.analysis.attribution import (
    METHODS,
    RANDOM,
    SanityCheck,
    attribute,
    cascading_randomization,
    class_probabilities,
    deletion_insertion,
    weight_layers,
    without_inplace,
)
from alexnet_lab.chapters import imagenette_batch
from alexnet_lab.model import AlexNet, TorchvisionAlexNet
from alexnet_lab.viz.attribution import (
    AttributionExplorer,
    plot_attributions,
    plot_deletion_insertion,
    plot_randomized_maps,
    plot_sanity_check,
)

SIZE = 64
CHEAP = {"n_steps": 2, "nt_samples": 2, "window": 32}  # few IG passes, 4 occlusion patches
STATS = {"mean": torch.tensor([0.485, 0.456, 0.406]), "std": torch.tensor([0.229, 0.224, 0.225])}


@pytest.fixture(scope="module")
def batch(shared_data) -> tuple[torch.Tensor, torch.Tensor]:
    """Three real Imagenette validation images at 64 px and their labels."""
    return imagenette_batch(3, SIZE, STATS, root=shared_data)


def he_init(model: nn.Module, seed: int = 0) -> nn.Module:
    """``model`` with He-normal weights (gradients of a useful size through every layer)."""
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model.eval()


@pytest.fixture(scope="module")
def model() -> AlexNet:
    return he_init(AlexNet(10))


def test_every_method_gives_one_finite_map_per_image(model, batch):
    images, labels = batch
    for name in METHODS:
        maps = attribute(model, images, labels, name, **CHEAP)
        assert maps.shape == (len(images), SIZE, SIZE), name
        assert maps.dtype == torch.float32 and maps.isfinite().all(), name
        assert maps.abs().sum() > 0, name
    # one class for all images is the same as that class for each
    one = attribute(model, images, 3, "saliency")
    assert torch.equal(one, attribute(model, images, torch.full((3,), 3), "saliency"))


def test_in_place_relus_change_no_attribution(batch):
    images = batch[0][:2]
    inplace = he_init(TorchvisionAlexNet(10))
    assert any(getattr(m, "inplace", False) for m in inplace.modules())
    plain = copy.deepcopy(inplace)
    for m in plain.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    target = torch.tensor([1, 7])
    for name in METHODS:
        a = attribute(inplace, images, target, name, **CHEAP)
        b = attribute(plain, images, target, name, **CHEAP)
        torch.testing.assert_close(a, b, msg=name)
    # Grad-CAM on the convolution itself, whose output the in-place ReLU overwrites
    a = attribute(inplace, images, target, "grad_cam", layer="features.10")
    torch.testing.assert_close(a, attribute(plain, images, target, "grad_cam", layer="features.10"))
    grads = []
    for net in (inplace, plain):
        x = images.clone().requires_grad_(True)
        net(x).gather(1, target[:, None]).sum().backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1])
    assert all(m.inplace for m in inplace.modules() if isinstance(m, nn.ReLU))  # untouched


def test_without_inplace_copies_only_what_computes_in_place(model):
    tv = TorchvisionAlexNet(10)
    safe = without_inplace(tv)
    assert safe is not tv and not any(getattr(m, "inplace", False) for m in safe.modules())
    assert all(torch.equal(a, b) for a, b in zip(tv.parameters(), safe.parameters(), strict=True))
    assert without_inplace(model) is model  # the book's AlexNet has no in-place modules


def test_integrated_gradients_noise_is_seeded(model, batch):
    images, labels = batch
    state = torch.random.get_rng_state()
    x, t = images[:1], labels[:1]
    a = attribute(model, x, t, "integrated_gradients", seed=1, **CHEAP)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global state is left alone
    assert torch.equal(a, attribute(model, x, t, "integrated_gradients", seed=1, **CHEAP))
    assert not torch.equal(a, attribute(model, x, t, "integrated_gradients", seed=2, **CHEAP))


UNCHANGED: list[bool] = []  # whether cascading_randomization left the model's weights alone


@pytest.fixture(scope="module")
def check(model, batch):
    images, labels = batch
    before = copy.deepcopy(model.state_dict())
    result = cascading_randomization(model, images[:2], labels[:2], ("saliency", "grad_cam"))
    UNCHANGED.append(all(torch.equal(before[k], v) for k, v in model.state_dict().items()))
    return result


def test_sanity_check_starts_at_one_and_saliency_decorrelates(model, check):
    assert check.steps == ("none", "fc8", "fc7", "fc6", "conv5", "conv4", "conv3", "conv2", "conv1")
    assert check.spearman.shape == check.ssim.shape == (2, 9)
    ones = torch.ones(2, dtype=torch.float64)  # each map against itself; not bit-exact
    assert torch.allclose(check.spearman[:, 0], ones)  # (spearmanr(a, a) can be 1 - 1e-16)
    assert torch.allclose(check.ssim[:, 0], ones)
    saliency = check.spearman[check.methods.index("saliency")]
    assert saliency[-1] < 0.5, saliency
    assert check.passes("saliency")
    assert check.maps["saliency"].shape == (9, 2, SIZE, SIZE)
    text = str(check)
    assert "Saliency" in text and "conv1" in text and "passes" in text
    assert weight_layers(model) == [
        "conv1",
        "conv2",
        "conv3",
        "conv4",
        "conv5",
        "fc6",
        "fc7",
        "fc8",
    ]


def test_a_method_passes_when_its_maps_change_with_the_classifier():
    steps = ("none", "fc8", "fc7", "fc6", "conv5", "conv4", "conv3", "conv2", "conv1")
    spearman = torch.tensor(
        [
            [1, 0.57, 0.56, 0.53, 0.53, 0.50, 0.48, 0.42, 0.44],  # changes with fc8
            [1, 1.00, 0.96, 0.94, 0.94, 0.90, 0.77, 0.46, 0.33],  # only with the convs
            [1, 0.99, 0.99, 0.98, 0.97, 0.96, 0.95, 0.95, 0.95],  # never
        ],
        dtype=torch.float64,
    )
    check = SanityCheck(("saliency", "guided_backprop", "grad_cam"), steps, spearman,
                        spearman, maps={})  # fmt: skip
    assert [check.passes(m) for m in check.methods] == [True, False, False]
    assert str(check).splitlines()[1].endswith("0.44  yes")


def test_the_randomization_leaves_the_model_alone(check):
    assert UNCHANGED == [True]


def test_deletion_starts_and_insertion_ends_at_the_unperturbed_probability(model, batch):
    images, _ = batch
    probs = class_probabilities(model, images)
    target = probs.argmax(1)
    maps = {"saliency": attribute(model, images, target, "saliency")}
    faith = deletion_insertion(model, images, target, maps, steps=5)
    p = probs[torch.arange(3), target]
    assert faith.methods == ("saliency", RANDOM)
    assert faith.fractions.tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0], abs=1e-3)
    for m in faith.methods:
        assert faith.deletion[m].shape == faith.insertion[m].shape == (3, 6)
        torch.testing.assert_close(faith.deletion[m][:, 0], p)
        torch.testing.assert_close(faith.insertion[m][:, -1], p)
    # all pixels deleted: every method ends at the mean-colour image
    torch.testing.assert_close(faith.deletion["saliency"][:, -1], faith.deletion[RANDOM][:, -1])
    assert set(faith.auc("deletion")) == {"saliency", RANDOM}
    assert "random order" in str(faith)


def test_the_figures_draw_on_the_callers_axes(check, batch):
    import matplotlib.pyplot as plt

    images, labels = batch
    fig, axes = plt.subplots(2, 3)
    cols = {m: (check.maps[m][0], METHODS[m].sign) for m in check.methods}
    assert plot_attributions(images[:2], cols, STATS, ["a", "b"], ax=axes) is fig
    fig, axes = plt.subplots(1, 2)
    assert plot_sanity_check(check, ax=axes) is fig
    assert len(axes[0].lines) == 2 + 1  # a curve per method and the zero line
    fig = plot_randomized_maps(check, images, STATS)
    assert len(fig.axes) == 2 * (1 + 9)
    plt.close("all")


def test_deletion_figure(model, batch):
    import matplotlib.pyplot as plt

    images, _ = batch
    target = torch.zeros(3, dtype=torch.int64)
    faith = deletion_insertion(model, images, target, {"grad_cam": torch.rand(3, SIZE, SIZE)}, 4)
    fig = plot_deletion_insertion(faith)
    assert [len(a.lines) for a in fig.axes] == [2, 2]
    plt.close(fig)


def png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_the_explorer_changes_its_image_live_and_holds_every_static_view(model, batch):
    images, labels = batch
    explorer = AttributionExplorer(
        model, images, STATS, [f"c{i}" for i in range(10)], labels,
        methods=("saliency", "grad_cam"), static_images=2,
    )  # fmt: skip
    box = explorer.widget()
    first = box.image.value
    assert png(first).size == (2 * (2 * SIZE + 2), 2 * SIZE)  # photo | map, zoomed to 128
    box.dropdowns[1].value = 1  # Grad-CAM
    assert box.image.value != first and box.caption.value.startswith("Grad-CAM for ")
    box.dropdowns[2].value = 4 + 5  # "class: c5", live only
    assert box.caption.value.startswith("Grad-CAM for c5 (chosen class")
    # a reader's photo joins the images, prepared as the validation images are
    buffer = io.BytesIO()
    Image.new("RGB", (90, 70), (200, 120, 40)).save(buffer, format="PNG")
    upload = box.children[1].children[-1]
    upload.value = (
        {"name": "me.png", "type": "image/png", "size": len(buffer.getvalue()),
         "content": memoryview(buffer.getvalue()), "last_modified": datetime.datetime.now()},
    )  # fmt: skip
    assert box.dropdowns[0].options[-1] == ("me.png", 3)
    assert png(box.image.value).size == (2 * (2 * SIZE + 2), 2 * SIZE)
    assert "true class unknown" in box.caption.value
    page = explorer.static_html()
    views = json.loads(
        re.search(r'class="ax-views">(.*?)</script>', page).group(1).replace("<\\/", "</")
    )["views"]
    assert len(views) == 2 * 2 * 4
    assert len(re.findall(r"<select>", page)) == 3
    assert page.count("<option") == 2 + 2 + 4
