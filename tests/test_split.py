"""The two-device AlexNet: the same net as the grouped one, crossing where the paper crosses.

Both columns run on the CPU here (devices ("cpu", "cpu")); float64 makes the comparisons
with the grouped model tight.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_train import PROFILE, make_dataset
from torch import nn

from alexnet_lab.analysis.hooks import activations
from alexnet_lab.checkpoint import load_checkpoint
from alexnet_lab.config import get_profile, with_overrides
from alexnet_lab.model import AlexNet, LocalResponseNorm
from alexnet_lab.split import (
    CROSSINGS,
    PARTS,
    TwoDeviceAlexNet,
    fc8_split,
    parse_devices,
    to_grouped,
    to_two_devices,
)
from alexnet_lab.train import build_model, sgd, train, train_step

WEIGHTED = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")


class ColumnLRN(nn.Module):
    """The paper's LRN within each column: the model's LRN on each half of the maps."""

    def __init__(self) -> None:
        super().__init__()
        self.lrn = LocalResponseNorm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.lrn(h) for h in x.chunk(2, 1)], 1)


def paper_grouped(lrn: bool = True, **options) -> AlexNet:
    """A float64 grouped AlexNet (7 classes, so fc8 splits 4 + 3) whose LRN, like the paper's
    columns, normalizes each column's maps on their own."""
    model = AlexNet(7, lrn=lrn, init="kaiming", **options).double()
    if lrn:
        model.features.lrn1, model.features.lrn2 = ColumnLRN(), ColumnLRN()
    return model


def split_grads(model: TwoDeviceAlexNet) -> dict[str, torch.Tensor]:
    """The columns' gradients put together in the grouped model's layout."""
    return {
        f"{name}.{part}": torch.cat([getattr(getattr(c, name), part).grad for c in model.columns])
        for name in WEIGHTED
        for part in ("weight", "bias")
    }


def grouped_grads(model: AlexNet) -> dict[str, torch.Tensor]:
    layers = {**dict(model.features.named_children()), **dict(model.classifier.named_children())}
    return {
        f"{name}.{part}": getattr(layers[name], part).grad
        for name in WEIGHTED
        for part in ("weight", "bias")
    }


@pytest.mark.parametrize(
    "options",
    [{"lrn": True}, {"lrn": False, "activation": "tanh", "overlap_pool": False}],
    ids=["paper", "tanh-no-lrn-2x2-pool"],
)
def test_outputs_and_gradients_equal_the_grouped_model(options):
    torch.manual_seed(0)
    grouped = paper_grouped(**options).eval()
    split = to_two_devices(grouped, ("cpu", "cpu"))
    assert isinstance(split.columns[0].lrn1, LocalResponseNorm if options["lrn"] else nn.Identity)
    assert [c.fc8.out_features for c in split.columns] == [4, 3] == list(fc8_split(7))
    x = 30 * torch.randn(2, 3, 67, 67, dtype=torch.float64)  # 67: conv1 rounds up
    y = torch.tensor([1, 6])
    out_g, out_s = grouped(x), split(x)
    torch.testing.assert_close(out_s, out_g, rtol=1e-12, atol=1e-12)
    nn.functional.cross_entropy(out_g, y).backward()
    nn.functional.cross_entropy(out_s, y).backward()
    got, want = split_grads(split), grouped_grads(grouped)
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-10, atol=1e-12, msg=name)
    assert want["conv1.weight"].abs().sum() > 0 and want["fc8.bias"].abs().sum() > 0


def test_grouped_lrn_reads_across_the_column_edge_and_the_split_does_not():
    """model.AlexNet's LRN sums over all 96 maps, so maps 46-49 see the other column; the
    split model's does not (as in the paper). Everywhere else the two agree."""
    torch.manual_seed(1)
    grouped = AlexNet(7, init="kaiming").double()
    split = to_two_devices(grouped)
    x = 30 * torch.randn(1, 3, 64, 64, dtype=torch.float64)
    want = activations(grouped, x, ["features.lrn1"])["features.lrn1"]
    halves = activations(split, x, ["columns.0.lrn1", "columns.1.lrn1"])
    got = torch.cat(list(halves.values()), 1)
    edge = list(range(46, 50))
    rest = [c for c in range(96) if c not in edge]
    torch.testing.assert_close(got[:, rest], want[:, rest], rtol=1e-12, atol=1e-12)
    differ = (got[:, edge] - want[:, edge]).abs().amax(dim=(0, 2, 3))
    assert (differ > 1e-9).all(), differ


def test_round_trips_are_exact_and_the_split_starts_as_alexnet_does():
    torch.manual_seed(2)
    grouped = AlexNet(7)
    back = to_grouped(to_two_devices(grouped))
    assert back.state_dict().keys() == grouped.state_dict().keys()
    for k, v in grouped.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    split = TwoDeviceAlexNet(7, "cpu,cpu", init="kaiming")
    again = to_two_devices(to_grouped(split))
    for k, v in split.state_dict().items():
        assert torch.equal(again.state_dict()[k], v), k
    # Under the same seed the split model is initialized as the grouped one (it splits one).
    torch.manual_seed(3)
    a = AlexNet(7, dropout=0.3)
    torch.manual_seed(3)
    b = TwoDeviceAlexNet(7, dropout=0.3)
    for k, v in to_grouped(b).state_dict().items():
        assert torch.equal(a.state_dict()[k], v), k
    with pytest.raises(ValueError, match="one-column"):
        to_two_devices(AlexNet(7, two_columns=False))


def test_one_sgd_step_gives_the_same_weights():
    torch.manual_seed(4)
    grouped = paper_grouped(dropout=0.0).train()  # dropout draws its masks per column
    split = to_two_devices(grouped)
    x = 30 * torch.randn(4, 3, 64, 64, dtype=torch.float64)
    y = torch.tensor([0, 3, 5, 6])
    sums = [
        train_step(net, sgd(net, lr=0.01), x, y, amp=False, label_smoothing=0.1)
        for net in (grouped, split)
    ]
    torch.testing.assert_close(sums[0], sums[1], rtol=1e-6, atol=1e-6)
    stepped = to_grouped(split)
    for k, v in grouped.state_dict().items():
        torch.testing.assert_close(stepped.state_dict()[k], v, rtol=1e-10, atol=1e-12, msg=k)


def test_bf16_autocast_reaches_both_columns_and_channels_last_keeps_devices():
    torch.manual_seed(5)
    split = TwoDeviceAlexNet(7, ("cpu", "cpu"), dropout=0.0)
    split = split.to(memory_format=torch.channels_last)
    assert [c.conv1.weight.device.type for c in split.columns] == ["cpu", "cpu"]
    assert split.columns[1].conv3.weight.is_contiguous(memory_format=torch.channels_last)
    dtypes = []
    hook = split.columns[1].fc6.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    x = torch.randn(2, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        split(x)
    hook.remove()
    assert dtypes == [torch.bfloat16]
    sums = train_step(split, sgd(split, lr=0.01), x, torch.tensor([0, 6]), amp=True)
    assert torch.isfinite(sums).all()


def test_the_columns_exchange_only_at_conv3_fc6_fc7_and_fc8():
    torch.manual_seed(6)
    model = TwoDeviceAlexNet(7, init="kaiming").double().eval()
    calls = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: calls.append((n, i)))
             for n, m in model.exchange.items()]  # fmt: skip
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    model(x)
    for h in hooks:
        h.remove()
    assert [n for n, _ in calls] == list(CROSSINGS) == ["conv3", "fc6", "fc7", "fc8"]
    # What is exchanged is each column's own last output before the crossing.
    assert [tuple(i[0].shape[1:]) for _, i in calls] == [(128, 3, 3), (4608,), (2048,), (2048,)]

    # Change a layer of column 2: column 1 sees it first at the next crossing, not before.
    order = [n for part in PARTS.values() for n in part]
    names = [f"columns.0.{n}" for n in order]
    before = activations(model, x, names)
    for layer, crossing in (("conv1", "conv3"), ("conv2", "conv3"), ("conv3", "fc6"),
                            ("conv5", "fc6"), ("fc6", "fc7"), ("fc7", "fc8")):  # fmt: skip
        weight = getattr(model.columns[1], layer).weight
        kept = weight.detach().clone()
        with torch.no_grad():
            weight.mul_(1.5)
        after = activations(model, x, names)
        with torch.no_grad():
            weight.copy_(kept)
        first = order.index(crossing)
        for name in names[:first]:
            assert torch.equal(after[name], before[name]), (layer, name)
        assert not torch.allclose(after[names[first]], before[names[first]]), layer


def test_devices_and_the_config_field():
    assert parse_devices("cuda:0, cpu") == (torch.device("cuda:0"), torch.device("cpu"))
    with pytest.raises(ValueError, match="two devices"):
        parse_devices("cpu")
    with pytest.raises(ValueError, match="not a torch device"):
        parse_devices("cpu,gpu7")
    smoke = get_profile("smoke")
    assert with_overrides(smoke, ["two_devices=cpu,cpu"]).two_devices == "cpu,cpu"
    assert with_overrides(smoke, ["two_devices=none"]).two_devices is None
    assert isinstance(build_model(smoke, 3), AlexNet)
    config = with_overrides(smoke, ["two_devices=cpu,cpu"])
    assert isinstance(build_model(config, 3), TwoDeviceAlexNet)
    with pytest.raises(ValueError, match="two_columns"):
        build_model(dataclasses.replace(config, two_columns=False), 3)


def test_the_trainer_trains_the_split_model_to_the_grouped_models_weights(tmp_path):
    """``--set two_devices=cpu,cpu`` trains the same weights as the grouped model (no LRN, whose
    column edge differs, and no dropout, whose masks are drawn per column), in float32."""
    data = make_dataset(tmp_path / "colours")
    base = with_overrides(dataclasses.replace(PROFILE, epochs=1), ["lrn=false", "dropout=0"])
    runs = {}
    split_config = with_overrides(base, ["two_devices=cpu,cpu"])
    for name, config in (("grouped", base), ("split", split_config)):
        history = train(config, tmp_path / name, data, packs=tmp_path / "packs", bf16=False)
        assert len(history) == 1 and history[0]["train_loss"] > 0
        runs[name] = load_checkpoint(tmp_path / name / "checkpoint.pt")
    assert "two_devices=cpu,cpu" in runs["split"]["variant"]
    split = TwoDeviceAlexNet(3, lrn=False, dropout=0.0)
    split.load_state_dict(runs["split"]["model"])
    grouped = to_grouped(split).state_dict()
    for k, v in runs["grouped"]["model"].items():
        torch.testing.assert_close(grouped[k], v, rtol=1e-4, atol=1e-6, msg=k)
    a, b = runs["grouped"]["history"][0], runs["split"]["history"][0]
    assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
