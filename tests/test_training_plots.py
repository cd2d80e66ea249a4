import dataclasses
import math

import matplotlib
import pytest
import torch

from alexnet_lab.analysis.colour import describe_pca, pca_shifts
from alexnet_lab.analysis.predictions import confusion_matrix, most_confident_mistakes
from alexnet_lab.analysis.recipe import recipe_table
from alexnet_lab.augment import draw_augmentation, pca_colour_shift, pca_colour_stats
from alexnet_lab.config import get_profile
from alexnet_lab.evaluate import top_classes, topk_correct
from alexnet_lab.viz.training import (
    plot_augmentations,
    plot_confusion,
    plot_history,
    plot_mistakes,
    plot_pca_colour,
)

matplotlib.use("Agg")


@pytest.fixture
def images() -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Six random 20x20 uint8 images and their colour statistics, as a pack holds them."""
    x = torch.randint(0, 256, (6, 3, 20, 20), dtype=torch.uint8, generator=torch.Generator())
    mean, std, eigvals, eigvecs = pca_colour_stats(x)
    return x, {"mean": mean, "std": std, "eigvals": eigvals, "eigvecs": eigvecs}


def test_confusion_matrix_counts_truth_by_prediction():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    pred = torch.tensor([0, 1, 1, 2, 0, 2])
    probs = torch.nn.functional.one_hot(pred, 3).float() * 0.8 + 0.05
    m = confusion_matrix(probs, labels)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert m.trace() == topk_correct(probs, labels, ks=(1,))[0]


def test_ties_count_the_same_in_accuracy_confusion_and_mistakes():
    # bf16 logits tie now and then; the accuracy, the matrix and the mistakes must agree.
    g = torch.Generator().manual_seed(0)
    probs = torch.randint(0, 3, (400, 10), generator=g).float()  # many tied maxima
    labels = torch.randint(0, 10, (400,), generator=g)
    top1, top5 = topk_correct(probs, labels)
    assert confusion_matrix(probs, labels).trace() == top1
    assert len(most_confident_mistakes(probs, labels, 400)) == 400 - top1
    # ties go to the lower class, as argmax, whatever k is
    assert torch.equal(top_classes(probs, 5)[1][:, 0], probs.argmax(1))
    assert torch.equal(top_classes(probs, 1)[1][:, 0], probs.argmax(1))
    first5 = top_classes(probs, 5)[1]
    assert top5 == (first5 == labels[:, None]).any(1).sum()


def test_most_confident_mistakes_are_wrong_and_sorted():
    labels = torch.tensor([0, 1, 2, 0, 1])
    probs = torch.tensor(
        [[0.9, 0.1, 0.0], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.0, 1.0, 0.0]]
    )
    assert most_confident_mistakes(probs, labels, 5).tolist() == [2, 3, 1]
    assert most_confident_mistakes(probs, labels, 2).tolist() == [2, 3]
    assert most_confident_mistakes(probs[[0, 4]], labels[[0, 4]], 3).tolist() == []


def test_recipe_table_follows_the_profile():
    p = dataclasses.replace(
        get_profile("cpu"), image_size=112, epochs=7, batch_size=64, schedule="plateau"
    )
    table = recipe_table(p)
    assert table.row("epochs") == ("epochs", "about 90", "7")
    assert table.row("batch size")[2] == "64"
    assert "/ 10 after" in table.row("learning rate")[2]
    assert table.row("input")[2] == "112x112 crops of 128x128 images"
    cpu, gpu = recipe_table(get_profile("cpu")), recipe_table(get_profile("gpu"))
    assert "warm-up over 2 epochs, then cosine" in cpu.row("learning rate")[2]
    assert cpu.row("augmentation")[2].startswith("random boxes of 35%-100% of the image area")
    assert cpu.row("loss")[2] == "cross-entropy, label smoothing 0.1"
    assert gpu.row("input")[2] == "224x224 crops of 256x256 images"
    assert "resized to 224x224" in gpu.row("augmentation")[2]
    paper = recipe_table(dataclasses.replace(p, min_crop_area=None, label_smoothing=0.0))
    assert paper.row("augmentation")[2].startswith("random crops and flips as the paper, PCA")
    ablated = recipe_table(
        dataclasses.replace(p, lrn=False, two_columns=False, normalize="mean", pca_colour=False)
    )
    assert ablated.row("network")[2].startswith("one column, no LRN, overlapping pooling")
    assert ablated.row("normalization")[2] == "subtract the per-channel mean (0..255 pixels)"
    assert "no PCA colour" in ablated.row("augmentation")[2]
    assert cpu.row("network")[2].startswith("two columns (groups=2), LRN")
    assert paper.row("loss")[2] == "cross-entropy"
    assert gpu.row("optimizer")[2] == "SGD, momentum 0.9, weight decay 0.0005"
    assert "<table>" in table._repr_html_() and "profile 'cpu'" in str(table)
    with pytest.raises(KeyError):
        table.row("nothing")


def test_describe_pca_lists_each_eigenvector(images):
    _, stats = images
    table = describe_pca(stats)
    lines = str(table).splitlines()
    assert len(lines) == 5 and lines[1].startswith("p1") and "sqrt(lambda)" in lines[4]
    for i, row in enumerate(table.rows):
        lam = stats["eigvals"][i].item()
        std = 0.1 * math.sqrt(lam)  # alpha ~ N(0, 0.1^2) times sqrt(lambda): cuda-convnet
        assert row[0] == f"p{i + 1}" and row[1] == f"{lam:.4f}"
        assert row[3] == f"{std:.4f}" and row[4] == f"{255 * std:.1f}"
    assert "<td>p3</td>" in table._repr_html_()


def test_pca_table_gives_the_spread_of_the_training_shifts(images):
    # The std column is the spread, along each eigenvector, of the shifts training draws.
    _, stats = images
    alpha = draw_augmentation(20_000, 20, 16, generator=torch.Generator().manual_seed(0))[-1]
    shifts = pca_colour_shift(alpha, stats["eigvals"], stats["eigvecs"])
    spread = (shifts @ stats["eigvecs"]).std(0)  # coordinates along p1, p2, p3
    torch.testing.assert_close(spread, pca_shifts(stats).norm(dim=1), rtol=0.03, atol=0)
    torch.testing.assert_close(pca_shifts(stats).norm(dim=1), 0.1 * stats["eigvals"].sqrt())


def test_augmentation_gallery_shows_the_drawn_crops(images):
    x, stats = images
    fig = plot_augmentations(x[:2], 16, stats, draws=3)
    assert len(fig.axes) == 2 * 4
    windows = fig.axes[0].patches
    assert len(windows) == 3
    assert all(0 <= w.get_x() + 0.5 <= 4 and w.get_width() == 16 for w in windows)
    assert fig.axes[1].images[0].get_array().shape == (16, 16, 3)
    fig = plot_pca_colour(x[0], stats)
    assert len(fig.axes) == 12
    matplotlib.pyplot.close("all")


def test_pca_colour_figure_shifts_by_alpha_sqrt_lambda(images):
    x, stats = images
    fig = plot_pca_colour(x[0], stats, sigmas=3.0)
    lam, p = stats["eigvals"], stats["eigvecs"]
    for i in range(3):
        row = fig.axes[4 * i : 4 * i + 4]
        for ax, alpha in zip(row[1:], (-0.3, 0.0, 0.3), strict=True):
            shift = alpha * lam[i].sqrt() * p[:, i]
            expected = (x[0].float() / 255 + shift[:, None, None]).clamp(0, 1).permute(1, 2, 0)
            shown = torch.from_numpy(ax.images[0].get_array().data)
            torch.testing.assert_close(shown, expected, atol=1e-6, rtol=0)
    matplotlib.pyplot.close("all")


def test_history_confusion_and_mistake_plots_draw(images):
    history = [
        {"epoch": e, "lr": 0.01 / e, "train_loss": 2 / e, "val_loss": 2.1 / e,
         "train_top1": 10.0 * e, "val_top1": 9.0 * e, "train_top5": 50.0, "val_top5": 51.0}
        for e in (1, 2, 3)
    ]  # fmt: skip
    fig = plot_history(history)
    assert len(fig.axes) == 4
    assert list(fig.axes[1].lines[1].get_ydata()) == [9.0, 18.0, 27.0]
    x, _ = images
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    probs = torch.tensor([[0.7, 0.2, 0.1]] * 6)  # always class 0: four mistakes
    fig = plot_confusion(confusion_matrix(probs, labels), ["a", "b", "c"])
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["2", "2", "2"]
    fig = plot_mistakes(x, probs, labels, ["a", "b", "c"], size=16, n=12, ncols=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 4 and all(t.startswith("true: ") for t in titles)
    assert "1. a 70%" in titles[0]
    matplotlib.pyplot.close("all")
