"""Bad input to ``alexnet-lab``: exit 2 and one line naming the argument and the fix, or 130
after Ctrl-C; never a traceback. Real commands on tiny generated data, no mocks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest
import torch

import alexnet_lab.cli
import alexnet_lab.pack
from alexnet_lab import paths
from alexnet_lab.checkpoint import CHECKPOINT
from alexnet_lab.cli import main
from alexnet_lab.data import DATA_ENV
from alexnet_lab.model import AlexNet, TorchvisionAlexNet

SMALL = ["--profile", "smoke", "--set", "batch_size=4"]  # 8 training images in image_folder


def error_line(capsys, command: str) -> str:
    """The one stderr line of a failed command (asserts there is one, and no traceback)."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"alexnet-lab {command}: error: "), err
    return lines[0]


@pytest.fixture
def packs(tmp_path, monkeypatch) -> Path:
    """Commands that pack data write into tmp_path/packs, not the repository's packs/."""
    monkeypatch.setattr(alexnet_lab.pack, "PACKS", tmp_path / "packs")
    return tmp_path / "packs"


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "file.txt"
    path.write_text("not a folder")
    return path


# download ---------------------------------------------------------------------------------


def test_download_into_a_file_is_refused(a_file, capsys):
    assert main(["download", "--data", str(a_file)]) == 2
    line = error_line(capsys, "download")
    assert f"--data {a_file} is a file, not a folder" in line and "Pass a folder" in line


def test_download_into_a_file_from_the_environment_names_it(a_file, monkeypatch, capsys):
    monkeypatch.setenv(DATA_ENV, str(a_file))
    assert main(["download"]) == 2
    assert f"${DATA_ENV}={a_file} is a file" in error_line(capsys, "download")


def test_download_below_a_file_is_refused(a_file, capsys):
    assert main(["download", "--data", str(a_file / "data")]) == 2
    assert f"cannot be made: {a_file} is a file" in error_line(capsys, "download")


# layers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["paper", "torchvision"])
def test_min_size_is_what_the_model_accepts(model):
    net = (AlexNet(10) if model == "paper" else TorchvisionAlexNet(10)).eval()
    least = net.min_size
    with torch.no_grad():
        assert net(torch.zeros(1, 3, least, least)).shape == (1, 10)
        with pytest.raises(RuntimeError):
            net(torch.zeros(1, 3, least - 1, least - 1))


@pytest.mark.parametrize(("model", "size"), [("paper", 10), ("paper", -5), ("paper", 63),
                                             ("torchvision", 62), ("torchvision", 0)])  # fmt: skip
def test_layers_below_the_smallest_input_is_refused(model, size, capsys):
    assert main(["layers", "--model", model, "--size", str(size), "--classes", "10"]) == 2
    least = (AlexNet if model == "paper" else TorchvisionAlexNet).min_size
    line = error_line(capsys, "layers")
    assert f"--size {size} is too small" in line and f"at least {least}x{least}" in line
    assert f"Pass --size {least} or more" in line


def test_layers_at_the_smallest_input_works(capsys):
    assert main(["layers", "--size", str(AlexNet.min_size), "--classes", "10"]) == 0
    assert "pool5" in capsys.readouterr().out


def test_layers_without_classes_is_refused(capsys):
    assert main(["layers", "--classes", "-3"]) == 2
    assert "--classes -3" in error_line(capsys, "layers")


# train, pack, evaluate: folders that cannot be written -------------------------------------


@pytest.mark.parametrize("command", ["train", "pack"])
def test_out_below_a_file_is_refused(command, image_folder, a_file, packs, capsys):
    out = a_file / "run"
    assert main([command, *SMALL, "--data", str(image_folder), "--out", str(out)]) == 2
    line = error_line(capsys, command)
    assert f"--out {out} cannot be made: {a_file} is a file, not a folder" in line
    assert not packs.exists()  # refused before any work


@pytest.mark.parametrize("command", ["train", "pack"])
def test_out_in_a_read_only_folder_is_refused(command, image_folder, tmp_path, packs, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: chmod 0o500 does not stop root from writing")
        out = locked / "run"
        assert main([command, *SMALL, "--data", str(image_folder), "--out", str(out)]) == 2
        line = error_line(capsys, command)
        assert f"--out {out} cannot be written: no write permission on {locked}" in line
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("command", ["train", "pack"])
def test_out_on_a_broken_link_is_refused(command, image_folder, tmp_path, packs, capsys):
    out = tmp_path / "run"
    out.symlink_to(tmp_path / "gone" / "elsewhere")
    assert main([command, *SMALL, "--data", str(image_folder), "--out", str(out)]) == 2
    assert f"--out {out} is a broken link, not a folder" in error_line(capsys, command)


def test_an_os_error_later_on_is_one_line(image_folder, tmp_path, packs, capsys):
    """train checks --out up front, not the packs folder: the OSError that one raises is
    reported by main() with the path and what is in the way, not as a traceback."""
    blocked = tmp_path / "packs.txt"
    blocked.write_text("")
    alexnet_lab.pack.PACKS = blocked / "packs"  # undone by the packs fixture
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--data", str(image_folder), "--out", str(out)]) == 2
    line = error_line(capsys, "train")
    assert f"error: {blocked / 'packs'}: Not a directory; {blocked} is in the way" in line
    assert "(--out)" not in line  # the packs folder is not --out


def test_resume_without_a_checkpoint_is_refused(image_folder, tmp_path, packs, capsys):
    out = tmp_path / "run"
    out.mkdir()
    assert main(["train", *SMALL, "--data", str(image_folder), "--out", str(out), "--resume"]) == 2
    line = error_line(capsys, "train")
    assert f"Nothing to resume: {out} has no {CHECKPOINT}" in line
    assert "drop --resume" in line
    assert not packs.exists() and list(out.iterdir()) == []  # nothing started


def test_evaluate_a_read_only_run_and_unwritable_packs(image_folder, tmp_path, packs, capsys):
    run = tmp_path / "run"
    assert main(["train", *SMALL, "--data", str(image_folder), "--out", str(run)]) == 0
    capsys.readouterr()
    args = ["evaluate", "--checkpoint", str(run), "--data", str(image_folder), "--json"]

    run.chmod(0o500)  # evaluating only reads the run folder
    try:
        assert main(args) == 0
        assert '"top1"' in capsys.readouterr().out
    finally:
        run.chmod(0o700)

    blocked = tmp_path / "packs.txt"
    blocked.write_text("")
    alexnet_lab.pack.PACKS = blocked / "packs"  # undone by the packs fixture
    assert main([*args, "--split", "train"]) == 2  # the train pack of all images is new
    line = error_line(capsys, "evaluate")
    assert str(blocked / "packs") in line and f"{blocked} is in the way" in line


def test_evaluate_a_checkpoint_below_a_file(a_file, image_folder, capsys):
    assert main(["evaluate", "--checkpoint", str(a_file / "run"), "--data", str(image_folder)]) == 2
    assert f"No checkpoint at {a_file / 'run'}" in error_line(capsys, "evaluate")


# Ctrl-C and real bugs ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["layers", "train"])
def test_ctrl_c_during_start_up_exits_130(command, image_folder, tmp_path, packs, capsys):
    """An interrupt 50 ms into the command (Python's own Ctrl-C handler, raised by a timer)."""
    argv = {
        "layers": ["layers"],  # builds a 1000-class AlexNet: over a second
        "train": ["train", *SMALL, "--data", str(image_folder), "--out", str(tmp_path / "run")],
    }[command]
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        try:
            rc = main(argv)
        except KeyboardInterrupt:
            pytest.fail("KeyboardInterrupt escaped main()")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert rc == 130
    err = capsys.readouterr().err
    assert f"alexnet-lab {command}: interrupted" in err and "Traceback" not in err


@pytest.mark.parametrize("bug", [TypeError, RuntimeError, KeyError])
def test_real_bugs_keep_their_traceback(bug, monkeypatch):
    """main() turns bad input into exit 2, but does not swallow every exception."""

    def broken(args):
        raise bug("a bug in a command")

    monkeypatch.setattr(alexnet_lab.cli, "_layers", broken)
    with pytest.raises(bug, match="a bug in a command"):
        main(["layers"])


# where runs/, packs/ and data/ go --------------------------------------------------------


def test_in_the_repository_they_sit_next_to_the_package(tmp_path):
    repo = tmp_path / "repo"
    (repo / "alexnet_lab").mkdir(parents=True)
    (repo / "book").mkdir()
    (repo / "pyproject.toml").write_text("[project]\nname = 'alexnet-lab'\n")
    assert paths.home(repo / "alexnet_lab") == repo
    assert paths.REPO == paths.home(Path(alexnet_lab.__file__).parent)  # this checkout
    assert (paths.RUNS, paths.PACKS, paths.REPO_DATA) == tuple(
        paths.REPO / name for name in ("runs", "packs", "data")
    )


@pytest.mark.parametrize("beside", [[], ["pyproject.toml"], ["book"]])
def test_an_installed_package_uses_the_user_data_dir(beside, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    site = tmp_path / "lib" / "site-packages"
    (site / "alexnet_lab").mkdir(parents=True)
    for name in beside:  # half a repository is not one
        if name == "book":
            (site / name).mkdir()
        else:
            (site / name).write_text("[project]\n")
    home = paths.home(site / "alexnet_lab")
    assert home == Path(platformdirs.user_data_dir("alexnet-lab", appauthor=False))
    if sys.platform.startswith("linux"):
        assert home == tmp_path / "xdg" / "alexnet-lab"


def test_a_copy_in_site_packages_keeps_runs_out_of_it(tmp_path):
    """The package copied as a wheel installs it, imported from there in a fresh Python."""
    site = tmp_path / "site-packages"
    shutil.copytree(
        Path(alexnet_lab.__file__).parent,
        site / "alexnet_lab",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    code = "import alexnet_lab.paths as p; print(p.__file__); print(p.RUNS); print(p.PACKS)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    where, runs, packs = out.stdout.split()
    assert Path(where) == site / "alexnet_lab" / "paths.py"
    expected = Path(platformdirs.user_data_dir("alexnet-lab", appauthor=False))
    if sys.platform.startswith("linux"):
        expected = tmp_path / "xdg" / "alexnet-lab"
    assert (Path(runs), Path(packs)) == (expected / "runs", expected / "packs")
