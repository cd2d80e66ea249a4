import pytest
import torchvision

from alexnet_lab.analysis.layer_table import LayerTable, layer_table
from alexnet_lab.analysis.tables import DisplayTable
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


def test_display_table_text_aligns_columns_and_lists_notes():
    t = DisplayTable(("name", "n"), [("a<b>", 5), ("long name", 1234)], ("x & y",), align="lr")
    assert str(t).splitlines() == [
        "name          n",
        "a<b>          5",
        "long name  1234",  # widest cell + two spaces; "n" right-aligned
        "x & y",
    ]
    assert str(DisplayTable(("a", "b"), [("x", "")])).splitlines() == ["a  b", "x"]  # rstrip
    assert t.rows == (("a<b>", "5"), ("long name", "1234"))  # cells stored as strings


def test_display_table_html_escapes_every_cell_header_and_note():
    t = DisplayTable(("<h>", "n"), [("a<b>", "&")], ("x & y",))
    page = t._repr_html_()
    assert page.startswith("<table><thead><tr><th>&lt;h&gt;</th><th>n</th></tr></thead>")
    assert "<tr><td>a&lt;b&gt;</td><td>&amp;</td></tr>" in page
    assert page.endswith("</table><p><small>x &amp; y</small></p>")
    assert "a<b>" not in page and "<h>" not in page
    assert "<p>" not in DisplayTable(("a",), [("1",)])._repr_html_()  # no notes, no footer


def test_display_table_links_cells_in_html_only():
    t = DisplayTable(("a", "b"), [("x", "y&")], links=[(None, "p.html?a=1&b=2")])
    assert '<td>x</td><td><a href="p.html?a=1&amp;b=2">y&amp;</a></td>' in t._repr_html_()
    assert str(t).splitlines() == ["a  b", "x  y&"]
    with pytest.raises(ValueError, match="one address"):
        DisplayTable(("a", "b"), [("x", "y")], links=[("p.html",)])


def test_display_table_rejects_ragged_rows_and_bad_alignment():
    with pytest.raises(ValueError, match="1 cells, the table 2 columns"):
        DisplayTable(("a", "b"), [("x",)])
    with pytest.raises(ValueError, match="align"):
        DisplayTable(("a", "b"), [], align="lc")


def test_layer_table_renders_through_the_display_table():
    paper = layer_table(AlexNet(), 224)
    picked = LayerTable([paper.row("conv1"), paper.row("act1")])  # as the notebooks do
    assert str(picked).splitlines() == [
        "layer  output    params         MACs  RF",
        "conv1  96x55x55  34,944  105,415,200  11",
        "act1   96x55x55       0            0  11",
        "total            34,944  105,415,200",
    ]
    assert picked._repr_html_() == picked.display_table()._repr_html_()
    assert "<td>34,944</td>" in picked._repr_html_()
