"""torchvision's ImageNet weights: a file planted in the torch hub cache neither runs code nor
passes for the weights. No test here goes on the network (file:// URLs stand in for it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from torchvision.models import AlexNet_Weights

from alexnet_lab.model import (
    TorchvisionAlexNet,
    WeightsError,
    hub_weights_path,
    load_hub_weights,
    torchvision_alexnet,
)

URL = AlexNet_Weights.IMAGENET1K_V1.url  # .../alexnet-owt-7be5be79.pth


class Payload:
    """Unpickling this creates the file ``marker``: code run by loading a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Path:
    """An empty torch hub cache in tmp_path (TORCH_HOME), its checkpoints/ folder made."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    assert hub_weights_path(URL) == folder / "alexnet-owt-7be5be79.pth"
    return folder


def plant_payload(path: Path, marker: Path) -> None:
    torch.save({"features.0.weight": Payload(marker)}, path)


def test_the_payload_would_run_code_if_loaded_unsafely(tmp_path):
    """The planted file of the tests below is live: a plain torch.load runs it."""
    marker, path = tmp_path / "ran", tmp_path / "evil.pth"
    plant_payload(path, marker)
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_a_planted_pickle_in_the_cache_is_refused_unrun(hub, tmp_path):
    marker, path = tmp_path / "ran", hub / "alexnet-owt-7be5be79.pth"
    plant_payload(path, marker)
    with pytest.raises(WeightsError) as e:
        torchvision_alexnet(weights="IMAGENET1K_V1")
    msg = str(e.value)
    assert str(path) in msg and "7be5be79" in msg and "sha256" in msg and "Delete it" in msg
    assert not marker.exists()


def test_a_state_dict_with_the_wrong_hash_is_refused(hub):
    path = hub / "alexnet-owt-7be5be79.pth"
    torch.save(TorchvisionAlexNet(1000).features.state_dict(), path)  # plain tensors only
    assert not sha256(path).startswith("7be5be79")
    with pytest.raises(WeightsError, match="not the file") as e:
        torchvision_alexnet(weights="IMAGENET1K_V1")
    assert str(path) in str(e.value) and sha256(path)[:8] in str(e.value)


def test_a_pickle_with_a_matching_hash_still_does_not_run(hub, tmp_path):
    """Second line of defence: weights_only=True, for a file whose hash matches its name."""
    marker, evil = tmp_path / "ran", tmp_path / "evil.pth"
    plant_payload(evil, marker)
    name = f"evil-{sha256(evil)[:8]}.pth"
    (hub / name).write_bytes(evil.read_bytes())
    with pytest.raises(WeightsError, match="not a plain state dict") as e:
        load_hub_weights(f"https://example.invalid/models/{name}")
    assert str(hub / name) in str(e.value)
    assert not marker.exists()


def test_a_cached_file_with_the_right_hash_loads(hub, tmp_path):
    state = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2)}
    src = tmp_path / "w.pth"
    torch.save(state, src)
    name = f"weights-{sha256(src)[:10]}.pth"
    (hub / name).write_bytes(src.read_bytes())
    loaded = load_hub_weights(f"https://example.invalid/models/{name}")
    assert set(loaded) == {"w", "b"}
    torch.testing.assert_close(loaded["w"], state["w"])


def test_a_url_without_a_hash_is_refused(hub):
    with pytest.raises(WeightsError, match="no sha256 prefix"):
        load_hub_weights("https://example.invalid/models/weights.pth")


def test_downloads_are_hash_checked_and_a_bad_one_is_not_kept(hub, tmp_path):
    served = tmp_path / "server"
    served.mkdir()
    torch.save({"w": torch.ones(3)}, served / "tmp.pth")
    digest = sha256(served / "tmp.pth")
    bad = served / "weights-00000000.pth"
    assert not digest.startswith("00000000")
    (served / "tmp.pth").rename(bad)
    with pytest.raises(WeightsError, match="nothing was saved"):
        load_hub_weights(bad.as_uri(), progress=False)
    assert not hub_weights_path(bad.as_uri()).exists()

    good = served / f"weights-{digest[:8]}.pth"
    bad.rename(good)
    torch.testing.assert_close(load_hub_weights(good.as_uri(), progress=False)["w"], torch.ones(3))
    assert hub_weights_path(good.as_uri()).is_file()  # cached for next time
