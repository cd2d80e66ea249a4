import matplotlib
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexnet_lab.analysis.activation_functions import (
    WEIGHT_LAYERS,
    alexnet_with_activation,
    gradient_by_depth,
    gradient_table,
)
from alexnet_lab.viz.activation_functions import plot_gradient_by_depth, plot_saturation

matplotlib.use("Agg")


def test_builds_each_activation_with_the_same_weights():
    nets = {a: alexnet_with_activation(a, init="kaiming") for a in ("relu", "tanh", "sigmoid")}
    for name, kind in (("relu", nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid)):
        acts = [m for n, m in nets[name].named_modules() if n.rsplit(".", 1)[-1].startswith("act")]
        assert len(acts) == 7 and all(type(m) is kind for m in acts)
        torch.testing.assert_close(
            nets[name].classifier.fc7.weight, nets["relu"].classifier.fc7.weight
        )
    x = torch.randn(1, 3, 64, 64)
    assert not torch.allclose(nets["sigmoid"].eval()(x), nets["relu"].eval()(x))
    with pytest.raises(ValueError, match="sigmoid"):
        alexnet_with_activation("gelu")


def test_gradient_at_the_logits_is_exact():
    model = alexnet_with_activation("relu", init="kaiming").eval()
    torch.manual_seed(0)
    x, y = torch.randn(4, 3, 64, 64), torch.tensor([0, 3, 3, 9])
    grads = gradient_by_depth(model, x, y)
    assert list(grads) == list(WEIGHT_LAYERS)
    with torch.no_grad():
        expected = (model(x).softmax(1) - F.one_hot(y, 10)) / len(y)  # d mean-CE / d logits
    assert grads["fc8"] == pytest.approx(expected.pow(2).mean().sqrt().item(), rel=1e-5)
    assert model.features.conv1.weight.grad is not None
    assert not model.features.conv1._forward_hooks


def test_sigmoid_lets_far_less_gradient_reach_conv1():
    torch.manual_seed(0)
    x, y = torch.randn(8, 3, 64, 64), torch.arange(8)
    conv1 = {
        a: gradient_by_depth(alexnet_with_activation(a).eval(), x, y)["conv1"]
        for a in ("relu", "sigmoid")
    }
    assert 0 < conv1["sigmoid"] < conv1["relu"] / 100


def test_plots_draw():
    fig = plot_saturation()
    slopes = {
        line.get_label(): line.get_ydata()
        for line in fig.axes[1].lines
        if line.get_label() in ("relu", "tanh", "sigmoid")
    }
    assert max(slopes["sigmoid"]) == pytest.approx(0.25, abs=1e-3)
    assert max(slopes["tanh"]) == pytest.approx(1.0, abs=1e-3)
    assert set(slopes["relu"].round(6)) == {0.0, 1.0}
    fig = plot_gradient_by_depth({"relu": {"conv1": 1e-6, "fc8": 1e-2}})
    assert len(fig.axes[0].lines) == 1
    matplotlib.pyplot.close("all")


def test_gradient_table():
    table = gradient_table(
        {"relu": {"conv1": 1e-6, "fc8": 1e-2}, "tanh": {"conv1": 1e-8, "fc8": 1e-2}}
    )
    header, relu, tanh = table.splitlines()
    assert header.split() == ["conv1", "fc8", "last/first"]
    assert relu.split() == ["relu", "1.0e-06", "1.0e-02", "1.0e+04"]
    assert tanh.split()[-1] == "1.0e+06"
