"""The trainer: exact resume, Ctrl-C, divergence, checkpoints, CLI and load_trained.

Runs on a generated 3-class JPEG dataset at 64 px, 3 steps of 8 images per epoch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_lab import cli, pack
from alexnet_lab.checkpoint import (
    CheckpointError,
    CheckpointWriter,
    load_checkpoint,
    load_model_state,
)
from alexnet_lab.config import get_profile, with_overrides
from alexnet_lab.model import AlexNet
from alexnet_lab.paths import git_commit
from alexnet_lab.train import DivergedError, make_scheduler, train
from alexnet_lab.trained import load_history, load_run, load_trained

PROFILE = dataclasses.replace(
    get_profile("smoke"), train_per_class=None, val_per_class=None, epochs=2, batch_size=8
)
# The cpu profile's recipe: warm-up then cosine, random-resized crops, label smoothing.
COSINE = dataclasses.replace(
    PROFILE, schedule="cosine", warmup_epochs=1, min_crop_area=0.35, label_smoothing=0.1
)
COLOURS = ((200, 40, 40), (40, 200, 40), (40, 40, 200))


def make_dataset(root: Path, train: int = 8, val: int = 2, side: int = 64) -> Path:
    """``root/{train,val}/c<k>/`` JPEGs: noisy images tinted by class."""
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("val", val)):
        for k, colour in enumerate(COLOURS):
            folder = root / split / f"c{k}"
            folder.mkdir(parents=True)
            for i in range(n):
                noise = rng.integers(-60, 60, (side, side, 3))
                pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.jpg")
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "colours")


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("packs")


@pytest.fixture(scope="module")
def baseline(dataset, packs, tmp_path_factory) -> dict[str, Path]:
    """Uninterrupted 2-epoch runs, one per schedule."""
    runs = {}
    for schedule, profile in (("plateau", PROFILE), ("cosine", COSINE)):
        out = tmp_path_factory.mktemp(f"base-{schedule}")
        train(profile, out, dataset, packs=packs)
        runs[schedule] = out
    return runs


def _same_run(a: Path, b: Path) -> None:
    ca, cb = load_checkpoint(a / "checkpoint.pt"), load_checkpoint(b / "checkpoint.pt")
    assert ca["epoch"] == cb["epoch"] == 2 and ca["step"] == cb["step"] == 0
    for k, v in ca["model"].items():
        assert torch.equal(v, cb["model"][k]), k
    drop = ("seconds", "img_per_s")
    rows = [[{k: v for k, v in r.items() if k not in drop} for r in c["history"]] for c in (ca, cb)]
    assert rows[0] == rows[1]


def test_history_has_train_and_val_accuracy_per_epoch(baseline):
    history = json.loads((baseline["plateau"] / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    for row in history:
        for key in ("train_top1", "train_top5", "val_top1", "val_top5"):
            assert 0 <= row[key] <= 100
        assert row["val_top5"] == 100  # 3 classes
        assert np.isfinite(row["train_loss"]) and row["lr"] == PROFILE.lr


def test_resume_after_an_epoch_gives_the_same_weights(dataset, packs, baseline, tmp_path):
    train(dataclasses.replace(PROFILE, epochs=1), tmp_path, dataset, packs=packs)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 1
    train(PROFILE, tmp_path, dataset, resume=True, packs=packs)  # plateau: may run longer
    _same_run(baseline["plateau"], tmp_path)
    # the commit of the code that trained it, once: resuming with the same code adds nothing
    assert load_checkpoint(tmp_path / "checkpoint.pt")["commits"] == [git_commit()]
    ck = load_checkpoint(tmp_path / "checkpoint.pt")
    del ck["commits"]  # as written before commits were kept
    torch.save(ck, tmp_path / "old.pt")  # not over the file ck is memory-mapped from
    (tmp_path / "old.pt").replace(tmp_path / "checkpoint.pt")
    train(dataclasses.replace(PROFILE, epochs=3), tmp_path, dataset, resume=True, packs=packs)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["commits"] == ["unrecorded", git_commit()]


def test_ctrl_c_saves_and_resume_continues_exactly(dataset, packs, baseline, tmp_path):
    profile = COSINE
    checkpoint = tmp_path / "checkpoint.pt"

    def interrupt_after_first_epoch() -> None:
        while not checkpoint.exists():
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    handler = signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job
    threading.Thread(target=interrupt_after_first_epoch, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        train(profile, tmp_path, dataset, packs=packs)
    stopped = load_checkpoint(checkpoint)
    assert stopped["epoch"] == 1 and stopped["step"] >= 1  # inside epoch 2
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    train(profile, tmp_path, dataset, resume=True, packs=packs)
    _same_run(baseline["cosine"], tmp_path)


def test_nan_loss_stops_with_epoch_and_step(dataset, packs, tmp_path):
    profile = dataclasses.replace(PROFILE, lr=1e6)
    with pytest.raises(DivergedError, match=r"at epoch 1, step \d+"):
        train(profile, tmp_path, dataset, packs=packs)


def test_checkpoint_is_not_overwritten_or_resumed_with_another_setup(
    dataset, packs, baseline, tmp_path
):
    out = baseline["plateau"]
    with pytest.raises(CheckpointError, match="--resume"):
        train(PROFILE, out, dataset, packs=packs)
    other = dataclasses.replace(PROFILE, batch_size=4, lrn=False, epochs=3)
    with pytest.raises(CheckpointError, match="batch_size: checkpoint 8, now 4; lrn: checkpoint"):
        train(other, out, dataset, resume=True, packs=packs)
    longer = dataclasses.replace(COSINE, epochs=3)
    with pytest.raises(CheckpointError, match="epochs: checkpoint 2, now 3.*cosine"):
        train(longer, baseline["cosine"], dataset, resume=True, packs=packs)


def test_checkpoint_that_does_not_fit_the_model_names_file_and_difference(baseline):
    path = baseline["plateau"] / "checkpoint.pt"
    state = load_checkpoint(path)["model"]
    with pytest.raises(
        CheckpointError, match=r"checkpoint.pt .*fc8.weight: checkpoint \(3, 4096\)"
    ):
        load_model_state(AlexNet(5), state, path)
    bad = baseline["plateau"].parent / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="broken.pt"):
        load_checkpoint(bad)


def test_checkpoint_writer_saves_the_state_as_it_was_when_asked(tmp_path):
    weights = torch.arange(10_000_000, dtype=torch.float32)
    history = [{"epoch": 1}]
    with CheckpointWriter(tmp_path / "run" / "checkpoint.pt") as writer:
        writer.save({"model": {"w": weights}, "history": history, "epoch": 1, "config": {}})
        weights.add_(1)  # the next training steps change the weights in place
        history.append({"epoch": 2})
    saved = load_checkpoint(tmp_path / "run")
    assert torch.equal(saved["model"]["w"], torch.arange(10_000_000, dtype=torch.float32))
    assert saved["history"] == [{"epoch": 1}] and saved["epoch"] == 1
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == ["checkpoint.pt", "history.json"]  # no temporary files left
    assert json.loads((tmp_path / "run" / "history.json").read_text()) == [{"epoch": 1}]


def test_checkpoint_writer_reports_a_failed_write(tmp_path):
    (tmp_path / "file").write_text("a file, not a folder")
    writer = CheckpointWriter(tmp_path / "file" / "checkpoint.pt")
    writer.save({"epoch": 1})
    with pytest.raises(CheckpointError, match=r"Could not write checkpoint .*file/checkpoint.pt"):
        writer.wait()
    writer.wait()  # reported once


def test_cli_evaluate_prints_top1_and_top5(dataset, baseline, monkeypatch, capsys):
    monkeypatch.setattr(pack, "PACKS", baseline["plateau"].parent / "cli-packs")
    run = str(baseline["plateau"])
    assert cli.main(["evaluate", "--checkpoint", run, "--data", str(dataset), "--json"]) == 0
    centre = json.loads(capsys.readouterr().out)
    assert centre["n"] == 6 and centre["crops"] == "centre"
    history = load_checkpoint(baseline["plateau"])["history"]
    assert centre["top1"] == pytest.approx(history[-1]["val_top1"])
    assert cli.main(["evaluate", "--checkpoint", run, "--data", str(dataset), "--ten-crop"]) == 0
    assert "top-1" in capsys.readouterr().out


def test_load_trained_trains_once_then_loads(dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pack, "PACKS", tmp_path / "packs")
    model, meta = load_trained("smoke", data=dataset, runs=tmp_path)
    out = capsys.readouterr().out
    assert f"training a run in {tmp_path / 'smoke' / 'base'}" in out
    assert "1 epoch, about 0.5 min on 2 CPU cores (`alexnet-lab train --profile smoke`" in out
    assert not model.training and meta.classes == ["c0", "c1", "c2"]
    assert meta.config == get_profile("smoke") and meta.variant == "base" and meta.epochs == 1
    assert meta.metrics["epoch"] == 1 and set(meta.stats) == {"mean", "std", "eigvals", "eigvecs"}
    assert not hasattr(model, "stats") and not hasattr(model, "classes")
    again, _ = load_trained("smoke", data=dataset, runs=tmp_path)
    assert capsys.readouterr().out == ""
    assert torch.equal(again.classifier.fc8.weight, model.classifier.fc8.weight)
    assert [row["epoch"] for row in load_history("smoke", runs=tmp_path)] == [1]


def test_a_variant_trains_its_own_architecture_into_its_own_folder(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(pack, "PACKS", tmp_path / "packs")
    variant = with_overrides(get_profile("smoke"), ["lrn=false", "overlap_pool=false"])
    model, meta = load_trained(variant, data=dataset, runs=tmp_path)
    assert meta.path == tmp_path / "smoke" / "lrn=false,overlap_pool=false" / "checkpoint.pt"
    assert isinstance(model.features.lrn1, torch.nn.Identity)
    assert model.features.pool1.kernel_size == 2
    assert meta.config.lrn is False and meta.variant == "lrn=false,overlap_pool=false"


def test_load_trained_refuses_a_run_trained_with_another_config(dataset, baseline, tmp_path):
    run = tmp_path / "smoke" / "base"
    run.mkdir(parents=True)
    (run / "checkpoint.pt").write_bytes((baseline["plateau"] / "checkpoint.pt").read_bytes())
    with pytest.raises(CheckpointError, match="trained with another config .*batch_size: run 8"):
        load_trained("smoke", data=dataset, runs=tmp_path)


def test_a_file_that_is_not_a_checkpoint_is_refused_by_name(tmp_path):
    torch.save(AlexNet(3).state_dict(), tmp_path / "weights.pt")
    with pytest.raises(CheckpointError, match="weights.pt is not an alexnet-lab checkpoint"):
        load_run(tmp_path / "weights.pt")


def test_history_json_is_written_after_the_checkpoint_and_matches_it(baseline):
    for run in baseline.values():
        history = json.loads((run / "history.json").read_text())
        assert history == load_checkpoint(run / "checkpoint.pt")["history"]


def test_cosine_schedule_warms_up_linearly_then_decays_to_zero():
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.04)
    config = dataclasses.replace(COSINE, lr=0.04, warmup_epochs=2, epochs=4)
    sched = make_scheduler(opt, config, 10)
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs[:21], [0.04 * (1 + 19 * i / 20) / 20 for i in range(21)])
    assert all(a > b for a, b in zip(lrs[20:-1], lrs[21:], strict=True))
    assert lrs[-1] == pytest.approx(0.04 * (1 - np.cos(np.pi / 20)) / 2)


def test_checkpoints_that_are_not_ours_are_refused_with_the_file_name(baseline, tmp_path):
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(CheckpointError, match="tensor.pt is not an alexnet-lab checkpoint"):
        load_run(tmp_path / "tensor.pt")
    ck = load_checkpoint(baseline["plateau"])
    ck["config"]["colour_jitter"] = 0.4  # a field this version does not know
    torch.save(ck, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="future.pt was written by another version"):
        load_run(tmp_path / "future.pt")
    assert cli.main(["evaluate", "--checkpoint", str(tmp_path / "future.pt")]) == 2
