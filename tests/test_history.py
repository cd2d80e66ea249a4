import matplotlib
import pytest
from torchvision.models import get_model_weights

from alexnet_lab.chapters.history import (
    SAMPLE_GRID_SIZE,
    TABLES,
    count_images,
    imagenette_images,
    load_table,
    plot_dataset_scale,
    plot_hog,
    plot_hog_cell,
    plot_ilsvrc_winners,
    plot_imagenet_samples,
    plot_successors,
    successors_vs_alexnet,
    top5_error,
)
from alexnet_lab.data import DataNotFoundError, data_root

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def samples_dir():
    folder = data_root() / "imagenet-samples"
    if not folder.is_dir():
        pytest.skip(f"real data not found: {folder} (set ALEXNET_LAB_DATA to the shared data)")
    return folder


@pytest.mark.parametrize("name", TABLES)
def test_every_row_of_every_table_has_a_source(name):
    table = load_table(name)
    assert len(table) > 0 and all(r["source"] for r in table.rows)
    assert "source" not in table.columns and "Source: " in str(table)
    page = table._repr_html_()
    assert page.startswith("<table>") and "<small>" in page and "Source: " in page


def test_ilsvrc_winners_as_pinned():
    winners = load_table("ilsvrc_winners")
    assert top5_error(winners, 2012) == 15.3
    assert top5_error(winners, 2012, "runner-up") == 26.2
    assert top5_error(winners, 2014, "human estimate") == 5.1
    assert top5_error(winners, 2010) == 28.2 and top5_error(winners, 2011) == 25.8
    years = winners.where(lambda r: r["placing"] == "winner").column("year")
    assert years == list(range(2010, 2018))
    with pytest.raises(KeyError, match="2009"):
        top5_error(winners, 2009)


def test_paper_tables_as_pinned():
    t1 = load_table("paper_table1")
    assert (t1.value("CNN", "top1_test"), t1.value("CNN", "top5_test")) == (37.5, 17.0)
    assert t1.value("SIFT + FVs", "top5_test") == 25.7
    t2 = load_table("paper_table2")
    assert [t2.value("7 CNNs*", c) for c in ("top1_val", "top5_val", "top5_test")] == [
        36.7,
        15.4,
        15.3,
    ]
    assert t2.value("1 CNN", "top5_test") is None
    assert t2.value("SIFT + FVs", "top5_test") == 26.2
    assert any(note.startswith("*") for note in t2.notes)
    with pytest.raises(KeyError, match="no row"):
        t2.row("8 CNNs")


def test_dataset_scale_as_in_the_paper():
    scale = load_table("imagenet_scale")
    ilsvrc = {q: scale.value(f"ILSVRC-2012 {q}", "value") for q in ("training images", "classes")}
    assert ilsvrc == {"training images": 1_200_000, "classes": 1000}
    assert scale.value("ILSVRC-2012 validation images", "value") == 50_000
    assert scale.value("ILSVRC-2012 test images", "value") == 150_000
    assert scale.value("ImageNet (Fall 2011 release) images", "value") == 15_000_000
    assert scale.value("ImageNet (Fall 2011 release) categories", "value") == 22_000
    assert "15,000,000" in str(scale)
    fig = plot_dataset_scale(scale, {"tiny": 10})
    assert len(fig.axes[0].patches) == 5  # four image counts from the table, one counted


def test_successors_agree_with_torchvision_metadata():
    names = {
        "AlexNet": "alexnet",
        "VGG-16": "vgg16",
        "GoogLeNet": "googlenet",
        "ResNet-50": "resnet50",
        "EfficientNet-B0": "efficientnet_b0",
    }
    successors = load_table("successors")
    assert successors.column("model") == list(names)
    for row in successors.rows:
        meta = get_model_weights(names[row["model"]]).IMAGENET1K_V1.meta
        assert row["acc1"] == pytest.approx(meta["_metrics"]["ImageNet-1K"]["acc@1"], abs=0.01)
        assert row["params_millions"] == pytest.approx(meta["num_params"] / 1e6, abs=0.05)
        assert row["gmacs"] == pytest.approx(meta["_ops"], abs=0.01)


def test_winners_plot_marks_the_gap_and_the_human_estimate():
    fig = plot_ilsvrc_winners(load_table("ilsvrc_winners"))
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "-10.9 points" in texts
    assert any("human" in t and "5.1" in t for t in texts)
    assert any(list(line.get_ydata()) == [5.1, 5.1] for line in ax.lines)
    assert len([p for p in ax.patches if p.get_height() > 0]) == 8  # one bar per year
    plot_successors(load_table("successors"))


def test_sample_grid_shows_the_requested_images(samples_dir):
    assert count_images(samples_dir) == 1000
    for count in (SAMPLE_GRID_SIZE["smoke"], 5):
        fig = plot_imagenet_samples(samples_dir, count)
        shown = [ax for ax in fig.axes if ax.images]
        assert len(shown) == count
        titles = [ax.get_title() for ax in shown]
        assert titles[0] == "tench" and len(set(titles)) == count


def test_sample_grid_says_what_is_missing(tmp_path):
    with pytest.raises(DataNotFoundError, match="imagenet-samples"):
        plot_imagenet_samples(tmp_path, 8)


def test_hog_figures_on_real_images(shared_data):
    split = shared_data / "imagenette-224" / "val"
    images = imagenette_images(split, ["church", "parachute"])
    assert [tuple(x.shape) for x in images] == [(3, 224, 224)] * 2
    fig = plot_hog(images, ["church", "parachute"])
    assert len([ax for ax in fig.axes if ax.images]) == 6
    assert len(plot_hog_cell(images[0], (3, 4)).axes) == 4
    with pytest.raises(KeyError, match="not an Imagenette class"):
        imagenette_images(split, ["zebra"])


def test_successors_compared_to_alexnet():
    table = successors_vs_alexnet(load_table("successors"))
    vgg = table.row("VGG-16")
    assert vgg["top1_gain_points"] == pytest.approx(71.59 - 56.522, abs=0.05)
    assert vgg["params_vs_alexnet"] == pytest.approx(138.4 / 61.1, abs=0.01)
    assert table.value("GoogLeNet", "macs_vs_alexnet") == pytest.approx(1.50 / 0.714, abs=0.01)
    assert "AlexNet" not in table.column("model")
