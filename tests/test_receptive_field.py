import matplotlib
import pytest
import torch

from alexnet_lab.analysis.layer_table import layer_table
from alexnet_lab.analysis.receptive_field import Box, receptive_box
from alexnet_lab.model import AlexNet
from alexnet_lab.viz.receptive_field import plot_receptive_field_growth, plot_receptive_fields

matplotlib.use("Agg")
WINDOW_LAYERS = ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5")


@pytest.fixture(scope="module")
def model() -> AlexNet:
    torch.manual_seed(0)
    return AlexNet(num_classes=10, init="kaiming").eval()


def test_box_side_and_step_agree_with_layer_table(model):
    table = layer_table(model, 224)
    for name in WINDOW_LAYERS:
        a, b = receptive_box(model.features, name, 0, 0), receptive_box(model.features, name, 1, 2)
        assert a.size == table.row(name).receptive_field
        assert (b.top - a.top, b.left - a.left) == (table.row(name).jump, 2 * table.row(name).jump)
    assert receptive_box(model.features, "conv1", 3, 5) == Box(12, 20, 11)
    assert receptive_box(model.features, "conv2", 0, 0) == Box(-16, -16, 51)  # padding 2 * 8


def test_unit_sees_exactly_its_box(model):
    layer, row, col = "conv3", 4, 5
    box = receptive_box(model.features, layer, row, col)
    assert box == Box(32, 48, 99)
    inside = (slice(box.top, box.top + box.size), slice(box.left, box.left + box.size))
    upto = list(model.features).index(model.features.conv3) + 1
    features = model.features[:upto]

    def unit(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return features(x)[0, :, row, col]

    torch.manual_seed(1)
    x = torch.randn(1, 3, 224, 224)
    outside = torch.randn_like(x) * 5
    outside[..., inside[0], inside[1]] = x[..., inside[0], inside[1]]
    torch.testing.assert_close(unit(outside), unit(x))  # nothing outside the box matters
    for edge in ((box.top, inside[1]), (box.top + box.size - 1, inside[1]),
                 (inside[0], box.left), (inside[0], box.left + box.size - 1)):  # fmt: skip
        y = x.clone()
        y[(..., *edge)] += 5 * torch.randn_like(y[(..., *edge)])
        assert not torch.allclose(unit(y), unit(x))  # every edge of the box matters


def test_unknown_layer(model):
    with pytest.raises(KeyError, match="conv1"):
        receptive_box(model.features, "fc6", 0, 0)


def test_plots_draw(model):
    image = torch.rand(64, 64, 3)
    fig = plot_receptive_fields(image, {"conv1": Box(4, 4, 11), "conv5": Box(-64, -64, 163)})
    assert len(fig.axes[0].patches) == 2
    assert fig.axes[0].get_xlim()[0] < -64  # the padding around the image is shown
    fig = plot_receptive_field_growth(layer_table(model, 64), 64)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(WINDOW_LAYERS)
    matplotlib.pyplot.close("all")
