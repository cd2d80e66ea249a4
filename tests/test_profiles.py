import pytest
import torch

from alexnet_lab.profiles import PROFILE_ENV, PROFILES, get_profile


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


def test_gpu_profile_is_the_papers_recipe():
    gpu = PROFILES["gpu"]
    assert (gpu.lr, gpu.schedule, gpu.batch_size, gpu.epochs, gpu.dropout) == (
        0.01,
        "plateau",
        128,
        90,
        0.5,
    )
    assert (gpu.min_crop_area, gpu.label_smoothing, gpu.warmup_epochs) == (None, 0.0, 0)
