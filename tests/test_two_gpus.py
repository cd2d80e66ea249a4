"""The two-GPU chapter's library: the colour-gap test, the split-vs-grouped comparison, the
data-parallel timing (real torchrun processes on the CPU) and their figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib
import pytest
import torch
from matplotlib.collections import PathCollection

from alexnet_lab.analysis.columns import (
    colour_gap,
    colour_share,
    colour_summary,
    colour_table,
    sort_halves,
)
from alexnet_lab.analysis.equivalence import split_equivalence
from alexnet_lab.config import get_profile, with_overrides
from alexnet_lab.experiments import conv1_colour, get_study
from alexnet_lab.experiments.scaling import data_parallel_scaling, scaling_table
from alexnet_lab.model import AlexNet
from alexnet_lab.split import to_two_devices
from alexnet_lab.trained import TrainedMeta
from alexnet_lab.viz.two_gpus import plot_colour_shares, plot_scaling

matplotlib.use("Agg")


def test_colour_gap_finds_a_real_split_and_not_a_random_one():
    gen = torch.Generator().manual_seed(0)
    noise = torch.rand(96, generator=gen)
    grey_then_colour = torch.cat([0.3 * torch.rand(48, generator=gen),
                                  0.5 + 0.5 * torch.rand(48, generator=gen)])  # fmt: skip
    found = colour_gap(grey_then_colour, permutations=2000)
    assert found.first < 0.3 < 0.5 < found.second
    assert found.gap == pytest.approx(found.second - found.first)
    assert found.p == pytest.approx(1 / 2001)  # no random half comes close
    chance = [colour_gap(torch.rand(96, generator=gen), permutations=500, seed=s).p
              for s in range(40)]  # fmt: skip
    assert 0.3 < sum(chance) / len(chance) < 0.7  # p is uniform under the null
    assert colour_gap(noise, 500).p > 0.01
    with pytest.raises(ValueError, match="two equal halves"):
        colour_gap(torch.rand(95))


def test_sort_halves_keeps_each_kernel_in_its_column():
    w = torch.randn(8, 3, 5, 5)
    shares = colour_share(w)
    s = sort_halves(w, shares)
    for half in (slice(0, 4), slice(4, 8)):
        got = colour_share(s[half])
        assert (got[1:] >= got[:-1]).all()  # greyest first
        assert sorted(got.tolist()) == pytest.approx(sorted(shares[half].tolist()))


def _run(label: str, seed: int, shares: list[float]) -> dict:
    return {"label": label, "seed": seed, "measures": {"colour_share": shares},
            "final": {"val_top1": 50.0}}  # fmt: skip


def test_colour_table_and_plot_read_the_study_results():
    split = [0.1] * 48 + [0.9] * 48
    runs = [_run("two columns", 0, split), _run("one column", 0, [0.5] * 96),
            {"label": "one column", "seed": 1, "diverged": "loss nan"}]  # fmt: skip
    table = colour_table(runs, permutations=200)
    assert table.rows[0][2:6] == ("0.100", "0.900", "0.800", f"{1 / 201:.3g}")
    assert table.rows[2][2] == "diverged"
    assert any(n.startswith("two columns: gap 0.800") for n in table.notes)
    summary = colour_summary(runs + [_run("two columns", 1, [0.5] * 96)], permutations=200)
    two, one = summary["two columns"], summary["one column"]
    assert (two["seeds"], two["significant"], two["min_p"]) == (2, 1, pytest.approx(1 / 201))
    assert two["gap"] == pytest.approx(0.4) and two["gap_std"] == pytest.approx(0.8 / 2**0.5)
    assert (one["seeds"], one["gap"], one["significant"]) == (1, 0.0, 0)  # diverged left out
    assert math.isnan(one["gap_std"])
    fig = plot_colour_shares(runs)
    strips = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in strips] == [48] * 4  # two halves per finished run


def test_the_colour_study_records_every_conv1_kernel():
    cpu = get_study("colour").configs(get_profile("cpu"))
    assert {(label, c.two_columns, c.conv1_std, c.epochs) for label, _, c in cpu} == {
        ("two columns", True, 0.01, 6), ("one column", False, 0.01, 6)}  # fmt: skip
    assert sorted({seed for _, seed, _ in cpu}) == [0, 1, 2]
    config = with_overrides(get_profile("smoke"), {"conv1_std": 0.01})
    model = AlexNet(10, conv1_std=0.01)
    meta = TrainedMeta(config, "conv1_std=0.01", [], {}, 0, {}, "", Path("checkpoint.pt"))
    shares = conv1_colour(model, meta)["colour_share"]
    assert len(shares) == 96
    assert shares == pytest.approx(colour_share(model.features.conv1.weight).tolist())


def test_split_equivalence_is_exact_without_lrn_and_shows_the_lrn_edge():
    torch.manual_seed(0)
    x, y = torch.randn(2, 3, 67, 67, dtype=torch.float64), torch.tensor([1, 4])
    grouped = AlexNet(5, lrn=False).double().eval()
    rows = {
        r[0]: float(r[2]) for r in split_equivalence(grouped, to_two_devices(grouped), x, y).rows
    }
    assert len(rows) == 2 + 8 and max(rows.values()) < 1e-12
    grouped = AlexNet(5).double().eval()
    rows = {
        r[0]: float(r[2]) for r in split_equivalence(grouped, to_two_devices(grouped), x, y).rows
    }
    assert rows["conv1 weight gradient"] > 1e-9  # LRN reads across the column edge


def test_data_parallel_scaling_runs_torchrun_and_counts_the_all_reduce(tmp_path, shared_data):
    out = data_parallel_scaling(get_profile("smoke"), (1, 2), data=shared_data, runs=tmp_path,
                                out=tmp_path / "scaling.json")  # fmt: skip
    record = json.loads(out.read_text())
    rows = record["rows"]
    assert [(r["processes"], r["threads"] >= 1) for r in rows] == [(1, True), (2, True)]
    params = sum(p.numel() for p in AlexNet(10).parameters())
    assert [r["allreduce_bytes"] for r in rows] == [4 * params] * 2
    assert [r["ring_bytes"] for r in rows] == [0.0, 4 * params]
    assert all(r["step_seconds"] > 0 for r in rows) and record["config"]["epochs"] == 2
    fig = plot_scaling(rows)
    assert len(fig.axes[0].patches) == 2
    table = scaling_table(record)
    assert [r[:2] for r in table.rows] == [(str(r["processes"]), str(r["threads"])) for r in rows]
    assert [r[4] for r in table.rows] == [f"{4 * params / 2**20:,.1f}"] * 2
