"""The paper's claims beside ours: the paper's numbers, the arithmetic on hand-made results
(no training), the "not run yet" rows and the figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.container import BarContainer

from alexnet_lab.chapters import RESULTS, study_results
from alexnet_lab.config import get_profile
from alexnet_lab.experiments import STUDIES
from alexnet_lab.experiments.paper import (
    CLAIMS,
    NOT_RUN,
    TEN_CROP,
    TEN_CROP_BENCH,
    check_claims,
    check_study,
    claims_table,
    describe_results,
    error_curves,
    get_claim,
    measure,
    study_facts,
    sweep_display,
    ten_crop_results,
    time_to_error_table,
    variant_errors,
    verdict,
)
from alexnet_lab.experiments.summary import paired_p, ranking
from alexnet_lab.viz.claims import plot_deltas, plot_error_curves, plot_sweep

matplotlib.use("Agg")

BOOK = Path(__file__).resolve().parents[1] / "book"


# --- the paper's numbers ---------------------------------------------------------------------

# (paper, section) from alexnet-facts.md: Figure 1, the ablations of sections 3 and 4, and the
# ten patches (ILSVRC-2010: 39.0 -> 37.5 top-1, 18.3 -> 17.0 top-5).
PAPER = {
    "speedup_epochs": (6, "3.1"),
    "cifar_no_lrn": (13, "3.3"),
    "cifar_lrn": (11, "3.3"),
    "cifar_lrn_saved": (2, "3.3"),
    "lrn_top1": (1.4, "3.3"),
    "lrn_top5": (1.2, "3.3"),
    "overlap_top1": (0.4, "3.4"),
    "overlap_top5": (0.3, "3.4"),
    "pca_top1": (1, "4.1"),
    "columns_top1": (1.7, "3.2"),
    "columns_top5": (1.2, "3.2"),
    "ten_crop_top1": (1.5, "4.1, 6"),
    "ten_crop_top5": (1.3, "4.1, 6"),
    "dropout_top1": (None, "4.2"),
    "lrn_mean_top1": (1.4, "3.3"),
}


@pytest.mark.parametrize("name", list(PAPER))
def test_the_paper_numbers_are_the_papers(name):
    paper, section = PAPER[name]
    claim = get_claim(name)
    assert (claim.paper, claim.section) == (pytest.approx(paper) if paper else None, section)


def test_pca_colour_is_more_than_one_point_and_ten_crop_matches_the_error_rates():
    assert get_claim("pca_top1").at_least and get_claim("pca_top1").paper_text() == "> 1"
    assert get_claim("ten_crop_top1").paper == pytest.approx(39.0 - 37.5)
    assert get_claim("ten_crop_top5").paper == pytest.approx(18.3 - 17.0)
    assert get_claim("cifar_lrn_saved").paper == get_claim("cifar_no_lrn").paper - 11


def test_every_claim_names_a_study_its_labels_and_a_chapter_that_exist():
    assert len({c.name for c in CLAIMS}) == len(CLAIMS)
    for c in CLAIMS:
        assert (BOOK / f"{c.chapter}.ipynb").exists(), c.chapter
        assert c.kind in ("saved", "error", "time", "speedup")
        if c.study == TEN_CROP:
            continue
        variants = STUDIES[c.study].variants
        assert c.variant in variants, (c.name, c.variant)
        assert not c.baseline or c.baseline in variants, (c.name, c.baseline)


def test_the_ten_crop_measurement_is_where_the_claim_reads_it():
    assert TEN_CROP_BENCH.exists()


# --- hand-made results -----------------------------------------------------------------------


def history(errors: list[float], seconds_per_epoch: float = 10.0) -> list[dict]:
    """One row per epoch with these training errors (%)."""
    return [{"epoch": i + 1, "seconds": seconds_per_epoch * (i + 1), "train_top1": 100 - e,
             "val_top1": 50.0} for i, e in enumerate(errors)]  # fmt: skip


def curve_run(label: str, seed: int, errors: list[float], seconds: float = 10.0) -> dict:
    h = history(errors, seconds)
    return {"label": label, "seed": seed, "config": {"lr": 0.01}, "final": h[-1], "history": h}


def final_run(label: str, seed: int, top1: float, top5: float, train: float = 90.0) -> dict:
    final = {"val_top1": top1, "val_top5": top5, "train_top1": train}
    return {"label": label, "seed": seed, "final": final, "history": [{**final, "epoch": 1}]}


def results(name: str, runs: list[dict], **extra) -> dict:
    return {"study": name, "profile": "test", "finished": "2026-01-02T03:04:05", "runs": runs,
            **extra}  # fmt: skip


@pytest.fixture
def figure_1() -> dict:
    # ReLU reaches 25% at epoch 2.5 (30 -> 20) and 1 + 25/30 (50 -> 20); tanh at 5.5 in both
    # seeds (30 -> 20, then 26 -> 24), with 12 s epochs instead of 10.
    return results("relu_vs_tanh", [
        curve_run("ReLU", 0, [60, 30, 20]),
        curve_run("ReLU", 1, [50, 20, 10]),
        curve_run("tanh", 0, [90, 70, 50, 40, 30, 20], seconds=12),
        curve_run("tanh", 1, [80, 60, 40, 30, 26, 24], seconds=12),
    ])  # fmt: skip


def test_figure_1_times_and_ratios_are_computed_by_hand(figure_1):
    relu = 1 + 25 / 30
    got = {k.claim.name: k for k in check_claims({"relu_vs_tanh": figure_1})}
    assert got["relu_epochs"].ours == pytest.approx((2.5 + relu) / 2)
    assert got["tanh_epochs"].ours == pytest.approx(5.5) and got["tanh_epochs"].std == 0
    ratios = [5.5 / 2.5, 5.5 / relu]
    assert got["speedup_epochs"].ours == pytest.approx(np.mean(ratios))
    assert got["speedup_epochs"].std == pytest.approx(np.std(ratios, ddof=1))
    assert got["speedup_epochs"].p == pytest.approx(paired_p([5.5, 5.5], [2.5, relu]))
    assert got["speedup_seconds"].ours == pytest.approx(np.mean(ratios) * 1.2)
    assert got["speedup_epochs"].ours_text() == "2.60 ± 0.57"  # ratios 2.2 and 3.0
    assert not got["speedup_epochs"].bound and got["speedup_epochs"].n == 2


def test_a_tanh_run_that_never_reaches_25_percent_gives_a_lower_bound():
    r = results("relu_vs_tanh", [curve_run("ReLU", 0, [60, 30, 20]),
                                 curve_run("tanh", 0, [90, 80, 70])])  # fmt: skip
    k = measure(get_claim("speedup_epochs"), r)
    assert k.bound and k.ours == pytest.approx(3 / 2.5) and math.isnan(k.p)
    assert k.ours_text() == "≥ 1.20" and "1 of 1 tanh runs never reached 25%" in k.note
    assert verdict(k) == "one seed: no test against the seed noise"
    t = measure(get_claim("tanh_epochs"), r)
    assert t.bound and t.ours == 3 and "never reached" in t.note


def test_a_relu_run_that_never_reaches_25_percent_leaves_no_ratio():
    r = results("relu_vs_tanh", [curve_run("ReLU", 0, [60, 40, 30]),
                                 curve_run("tanh", 0, [90, 80, 70])])  # fmt: skip
    k = measure(get_claim("speedup_epochs"), r)
    assert not k.measured and k.ours_text() == "ReLU never reached 25% in 3 epochs"


@pytest.fixture
def ablations() -> dict:
    runs = []
    for seed, (base, lrn, pool) in enumerate([(80.0, 78.0, 80.5), (81.0, 79.5, 80.0),
                                              (82.0, 79.0, 81.0)]):  # fmt: skip
        runs += [final_run("baseline", seed, base, base + 15, train=95.0),
                 final_run("no LRN", seed, lrn, lrn + 16),
                 final_run("non-overlapping pooling", seed, pool, pool + 15)]  # fmt: skip
    runs.append({"label": "no dropout", "seed": 0, "diverged": "Loss is nan"})
    return results("ablations", runs)


def test_saved_error_is_the_paired_change_against_the_baseline(ablations):
    got = {k.claim.name: k for k in check_claims({"ablations": ablations})}
    saved = [2.0, 1.5, 3.0]  # baseline top-1 minus no LRN top-1, per seed
    assert got["lrn_top1"].ours == pytest.approx(np.mean(saved))
    assert got["lrn_top1"].std == pytest.approx(np.std(saved, ddof=1))
    assert got["lrn_top1"].p == pytest.approx(paired_p([22, 20.5, 21], [20, 19, 18]))
    assert got["lrn_top5"].ours == pytest.approx(np.mean(saved) - 1)
    assert got["overlap_top1"].ours == pytest.approx(np.mean([-0.5, 1.0, 1.0]))
    assert got["lrn_top1"].n == 3 and got["lrn_top1"].ours_text() == "2.2 ± 0.8"
    assert got["dropout_top1"].ours_text() == "all 1 runs of 'no dropout' diverged"
    assert got["pca_top1"].ours_text() == "no runs of 'no PCA colour'"
    assert verdict(got["lrn_top1"]).startswith("beyond the seed noise (p = ")
    assert verdict(got["lrn_top1"]).endswith("on the paper's side")
    assert verdict(got["overlap_top1"]).startswith("within the seed noise")


def test_a_trick_that_hurts_is_against_the_paper():
    runs = [final_run("baseline", s, 80 - s, 95) for s in range(3)]
    runs += [final_run("no LRN", s, 82 - s + 0.1 * s, 96) for s in range(3)]
    k = measure(get_claim("lrn_top1"), results("ablations", runs))
    assert k.ours < 0 and verdict(k).endswith("against the paper")


def test_missing_studies_say_not_run_yet_in_the_table(figure_1):
    table = claims_table({"relu_vs_tanh": figure_1})
    assert table.columns[4:6] == ("paper", "ours")
    assert len(table.rows) == len(CLAIMS)
    rows = {row[0]: row for row in table.rows}
    for c in CLAIMS:
        ours = rows[c.what][5]
        assert (ours == NOT_RUN) == (c.study != "relu_vs_tanh"), c.name
    assert rows["tanh / ReLU: epochs to 25% training error"][4] == "6"
    assert rows["ReLU: epochs to 25% training error"][4] == "-"
    assert any("relu_vs_tanh: test profile, 4 runs, finished 2026-01-02" in n for n in table.notes)
    assert all(row[5] == NOT_RUN for row in claims_table({}).rows)
    assert '<a href="layers_relu.html">layers_relu</a>' in table._repr_html_()  # the chapter


def test_ten_crop_results_read_as_a_study():
    bench = {"config": {"name": "cpu"}, "centre_crop": {"top1": 80.0, "top5": 97.0},
             "ten_crop": {"top1": 83.0, "top5": 98.5}}  # fmt: skip
    got = {k.claim.name: k for k in check_claims({TEN_CROP: ten_crop_results(bench)})}
    assert got["ten_crop_top1"].ours == pytest.approx(3.0)
    assert got["ten_crop_top5"].ours == pytest.approx(1.5)
    assert got["ten_crop_top1"].n == 1 and got["ten_crop_top1"].ours_text() == "3.0"


def test_the_errors_the_cifar_claims_read(ablations):
    runs = [final_run("LRN", s, v, 99) for s, v in enumerate([88.0, 89.0])]
    runs += [final_run("no LRN", s, v, 99) for s, v in enumerate([86.0, 86.0])]
    got = {k.claim.name: k for k in check_claims({"lrn_cifar10": results("lrn_cifar10", runs)})}
    assert got["cifar_lrn"].ours == pytest.approx(11.5)
    assert got["cifar_no_lrn"].ours == pytest.approx(14.0) and got["cifar_no_lrn"].std == 0
    assert got["cifar_lrn_saved"].ours == pytest.approx(2.5)


def test_check_study_and_the_line_on_where_results_come_from(figure_1):
    assert [k.claim.name for k in check_study("relu_vs_tanh", figure_1)] == [
        "relu_epochs", "tanh_epochs", "speedup_epochs", "speedup_seconds"]  # fmt: skip
    assert all(k.ours_text() == NOT_RUN for k in check_study("ablations", None))
    machine = {"device": "CPU (x86_64)", "threads": 2}
    r = {**figure_1, "machine": machine, "commit": "0123456789abcdef",
         "sweep": {"runs": [{"trained_now": True}]}}  # fmt: skip
    r["runs"] = [*r["runs"][:3], {"label": "tanh", "seed": 1, "diverged": "nan"}]
    r["runs"][0] = {**r["runs"][0], "trained_now": True}
    assert describe_results(r) == (
        "relu_vs_tanh, test profile: 1 sweep runs and 4 runs (1 diverged; 2 trained by this "
        "call, the others recorded by earlier calls); finished 2026-01-02T03:04:05 on CPU "
        "(x86_64), 2 threads, commit 0123456789ab"
    )


# --- one study's tables ----------------------------------------------------------------------


def test_variant_errors_show_errors_and_changes(ablations):
    table = variant_errors(ablations["runs"], baseline="baseline")
    rows = {r[0]: r for r in table.rows}
    p = paired_p([78, 79.5, 79], [80, 81, 82])
    assert rows["no LRN"][1:6] == ("3", "0", "21.2 ± 0.8", "+2.2", f"{p:.3f}")
    assert rows["no dropout"][1:5] == ("0", "1", "-", "-")
    assert rows["baseline"][3:6] == ("19.0 ± 1.0", "", "")
    by_lrn = variant_errors(ablations["runs"], keys=("val_top1",), baseline="no LRN", split="test")
    assert {r[0]: r[4] for r in by_lrn.rows}["baseline"] == "-2.2"
    assert (
        by_lrn.columns[3] == "test top-1 error (%)" and "minus that of 'no LRN'" in by_lrn.notes[0]
    )
    assert table.columns[3] == "val top-1 error (%)" and len(table.columns) == 9
    gaps = {r[0]: r[3:6] for r in variant_errors(ablations["runs"], keys=("gap",)).rows}
    assert gaps["baseline"] == ("14.0 ± 1.0", "", "")  # train 95 - val 80, 81, 82: shown as is
    assert gaps["no LRN"][:2] == ("11.2 ± 0.8", "-2.8")  # train 90 - val 78, 79.5, 79


def test_time_to_error_table_counts_the_runs_that_reach_the_target(figure_1):
    rows = {r[0]: r for r in time_to_error_table(figure_1["runs"]).rows}
    assert rows["tanh"][1:5] == ("0.01", "2 of 2", "5.5 ± 0.0", "66 ± 0")


def test_sweep_display_marks_chosen_and_diverged_values():
    table = sweep_display(SWEEP)
    assert [r[1:4] for r in table.rows] == [
        ("0.01", "3.00", ""), ("0.1", "2.00", "yes"), ("1", "diverged", ""), ("0.01", "4.00", "yes")
    ]  # fmt: skip
    assert table.columns[1] == "lr"


def test_error_curves_are_the_mean_error_over_seeds(figure_1):
    curves = error_curves(figure_1["runs"])
    epochs, mean, std = curves["ReLU"]
    assert list(curves) == ["ReLU", "tanh"]
    assert epochs.tolist() == [1, 2, 3] and mean.tolist() == [55, 25, 15]
    assert std[0] == pytest.approx(np.std([60, 50], ddof=1))
    assert error_curves(figure_1["runs"], "val_error")["tanh"][1].tolist() == [50] * 6


# --- figures ---------------------------------------------------------------------------------

SWEEP = {"over": "lr", "score": "speed_score", "chosen": {"ReLU": 0.1, "tanh": 0.01}, "runs": [
    {"label": "ReLU", "value": 0.01, "score": 3.0, "final": {"train_top1": 70, "val_top1": 60}},
    {"label": "ReLU", "value": 0.1, "score": 2.0, "final": {"train_top1": 80, "val_top1": 70}},
    {"label": "ReLU", "value": 1.0, "score": None, "diverged": "nan"},
    {"label": "tanh", "value": 0.01, "score": 4.0, "final": {"train_top1": 60, "val_top1": 50}},
]}  # fmt: skip


@pytest.mark.parametrize("target", [25.0, None])
def test_error_curves_draw_a_line_and_a_band_per_variant(figure_1, target):
    fig = plot_error_curves(error_curves(figure_1["runs"]), target=target)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 + (target is not None) and len(ax.collections) == 2
    if target is not None:
        assert ax.lines[-1].get_ydata()[0] == target and ax.lines[-1].get_linestyle() == ":"
    assert [line.get_linestyle() for line in ax.lines[:2]] == ["-", "--"]  # ReLU, tanh
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(15 - np.std([20, 10], ddof=1))  # ReLU's last epoch


def test_plots_draw_on_the_callers_axes(figure_1):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    assert plot_error_curves(error_curves(figure_1["runs"]), ax=axes[0]) is fig
    assert plot_sweep(SWEEP, ax=axes[1]) is fig
    assert len(axes[1].lines) == 2


def test_sweep_plot_draws_a_line_per_variant_and_marks_chosen_and_diverged():
    ax = plot_sweep(SWEEP).axes[0]
    assert [len(line.get_xdata()) for line in ax.lines] == [2, 1]
    assert ax.get_xscale() == "log"
    offsets = [c.get_offsets().tolist() for c in ax.collections]
    assert offsets == [[[0.1, 2.0]], [[1.0, 0.97]], [[0.01, 4.0]]]  # ring, x, ring
    assert ax.get_ylabel() == f"{SWEEP['score']} (lower is better)"
    ax = plot_sweep(SWEEP, ylabel="held-out error (%)").axes[0]
    assert ax.get_ylabel() == "held-out error (%) (lower is better)"


def test_delta_plot_draws_ours_beside_the_papers(ablations):
    rows = [k for k in check_claims({"ablations": ablations}) if k.claim.study == "ablations"]
    ax = plot_deltas(rows).axes[0]
    ours, paper = (c for c in ax.containers if isinstance(c, BarContainer))
    measured = [k for k in rows if k.measured]
    assert len(ours) == len(measured) == 4  # LRN and overlapping pooling, top-1 and top-5
    assert len(paper) == sum(k.paper is not None for k in rows)
    assert sorted(b.get_width() for b in ours) == pytest.approx(sorted(k.ours for k in measured))
    assert [t.get_text() for t in ax.get_yticklabels()] == [k.label for k in rows]
    assert sum(t.get_text().strip() == "not measured" for t in ax.texts) == len(rows) - 4


# --- what the chapter shows -------------------------------------------------------------------


def test_study_results_show_the_stored_run_and_name_the_command_for_a_missing_one(tmp_path):
    stored = json.loads((RESULTS / "colour-cpu.json").read_text())
    assert study_results("colour", get_profile("cpu"), tmp_path) == stored
    assert study_results("colour", get_profile("gpu"), tmp_path) == stored  # no gpu run: cpu's
    with pytest.raises(FileNotFoundError, match=r"alexnet-lab experiment tiny --profile cpu"):
        study_results("tiny", get_profile("cpu"), tmp_path)
    assert not any(tmp_path.iterdir())  # nothing re-run outside the smoke profile


@pytest.mark.parametrize("name", ["relu_vs_tanh", "lrn_cifar10", "normalization"])
def test_a_stored_study_chose_each_rate_inside_its_sweep_and_trained_with_it(name):
    stored = json.loads((RESULTS / f"{name}-cpu.json").read_text())
    study, sweep = STUDIES[name], stored["sweep"]
    for run in sweep["runs"]:  # the scores are the study's score of the stored histories
        assert run["score"] == pytest.approx(study.sweep.score(run["history"]))
    assert study.choose(sweep["runs"]) == sweep["chosen"]
    for label, lr in sweep["chosen"].items():
        assert study.sweep.values[0] < lr < study.sweep.values[-1]  # not on the grid's edge
        runs = [r for r in stored["runs"] if r["label"] == label]
        assert {r["config"]["lr"] for r in runs} == {lr}
        assert sorted(r["seed"] for r in runs) == [0, 1, 2]
        assert all(r["config"]["holdout"] == 0 for r in runs)  # the main runs train on all images


def test_study_facts_are_read_from_the_stored_results():
    cifar = study_facts(json.loads((RESULTS / "lrn_cifar10-cpu.json").read_text()))
    assert {k: cifar[k] for k in ("budget_epochs", "image_size", "seeds", "sweep_epochs")} == {
        "budget_epochs": 30, "image_size": 28, "seeds": 3, "sweep_epochs": 10,
    }  # fmt: skip
    assert (cifar["lr_LRN"], cifar["lr_no_LRN"], cifar["top_lr"]) == ("0.03", "0.01", "0.1")
    assert (cifar["top_lr_LRN"], cifar["top_lr_no_LRN"]) == ("44", "90")  # no LRN at chance
    ablations = study_facts(json.loads((RESULTS / "ablations-cpu.json").read_text()))
    assert ablations == {
        "budget_epochs": 12,
        "image_size": 96,
        "seeds": 3,
        "minutes": "7 to 38",
    }  # no sweep
    full = study_facts(json.loads((RESULTS / "ablations_full-cpu.json").read_text()))
    assert full == {
        "budget_epochs": 45,
        "image_size": 128,
        "seeds": 1,
        "minutes": "25 to 39",
    }  # the cpu profile's own
    norm = study_facts(json.loads((RESULTS / "normalization-cpu.json").read_text()))
    assert {k: v for k, v in norm.items() if k.startswith("lr_")} == {
        "lr_mean_std": "0.04", "lr_mean_std_no_LRN": "0.01", "lr_mean_only": "0.01",
        "lr_mean_only_no_LRN": "0.01",
    }  # fmt: skip


def test_the_full_budget_ranks_lrn_and_dropout_as_the_short_budget_does():
    # The chapter says so in words; a rerun that changes either ranking must change the prose.
    full = json.loads((RESULTS / "ablations_full-cpu.json").read_text())["runs"]
    short = json.loads((RESULTS / "ablations-cpu.json").read_text())["runs"]
    toggles = ranking(full)
    assert sorted(toggles) == ["baseline", "no LRN", "no dropout"]
    assert ranking(short, among=toggles) == toggles


def test_lrn_saves_error_on_unit_variance_inputs_and_costs_it_on_the_papers():
    # The chapter says so in words; a rerun that flips either sign must change the prose.
    stored = json.loads((RESULTS / "normalization-cpu.json").read_text())
    saved = {k.claim.name: k for k in check_study("normalization", stored)}
    assert saved["lrn_mean_std_top1"].n == saved["lrn_mean_top1"].n == 3
    assert saved["lrn_mean_std_top1"].ours > 0 > saved["lrn_mean_top1"].ours
