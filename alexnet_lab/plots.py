"""Figures about the architecture: where the parameters and the compute live."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from alexnet_lab.layer_table import LayerTable


def plot_params_and_macs(table: LayerTable, title: str = "") -> Figure:
    """Two bar charts: each weight layer's share of all parameters and of all MACs."""
    rows = [r for r in table if r.params]
    names = [r.name for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
    for ax, values, total, label in (
        (axes[0], [r.params for r in rows], table.params, "parameters"),
        (axes[1], [r.macs for r in rows], table.macs, "multiply-accumulates"),
    ):
        shares = [100 * v / total for v in values]
        bars = ax.barh(
            names, shares, color=["#4c72b0" if n.startswith("conv") else "#dd8452" for n in names]
        )
        ax.bar_label(bars, [f"{s:.1f}%" for s in shares], padding=2, fontsize=8)
        ax.set_xlabel(f"share of {total:,} {label} (%)")
        ax.set_xlim(0, max(shares) * 1.25)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
