"""Fault injection: what a training run survives (README, "What a training run promises").

Each test runs the real CLI in a subprocess on a small generated dataset and hurts it the way
machines and users do: kill -9 at random moments (inside checkpoint writes too), SIGTERM, a
second run into the same folder, a file-size limit. Marked slow; they take about a minute.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_train import make_dataset

from alexnet_lab.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow
EPOCHS = 4


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "colours")


def command(out: Path, data: Path, *extra: str) -> list[str]:
    sets = ["--set", f"epochs={EPOCHS}", "--set", "batch_size=8", "--set", "train_per_class=none",
            "--set", "val_per_class=none"]  # fmt: skip
    return [sys.executable, "-m", "alexnet_lab.cli", "train", "--profile", "smoke", *sets,
            "--data", str(data), "--out", str(out), *extra]  # fmt: skip


def start(out: Path, data: Path, *extra: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "CI": "1"}
    return subprocess.Popen(command(out, data, *extra), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)  # fmt: skip


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory) -> Path:
    """An uninterrupted run, to compare the weights of interrupted ones with."""
    out = tmp_path_factory.mktemp("reference") / "run"
    code, log = finish(start(out, dataset))
    assert code == 0, log
    return out


def same_weights(a: Path, b: Path) -> bool:
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    return ca["epoch"] == cb["epoch"] and all(
        torch.equal(v, cb["model"][k]) for k, v in ca["model"].items()
    )


def assert_consistent(out: Path) -> None:
    """A loadable checkpoint, the history equal to its own, no temporary files."""
    ck = load_checkpoint(out)
    assert json.loads((out / "history.json").read_text()) == ck["history"]
    assert not list(out.glob(".*.tmp")), list(out.glob(".*.tmp"))


def test_kill_9_anywhere_leaves_a_checkpoint_that_resumes_exactly(dataset, reference, tmp_path):
    out = tmp_path / "run"
    # The first kill lands inside a checkpoint write (its temporary file exists), the others
    # at random moments: start-up, packing, training steps, evaluation or another write.
    proc = start(out, dataset)
    while not list(out.glob(".checkpoint.pt.*.tmp")):
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.01)
    proc.kill()
    finish(proc)
    assert list(out.glob(".checkpoint.pt.*.tmp")), "the kill should leave a half-written file"
    rng, kills, cleaned = random.Random(0), 1, False
    while True:
        resume = ("--resume",) if (out / "checkpoint.pt").exists() else ()
        proc = start(out, dataset, *resume)
        if kills < 4:
            time.sleep(rng.uniform(4, 12))
            if proc.poll() is None:
                proc.kill()
                kills += 1
        code, log = finish(proc)
        if "Removed what an interrupted write left" in log:
            cleaned = True
        if code == 0:
            break
        assert code == -signal.SIGKILL, log
        if (out / "checkpoint.pt").exists():
            load_checkpoint(out)  # loadable after every kill
    assert cleaned
    assert_consistent(out)
    assert same_weights(out, reference)


def test_sigterm_saves_and_the_run_resumes_exactly(dataset, reference, tmp_path):
    out = tmp_path / "run"
    proc = start(out, dataset)
    while not (out / "checkpoint.pt").exists():
        time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[0]
    proc.send_signal(signal.SIGTERM)
    code, log = finish(proc)
    assert code == 130 and "Interrupted at epoch" in log and "continue with --resume" in log
    assert_consistent(out)
    code, log = finish(start(out, dataset, "--resume"))
    assert code == 0, log
    assert_consistent(out)
    assert same_weights(out, reference)


def test_a_second_run_into_the_same_folder_is_refused_with_the_first_runs_pid(dataset, tmp_path):
    out = tmp_path / "run"
    first = start(out, dataset)
    while not (out / ".lock").exists() or not (out / ".lock").read_text().strip():
        time.sleep(0.05)
    code, log = finish(start(out, dataset))
    assert code == 2 and f"in use by another training run (PID {first.pid})" in log
    first.kill()
    first.wait()
    resume = ["--resume"] if (out / "checkpoint.pt").exists() else []
    code, log = finish(start(out, dataset, *resume))
    assert code == 0, log  # the dead run's lock does not block


def test_a_file_size_limit_stops_the_run_at_once_with_the_reason(dataset, tmp_path):
    out = tmp_path / "run"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (50 << 20, 50 << 20))  # 50 MB < checkpoint

    code, log = finish(start(out, dataset, preexec_fn=limit))
    assert code == 2, log
    assert "Could not write checkpoint" in log and "file-size limit" in log
    assert "Traceback" not in log
    assert not (out / "checkpoint.pt").exists() and not list(out.glob(".*.tmp"))


@pytest.mark.parametrize("delay", [0.1, 0.4, 0.8, 1.5])
def test_ctrl_c_while_torch_loads_is_one_line(delay):
    """The console script imports alexnet_lab.cli and calls main(); a Ctrl-C at any moment of
    that start-up (torch takes a second or two to import) ends without a traceback."""
    script = "import sys; from alexnet_lab.cli import main; sys.exit(main())"
    argv = [sys.executable, "-c", script, "layers", "--size", "224"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert "Traceback" not in out, out
    # 130: our handler; -SIGINT: killed before Python installed its handler; 0: done already
    assert proc.returncode in (130, -signal.SIGINT, 0), (proc.returncode, out)
    if proc.returncode == 130:
        assert out.strip().endswith("interrupted"), out
