"""The convolution-arithmetic widget: its window positions against torch, its embedded table
against conv_output_size, and (where Chromium is installed) its JavaScript in a real browser."""

from __future__ import annotations

import html
import json
import random
import re
import shutil
import subprocess

import pytest
import torch
import torch.nn.functional as F

from alexnet_lab.analysis.conv_arithmetic import (
    KERNELS,
    PADDINGS,
    SIZES,
    STRIDES,
    layer_arithmetic,
    window_starts,
)
from alexnet_lab.model import AlexNet, CeilConv2d, TorchvisionAlexNet, conv_output_size
from alexnet_lab.viz.conv_arithmetic import PRESETS, conv_arithmetic_widget

CASES = [
    (n, k, s, p)
    for n in [*range(1, 20), 27, 55, 224, 227]
    for k in range(1, 12)
    for s in range(1, 5)
    for p in range(0, 4)
    if k <= n + 2 * p
]


@pytest.fixture(autouse=True)
def _one_thread():
    """The tensors here are tiny: with several threads, thread start-up dominates."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _brute_force_starts(n: int, k: int, s: int, p: int, ceil: bool) -> list[int]:
    """Slide a window step by step: while the next one fits (floor), or until the last one
    covers the end of the padded input (ceil). The first window always fits here."""
    padded, starts = n + 2 * p, [0]
    if ceil:
        while starts[-1] + k < padded:
            starts.append(starts[-1] + s)
    else:
        while starts[-1] + s + k <= padded:
            starts.append(starts[-1] + s)
    return starts


def _widget_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" class="ca-data">(.*?)</script>', page)
    assert found, "the widget embeds its table as a JSON script"
    return json.loads(found.group(1))


@pytest.mark.parametrize("ceil", [False, True])
def test_window_starts_match_a_brute_force_slide(ceil: bool) -> None:
    for n, k, s, p in CASES:
        expected = _brute_force_starts(n, k, s, p, ceil)
        assert window_starts(n, k, s, p, ceil) == expected, (n, k, s, p)


def test_window_starts_match_torch_convolutions() -> None:
    for n, k, s, p in CASES:
        # Output sizes of real layers with torch's own padding, along the first axis (the
        # second is 1 pixel wide: torch applies the same formula to each axis).
        x = torch.zeros(1, 1, n, 1)
        out = F.conv2d(x, torch.ones(1, 1, k, 1), stride=(s, 1), padding=(p, 0))
        assert out.shape[-2] == len(window_starts(n, k, s, p)), (n, k, s, p)
        if 2 * p <= k:  # torch's pooling limit on padding
            pooled = F.max_pool2d(x, (k, 1), stride=(s, 1), padding=(p, 0))
            assert pooled.shape[-2] == len(window_starts(n, k, s, p)), (n, k, s, p)
        # Positions: on an input that holds its own padded coordinate, a kernel that
        # picks its first element returns where each window starts.
        coords = torch.arange(n + 2 * p, dtype=torch.float64).view(1, 1, -1)
        first = torch.zeros(1, 1, k, dtype=torch.float64)
        first[..., 0] = 1
        starts = F.conv1d(coords, first, stride=s).flatten().long().tolist()
        assert starts == window_starts(n, k, s, p), (n, k, s, p)


def test_rounding_up_matches_the_cuda_convnet_layer() -> None:
    for n, k, s, p in CASES:
        if p == 0:
            conv = CeilConv2d(1, 1, kernel_size=k, stride=s)
            height = conv(torch.zeros(1, 1, n, k)).shape[-2]
            assert height == len(window_starts(n, k, s, ceil=True)), (n, k, s)


def test_alexnet_conv1_numbers() -> None:
    assert window_starts(224, 11, 4)[-1] == 212  # covers 212..222: pixel 223 is never read
    assert window_starts(224, 11, 4, ceil=True)[-1] + 11 == 227  # 3 zeros past 224
    assert len(window_starts(227, 11, 4)) == len(window_starts(224, 11, 4, 2)) == 55


def test_embedded_table_matches_conv_output_size() -> None:
    data = _widget_data(conv_arithmetic_widget().data)
    for ceil, table in ((False, data["floor"]), (True, data["ceil"])):
        for ki, k in enumerate(KERNELS):
            for si, s in enumerate(STRIDES):
                for pi, p in enumerate(PADDINGS):
                    row = table[ki][si][pi]
                    assert len(row) == len(SIZES)
                    for ni, n in enumerate(SIZES):
                        expected = conv_output_size(n, k, s, p, ceil) if k <= n + 2 * p else 0
                        assert row[ni] == expected, (n, k, s, p, ceil)
    assert data["ranges"]["size"] == [SIZES[0], SIZES[-1]]
    assert [tuple(p.values()) for p in data["presets"]] == [tuple(p) for p in PRESETS]


def test_widget_loads_nothing_from_the_network() -> None:
    page = conv_arithmetic_widget().data
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert not re.search(r"\bsrc\s*=", page), "no script or image is loaded from anywhere"
    assert "<link" not in page and "import(" not in page and "fetch(" not in page


def test_widget_rejects_settings_outside_its_table() -> None:
    with pytest.raises(ValueError, match="kernel"):
        conv_arithmetic_widget(224, 13, 4, 0)
    with pytest.raises(ValueError, match="size"):
        conv_arithmetic_widget(228, 11, 4, 0)


def test_widget_script_is_valid_javascript(tmp_path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    page = conv_arithmetic_widget().data
    script = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(script) == 1
    (tmp_path / "widget.js").write_text(script[0])
    subprocess.run([node, "--check", str(tmp_path / "widget.js")], check=True)


# Drives the widget like a reader: moves sliders, types a size, ticks the box, presses the
# presets and Play, and writes what the page shows into <pre id="results">.
_DRIVER = """
<pre id="results"></pre>
<script>
const root = document.querySelector(".conv-arith");
const set = (name, v, kind) => {
  const el = root.querySelector(`input[type=${kind || "range"}][data-param=${name}]`);
  el.value = v;
  el.dispatchEvent(new Event("input"));
};
const shown = () => [
  Number(root.querySelector(".ca-output-caption").dataset.out),
  root.querySelector(".ca-warning").hidden,
];
const results = { initial: shown(), cases: [], presets: [] };
for (const [n, k, s, p, ceil] of CASES) {
  set("size", n, n % 2 ? "number" : "range");
  set("kernel", k); set("stride", s); set("padding", p);
  if (root.querySelector(".ca-ceil").checked !== ceil) root.querySelector(".ca-ceil").click();
  results.cases.push(shown());
}
for (const b of root.querySelectorAll("button[data-preset]")) {
  b.click();
  const values = ["size", "kernel", "stride", "padding"].map(
    (name) => Number(root.querySelector(`input[type=range][data-param=${name}]`).value));
  results.presets.push([...values, root.querySelector(".ca-ceil").checked, ...shown()]);
}
// Jupyter's classic notebook runs an output's scripts before it attaches the output.
const late = document.createElement("div");
late.innerHTML = LATE;
const code = late.querySelector("script:not([type])");
code.remove();
(0, eval)(code.textContent);
document.body.appendChild(late);
root.querySelector("button[data-preset='0']").click();
const last = Number(root.querySelector(".ca-index").max);
root.querySelector(".ca-play").click();
// Play advances on animation frames, which a loaded headless browser may hold back: wait
// (up to 10 s) until the window has moved, rather than a fixed time.
let waited = 0;
const finish = () => {
  const index = Number(root.querySelector(".ca-index").value);
  if (index === 0 && waited < 10000) {
    waited += 100;
    setTimeout(finish, 100);
    return;
  }
  results.playing = [index, last];
  const lateCaption = late.querySelector(".ca-output-caption");  // null if it never ran
  results.late = lateCaption && Number(lateCaption.dataset.out);
  results.errors = window.errors;
  document.getElementById("results").textContent = JSON.stringify(results);
};
setTimeout(finish, 500);
</script>
"""


def test_widget_in_a_headless_browser(tmp_path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    rng = random.Random(0)
    cases = [
        (rng.choice(SIZES), rng.choice(KERNELS), rng.choice(STRIDES), rng.choice(PADDINGS))
        for _ in range(150)
    ]
    cases = [(*c, rng.random() < 0.5) for c in [*cases, (1, 11, 4, 0), (2, 5, 1, 1)]]
    page = tmp_path / "widget.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><script>window.errors = [];'
        "window.addEventListener('error', (e) => window.errors.push(String(e.message)));"
        "</script></head><body>"
        + conv_arithmetic_widget(7, 3, 2, 1).data
        + _DRIVER.replace("CASES", json.dumps(cases)).replace(
            "LATE", json.dumps(conv_arithmetic_widget(27, 5, 1, 2).data).replace("</", "<\\/")
        )
        + "</body></html>"
    )
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'<pre id="results">(.*?)</pre>', dom, flags=re.S)
    assert found and found.group(1), "the driver script wrote no results"
    results = json.loads(html.unescape(found.group(1)))

    def expected(n: int, k: int, s: int, p: int, ceil: bool) -> list:
        if k > n + 2 * p:
            return [0, False]  # no output, and a warning that the kernel does not fit
        floor, up = conv_output_size(n, k, s, p), conv_output_size(n, k, s, p, ceil=True)
        return [up if ceil else floor, floor == up]

    assert results["errors"] == []
    assert results["initial"] == expected(7, 3, 2, 1, False)
    for case, got in zip(cases, results["cases"], strict=True):
        assert got == expected(*case), case
    for preset, got in zip(PRESETS, results["presets"], strict=True):
        assert got == [*preset[1:], *expected(*preset[1:])], preset.label
    assert results["late"] == 27, "a widget attached after its script ran still starts"
    index, last = results["playing"]
    assert last == conv_output_size(224, 11, 4) ** 2 - 1
    assert 0 < index <= last, "Play moves the window along"


@pytest.mark.parametrize(
    "make_model",
    [AlexNet, lambda: AlexNet(overlap_pool=False), TorchvisionAlexNet],
    ids=["paper", "pool 2/2", "torchvision"],
)
def test_layer_arithmetic_matches_the_forward_pass(make_model) -> None:
    features = make_model().features
    layers = [m for m in features if isinstance(m, torch.nn.Conv2d | torch.nn.MaxPool2d)]
    for size in (64, 128, 224, 227):
        shapes: list[torch.Size] = []

        def record(module, inputs, output, shapes=shapes) -> None:
            shapes.append(output.shape)

        hooks = [m.register_forward_hook(record) for m in layers]
        with torch.no_grad():
            features(torch.zeros(1, 3, size, size))
        for h in hooks:
            h.remove()
        steps = layer_arithmetic(features, size)
        assert [(s.output, s.output) for s in steps] == [tuple(x[-2:]) for x in shapes]
        assert [s.size for s in steps] == [size] + [s.output for s in steps[:-1]]
        for s in steps:  # what is left over after the last window is what the formula says
            span = s.size + 2 * s.padding - s.kernel
            assert s.left == (span % s.stride if not s.ceil else -(-span % s.stride))


def test_paper_conv1_is_the_only_inexact_layer_at_224() -> None:
    features = AlexNet().features
    steps = layer_arithmetic(features, 224)
    assert [(s.name, s.left) for s in steps if s.left] == [("conv1", -3)]
    assert "rounded up: 3 zeros added" in str(steps)
    lines = str(steps).splitlines()
    assert lines[0].split() == ["layer", "n", "k", "s", "p", "(n+2p-k)/s", "output", "fit"]
    assert lines[1].split()[:7] == ["conv1", "224", "11", "4", "0", "53.25", "55"]
    assert "<th>(n+2p-k)/s</th>" in steps._repr_html_()
    assert all(s.left == 0 for s in layer_arithmetic(features, 227))
