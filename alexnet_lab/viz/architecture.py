"""The paper's Figure 2, redrawn from a model's own modules: the columns, where they
exchange data, and the shape of every layer's output."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from torch import nn

from alexnet_lab.analysis.layer_table import Layer, layer_table
from alexnet_lab.viz.style import (
    BLUE,
    DARK_GREY,
    GREEN,
    GREY,
    LIGHT_GREY,
    ORANGE,
    PURPLE,
    RED,
    axes_or_new,
    finish,
)

# One colour per column (the paper's two GPUs), drawn light; the colours of the connections.
COLUMN_COLOURS = (BLUE, ORANGE, GREEN, PURPLE)
WITHIN_COLOUR, EXCHANGE_COLOUR = GREY, RED

# Layout in data units: one stage per unit across, one column per unit down.
_BOX_W, _BOX_H, _ROW_GAP = 0.5, 0.62, 1.0
_AFTER_NAMES = {"lrn": "LRN", "pool": "max-pool", "avgpool": "avg-pool", "drop": "dropout"}


@dataclass
class _Stage:
    """One box position across the figure: the input image or a conv / fc layer."""

    name: str
    detail: str  # kernel size and stride for a convolution
    channels: int  # output channels (convolution) or units (fully connected)
    unit: str  # "kernels", "units" or "image"
    own_column: bool  # reads only its own column of the previous stage
    shape: tuple[int, ...]  # output shape of the layer
    after: list[tuple[str, tuple[int, ...]]]  # LRN, pooling, dropout after it, each with its output
    after_shape: tuple[int, ...]  # the shape that reaches the next stage


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _after_lines(stage: _Stage) -> list[str]:
    """What follows a layer, e.g. ["LRN, max-pool", "→ 27x27"]: each change of shape ends a
    group of operations with the new shape (only its spatial size when the channels stay)."""
    lines, words, shape = [], [], stage.shape
    for word, out in stage.after:
        words.append(word)
        if out != shape:
            same = len(out) == len(shape) == 3 and out[0] == shape[0]
            arrow = f"→ {_shape(out[1:] if same else out)}"
            line = f"{', '.join(words)} {arrow}"
            lines += [line] if len(line) <= 15 else [", ".join(words), arrow]
            words, shape = [], out
    return lines + ([", ".join(words)] if words else [])


def _leaves(model: nn.Module) -> list[nn.Module]:
    """The leaf modules of ``features``, ``avgpool`` and ``classifier``, in forward order."""
    parts = [getattr(model, name, None) for name in ("features", "avgpool", "classifier")]
    if parts[0] is None or parts[2] is None:
        raise ValueError("plot_architecture needs a model with .features and .classifier")
    return [
        m for part in parts if part is not None for m in part.modules() if not list(m.children())
    ]


def _stages(model: nn.Module, input_size: int) -> tuple[list[_Stage], int]:
    """The stages of ``model`` and its number of columns (the largest ``groups`` of a conv)."""
    table = layer_table(model, input_size)
    leaves = _leaves(model)
    if len(leaves) != len(table):
        raise ValueError(
            f"{len(table)} layers ran but features/avgpool/classifier hold {len(leaves)}"
        )
    columns = max([m.groups for m in leaves if isinstance(m, nn.Conv2d)], default=1)
    first = next(m for m in leaves if isinstance(m, (nn.Conv2d, nn.Linear)))
    in_channels = first.in_channels if isinstance(first, nn.Conv2d) else first.in_features
    image = (in_channels, input_size, input_size)
    stages = [_Stage("input", "", in_channels, "image", False, image, [], image)]
    for row, m in zip(table, leaves, strict=True):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            stages.append(_learned_stage(row, m, columns))
            continue
        last = stages[-1]
        word = _AFTER_NAMES.get(row.kind)
        p = getattr(m, "p", None)
        shape_changes = row.output_shape != last.after_shape
        if word and (p is None or p > 0) and (row.kind != "avgpool" or shape_changes):
            last.after.append((word, row.output_shape))
        last.after_shape = row.output_shape
    return stages, columns


def _learned_stage(row: Layer, m: nn.Module, columns: int) -> _Stage:
    if isinstance(m, nn.Conv2d):
        k, s = m.kernel_size, m.stride
        detail = f"{k[0]}x{k[1]}" + (f", stride {s[0]}" if s[0] != 1 else "")
        own = columns > 1 and m.groups % columns == 0
        shape = row.output_shape
        return _Stage(row.name, detail, m.out_channels, "kernels", own, shape, [], shape)
    shape = row.output_shape
    return _Stage(row.name, "", m.out_features, "units", False, shape, [], shape)


def plot_architecture(model: nn.Module, input_size: int = 224, ax: Axes | None = None) -> Figure:
    """Draw ``model`` the way the paper's Figure 2 draws AlexNet, from its own modules.

    One box per column and layer, labelled with the layer's share of kernels (or units) in
    that column; a layer whose size does not split evenly, and the input image, get one box
    across all columns. Grey arrows carry data within a column; red arrows mark where the
    columns exchange data (a convolution with ``groups=1`` or a fully connected layer after a
    grouped part). Under each layer: its output shape (from
    :func:`~alexnet_lab.analysis.layer_table.layer_table`) and the LRN, pooling or dropout
    that follow it, with the shape that reaches the next layer.

    The number of columns is the largest ``groups`` of the model's convolutions: 2 for
    ``AlexNet()``, 1 for ``AlexNet(two_columns=False)`` or ``TorchvisionAlexNet``.

    Args:
        model: a network with ``.features`` and ``.classifier`` (and optionally
            ``.avgpool``), such as :class:`~alexnet_lab.model.AlexNet`.
        input_size: side of the square input image.
        ax: the axes to draw into; a new figure if None.

    Exchange arrows carry ``gid="exchange"``, within-column ones ``gid="within"`` and those
    from the input image ``gid="input"``.
    """
    stages, columns = _stages(model, input_size)
    top = (columns - 1) * _ROW_GAP
    y_lo, y_hi = -_BOX_H / 2 - 0.75, top + _BOX_H / 2 + 0.55
    size = (max(6.0, 1.1 * len(stages)), 0.95 * (y_hi - y_lo) + 0.5)
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=size)
    rows = [top - c * _ROW_GAP for c in range(columns)]  # column 1 on top

    def boxes(stage: _Stage) -> list[tuple[float, float, int, int | None]]:
        """(y centre, height, count, column or None for a box across all columns)."""
        if stage.unit != "image" and stage.channels % columns == 0:
            return [(y, _BOX_H, stage.channels // columns, c) for c, y in enumerate(rows)]
        return [(top / 2, top + _BOX_H, stage.channels, None)]

    drawn = [boxes(s) for s in stages]
    for x, (stage, parts) in enumerate(zip(stages, drawn, strict=True)):
        for y, h, count, column in parts:
            shared = column is None or columns == 1
            colour = LIGHT_GREY if shared else COLUMN_COLOURS[column % len(COLUMN_COLOURS)]
            ax.add_patch(
                FancyBboxPatch(
                    (x - _BOX_W / 2, y - h / 2),
                    _BOX_W,
                    h,
                    boxstyle="round,pad=0,rounding_size=0.05",
                    facecolor=(*to_rgb(colour), 0.35),
                    edgecolor=DARK_GREY,
                    lw=0.8,
                )
            )
            label = "image" if stage.unit == "image" else f"{count}\n{stage.unit}"
            ax.text(x, y, label, ha="center", va="center", fontsize=8.5)
        head = stage.name if not stage.detail else f"{stage.name}\n{stage.detail}"
        ax.text(x, top + _BOX_H / 2 + 0.08, head, ha="center", va="bottom", fontsize=9)
        foot = [_shape(stage.shape), *_after_lines(stage)]
        ax.text(x, -_BOX_H / 2 - 0.08, "\n".join(foot), ha="center", va="top", fontsize=8)

    for x in range(1, len(stages)):
        stage = stages[x]
        for y0, _, _, c0 in drawn[x - 1]:
            for y1, _, _, c1 in drawn[x]:
                if c0 is None:
                    kind = "input"
                elif c1 is not None and c0 == c1:
                    kind = "within"
                elif stage.own_column:
                    continue  # a grouped layer does not read the other columns
                else:
                    kind = "exchange"
                arrow = FancyArrowPatch(
                    (x - 1 + _BOX_W / 2, y0),
                    (x - _BOX_W / 2, y1),
                    arrowstyle="-|>",
                    mutation_scale=8,
                    lw=1.3 if kind == "exchange" else 1.0,
                    color=EXCHANGE_COLOUR if kind == "exchange" else WITHIN_COLOUR,
                    shrinkA=1,
                    shrinkB=1,
                )
                arrow.set_gid(kind)
                ax.add_patch(arrow)

    ax.set(xlim=(-0.55, len(stages) - 0.45), ylim=(y_lo, y_hi))
    ax.set_axis_off()
    word = {1: "one column", 2: "two columns"}.get(columns, f"{columns} columns")
    ax.set_title(f"{type(model).__name__}: {word}, {input_size}x{input_size} input", fontsize=10)
    flow = "data stays in its column" if columns > 1 else "data flow"
    handles = [Line2D([], [], color=WITHIN_COLOUR, lw=1, label=flow)]
    if columns > 1:
        handles = [
            *(
                Patch(
                    fc=(*to_rgb(COLUMN_COLOURS[c % len(COLUMN_COLOURS)]), 0.35),
                    ec=DARK_GREY,
                    label=f"column {c + 1} (GPU {c + 1})",
                )
                for c in range(columns)
            ),
            *handles,
            Line2D([], [], color=EXCHANGE_COLOUR, lw=1.3, label="columns exchange data"),
        ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=len(handles),
        frameon=False,
        fontsize=8,
    )
    return finish(fig, new)
