"""The paper-claims studies (relu_vs_tanh, lrn_cifar10, ablations, ablations_full): what their
configs change, the learning-rate sweep, the summaries of their results, and a smoke run."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_train import make_dataset

from alexnet_lab import pack
from alexnet_lab.config import PROFILES, config_diff, get_profile
from alexnet_lab.experiments import DIVERGED, STUDIES, Study, Sweep, get_study, run_experiment
from alexnet_lab.experiments.summary import (
    curve_band,
    mean_std,
    paired_p,
    ranking,
    speed_score,
    sweep_table,
    time_to_error,
    val_error_score,
    variant_table,
)

PAPER_STUDIES = ("relu_vs_tanh", "lrn_cifar10", "ablations", "normalization", "ablations_full")


# --- what each study trains ------------------------------------------------------------------


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("name", PAPER_STUDIES)
def test_each_variant_differs_from_the_baseline_in_exactly_its_overrides(name, profile):
    study = get_study(name)
    configs = study.configs(get_profile(profile))
    base = {seed: c for label, seed, c in configs if label == next(iter(study.variants))}
    assert set(base) == set(study.seeds_on(get_profile(profile)))
    for label, seed, config in configs:
        diff = config_diff(base[seed].recipe(), config.recipe())
        assert diff == {k: (getattr(base[seed], k), v) for k, v in study.variants[label].items()}
    assert len({c for _, _, c in configs}) == len(configs)  # one run folder per run


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("name", ["relu_vs_tanh", "lrn_cifar10", "normalization"])
def test_sweeps_choose_on_held_out_training_images_only(name, profile):
    study = get_study(name)
    p = get_profile(profile)
    main = {label: c for label, _, c in study.configs(p)}
    sweep = study.sweep_configs(p)
    values = study.sweep.profile_values.get(profile, study.sweep.values)
    assert [(label, v) for label, v, _ in sweep] == [(lb, v) for lb in main for v in values]
    for label, value, config in sweep:
        assert config.holdout > 0  # never the val or test split
        changed = set(config_diff(main[label].recipe(), config.recipe()))
        assert changed <= {"lr", "holdout", "epochs", "seed"} and "holdout" in changed
        assert config.lr == value
    if values:
        chosen = {label: values[-1] for label in main}
        assert {c.lr for _, _, c in study.configs(p, chosen)} == {values[-1]}
    else:  # no sweep on this profile: the budget's learning rate
        assert {c.lr for _, _, c in study.configs(p)} == {p.lr}


def test_figure_1_runs_have_no_regularization_and_a_constant_learning_rate():
    for _, _, c in get_study("relu_vs_tanh").configs(get_profile("cpu")):
        assert (c.arch, c.lrn, c.weight_decay, c.dropout, c.label_smoothing) == (
            "cifar", False, 0.0, 0.0, 0.0)  # fmt: skip
        assert not c.augment and not c.pca_colour and c.schedule == "constant"
        assert c.epochs == 30
    assert {c.activation for _, _, c in get_study("relu_vs_tanh").configs(get_profile("cpu"))} == {
        "relu", "tanh"}  # fmt: skip


def test_lrn_study_follows_cuda_convnet_and_ablations_share_one_budget():
    lrn = get_study("lrn_cifar10").configs(get_profile("cpu"))
    assert {(c.lrn, c.init, c.normalize, c.augment) for _, _, c in lrn} == {
        (True, "paper", "mean", True), (False, "paper", "mean", True)}  # fmt: skip
    abl = get_study("ablations").configs(get_profile("cpu"))
    norm = get_study("normalization").configs(get_profile("cpu"))
    assert len(abl) == 6 * 3 and len(norm) == 4 * 3
    assert {(c.image_size, c.epochs, c.schedule) for _, _, c in abl + norm} == {(96, 12, "cosine")}
    # the paper's inputs with the paper's init; He init assumes unit-variance inputs
    assert {(c.normalize, c.init) for _, _, c in norm} == {
        ("mean", "paper"),
        ("mean_std", "kaiming"),
    }
    # at the recipe's learning rate (if the sweep picks it) mean/std runs are ablations runs
    assert {c for _, _, c in norm if c.normalize == "mean_std"} <= {c for _, _, c in abl}
    half = [c for label, _, c in abl if label == "one column, half width"]
    assert {(c.width, c.two_columns) for c in half} == {(0.5, False)}
    full = get_study("ablations_full").configs(get_profile("cpu"))
    assert full[0][2] == get_profile("cpu")  # the profile's own model is the baseline


def test_a_sweep_picks_the_lowest_score_and_never_a_diverged_run():
    study = Study("s", "q", {"a": {}, "b": {}}, sweep=Sweep("lr", (1, 2, 3), val_error_score))
    runs = [{"label": "a", "value": 1, "score": 5.0}, {"label": "a", "value": 2, "score": 3.0},
            {"label": "a", "value": 3, "score": 3.0}, {"label": "b", "value": 1, "score": None},
            {"label": "b", "value": 2, "score": 9.0}]  # fmt: skip
    assert study.choose(runs) == {"a": 2, "b": 2}  # ties go to the first value
    with pytest.raises(RuntimeError, match="every lr of the sweep diverged for 'b'"):
        study.choose(runs[:4])


# --- summaries -------------------------------------------------------------------------------


def history(errors: list[float], seconds_per_epoch: float = 10.0) -> list[dict]:
    return [{"epoch": i + 1, "seconds": seconds_per_epoch * (i + 1), "train_top1": 100 - e,
             "val_top1": 50.0} for i, e in enumerate(errors)]  # fmt: skip


def test_time_to_error_interpolates_between_epochs():
    assert time_to_error(history([90, 50, 30, 20])) == (3.5, 35.0)
    assert time_to_error(history([90, 50, 25])) == (3.0, 30.0)
    assert time_to_error(history([20, 10])) == (1.0, 10.0)  # at the first epoch already
    assert time_to_error(history([90, 50, 30])) == (None, None)
    assert time_to_error(history([90, 50, 30]), target=40) == (2.5, 25.0)


def test_speed_score_ranks_runs_that_reach_the_target_first():
    fast, slow = history([60, 20, 10]), history([90, 40, 24])
    never_close, never_far = history([90, 50, 26]), history([90, 80, 70])
    scores = [speed_score(h) for h in (fast, slow, never_close, never_far)]
    assert scores == sorted(scores) and scores[0] < 2 < scores[1] <= 3 < scores[2]


def test_mean_std_and_the_paired_test():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert math.isnan(mean_std([4.0])[1]) and math.isnan(mean_std([])[0])
    a = [70.1, 71.3, 69.8, 70.6, 70.9]
    assert paired_p(a, a) == 1.0
    assert paired_p(a, [x - 2 for x in a]) == 0.0  # the same shift on every seed
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.3, 5)
    assert paired_p(a, [x - 3 + n for x, n in zip(a, noise, strict=True)]) < 0.001
    assert paired_p(a, [x + n for x, n in zip(a, noise, strict=True)]) > 0.05
    assert math.isnan(paired_p([1.0], [2.0]))


def run(label: str, seed: int, val: float, train: float = 90.0) -> dict:
    final = {"val_top1": val, "val_top5": val + 20, "train_top1": train}
    return {"label": label, "seed": seed, "final": final,
            "history": [{**final, "epoch": 1}, {**final, "epoch": 2}]}  # fmt: skip


def test_variant_table_gives_deltas_against_the_baseline_over_paired_seeds():
    runs = [run("base", s, v) for s, v in enumerate([80.0, 81.0, 82.0])]
    runs += [run("worse", s, v) for s, v in enumerate([78.0, 79.5, 79.0])]
    runs += [run("odd", 0, 70.0), {"label": "odd", "seed": 1, "diverged": "Loss is nan"}]
    rows = {r.label: r for r in variant_table(runs)}
    assert rows["base"].delta == 0 and math.isnan(rows["base"].p) and rows["base"].std == 1.0
    assert rows["worse"].mean == pytest.approx(78.833, abs=1e-3)
    assert rows["worse"].delta == pytest.approx(-2.1667, abs=1e-3) and rows["worse"].p < 0.05
    assert (rows["odd"].n, rows["odd"].diverged, rows["odd"].delta) == (1, 1, -10.0)
    assert math.isnan(rows["odd"].p)
    gaps = {r.label: r.mean for r in variant_table(runs, key="gap")}
    assert gaps["base"] == pytest.approx(90 - 81)
    assert variant_table(runs, "val_top5", baseline="worse")[0].delta == pytest.approx(
        2.1667, abs=1e-3
    )


def test_ranking_orders_variants_from_lowest_error_and_keeps_only_those_asked():
    runs = [run("base", s, v) for s, v in enumerate([80.0, 81.0])]
    runs += [run("worse", s, v) for s, v in enumerate([78.0, 79.0])]
    runs += [run("better", 0, 85.0), {"label": "better", "seed": 1, "diverged": "Loss is nan"}]
    assert ranking(runs) == ["better", "base", "worse"]
    assert ranking(runs, among=("worse", "base")) == ["base", "worse"]


def test_curve_band_gives_the_error_mean_and_std_over_seeds():
    runs = [{"label": "x", "seed": s, "final": {}, "history": history(e)}
            for s, e in enumerate([[80, 40, 20], [60, 30]])]  # fmt: skip
    epochs, mean, std = curve_band(runs, "x")
    assert epochs.tolist() == [1, 2] and mean.tolist() == [70, 35]
    assert std == pytest.approx([np.std([80, 60], ddof=1), np.std([40, 30], ddof=1)])
    with pytest.raises(ValueError, match="no finished run of 'y'"):
        curve_band(runs, "y")


def test_sweep_table_marks_the_chosen_values():
    sweep = {"chosen": {"a": 0.1}, "runs": [
        {**run("a", 0, 50.0), "value": 0.01, "score": 3.0},
        {**run("a", 0, 60.0), "value": 0.1, "score": 2.0},
        {"label": "a", "seed": 0, "diverged": "nan", "value": 1.0, "score": None}]}  # fmt: skip
    rows = sweep_table(sweep)
    assert [(r["value"], r["chosen"], r["val_top1"]) for r in rows] == [
        (0.01, False, 50.0), (0.1, True, 60.0), (1.0, False, None)]  # fmt: skip


# --- a smoke run -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_packs(tmp_path, monkeypatch):
    monkeypatch.setattr(pack, "PACKS", tmp_path / "packs")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    """A data root holding a CIFAR-like ``cifar10/`` ({train,test}/, 32x32 images)."""
    root = tmp_path_factory.mktemp("data")
    make_dataset(root / "cifar10", train=10, val=4, side=32)
    shutil.move(root / "cifar10" / "val", root / "cifar10" / "test")
    return root


def test_lrn_study_sweeps_then_trains_and_a_second_run_trains_nothing(data_root, tmp_path):
    smoke = get_profile("smoke")
    path = run_experiment("lrn_cifar10", smoke, data_root, runs=tmp_path / "runs")
    record = json.loads(path.read_text())
    sweep = record["sweep"]
    assert sweep["over"] == "lr" and sweep["score"] == "val_error_score"
    assert [(r["label"], r["value"]) for r in sweep["runs"]] == [
        ("LRN", 1e-3), ("LRN", 1e-2), ("no LRN", 1e-3), ("no LRN", 1e-2)]  # fmt: skip
    assert all(r["config"]["holdout"] == 2 for r in sweep["runs"])
    for r in sweep["runs"]:
        assert r["score"] == pytest.approx(100 - r["final"]["val_top1"])
    runs = record["runs"]
    assert [(r["label"], r["seed"]) for r in runs] == [("LRN", 0), ("no LRN", 0)]
    assert [r["config"]["lr"] for r in runs] == [sweep["chosen"]["LRN"], sweep["chosen"]["no LRN"]]
    assert all(r["trained_now"] and len(r["history"]) == 2 for r in runs)
    again = json.loads(run_experiment("lrn_cifar10", smoke, data_root, runs=tmp_path / "runs")
                       .read_text())  # fmt: skip
    assert not any(r["trained_now"] for r in again["runs"] + again["sweep"]["runs"])
    assert again["sweep"]["chosen"] == sweep["chosen"]


def test_a_diverged_sweep_run_is_recorded_never_chosen_and_not_trained_again(
    data_root, tmp_path, monkeypatch
):
    budget = {"arch": "cifar", "image_size": 28, "dataset": "cifar10", "epochs": 1, "batch_size": 4}
    sweep = Sweep("lr", (1e9, 0.01), val_error_score, budget={"holdout": 2})
    study = Study("diverging", "q", {"ReLU": {}}, budget=budget, sweep=sweep)
    monkeypatch.setitem(STUDIES, "diverging", study)
    smoke = get_profile("smoke")
    record = json.loads(run_experiment("diverging", smoke, data_root, runs=tmp_path).read_text())
    bad, good = record["sweep"]["runs"]
    assert "diverged" in bad and bad["score"] is None and "final" in good
    assert record["sweep"]["chosen"] == {"ReLU": 0.01}
    marker = tmp_path / "smoke" / bad["variant"] / DIVERGED
    assert marker.read_text() == bad["diverged"]
    marker.write_text("kept")  # a second run reads the marker instead of training again
    again = json.loads(run_experiment("diverging", smoke, data_root, runs=tmp_path).read_text())
    assert again["sweep"]["runs"][0]["diverged"] == "kept"
