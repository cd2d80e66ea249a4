"""The one table renderer: columns, rows of cells and notes, as text and as HTML.

:class:`DisplayTable` holds cells that are already strings and draws them: ``str(table)`` is
a plain-text table (``print`` in a notebook or a terminal), ``table._repr_html_()`` an HTML
table that Jupyter shows (every cell escaped). The library's tables (the layer table, the
training recipe, the convolution arithmetic, the history tables) keep their own data and
methods and build a :class:`DisplayTable` to show themselves: :class:`ShownAsTable` gives
them ``__str__`` and ``_repr_html_`` from one :meth:`~ShownAsTable.display_table` method.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True, repr=False)
class DisplayTable:
    """A table of strings that prints as text and shows as HTML in Jupyter.

    Attributes:
        columns: the header cells.
        rows: one sequence of cells per row, each as long as ``columns``.
        notes: lines shown under the table (text) or in small print under it (HTML).
        align: one character per column, "l" (left) or "r" (right), for the text form;
            all left if empty. Trailing spaces are stripped from every text line.
        links: empty, or one row per row of addresses (or None), one per cell: the HTML
            form shows such a cell as a link to its address; the text form ignores them.

    Cells, headers and notes may be any objects: they are stored as ``str(...)``, in tuples.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    align: str = ""
    links: tuple[tuple[str | None, ...], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        object.__setattr__(self, "rows", tuple(tuple(str(c) for c in r) for r in self.rows))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        object.__setattr__(self, "links", tuple(tuple(r) for r in self.links))
        n = len(self.columns)
        for r in self.rows:
            if len(r) != n:
                raise ValueError(f"a row has {len(r)} cells, the table {n} columns: {r}")
        if self.links and [len(r) for r in self.links] != [n] * len(self.rows):
            raise ValueError("links needs one address (or None) per cell of every row")
        if self.align and (len(self.align) != n or set(self.align) - {"l", "r"}):
            raise ValueError(f"align needs one 'l' or 'r' per column ({n}), got {self.align!r}")

    def __str__(self) -> str:
        cells = [self.columns, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        align = self.align or "l" * len(self.columns)
        lines = [
            "  ".join(
                c.rjust(w) if a == "r" else c.ljust(w)
                for c, w, a in zip(row, widths, align, strict=True)
            ).rstrip()
            for row in cells
        ]
        return "\n".join([*lines, *self.notes])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        def cell(text: str, href: str | None) -> str:
            text = html.escape(text)
            return text if href is None else f'<a href="{html.escape(href)}">{text}</a>'

        def tr(cells: tuple[str, ...], tag: str, hrefs: tuple[str | None, ...]) -> str:
            return (
                "<tr>"
                + "".join(f"<{tag}>{cell(c, h)}</{tag}>" for c, h in zip(cells, hrefs, strict=True))
                + "</tr>"
            )

        none = (None,) * len(self.columns)
        head = tr(self.columns, "th", none)
        links = self.links or (none,) * len(self.rows)
        body = "".join(tr(r, "td", h) for r, h in zip(self.rows, links, strict=True))
        table = f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
        if not self.notes:
            return table
        foot = "<br>".join(html.escape(n) for n in self.notes)
        return f"{table}<p><small>{foot}</small></p>"


class ShownAsTable:
    """Mixin: a class with a :meth:`display_table` method prints and shows as that table."""

    def display_table(self) -> DisplayTable:
        raise NotImplementedError

    def __str__(self) -> str:
        return str(self.display_table())

    def _repr_html_(self) -> str:
        return self.display_table()._repr_html_()
