import torchvision

from alexnet_lab.analysis.layer_table import layer_table
from alexnet_lab.model import AlexNet, TorchvisionAlexNet

# Parameters per layer for the 1000-class paper net (alexnet-facts.md).
PAPER_PARAMS = {
    "conv1": 34_944, "conv2": 307_456, "conv3": 885_120, "conv4": 663_936, "conv5": 442_624,
    "fc6": 37_752_832, "fc7": 16_781_312, "fc8": 4_097_000,
}  # fmt: skip


def test_paper_net_parameters_are_pinned():
    table = layer_table(AlexNet(), 224)
    assert table.params == 60_965_224
    assert {r.name: r.params for r in table if r.params} == PAPER_PARAMS
    assert layer_table(AlexNet(num_classes=10), 224).params == 56_909_194


def test_paper_net_shapes_macs_and_receptive_fields():
    table = layer_table(AlexNet(), 224)
    assert table.row("conv1").output_shape == (96, 55, 55)
    assert table.row("pool5").output_shape == (256, 6, 6)
    assert table.row("fc6").output_shape == (4096,)
    # MACs of a convolution: output positions x (k*k*in_channels/groups) x out_channels
    assert table.row("conv1").macs == 55 * 55 * 11 * 11 * 3 * 96
    assert table.row("conv2").macs == 27 * 27 * 5 * 5 * 48 * 256
    assert table.row("fc6").macs == 9216 * 4096
    assert table.macs == 724_406_816
    conv_macs = sum(r.macs for r in table if r.kind == "conv")
    fc_params = sum(r.params for r in table if r.kind == "fc")
    assert round(100 * conv_macs / table.macs) == 92  # "the conv layers do about 92%"
    assert round(100 * fc_params / table.params) == 96  # "the FC layers hold about 96%"
    rf = {r.name: r.receptive_field for r in table}
    assert (rf["conv1"], rf["pool1"], rf["conv2"], rf["pool2"]) == (11, 19, 51, 67)
    assert (rf["conv3"], rf["conv4"], rf["conv5"], rf["pool5"]) == (99, 131, 163, 195)
    assert rf["fc6"] == 224


def test_torchvision_variant_matches_torchvision():
    ours = layer_table(TorchvisionAlexNet(), 224)
    assert ours.params == 61_100_840
    assert ours.macs == 714_188_480  # torchvision docs: 0.714 GMACs ("GFLOPS")
    assert [r.name for r in ours if r.params] == [*(f"conv{i}" for i in range(1, 6)), "fc6",
                                                  "fc7", "fc8"]  # fmt: skip
    theirs = layer_table(torchvision.models.alexnet(), 224)
    assert [(r.name, r.output_shape, r.params, r.macs) for r in theirs] == [
        (r.name, r.output_shape, r.params, r.macs) for r in ours
    ]


def test_table_prints_every_layer_and_the_total():
    text = str(layer_table(AlexNet(), 224))
    assert "conv1" in text and "60,965,224" in text and "96x55x55" in text
    assert "<table>" in layer_table(AlexNet(), 224)._repr_html_()


def test_layer_table_leaves_the_model_mode_alone():
    model = AlexNet().train()
    layer_table(model, 128)
    assert model.training
