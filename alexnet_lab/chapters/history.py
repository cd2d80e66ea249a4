"""Data and figures for the history chapters: ILSVRC results, the paper's tables, ImageNet.

Every number comes from a CSV file in ``data/`` whose rows each name their source; lines
starting with ``#`` at the top of a file are notes shown under the table. [P] is
Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional Neural
Networks", NIPS 2012.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torchvision.transforms.functional import to_tensor

from alexnet_lab.analysis.tables import DisplayTable, ShownAsTable
from alexnet_lab.chapters.hog import cell_histograms, hog_glyph, image_gradients
from alexnet_lab.classes import IMAGENETTE_WNIDS, class_name
from alexnet_lab.data import IMAGE_EXTENSIONS, REPO_DATA, DataNotFoundError, load_rgb
from alexnet_lab.viz.style import (
    APPROACH_COLOURS,
    BLUE,
    GREEN,
    GREY,
    HIGHLIGHT,
    RED,
    AxesArg,
    axes_or_new,
    finish,
    to_image,
)

# The CSV files in data/, by name: see data/README.md.
TABLES = (
    "ilsvrc_winners",
    "paper_table1",
    "paper_table2",
    "imagenet_scale",
    "paper_facts",
    "successors",
)
# How many ImageNet sample images the ImageNet chapter shows, per profile.
SAMPLE_GRID_SIZE = {"smoke": 8, "cpu": 24, "gpu": 32}

Value = int | float | str | None


def _parse(text: str) -> Value:
    text = text.strip()
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _show(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and value >= 10_000:  # a count, not a year
        return f"{value:,}"
    return str(value)


def _label(column: str) -> str:
    return column.replace("top1", "top-1").replace("top5", "top-5").replace("_", " ")


@dataclass(frozen=True, repr=False)
class Table(ShownAsTable):
    """The rows of one CSV file in ``data/``; prints as a table, and as HTML in Jupyter.

    ``rows`` are dicts from column name to value (int, float, str, or None where the cell
    is empty), each with its ``source``. ``columns`` lists the columns shown (all but
    ``source``); ``notes`` are the file's ``#`` lines. Sources are listed under the table.
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Value], ...]
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, key: Value) -> dict[str, Value]:
        """The first row whose first column equals ``key`` (for example a model name)."""
        for r in self.rows:
            if r[self.columns[0]] == key:
                return r
        keys = [r[self.columns[0]] for r in self.rows]
        raise KeyError(f"{self.name}: no row {key!r}; the {self.columns[0]}s are {keys}")

    def value(self, key: Value, column: str) -> Value:
        """The cell in row ``key`` (see :meth:`row`) and column ``column``."""
        return self.row(key)[column]

    def column(self, column: str) -> list[Value]:
        """All values of one column, in row order."""
        return [r[column] for r in self.rows]

    def where(self, keep: Callable[[dict[str, Value]], bool]) -> Table:
        """The same table with only the rows for which ``keep(row)`` is true."""
        return replace(self, rows=tuple(r for r in self.rows if keep(r)))

    @property
    def sources(self) -> list[str]:
        """The distinct sources of the rows, in order of first appearance."""
        return list(dict.fromkeys(str(r["source"]) for r in self.rows))

    def display_table(self) -> DisplayTable:
        """The shown columns as text cells; the notes, then one "Source:" line per source."""
        return DisplayTable(
            [_label(c) for c in self.columns],
            [[_show(r[c]) for c in self.columns] for r in self.rows],
            [*self.notes, *(f"Source: {s}" for s in self.sources)],
        )

    def __repr__(self) -> str:
        return str(self)


def load_table(name: str) -> Table:
    """Read ``data/<name>.csv`` (``name`` is one of :data:`TABLES`).

    Raises:
        ValueError: a row has no source.
    """
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; the tables are {', '.join(TABLES)}")
    lines = (REPO_DATA / f"{name}.csv").read_text().splitlines()
    notes = tuple(line.lstrip("# ") for line in lines if line.startswith("#"))
    reader = csv.DictReader(line for line in lines if not line.startswith("#"))
    rows = tuple({k: _parse(v) for k, v in r.items()} for r in reader)
    for r in rows:
        if not r.get("source"):
            raise ValueError(f"data/{name}.csv: row {r} has no source")
    columns = tuple(c for c in reader.fieldnames or () if c != "source")
    return Table(name, columns, rows, notes)


def top5_error(winners: Table, year: int, placing: str = "winner") -> float:
    """Top-5 error (%) of the ``ilsvrc_winners`` entry with this year and placing."""
    rows = winners.where(lambda r: r["year"] == year and r["placing"] == placing).rows
    if not rows:
        raise KeyError(f"no {placing!r} in {year} in {winners.name}")
    return float(rows[0]["top5_error"])


def plot_ilsvrc_winners(winners: Table, ax: AxesArg = None) -> Figure:
    """ILSVRC top-5 error by year: winners as bars, runners-up as dots, the 2012 gap
    marked, and the human estimate as a dashed line. ``ax``: one Axes to draw on."""
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(9, 4.2))
    for r in winners.where(lambda r: r["placing"] == "winner").rows:
        colour = APPROACH_COLOURS[str(r["approach"])]
        ax.bar(r["year"], r["top5_error"], color=colour, width=0.6)
        ax.annotate(
            f"{r['top5_error']}\n" + str(r["entry"]).replace(" (", "\n("),
            (r["year"], r["top5_error"]),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    for r in winners.where(lambda r: r["placing"] == "runner-up").rows:
        colour = APPROACH_COLOURS[str(r["approach"])]
        ax.plot(r["year"] + 0.38, r["top5_error"], "o", color=colour, mec="black", ms=6)
        ax.annotate(
            f"{r['top5_error']} {r['entry']}\n(runner-up)",
            (r["year"] + 0.38, r["top5_error"]),
            xytext=(5, -2),
            textcoords="offset points",
            va="bottom",
            fontsize=8,
        )
    won, second = top5_error(winners, 2012), top5_error(winners, 2012, "runner-up")
    ax.annotate(
        "",
        (2012.38, won),
        (2012.38, second),
        arrowprops={"arrowstyle": "->", "color": HIGHLIGHT, "lw": 1.5},
    )
    ax.text(
        2012.5,
        (won + second) / 2,
        f"-{second - won:.1f} points",
        color=HIGHLIGHT,
        fontsize=9,
        va="center",
    )
    human = winners.where(lambda r: r["placing"] == "human estimate").rows[0]
    ax.axhline(human["top5_error"], color=GREY, ls="--", lw=1)
    years = sorted({int(y) for y in winners.column("year")})
    ax.text(
        years[-1] + 0.4,
        human["top5_error"] + 0.4,
        f"human\nestimate\n{human['top5_error']}",
        color=GREY,
        fontsize=8,
        va="bottom",
    )
    for approach, colour in APPROACH_COLOURS.items():
        ax.bar(0, 0, color=colour, label=approach)  # legend entries only
    ax.set_xlim(years[0] - 0.6, years[-1] + 1.2)
    ax.set_ylim(0, max(winners.column("top5_error")) * 1.2)
    ax.set_xticks(years)
    ax.set_ylabel("top-5 error on the test set (%)")
    ax.set_title("ILSVRC image classification winners")
    ax.legend(loc="upper right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, new)


def plot_successors(successors: Table, ax: AxesArg = None) -> Figure:
    """Top-1 accuracy against compute per image (log scale) for AlexNet and its successors;
    the area of each dot is proportional to the number of parameters. ``ax``: one Axes."""
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(7, 4))
    for r in successors.rows:
        ax.scatter(r["gmacs"], r["acc1"], s=4 * float(r["params_millions"]), alpha=0.5)
        ax.annotate(
            f"{r['model']} ({r['year']})\n{r['params_millions']}M params",
            (r["gmacs"], r["acc1"]),
            xytext=(8, -4),
            textcoords="offset points",
            fontsize=8,
            va="top",
        )
    ax.set_xscale("log")
    ax.set_xlim(0.2, 60)
    ax.set_ylim(50, 82)
    ax.set_xlabel("multiply-accumulates per 224x224 image (billions, log scale)")
    ax.set_ylabel("torchvision top-1 accuracy (%)")
    ax.set_title("AlexNet and its successors (dot area: parameters)")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, new)


def successors_vs_alexnet(successors: Table) -> Table:
    """Each successor against AlexNet: top-1 gain in points, parameters and
    multiply-accumulates as multiples of AlexNet's (rounded for display)."""
    alex = successors.row("AlexNet")

    def ratio(r: dict[str, Value], column: str) -> float:
        return round(float(r[column]) / float(alex[column]), 2)

    rows = tuple(
        {
            "model": r["model"],
            "top1_gain_points": round(float(r["acc1"]) - float(alex["acc1"]), 1),
            "params_vs_alexnet": ratio(r, "params_millions"),
            "macs_vs_alexnet": ratio(r, "gmacs"),
            "source": f"computed from data/{successors.name}.csv",
        }
        for r in successors.rows
        if r is not alex
    )
    columns = ("model", "top1_gain_points", "params_vs_alexnet", "macs_vs_alexnet")
    return Table(f"{successors.name}_vs_alexnet", columns, rows)


def count_images(folder: str | os.PathLike) -> int:
    """Number of image files anywhere under ``folder`` (read from disk, not decoded)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"{folder} is not a folder")
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)


def plot_dataset_scale(scale: Table, counted: dict[str, int], ax: AxesArg = None) -> Figure:
    """Image counts of ImageNet and ILSVRC-2012 (from the ``imagenet_scale`` table) next to
    datasets counted on disk (``counted``: label -> images), on a log scale. ``ax``: one
    Axes to draw on."""
    rows = scale.where(lambda r: str(r["quantity"]).endswith("images")).rows
    labels = [str(r["quantity"]) for r in rows] + list(counted)
    values = [int(r["value"]) for r in rows] + list(counted.values())
    colours = [BLUE] * len(rows) + [GREEN] * len(counted)
    new = ax is None
    fig, ax = axes_or_new(ax, figsize=(8, 0.45 * len(values) + 0.9))
    bars = ax.barh(labels, values, color=colours)
    ax.bar_label(bars, [f"{v:,}" for v in values], padding=3, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 8)
    ax.invert_yaxis()
    ax.set_xlabel("images (log scale); green: counted on disk for this book")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, new)


def plot_imagenet_samples(
    folder: str | os.PathLike, count: int, columns: int = 8, ax: AxesArg = None
) -> Figure:
    """A grid of ``count`` images from ``imagenet-samples`` (one JPEG per ILSVRC class,
    named ``<wnid>_<name>.JPEG``), spread evenly over the 1,000 classes in index order,
    centre-cropped to squares and titled with their class names.

    ``ax``: ``ceil(count / columns) * columns`` Axes to draw on, row by row.

    Raises:
        DataNotFoundError: ``folder`` is missing or holds fewer than ``count`` images.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if len(files) < count:
        raise DataNotFoundError(
            f"{folder} holds {len(files)} images, fewer than the {count} asked for. It should "
            "be the imagenet-samples folder (one <wnid>_<name>.JPEG per ImageNet class) under "
            "the data root ($ALEXNET_LAB_DATA)."
        )
    picked = [files[round(i * len(files) / count)] for i in range(count)]
    rows = math.ceil(count / columns)
    new = ax is None
    fig, axes = axes_or_new(ax, rows, columns, squeeze=False, figsize=(columns, 1.15 * rows))
    for a in axes.flat:
        a.axis("off")
    for a, path in zip(axes.flat, picked, strict=False):
        a.imshow(to_image(to_tensor(load_rgb(path)), square=True).numpy())
        name = class_name(path.stem.split("_", 1)[0])
        a.set_title(name if len(name) <= 18 else name[:17] + "…", fontsize=7)
    return finish(fig, new, pad=0.3)


def imagenette_images(
    split_dir: str | os.PathLike, class_names: Sequence[str]
) -> list[torch.Tensor]:
    """The first image (in file-name order) of each named Imagenette class in a split folder.

    Shape: a list of (3, H, W) float tensors in [0, 1].
    """
    by_name = {class_name(w): w for w in IMAGENETTE_WNIDS}
    images = []
    for name in class_names:
        if name not in by_name:
            raise KeyError(f"{name!r} is not an Imagenette class; they are {sorted(by_name)}")
        folder = Path(split_dir) / by_name[name]
        files = sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise DataNotFoundError(f"no images in {folder}")
        images.append(to_tensor(load_rgb(files[0])))
    return images


def plot_hog(
    images: Sequence[torch.Tensor],
    titles: Sequence[str],
    cell_size: int = 8,
    ax: AxesArg = None,
) -> Figure:
    """One column per image: the image, its gradient magnitude, and its HOG cell
    histograms drawn as stars (:func:`alexnet_lab.chapters.hog.hog_glyph`).

    ``ax``: 3 x ``len(images)`` Axes to draw on (rows: image, magnitude, HOG).
    """
    new = ax is None
    fig, axes = axes_or_new(ax, 3, len(images), squeeze=False, figsize=(2.2 * len(images), 6.6))
    for col, (image, title) in enumerate(zip(images, titles, strict=True)):
        magnitude, orientation = image_gradients(image)
        glyph = hog_glyph(cell_histograms(magnitude, orientation, cell_size))
        axes[0, col].imshow(to_image(image).numpy())
        axes[0, col].set_title(title, fontsize=10)
        axes[1, col].imshow(magnitude.numpy(), cmap="gray")
        axes[2, col].imshow(glyph.numpy(), cmap="gray")
        for a in axes[:, col]:
            a.set_xticks([])
            a.set_yticks([])
    labels = ("image", "gradient magnitude", f"HOG, {cell_size}px cells")
    for a, label in zip(axes[:, 0], labels, strict=True):
        a.set_ylabel(label)
    return finish(fig, new)


def plot_hog_cell(
    image: torch.Tensor, cell: tuple[int, int], cell_size: int = 8, ax: AxesArg = None
) -> Figure:
    """What HOG computes in one cell: where the cell is, its pixels with their gradients as
    arrows, the orientation histogram (9 bins), and the star that draws it.

    ``cell`` is (row, column) in cells. ``image``: (3, H, W) in [0, 1]. ``ax``: 4 Axes.
    """
    magnitude, orientation = image_gradients(image)
    cells = cell_histograms(magnitude, orientation, cell_size)
    i, j = cell
    ys, xs = slice(i * cell_size, (i + 1) * cell_size), slice(j * cell_size, (j + 1) * cell_size)
    new = ax is None
    fig, axes = axes_or_new(ax, 1, 4, figsize=(12, 3.2))
    axes[0].imshow(to_image(image).numpy())
    axes[0].add_patch(
        Rectangle(
            (j * cell_size - 0.5, i * cell_size - 0.5),
            cell_size,
            cell_size,
            fill=False,
            color=RED,
            lw=1.5,
        )
    )
    axes[0].set_title(f"cell ({i}, {j}) of {cells.shape[0]}x{cells.shape[1]}")
    gray = image[:, ys, xs].mean(0)
    axes[1].imshow(gray.numpy(), cmap="gray", vmin=0, vmax=1)
    angle = torch.deg2rad(orientation[ys, xs])
    m = magnitude[ys, xs]
    axes[1].quiver(
        (m * torch.cos(angle)).numpy(),
        (m * torch.sin(angle)).numpy(),
        color=RED,
        angles="xy",
        scale_units="xy",
        scale=m.max().item() / 0.9,
    )
    axes[1].set_title("pixels, gradient orientations")
    bins = cells.shape[-1]
    centres = [b * 180 / bins for b in range(bins)]
    axes[2].bar(centres, cells[i, j].numpy(), width=180 / bins * 0.8)
    axes[2].set_xticks(centres[::2])
    axes[2].set_xlabel("gradient orientation (degrees)")
    axes[2].set_title("orientation histogram")
    axes[3].imshow(hog_glyph(cells[i : i + 1, j : j + 1], 32).numpy(), cmap="gray")
    axes[3].set_title("drawn as a star")
    for a in (axes[0], axes[1], axes[3]):
        a.set_xticks([])
        a.set_yticks([])
    return finish(fig, new)
