"""What crosses between the columns: byte counts from shapes, the alternatives, the copy."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch

from alexnet_lab.analysis.layer_table import layer_table
from alexnet_lab.analysis.wire import (
    PCIE2_X16,
    Crossing,
    activation_elements,
    crossings,
    data_parallel_bytes,
    measure_copy_bandwidth,
    naive_crossings,
    wire_report,
)
from alexnet_lab.model import AlexNet
from alexnet_lab.split import to_grouped, to_two_devices
from alexnet_lab.viz.two_gpus import plot_wire

matplotlib.use("Agg")
PARAMS = 60_965_224  # the paper net's weights and biases (reference facts)


@pytest.fixture(scope="module")
def paper():
    """The paper's net (1000 classes) split over two CPU "devices"."""
    torch.manual_seed(0)
    return to_two_devices(AlexNet(1000))


def test_crossings_are_the_paper_halves_at_224(paper):
    found = crossings(paper, 224)
    assert found == [
        Crossing("conv3", ((128, 13, 13), (128, 13, 13))),  # pool2: 13x13x128 per column
        Crossing("fc6", ((4608,), (4608,))),  # pool5: 6x6x128 per column
        Crossing("fc7", ((2048,), (2048,))),
        Crossing("fc8", ((2048,), (2048,))),
        Crossing("logits", ((), (500,))),
    ]
    report = wire_report(paper, 224, batch_size=128)
    for c in found[:4]:
        row = report.row(f"{c.name} input")
        values = 2 * math.prod(c.sent[0])  # both columns send a half
        assert row.image_elements == c.elements == values
        # forward + backward, per batch of 128, at 4 and 2 bytes per value
        assert row.step_bytes(128, torch.float32) == 2 * 128 * values * 4
        assert row.step_bytes(128, torch.bfloat16) == 2 * 128 * values * 2
    per_image = 2 * (128 * 13 * 13 + 4608 + 2048 + 2048)
    assert report.row("paper split").image_elements == per_image
    assert report.seconds("paper split") == 2 * 128 * per_image * 4 / 2 / PCIE2_X16


def test_other_image_sizes_follow_the_layer_shapes():
    torch.manual_seed(1)
    grouped = AlexNet(10)
    table = layer_table(grouped, 128)
    conv3_in = table.row("pool2").output_shape  # (256, 6, 6) at 128 px
    found = crossings(to_two_devices(grouped), 128)
    assert found[0].elements == math.prod(conv3_in)
    assert found[0].sent[0] == (conv3_in[0] // 2, *conv3_in[1:])
    assert found[-1] == Crossing("logits", ((), (5,)))


def test_naive_split_sends_every_layer_input(paper):
    naive = naive_crossings(paper, 224)
    assert [c.name for c in naive] == ["conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    inputs = {  # the whole input of each layer, both columns (the paper's figure 2)
        "conv2": 96 * 27 * 27, "conv3": 256 * 13 * 13, "conv4": 384 * 13 * 13,
        "conv5": 384 * 13 * 13, "fc6": 9216, "fc7": 4096, "fc8": 4096,
    }  # fmt: skip
    assert {c.name: c.elements for c in naive} == inputs
    report = wire_report(paper, 224)
    assert report.row("naive split").image_elements == sum(inputs.values())
    assert report.row("naive split").image_elements > 4 * report.row("paper split").image_elements


def test_data_parallel_volume_is_the_ring_all_reduce_formula(paper):
    assert sum(p.numel() for p in paper.parameters()) == PARAMS
    assert data_parallel_bytes(paper, torch.float32, 2) == PARAMS * 4  # 2 (2 - 1) / 2 = 1
    assert data_parallel_bytes(paper, torch.bfloat16, 4) == 1.5 * PARAMS * 2
    row = wire_report(paper, 224).row("data parallel")
    assert row.image_elements == 0
    assert row.step_bytes(128, torch.float32) == row.step_bytes(1, torch.float32) == 2 * PARAMS * 4


def test_activation_share_counts_every_layer_output_of_both_columns(paper):
    grouped = layer_table(to_grouped(paper), 224)  # one row per layer of the grouped net
    grouped_outputs = sum(math.prod(r.output_shape) for r in grouped)
    assert activation_elements(paper, 224) == grouped_outputs
    text = str(wire_report(paper, 224))
    for name in ("conv3 input", "paper split", "naive split", "data parallel", "8 GB/s"):
        assert name in text


def test_measured_copy_bandwidth_is_a_rate():
    rate = measure_copy_bandwidth("cpu", "cpu", nbytes=1 << 20, repeats=2)
    assert math.isfinite(rate) and rate > 0


def test_plot_wire(paper):
    report = wire_report(paper, 224)
    fig = plot_wire(report)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["paper split", "logits (for the loss)", "naive split", "data parallel"]
    stacked = sum(p.get_width() for p in ax.patches[:4])  # conv3, fc6, fc7, fc8 inputs
    paper_bytes = report.row("paper split").step_bytes(128, torch.float32)
    assert stacked == pytest.approx(paper_bytes / 2**20)
    matplotlib.pyplot.close("all")
