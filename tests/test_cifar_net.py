"""The networks and trainer options of the paper-claims studies: the four-layer CIFAR-10 net
and its locally connected layers, the one-GPU (half-width) AlexNet, and the trainer's
``holdout``, ``augment=False`` and constant learning rate."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from test_train import make_dataset
from torch import nn

from alexnet_lab import augment
from alexnet_lab.config import get_profile, with_overrides
from alexnet_lab.model import AlexNet, CifarNet, LocallyConnected2d, NarrowAlexNet
from alexnet_lab.train import (
    Batches,
    Progress,
    build_model,
    make_scheduler,
    sgd,
    split_holdout,
    train,
    train_one_epoch,
)

SMOKE = get_profile("smoke")
CIFAR = {"arch": "cifar", "image_size": 28, "dataset": "cifar10"}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Parameters of cuda-convnet's layers-conv-local-11pct net, counted by hand from its config
# (weights + biases): conv1 5*5*3*64 + 64, conv2 5*5*64*64 + 64, local3 and local4 one 3x3
# kernel bank and one bias per output position (s*s of them), fc10 from 32*s*s inputs.
def cuda_convnet_params(s: int) -> int:
    conv = (75 * 64 + 64) + (1600 * 64 + 64)
    local = s * s * (576 * 32 + 32) + s * s * (288 * 32 + 32)
    return conv + local + 32 * s * s * 10 + 10


@pytest.mark.parametrize(("size", "side"), [(32, 8), (28, 7), (24, 6)])
def test_cifar_net_shapes_and_parameters_follow_the_cuda_convnet_config(size, side):
    net = CifarNet(10, size).eval()
    x = torch.randn(2, 3, size, size)
    f = net.features
    pooled = f.pool1(f.lrn1(f.act1(f.conv1(x))))
    assert f.conv1(x).shape == (2, 64, size, size)  # 5x5, pad 2
    assert pooled.shape == (2, 64, (size + 1) // 2, (size + 1) // 2)  # 3/2, rounded up
    assert net.features(x).shape == (2, 32, side, side)
    assert net(x).shape == (2, 10)
    assert n_params(net) == cuda_convnet_params(side)
    assert n_params(CifarNet(10, size, lrn=False)) == n_params(net)  # LRN has no weights


def test_cifar_net_options_lrn_activation_and_init():
    net = CifarNet(10, 28, lrn=False, activation="tanh", init="paper")
    assert isinstance(net.features.lrn1, nn.Identity) and isinstance(net.features.act3, nn.Tanh)
    assert net.features.conv1.weight.std().item() == pytest.approx(1e-4, rel=0.1)
    assert net.features.local3.weight.std().item() == pytest.approx(0.04, rel=0.05)
    he = CifarNet(10, 28, init="kaiming").features.conv2.weight
    assert he.std().item() == pytest.approx(2**0.5 / 1600**0.5, rel=0.05)
    assert CifarNet(10, CifarNet.min_size)(torch.randn(1, 3, 6, 6)).shape == (1, 10)
    with pytest.raises(ValueError, match="at least 6"):
        CifarNet(10, 5)
    with pytest.raises(ValueError, match="built for 28x28"):
        CifarNet(10, 28)(torch.randn(1, 3, 32, 32))


def brute_force(layer: LocallyConnected2d, x: torch.Tensor) -> torch.Tensor:
    """The locally connected layer as its definition reads, one product at a time."""
    k, step, s = layer.kernel_size, layer.stride, layer.out_size
    xp = F.pad(x, (layer.padding,) * 4)
    w = layer.weight.view(s, s, k, k, layer.in_channels, layer.out_channels)
    out = torch.zeros(len(x), layer.out_channels, s, s, dtype=x.dtype)
    for i in range(s):
        for j in range(s):
            for u in range(k):
                for v in range(k):
                    for c in range(layer.in_channels):
                        out[:, :, i, j] += (
                            xp[:, c, i * step + u, j * step + v, None] * w[i, j, u, v, c]
                        )
    return out + layer.bias


@pytest.mark.parametrize(("size", "stride", "padding"), [(5, 1, 1), (6, 2, 0), (7, 2, 1)])
def test_locally_connected_layer_equals_a_brute_force_loop(size, stride, padding):
    torch.manual_seed(0)
    layer = LocallyConnected2d(2, 3, size, 3, stride, padding).double()
    nn.init.normal_(layer.bias)
    x = torch.randn(2, 2, size, size, dtype=torch.float64)
    torch.testing.assert_close(layer(x), brute_force(layer, x))


def test_locally_connected_layer_with_one_kernel_everywhere_is_a_convolution():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 5, 3, padding=1).double()
    layer = LocallyConnected2d(4, 5, 6, 3, padding=1).double()
    with torch.no_grad():  # (out, c, u, v) -> (u, v, c) x out at each of the 36 positions
        layer.weight.copy_(conv.weight.permute(2, 3, 1, 0).reshape(1, 36, 5).expand(36, 36, 5))
        layer.bias.copy_(conv.bias[:, None, None].expand(5, 6, 6))
    x = torch.randn(3, 4, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(layer(x), conv(x))
    x.requires_grad_(True)
    layer(x).square().sum().backward()  # and autograd runs through it
    assert x.grad.shape == x.shape and layer.weight.grad.abs().sum() > 0


def test_one_gpu_net_halves_conv1_to_conv4_and_keeps_conv5_and_the_fc_layers():
    net = NarrowAlexNet(10, width=0.5, two_columns=False)
    f = net.features
    assert [f.conv1.out_channels, f.conv2.out_channels, f.conv3.out_channels,
            f.conv4.out_channels, f.conv5.out_channels] == [48, 128, 192, 192, 256]  # fmt: skip
    assert {f.conv2.groups, f.conv4.groups, f.conv5.groups} == {1}
    assert net.classifier.fc6.in_features == 9216 and net.classifier.fc7.out_features == 4096
    # 56,909,194 for the two-column net with 10 classes (alexnet-facts.md); the one-GPU net
    # loses 1,166,912 of them in conv1-conv4, "approximately the same number" as the paper says.
    assert n_params(AlexNet(10)) == 56_909_194
    assert n_params(net) == 55_742_282
    assert net(torch.randn(1, 3, 64, 64)).shape == (1, 10)
    assert f.conv2.bias.abs().max() == 1.0  # the paper's init (biases 1) applies to new layers


def test_config_picks_the_network_and_its_smallest_input():
    cifar = with_overrides(SMOKE, CIFAR)
    assert isinstance(build_model(cifar, 10), CifarNet)
    assert build_model(cifar, 10).image_size == 28
    half = with_overrides(SMOKE, {"width": 0.5, "two_columns": False})
    assert type(build_model(half, 10)) is NarrowAlexNet
    assert type(build_model(SMOKE, 10)) is AlexNet
    with pytest.raises(ValueError, match="image_size at least 64"):
        with_overrides(SMOKE, {"image_size": 28})  # AlexNet
    with pytest.raises(ValueError, match="image_size at least 6"):
        with_overrides(SMOKE, {**CIFAR, "image_size": 5})
    with pytest.raises(ValueError, match="arch must be one of"):
        with_overrides(SMOKE, {"arch": "vgg"})
    with pytest.raises(ValueError, match="width must be positive"):
        with_overrides(SMOKE, {"width": 0})
    with pytest.raises(ValueError, match="two_devices"):
        build_model(with_overrides(cifar, {"two_devices": "cpu,cpu"}), 10)


def test_constant_schedule_keeps_the_learning_rate():
    opt = sgd(nn.Linear(2, 2), 0.05)
    sched = make_scheduler(opt, with_overrides(SMOKE, {"schedule": "constant"}), steps=10)
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.05


def test_split_holdout_takes_the_last_images_of_each_class():
    images = torch.arange(12, dtype=torch.uint8).view(12, 1, 1, 1).expand(12, 3, 4, 4).clone()
    pack = {"images": images, "labels": torch.tensor([0] * 5 + [1] * 7), "classes": ["a", "b"]}
    rest, held = split_holdout(pack, 2)
    assert held["images"][:, 0, 0, 0].tolist() == [3, 4, 10, 11]
    assert rest["labels"].tolist() == [0, 0, 0, 1, 1, 1, 1, 1] and held["classes"] == ["a", "b"]
    assert rest["mean"] == pytest.approx([(0 + 1 + 2 + 5 + 6 + 7 + 8 + 9) / 8 / 255] * 3)
    with pytest.raises(ValueError, match="class 'a', which has 5"):
        split_holdout(pack, 5)


def test_without_augmentation_the_net_sees_the_centre_crops_unflipped():
    seen = []
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    net.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    images = torch.randint(0, 256, (8, 3, 10, 10), dtype=torch.uint8)
    stats = {"mean": torch.zeros(3), "std": torch.ones(3), "eigvals": torch.ones(3),
             "eigvecs": torch.eye(3)}  # fmt: skip
    config = dataclasses.replace(SMOKE, arch="cifar", image_size=8, batch_size=8, pca_colour=False,
                                 augment=False)  # fmt: skip
    progress = Progress()
    opt = sgd(net, 0.0)
    batches = Batches(images, torch.zeros(8, dtype=torch.long), stats)
    gen = torch.Generator().manual_seed(0)
    train_one_epoch(net, opt, None, batches, config, progress, gen, amp=False)
    expected = augment.normalize(augment.centre_crop(images[progress.order], 8), stats)
    torch.testing.assert_close(seen[0], expected)


@pytest.fixture(scope="module")
def cifar_like(tmp_path_factory) -> Path:
    """32x32 images in train/ and test/ (no val/, as CIFAR-10), and a test/ image that cannot
    be read: a run that never opens the test split still trains."""
    root = make_dataset(tmp_path_factory.mktemp("data") / "cifar-like", train=6, side=32)
    shutil.move(root / "val", root / "test")
    (root / "test" / "c0" / "broken.jpg").write_text("not an image")
    return root


def test_holdout_trains_and_evaluates_on_the_training_split_only(cifar_like, tmp_path):
    config = with_overrides(SMOKE, {**CIFAR, "holdout": 2, "epochs": 1, "batch_size": 4})
    history = train(config, tmp_path / "run", cifar_like, packs=tmp_path / "packs")
    assert len(history) == 1
    names = sorted(p.name for p in (tmp_path / "packs").iterdir())
    assert len(names) == 1 and names[0].startswith("cifar-like_train_32px_")  # 28 * 256 / 224
    with pytest.raises(OSError, match="broken.jpg"):  # without holdout it reads test/
        train(dataclasses.replace(config, holdout=0), tmp_path / "r2", cifar_like,
              packs=tmp_path / "packs")  # fmt: skip
