"""The convolution-arithmetic widget: kernel size, stride and padding go in, the output size
comes out, and the windows slide over the padded input.

The widget is plain HTML and JavaScript (``resources/conv_arithmetic.js``) with no external
scripts, so it works in Jupyter and in the static book, without a kernel and offline. Every
output size it shows comes from :mod:`alexnet_lab.analysis.conv_arithmetic`'s tables.
"""

from __future__ import annotations

import json
import uuid
from importlib.resources import files
from typing import NamedTuple

from IPython.display import HTML

from alexnet_lab.analysis.conv_arithmetic import KERNELS, PADDINGS, SIZES, STRIDES, _size_table


class Preset(NamedTuple):
    """A layer setting the widget offers as a button."""

    label: str
    size: int
    kernel: int
    stride: int
    padding: int
    ceil: bool


PRESETS = (
    Preset("conv1, 224 (paper)", 224, 11, 4, 0, False),
    Preset("conv1, 224 rounded up (cuda-convnet)", 224, 11, 4, 0, True),
    Preset("conv1, 227 (Caffe)", 227, 11, 4, 0, False),
    Preset("conv1, 224 padded 2 (torchvision)", 224, 11, 4, 2, False),
    Preset("pool1 3/2 on 55 (overlapping)", 55, 3, 2, 0, False),
    Preset("pool1 2/2 on 55", 55, 2, 2, 0, False),
    Preset("conv2, 27 padded 2", 27, 5, 1, 2, False),
    Preset("small: 7, 3, 2, 1", 7, 3, 2, 1, False),
)


def conv_arithmetic_widget(
    size: int = 224, kernel: int = 11, stride: int = 4, padding: int = 0, ceil: bool = False
) -> HTML:
    """The convolution-arithmetic widget, showing one square layer setting at first.

    Sliders set the input size, kernel size, stride and padding (within ``SIZES``,
    ``KERNELS``, ``STRIDES`` and ``PADDINGS``); ``ceil`` rounds the output size up as
    cuda-convnet does. The page shows the formula with the numbers filled in, the padded
    input with the current window, the output map filling in as the windows slide, and
    a warning when the windows do not tile the padded input.
    """
    for name, value, allowed in (
        ("size", size, SIZES),
        ("kernel", kernel, KERNELS),
        ("stride", stride, STRIDES),
        ("padding", padding, PADDINGS),
    ):
        if value not in allowed:
            raise ValueError(f"{name} must be in {allowed}, got {value}")
    data = {
        "ranges": {
            "size": [SIZES.start, SIZES.stop - 1],
            "kernel": [KERNELS.start, KERNELS.stop - 1],
            "stride": [STRIDES.start, STRIDES.stop - 1],
            "padding": [PADDINGS.start, PADDINGS.stop - 1],
        },
        "floor": _size_table(ceil=False),
        "ceil": _size_table(ceil=True),
        "presets": [p._asdict() for p in PRESETS],
        "start": {"size": size, "kernel": kernel, "stride": stride, "padding": padding},
        "startCeil": ceil,
    }
    table = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    script = files("alexnet_lab.resources").joinpath("conv_arithmetic.js").read_text()
    root = f"conv-arith-{uuid.uuid4().hex[:12]}"
    return HTML(
        f'<div id="{root}" class="conv-arith">\n'
        '<p class="ca-fallback">This widget needs JavaScript. In Jupyter, run the cell '
        "(or trust the notebook) to see it.</p>\n"
        f'<script type="application/json" class="ca-data">{table}</script>\n'
        f"<script>\n(function () {{\n{script}\n"
        # Jupyter can run this before it attaches the output to the page: wait for it.
        "let tries = 0;\nconst start = () => {\n"
        f'  const root = document.getElementById("{root}");\n'
        "  if (root) convArithmetic(root);\n"
        "  else if (++tries < 100) setTimeout(start, 50);\n"
        "};\nstart();\n})();\n</script>\n</div>"
    )
