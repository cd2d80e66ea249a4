import matplotlib
import matplotlib.pyplot as plt
import pytest

from alexnet_lab.model import AlexNet, TorchvisionAlexNet
from alexnet_lab.viz.architecture import plot_architecture

matplotlib.use("Agg")


def _arrows(fig, kind):
    return [p for p in fig.axes[0].patches if p.get_gid() == kind]


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_two_columns_exchange_at_conv3_and_the_fc_layers():
    fig = plot_architecture(AlexNet())
    # conv3, fc6, fc7 and fc8 each read both columns: two crossing arrows apiece.
    assert len(_arrows(fig, "exchange")) == 4 * 2
    # conv1..fc8 keep their own column once each: 7 stages after conv1, 2 columns.
    assert len(_arrows(fig, "within")) == 7 * 2
    assert len(_arrows(fig, "input")) == 2  # the image feeds both columns of conv1
    texts = _texts(fig)
    assert "48\nkernels" in texts and "128\nkernels" in texts and "2048\nunits" in texts
    assert any(t.startswith("conv1\n11x11, stride 4") for t in texts)
    assert any(t.startswith("96x55x55") for t in texts)
    assert any("256x13x13\nmax-pool → 6x6" == t for t in texts)
    assert "two columns, 224x224" in fig.axes[0].get_title()


def test_one_column_has_no_exchanges_and_full_widths():
    two, one = plot_architecture(AlexNet()), plot_architecture(AlexNet(two_columns=False))
    assert _arrows(one, "exchange") == []
    assert len(_arrows(one, "within")) == 7 and len(_arrows(one, "input")) == 1
    assert len(one.axes[0].patches) < len(two.axes[0].patches)
    assert "96\nkernels" in _texts(one) and "48\nkernels" not in _texts(one)
    assert "one column" in one.axes[0].get_title()


def test_shapes_follow_the_input_size_and_the_classes():
    fig = plot_architecture(AlexNet(num_classes=10), input_size=128)
    texts = _texts(fig)
    assert "3x128x128" in texts
    assert any(t.startswith("96x31x31") for t in texts)
    assert "256x7x7\nmax-pool → 3x3\navg-pool → 6x6" in texts  # the adaptive pool stretches
    assert "5\nunits" in texts  # fc8's 10 classes, 5 per column
    assert texts != _texts(plot_architecture(AlexNet(num_classes=10)))


def test_torchvision_layers_are_named_after_the_paper():
    texts = _texts(plot_architecture(TorchvisionAlexNet()))
    assert "64\nkernels" in texts and "conv4\n3x3" in texts and "1000\nunits" in texts


def test_draws_into_a_given_axes():
    fig, axes = plt.subplots(2, 1, figsize=(10, 6))
    out = plot_architecture(AlexNet(), ax=axes[1])
    assert out is fig
    assert len(axes[0].patches) == 0 and len(axes[1].patches) > 0
