import re
from pathlib import Path

import pytest
import torch

from alexnet_lab.config import PROFILE_ENV, PROFILES, get_profile


def test_profile_comes_from_argument_then_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "smoke")
    assert get_profile().name == "smoke"
    assert get_profile("cpu").name == "cpu"


def test_unset_profile_follows_the_hardware(monkeypatch):
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    assert get_profile().name == ("gpu" if torch.cuda.is_available() else "cpu")


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "fast")
    with pytest.raises(ValueError, match=f"'fast'.*{PROFILE_ENV}.*smoke, cpu, gpu"):
        get_profile()


def test_profiles_grow_from_smoke_to_gpu():
    smoke, cpu, gpu = (PROFILES[n] for n in ("smoke", "cpu", "gpu"))
    assert smoke.image_size < cpu.image_size <= gpu.image_size == 224
    assert smoke.epochs <= cpu.epochs


def test_gpu_profile_keeps_the_papers_input_and_adds_the_cpu_profiles_changes():
    gpu, cpu = PROFILES["gpu"], PROFILES["cpu"]
    assert (gpu.image_size, gpu.batch_size, gpu.dropout, gpu.epochs) == (224, 128, 0.5, 120)
    changes = ("lr", "schedule", "min_crop_area", "label_smoothing", "warmup_epochs")
    assert [getattr(gpu, f) for f in changes] == [getattr(cpu, f) for f in changes]
    assert (gpu.lr, gpu.schedule, gpu.min_crop_area, gpu.label_smoothing) == (
        0.04,
        "cosine",
        0.35,
        0.1,
    )


def test_the_books_introduction_gives_each_profiles_image_size():
    intro = (Path(__file__).resolve().parents[1] / "book" / "intro.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \|.*\| (\d+) \|$", intro, flags=re.M)
    assert {name: int(size) for name, size in rows} == {
        name: p.image_size for name, p in PROFILES.items()
    }
