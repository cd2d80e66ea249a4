import pytest
import torch
import torchvision
from torch import nn

from alexnet_lab.model import (
    AlexNet,
    LocalResponseNorm,
    TorchvisionAlexNet,
    conv_output_size,
    torchvision_alexnet,
)


@pytest.mark.parametrize("size", [224, 227])
def test_conv1_gives_55_and_pool5_gives_6x6x256(size):
    model = AlexNet().eval()
    x = torch.randn(2, 3, size, size)
    assert model.features.conv1(x).shape == (2, 96, 55, 55)
    assert model.features(x).shape == (2, 256, 6, 6)
    assert model(x).shape == (2, 1000)


def test_224_rounds_up_like_cuda_convnet():
    """A 224 input is zero-padded on the right/bottom only: same as conv on a 227 pad."""
    conv = AlexNet().features.conv1
    x = torch.randn(1, 3, 224, 224)
    padded = nn.functional.pad(x, (0, 3, 0, 3))
    ref = nn.functional.conv2d(padded, conv.weight, conv.bias, stride=4)
    torch.testing.assert_close(conv(x), ref)
    assert conv_output_size(224, 11, 4, ceil=True) == 55
    assert conv_output_size(224, 11, 4) == 54
    assert conv_output_size(227, 11, 4) == 55
    assert conv_output_size(224, 11, 4, padding=2) == 55


def test_two_columns_are_grouped_convolutions():
    f = AlexNet().features
    assert [f.conv1.groups, f.conv2.groups, f.conv3.groups, f.conv4.groups, f.conv5.groups] == [
        1, 2, 1, 2, 2,
    ]  # fmt: skip
    assert f.conv2.weight.shape == (256, 48, 5, 5)
    assert f.conv4.weight.shape == (384, 192, 3, 3)
    assert f.conv5.weight.shape == (256, 192, 3, 3)
    one = AlexNet(two_columns=False).features
    assert one.conv2.weight.shape == (256, 96, 5, 5)


def test_paper_initialization():
    torch.manual_seed(0)
    m = AlexNet()
    for name in ("conv1", "conv3"):
        assert torch.all(getattr(m.features, name).bias == 0)
    for name in ("conv2", "conv4", "conv5"):
        assert torch.all(getattr(m.features, name).bias == 1)
    assert torch.all(m.classifier.fc6.bias == 1) and torch.all(m.classifier.fc7.bias == 1)
    assert torch.all(m.classifier.fc8.bias == 0)
    w = m.classifier.fc6.weight
    assert abs(w.mean().item()) < 1e-4 and w.std().item() == pytest.approx(0.01, rel=0.01)


def test_kaiming_init_has_zero_bias_and_he_scale():
    m = AlexNet(init="kaiming")
    assert torch.all(m.features.conv2.bias == 0)
    w = m.features.conv3.weight  # fan_in 256 * 9
    assert w.std().item() == pytest.approx((2 / (256 * 9)) ** 0.5, rel=0.05)


def test_ablation_switches():
    m = AlexNet(lrn=False, overlap_pool=False, dropout=0.0, two_columns=False, activation="tanh")
    f, c = m.features, m.classifier
    assert isinstance(f.lrn1, nn.Identity) and isinstance(f.lrn2, nn.Identity)
    assert f.pool1.kernel_size == 2 and f.pool1.stride == 2
    assert isinstance(f.act1, nn.Tanh) and isinstance(c.act6, nn.Tanh)
    assert c.drop6.p == 0.0
    assert f.conv4.groups == 1
    assert m(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    # 2/2 pooling gives the same sizes as 3/2 on 55 -> 27 -> 13 -> 6
    assert m.features(torch.randn(1, 3, 224, 224)).shape == (1, 256, 6, 6)
    full = AlexNet()
    assert isinstance(full.features.lrn1, LocalResponseNorm)
    assert isinstance(full.features.act1, nn.ReLU)
    assert full.classifier.drop6.p == 0.5


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="activation"):
        AlexNet(activation="gelu")
    with pytest.raises(ValueError, match="init"):
        AlexNet(init="xavier")


def test_small_inputs_work():
    assert AlexNet(10)(torch.randn(2, 3, 64, 64)).shape == (2, 10)


def test_torchvision_variant_loads_torchvision_weights_one_to_one():
    torch.manual_seed(0)
    ref = torchvision.models.alexnet(weights=None).eval()
    ours = TorchvisionAlexNet().eval()
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict(ref.state_dict(), strict=True)
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))


def test_imagenet_weights_offline_give_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache: forces a download
    try:
        model = torchvision_alexnet(weights="IMAGENET1K_V1")
    except RuntimeError as e:
        msg = str(e)
        assert "IMAGENET1K_V1" in msg and "internet" in msg and "alexnet-owt" in msg
        assert str(tmp_path) in msg  # says where to put the file
    else:  # online: the weights really loaded
        assert sum(p.numel() for p in model.parameters()) == 61_100_840


def test_imagenet_weights_need_1000_classes():
    with pytest.raises(ValueError, match="num_classes=1000"):
        torchvision_alexnet(num_classes=10, weights="IMAGENET1K_V1")


@pytest.mark.parametrize("batch", [8, 50])  # LRN in one piece (as on a GPU), in 3 slices
def test_torch_compile_gives_the_eager_result(batch):
    """``alexnet-lab train --compile``: the compiled net matches eager."""
    torch.manual_seed(0)
    model = AlexNet(10, init="kaiming", dropout=0.0)
    x = torch.randn(batch, 3, 67, 67)  # conv1 maps of 96x15x15: 24 images per LRN slice
    out = model(x)
    out.square().sum().backward()
    eager_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    compiled = torch.compile(model)(x)
    compiled.square().sum().backward()
    torch.testing.assert_close(compiled, out, rtol=1e-4, atol=1e-4)
    for p, g in zip(model.parameters(), eager_grads, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-3, atol=1e-4 * g.abs().max().item())


def test_column_conv_runs_each_column_on_its_half_and_matches_the_grouped_conv():
    from alexnet_lab.model import ColumnConv

    conv = torch.nn.Conv2d(8, 6, kernel_size=3, padding=1, groups=2)
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(ColumnConv(conv)(x), conv(x))
    with pytest.raises(ValueError, match="groups=1"):
        ColumnConv(torch.nn.Conv2d(8, 6, 3))


def test_the_smallest_input_is_64_pixels_as_the_docstring_and_config_say():
    from alexnet_lab.config import get_profile, with_overrides

    net = AlexNet(num_classes=10).eval()
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 64, 64)).shape == (1, 10)
        with pytest.raises(RuntimeError):
            net(torch.zeros(1, 3, 63, 63))
    with pytest.raises(ValueError, match="image_size at least 64"):
        with_overrides(get_profile("smoke"), ["image_size=63"])
