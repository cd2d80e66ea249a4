"""The training-memory ledger: measured saved activations against the analytic rules and
against sizes worked out by hand, per model and per column."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from alexnet_lab.analysis.memory import (
    GTX580_BYTES,
    check_on_cuda,
    column_ledgers,
    cuda_peak,
    ledger_table,
    memory_ledger,
    paper_ledgers,
)
from alexnet_lab.model import AlexNet
from alexnet_lab.split import to_two_devices
from alexnet_lab.viz.two_gpus import plot_memory_ledger

matplotlib.use("Agg")
F32, I64 = 4, 8


@pytest.fixture(scope="module")
def paper():
    """The paper's case: AlexNet(1000), 224 px, batch 128, float32."""
    return paper_ledgers(batch_size=128, image_size=224, dtype=torch.float32)


def _row(ledger, name):
    return next(r for r in ledger.layers if r.short_name == name)


def test_paper_ledger_matches_sizes_worked_out_by_hand(paper):
    one, first, second = paper
    params = 60_965_224  # the paper net's weights and biases (reference facts)
    assert one.weights == one.grads == one.momentum == params * F32
    assert first.weights + second.weights == one.weights
    assert one.total == 3 * params * F32 + one.activations
    assert one.activations == 128 * sum(r.measured for r in one.layers)
    # Per image: conv1 keeps its zero-padded 227x227 input, act1 its output, lrn1 the
    # divisor and its power (its input is act1's output, counted once), pool1 its input
    # and int64 indices, conv3 its 256-map input.
    assert _row(one, "conv1").measured == 3 * 227 * 227 * F32
    assert _row(one, "act1").measured == 96 * 55 * 55 * F32
    assert _row(one, "lrn1").measured == 2 * 96 * 55 * 55 * F32
    assert _row(one, "pool1").measured == 96 * 55 * 55 * F32 + 96 * 27 * 27 * I64
    assert _row(one, "conv3").measured == 256 * 13 * 13 * F32
    assert _row(one, "conv4").measured == 0  # its input is act3's output
    # Each column holds half of most layers, but the whole image and the whole (both
    # halves) input of conv3, fc6, fc7 and fc8.
    for column in (first, second):
        assert _row(column, "conv1").measured == _row(one, "conv1").measured
        assert _row(column, "act1").measured == 48 * 55 * 55 * F32
        for name in ("conv3", "fc6", "fc7", "fc8"):
            assert _row(column, name).measured == _row(one, name).measured, name
    assert one.total < GTX580_BYTES and first.total < one.total / 2 + 128 * 1024**2


def test_analytic_rules_match_the_measurement_layer_by_layer(paper):
    for ledger in paper:
        for r in ledger.layers:
            assert r.analytic == r.measured, (ledger.label, r)
    model = AlexNet(10, lrn=False, activation="tanh", overlap_pool=False)
    for dtype in (torch.float32, torch.bfloat16):
        ledger = memory_ledger(model, 16, 96, dtype)
        assert [r.analytic for r in ledger.layers] == [r.measured for r in ledger.layers]


def test_saved_activations_grow_linearly_with_the_batch():
    model = AlexNet(10)
    one, three = (memory_ledger(model, 6, 64, measure_batch=n) for n in (1, 3))
    assert one.activations == three.activations > 0
    assert [r.measured for r in one.layers] == [r.measured for r in three.layers]


def test_bf16_keeps_float32_weights_and_counts_the_autocast_copies():
    model = AlexNet(10)
    fp32, bf16 = (memory_ledger(model, 8, 64, d) for d in (torch.float32, torch.bfloat16))
    assert bf16.weights == fp32.weights
    matrices = sum(p.numel() for p in model.parameters() if p.dim() > 1)
    assert bf16.weight_copies == 2 * matrices and fp32.weight_copies == 0
    assert _row(bf16, "act1").measured == _row(fp32, "act1").measured // 2
    assert _row(bf16, "fc7").measured == 4096 * 2  # its input; fc7's bias is no weight copy
    with pytest.raises(ValueError, match="autocast"):
        memory_ledger(model, 8, 64, torch.int8)


def test_column_ledgers_split_the_grouped_ledger():
    model = AlexNet(10)
    whole = memory_ledger(model, 4, 64)
    columns = column_ledgers(to_two_devices(model), 4, 64)
    assert sum(c.weights for c in columns) == whole.weights
    assert [c.label for c in columns] == ["column 1 (cpu)", "column 2 (cpu)"]
    for name in ("act1", "lrn2", "act5", "pool5", "act6", "drop7"):  # halves of each layer
        assert sum(_row(c, name).measured for c in columns) == _row(whole, name).measured, name


def test_tables_and_plot(paper):
    text = str(ledger_table(paper))
    assert "one GTX 580" in text and "column 2 (GPU 2)" in text and "share of 3,072 MiB" in text
    assert "analytic" in str(paper[0]) and "total" in str(paper[0])
    fig = plot_memory_ledger(paper)
    ax = fig.axes[0]
    assert len(ax.patches) == 4 * 3  # weights, gradients, momentum, activations per bar
    heights = [sum(p.get_height() for p in ax.patches[i::3]) for i in range(3)]
    assert heights == pytest.approx([x.total / 2**20 for x in paper])
    matplotlib.pyplot.close("all")


def test_the_cuda_check_needs_a_model_on_a_gpu():
    model = AlexNet(10)
    for check in (cuda_peak, check_on_cuda):
        with pytest.raises(RuntimeError, match="CUDA"):
            check(model, 2, 64)
