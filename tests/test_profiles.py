import re
from pathlib import Path

import pytest
import torch

from alexnet_lab.config import (
    PROFILE_ENV,
    PROFILES,
    config_diff,
    get_profile,
    variant_name,
    with_overrides,
)


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


def test_overrides_parse_each_fields_type_and_name_the_variant():
    cpu = get_profile("cpu")
    v = with_overrides(cpu, ["lrn=false", "seed=1", "dropout=0.25", "min_crop_area=none"])
    assert (v.lrn, v.seed, v.dropout, v.min_crop_area) == (False, 1, 0.25, None)
    assert variant_name(v) == "dropout=0.25,lrn=false,min_crop_area=none,seed=1"
    assert variant_name(with_overrides(cpu, ["lrn=true"])) == "base"  # the profile's own value
    assert with_overrides(cpu, {"activation": "tanh"}).activation == "tanh"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("lrm=false", "Unknown config field 'lrm'.*lrn, overlap_pool"),
        ("lrn=maybe", "lrn takes true or false"),
        ("seed=one", r"seed takes a number \(int\)"),
        ("activation=sigmoid", "activation must be one of"),
        ("lrn", "--set takes field=value"),
        ("name=gpu", "Unknown config field 'name'"),
        ("epochs=0", "epochs and batch_size must be at least 1"),
    ],
)
def test_bad_overrides_are_clear_errors(item, message):
    with pytest.raises(ValueError, match=message):
        with_overrides(get_profile("smoke"), [item])


def test_config_diff_names_the_fields_that_differ():
    a, b = get_profile("cpu"), with_overrides(get_profile("cpu"), ["lrn=false"])
    assert config_diff(a.recipe(), b.recipe()) == {"lrn": (True, False)}
    assert config_diff(a.recipe(), a.recipe()) == {}


def test_a_cosine_schedule_shorter_than_its_warm_up_is_refused_by_name():
    with pytest.raises(ValueError, match=r"--set epochs=3 or more, or --set warmup_epochs=0"):
        with_overrides(get_profile("cpu"), {"epochs": 2})  # the cpu profile warms up 2 epochs
    assert with_overrides(get_profile("cpu"), {"epochs": 2, "warmup_epochs": 0}).epochs == 2


def test_expected_minutes_scale_with_epochs_and_pixels_and_not_to_another_network():
    cpu = get_profile("cpu")
    assert cpu.expected_minutes() == cpu.minutes
    short = with_overrides(cpu, {"epochs": cpu.epochs // 3, "image_size": cpu.image_size // 2})
    assert short.expected_minutes() == pytest.approx(cpu.minutes / 3 / 4)
    cifar = with_overrides(cpu, {"dataset": "cifar10", "arch": "cifar", "image_size": 28})
    assert cifar.expected_minutes() is None  # the profile's time says nothing about CifarNet
