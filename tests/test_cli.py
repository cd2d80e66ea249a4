import subprocess
import sys

from alexnet_lab.cli import main


def test_check_data_exit_codes(image_folder, corrupt_folder, capsys):
    assert main(["check-data", str(image_folder / "val")]) == 0
    out = capsys.readouterr().out
    assert "val: 8 images in 2 classes" in out
    assert main(["check-data", str(corrupt_folder)]) == 1
    out = capsys.readouterr().out
    assert "UNREADABLE" in out and "truncated.jpg" in out and "not_an_image.jpg" in out


def test_check_data_wrong_path_is_a_clear_error(tmp_path, capsys):
    assert main(["check-data", str(tmp_path / "missing")]) == 2
    assert "missing is not a folder" in capsys.readouterr().err


def test_console_script_runs_on_real_data(shared_data):
    cmd = [
        sys.executable,
        "-m",
        "alexnet_lab.cli",
        "check-data",
        str(shared_data / "imagenette-224"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "train: 9469 images in 10 classes" in out and "val: 3425 images in 10 classes" in out
    assert "tench" in out and "UNREADABLE" not in out


def test_layers_command_prints_the_table(capsys):
    assert main(["layers", "--model", "torchvision"]) == 0
    assert "61,100,840" in capsys.readouterr().out
