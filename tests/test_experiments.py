"""Variants and studies: `train --set`, `experiment NAME`, datasets with a test/ split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_train import make_dataset

from alexnet_lab import cli, pack, trained
from alexnet_lab.checkpoint import load_checkpoint
from alexnet_lab.config import get_profile
from alexnet_lab.data import eval_split, find_data
from alexnet_lab.experiments import STUDIES, get_study, run_experiment


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "colours")


@pytest.fixture(autouse=True)
def own_packs(tmp_path, monkeypatch):
    monkeypatch.setattr(pack, "PACKS", tmp_path / "packs")


def test_the_tiny_study_trains_each_variant_once_and_records_it(dataset, tmp_path):
    smoke = get_profile("smoke")
    path = run_experiment("tiny", smoke, dataset, runs=tmp_path / "runs")
    assert path == tmp_path / "runs" / "smoke" / "experiments" / "tiny.json"
    record = json.loads(path.read_text())
    assert record["study"] == "tiny" and record["profile"] == "smoke"
    assert {"device", "threads", "torch"} <= set(record["machine"]) and "commit" in record
    runs = record["runs"]
    assert [(r["label"], r["variant"], r["seed"]) for r in runs] == [
        ("baseline", "base", 0),
        ("no LRN", "lrn=false", 0),
    ]
    assert all(r["trained_now"] for r in runs) and runs[1]["config"]["lrn"] is False
    assert all(r["commits"] == [record["commit"]] for r in runs)  # each run's own code
    for r in runs:
        ck = load_checkpoint(tmp_path / "runs" / "smoke" / r["variant"])
        assert r["final"] == ck["history"][-1] and len(r["history"]) == smoke.epochs
    again = json.loads(run_experiment("tiny", smoke, dataset, runs=tmp_path / "runs").read_text())
    assert not any(r["trained_now"] for r in again["runs"])  # finished runs are not re-run
    assert [r["final"] for r in again["runs"]] == [r["final"] for r in runs]


def test_runs_recorded_in_the_progress_file_are_not_trained_again(dataset, tmp_path):
    smoke, out = get_profile("smoke"), tmp_path / "results" / "tiny.json"
    first = json.loads(run_experiment("tiny", smoke, dataset, tmp_path / "runs", out).read_text())
    progress = tmp_path / "results" / "tiny.progress.json"
    assert not progress.exists()  # deleted once the results are written
    # A fresh checkout of an interrupted study: the run folders are gone, the progress file
    # kept; its second run's record has another config (as if the study had changed since).
    shutil.rmtree(tmp_path / "runs")
    changed = [first["runs"][0], {**first["runs"][1], "config": {**first["runs"][1]["config"]}}]
    changed[1]["config"]["lr"] *= 2
    progress.write_text(json.dumps({"study": "tiny", "runs": changed}))
    again = json.loads(run_experiment("tiny", smoke, dataset, tmp_path / "runs", out).read_text())
    assert [r["trained_now"] for r in again["runs"]] == [False, True]
    assert again["runs"][0]["final"] == first["runs"][0]["final"]
    assert not (tmp_path / "runs" / "smoke" / "base").exists()  # not trained, not loaded
    assert not progress.exists()
    progress.write_text("{not json")
    with pytest.raises(ValueError, match="tiny.progress.json is not a study's progress file"):
        run_experiment("tiny", smoke, dataset, tmp_path / "runs", out)


def test_an_unknown_study_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown experiment 'nope'; choose one of tiny"):
        get_study("nope")
    assert "tiny" in STUDIES


def test_cli_train_with_set_writes_the_variants_folder(dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(trained, "RUNS", tmp_path / "runs")
    argv = ["train", "--profile", "smoke", "--set", "lrn=false", "--data", str(dataset)]
    assert cli.main(argv) == 0
    ck = load_checkpoint(tmp_path / "runs" / "smoke" / "lrn=false")
    assert ck["config"]["lrn"] is False and ck["variant"] == "lrn=false"
    assert cli.main([*argv, "--set", "lrm=false"]) == 2
    assert "Unknown config field 'lrm'" in capsys.readouterr().err


def test_cli_experiment_writes_its_results(dataset, tmp_path, capsys):
    out = tmp_path / "tiny.json"
    argv = ["experiment", "tiny", "--profile", "smoke", "--data", str(dataset), "--out", str(out),
            "--runs", str(tmp_path / "runs")]  # fmt: skip
    assert cli.main(argv) == 0
    assert f"results: {out}" in capsys.readouterr().out
    assert len(json.loads(out.read_text())["runs"]) == 2
    assert {p.name for p in (tmp_path / "runs" / "smoke").iterdir()} == {"base", "lrn=false"}


def test_a_dataset_with_a_test_split_trains_and_evaluates_on_it(dataset, tmp_path, capsys):
    cifar_like = tmp_path / "cifar-like"
    shutil.copytree(dataset / "train", cifar_like / "train")
    shutil.copytree(dataset / "val", cifar_like / "test")
    assert eval_split(cifar_like) == "test"
    argv = ["train", "--profile", "smoke", "--data", str(cifar_like), "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 0
    capsys.readouterr()
    evaluate = ["evaluate", "--checkpoint", str(tmp_path / "r"), "--data", str(cifar_like)]
    assert cli.main(evaluate) == 0
    assert capsys.readouterr().out.startswith("test (6 images, centre crop): top-1")


def test_evaluate_takes_a_data_root_or_a_dataset_folder(dataset, tmp_path, capsys):
    root = tmp_path / "root"
    shutil.copytree(dataset, root / "imagenette-224")  # found by name under a data root
    run = tmp_path / "r"
    assert cli.main(["train", "--profile", "smoke", "--data", str(root), "--out", str(run)]) == 0
    capsys.readouterr()
    for data in (root, root / "imagenette-224"):
        assert cli.main(["evaluate", "--checkpoint", str(run), "--data", str(data), "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["n"] == 6 and result["split"] == "val"  # every image of the split


def test_cifar10_is_found_with_its_test_split(shared_data):
    folder = find_data(shared_data, "cifar10")
    assert folder == shared_data / "cifar10" and eval_split(folder) == "test"
