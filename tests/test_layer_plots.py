import matplotlib
import torch
from torch import nn

from alexnet_lab.analysis.columns import connectivity
from alexnet_lab.analysis.layer_stats import check_dropout
from alexnet_lab.viz.layers import (
    plot_connectivity,
    plot_dropout,
    plot_feature_maps,
    plot_kernels,
    plot_layer_maps,
    plot_lrn_effect,
    plot_pooling_windows,
)

matplotlib.use("Agg")


def test_grouped_connectivity_is_block_diagonal():
    conv = nn.Conv2d(6, 4, kernel_size=3, groups=2)
    c = connectivity(conv)
    assert c.shape == (4, 6)
    assert (c[:2, :3] > 0).all() and (c[2:, 3:] > 0).all()
    assert (c[:2, 3:] == 0).all() and (c[2:, :3] == 0).all()
    torch.testing.assert_close(c[0, 1], conv.weight[0, 1].abs().sum().detach())
    torch.testing.assert_close(c[3, 4], conv.weight[3, 1].abs().sum().detach())
    assert (connectivity(nn.Conv2d(6, 4, kernel_size=3)) > 0).all()


def test_pooling_windows_count_overlaps():
    fig = plot_pooling_windows(size=9)
    cells = [[int(t.get_text()) for t in ax.texts] for ax in fig.axes]
    assert max(cells[0]) == 4 and sum(cells[0]) == 4 * 4 * 9  # 16 windows of 3x3
    assert set(cells[1]) == {0, 1} and sum(cells[1]) == 4 * 4 * 4  # 16 windows of 2x2
    assert fig.axes[0].get_title() == "kernel 3, stride 2: 9x9 -> 4x4"
    matplotlib.pyplot.close("all")


def test_plots_draw():
    maps = torch.rand(10, 7, 7)
    maps[3] = 1.0  # a constant map must not break the scaling
    assert len(plot_feature_maps(maps, ncols=4).axes) == 12
    assert len(plot_layer_maps({"a": maps, "b": maps}, per_layer=3).axes) == 6
    assert len(plot_kernels(torch.randn(5, 3, 11, 11), ncols=5).axes) == 5
    convs = {"x": nn.Conv2d(4, 4, 3, groups=2), "y": nn.Conv2d(4, 2, 3)}
    assert len(plot_connectivity(convs).axes) == 2
    a = torch.rand(1, 8, 3, 3)
    assert len(plot_lrn_effect({"one": (a, a / 2)}, points=10).axes) == 1
    check = check_dropout(nn.Dropout(0.5), torch.rand(50) + 1, trials=5)
    assert len(plot_dropout(check, units=20).axes) == 1
    matplotlib.pyplot.close("all")
