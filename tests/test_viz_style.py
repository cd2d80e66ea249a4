"""The shared figure machinery: ``ax=`` on every plot function, the axes helper, and the one
tensor-to-image conversion."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from alexnet_lab.analysis.layer_stats import check_dropout
from alexnet_lab.analysis.layer_table import LayerTable, layer_table
from alexnet_lab.analysis.predictions import confusion_matrix
from alexnet_lab.analysis.receptive_field import Box
from alexnet_lab.augment import normalize, pca_colour_stats
from alexnet_lab.chapters import history
from alexnet_lab.classes import IMAGENETTE_WNIDS
from alexnet_lab.model import AlexNet
from alexnet_lab.viz import activation_functions, layers, receptive_field, training
from alexnet_lab.viz.style import axes_or_new, to_image

matplotlib.use("Agg")

PLOT_MODULES = (layers, training, receptive_field, activation_functions, history)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _stats(x: torch.Tensor) -> dict[str, torch.Tensor]:
    mean, std, eigvals, eigvecs = pca_colour_stats(x)
    return {"mean": mean, "std": std, "eigvals": eigvals, "eigvecs": eigvecs}


@functools.cache
def _layer_table() -> LayerTable:
    return layer_table(AlexNet(num_classes=10), 64)


def _samples_folder(tmp_path: Path) -> Path:
    """Five small images named as in imagenet-samples (<wnid>_<name>.JPEG), not square."""
    rng = np.random.default_rng(0)
    for w in IMAGENETTE_WNIDS[:5]:
        pixels = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{w}_x.JPEG")
    return tmp_path


def _cases(tmp_path: Path) -> dict[str, tuple]:
    """Every plot function: (function, args, kwargs, (nrows, ncols), panels that get drawn)."""
    g = torch.Generator().manual_seed(0)
    maps = torch.rand(10, 7, 7, generator=g)
    x = torch.randint(0, 256, (6, 3, 20, 20), dtype=torch.uint8, generator=g)
    stats = _stats(x)
    a = torch.rand(1, 8, 3, 3, generator=g)
    table = _layer_table()
    history_rows = [
        {"epoch": e, "lr": 0.01 / e, "train_loss": 2 / e, "val_loss": 2.1 / e,
         "train_top1": 10.0 * e, "val_top1": 9.0 * e, "train_top5": 50.0, "val_top5": 51.0}
        for e in (1, 2, 3)
    ]  # fmt: skip
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    probs = torch.tensor([[0.7, 0.2, 0.1]] * 6)  # always class 0: four mistakes
    names = ["a", "b", "c"]
    image = torch.rand(3, 32, 32, generator=g)
    return {
        "plot_feature_maps": (layers.plot_feature_maps, (maps,), {"ncols": 4}, (3, 4), 10),
        "plot_layer_maps": (
            layers.plot_layer_maps, ({"a": maps, "b": maps[:4]},), {"per_layer": 3}, (2, 3), 6
        ),
        "plot_kernels": (
            layers.plot_kernels, (torch.randn(5, 3, 11, 11, generator=g),), {"ncols": 3}, (2, 3), 5
        ),
        "plot_pooling_windows": (layers.plot_pooling_windows, (), {"size": 9}, (1, 2), 2),
        "plot_connectivity": (
            layers.plot_connectivity, ({"x": nn.Conv2d(4, 4, 3, groups=2)},), {}, (1, 1), 1
        ),
        "plot_lrn_effect": (
            layers.plot_lrn_effect, ({"one": (a, a / 2), "two": (a, a)},), {"points": 10}, (1, 2), 2
        ),
        "plot_dropout": (
            layers.plot_dropout, (check_dropout(nn.Dropout(0.5), torch.rand(50) + 1, trials=5),),
            {"units": 20}, (1, 1), 1,
        ),
        "plot_params_and_macs": (layers.plot_params_and_macs, (table,), {}, (1, 2), 2),
        "plot_augmentations": (
            training.plot_augmentations, (x[:2], 16, stats), {"draws": 3}, (2, 4), 8
        ),
        "plot_pca_colour": (training.plot_pca_colour, (x[0], stats), {}, (3, 4), 12),
        "plot_history": (training.plot_history, (history_rows,), {}, (1, 4), 4),
        "plot_confusion": (
            training.plot_confusion, (confusion_matrix(probs, labels), names), {}, (1, 1), 1
        ),
        "plot_mistakes": (
            training.plot_mistakes, (x, probs, labels, names, 16), {"n": 3, "ncols": 2}, (2, 2), 3
        ),
        "plot_receptive_fields": (
            receptive_field.plot_receptive_fields,
            (torch.rand(16, 16, 3, generator=g), {"a": Box(2, 2, 5), "b": Box(-4, -4, 11)}),
            {}, (1, 1), 1,
        ),
        "plot_receptive_field_growth": (
            receptive_field.plot_receptive_field_growth, (table, 64), {}, (1, 1), 1
        ),
        "plot_saturation": (activation_functions.plot_saturation, (), {}, (1, 2), 2),
        "plot_gradient_by_depth": (
            activation_functions.plot_gradient_by_depth,
            ({"relu": {"conv1": 1e-6, "fc8": 1e-2}},), {}, (1, 1), 1,
        ),
        "plot_ilsvrc_winners": (
            history.plot_ilsvrc_winners, (history.load_table("ilsvrc_winners"),), {}, (1, 1), 1
        ),
        "plot_successors": (
            history.plot_successors, (history.load_table("successors"),), {}, (1, 1), 1
        ),
        "plot_dataset_scale": (
            history.plot_dataset_scale, (history.load_table("imagenet_scale"), {"tiny": 10}), {},
            (1, 1), 1,
        ),
        "plot_imagenet_samples": (
            history.plot_imagenet_samples, (_samples_folder(tmp_path), 5), {"columns": 3},
            (2, 3), 5,
        ),
        "plot_hog": (history.plot_hog, ([image, image], ["a", "b"]), {}, (3, 2), 6),
        "plot_hog_cell": (history.plot_hog_cell, (image, (1, 1)), {}, (1, 4), 4),
    }  # fmt: skip


PLOTS = sorted(
    name
    for m in PLOT_MODULES
    for name, f in vars(m).items()
    if name.startswith("plot_") and inspect.isfunction(f) and f.__module__ == m.__name__
)


def test_every_plot_function_is_covered_and_takes_ax(tmp_path):
    cases = _cases(tmp_path)
    assert sorted(cases) == PLOTS
    for name, (plot, *_) in cases.items():
        ax = inspect.signature(plot).parameters.get("ax")
        assert ax is not None and ax.default is None, f"{name} has no ax=None"


def _drawn(ax: plt.Axes) -> bool:
    return ax.has_data() or bool(ax.texts)


@pytest.mark.parametrize("name", PLOTS)
def test_plot_draws_into_the_given_axes(name, tmp_path):
    plot, args, kwargs, (nrows, ncols), panels = _cases(tmp_path)[name]
    fig, axes = plt.subplots(nrows, ncols, squeeze=False)
    given = axes[0, 0] if axes.size == 1 else list(axes.flat)  # a flat list is fine too
    out = plot(*args, **kwargs, ax=given)
    assert out is fig
    assert len(fig.axes) == nrows * ncols  # drew on the given axes, added none
    assert sum(_drawn(a) for a in axes.flat) == panels
    # and with no axes, it makes its own figure with the same panels drawn
    own = plot(*args, **kwargs)
    assert own is not fig and sum(_drawn(a) for a in own.axes) == panels


@pytest.mark.parametrize("name", PLOTS)
def test_plot_rejects_the_wrong_number_of_axes(name, tmp_path):
    plot, args, kwargs, (nrows, ncols), _ = _cases(tmp_path)[name]
    need = nrows * ncols
    _, wrong = plt.subplots(1, need + 1)
    with pytest.raises(ValueError, match=f"needs {need} axes"):
        plot(*args, **kwargs, ax=wrong)
    if need > 1:
        _, one = plt.subplots()
        with pytest.raises(ValueError, match=f"needs {need} axes"):
            plot(*args, **kwargs, ax=one)


def test_axes_or_new_shapes_and_checks():
    fig, ax = axes_or_new(None, figsize=(2, 2))
    assert isinstance(ax, plt.Axes) and ax.figure is fig and tuple(fig.get_size_inches()) == (2, 2)
    fig, axes = axes_or_new(None, 1, 3)
    assert axes.shape == (3,)
    fig, axes = axes_or_new(None, 2, 1, squeeze=False)
    assert axes.shape == (2, 1)
    theirs, grid = plt.subplots(2, 3)
    fig, axes = axes_or_new(list(grid.T.flat), 3, 2)  # any shape: taken in order
    assert fig is theirs and axes.shape == (3, 2) and axes[0, 1] is grid[1, 0]
    fig, ax = axes_or_new([grid[1, 2]], 1, 1)
    assert ax is grid[1, 2]
    with pytest.raises(ValueError, match=r"needs 4 axes \(2 row\(s\) x 2 column\(s\)\), got 6"):
        axes_or_new(grid, 2, 2)
    with pytest.raises(TypeError, match="Axes"):
        axes_or_new(["not an axes"], 1, 1)


def test_to_image_converts_pixels_maps_and_normalized_images():
    u8 = torch.tensor([[[0, 255], [51, 102]]] * 3, dtype=torch.uint8)  # (3, 2, 2)
    img = to_image(u8)
    assert img.shape == (2, 2, 3) and img.dtype == torch.float32
    torch.testing.assert_close(img[..., 0], torch.tensor([[0.0, 1.0], [0.2, 0.4]]))
    assert to_image(torch.tensor([[-0.5, 1.5]])).tolist() == [[0.0, 1.0]]  # clipped
    m = torch.tensor([[2.0, 4.0], [6.0, 10.0]])
    assert to_image(m, rescale=True).tolist() == [[0.0, 0.25], [0.5, 1.0]]
    assert to_image(torch.full((3, 2, 2), 7.0), rescale=True).eq(0).all()  # constant: 0
    base = torch.arange(25.0).reshape(5, 5) / 24
    k = to_image(torch.stack([4 * base, 2 * base, base]), rescale=True)  # a kernel, (3, 5, 5)
    assert k.shape == (5, 5, 3)
    assert [k[..., c].max().item() for c in range(3)] == [1.0, 0.5, 0.25]  # one range for all
    x = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    stats = _stats(x)
    shown = to_image(normalize(x, stats)[0], stats=stats)
    torch.testing.assert_close(shown, x[0].permute(1, 2, 0) / 255, atol=1e-5, rtol=0)
    wide = torch.arange(2 * 5).reshape(2, 5).float() / 10
    assert to_image(wide, square=True).tolist() == to_image(wide[:, 2:4]).tolist()  # as torchvision
    with pytest.raises(ValueError, match="not both"):
        to_image(x[0], stats=stats, rescale=True)
    with pytest.raises(ValueError, match=r"\(3, H, W\) or \(H, W\)"):
        to_image(x)
