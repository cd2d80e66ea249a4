"""Explorers: one mechanism for every interactive figure, live in a kernel and static in the
book.

An :class:`Explorer` is a few :class:`Choice` controls and a ``render`` function that turns
one selection into a :class:`View` (an image and a caption). The same object, as a notebook
cell's last expression, gives two things (its ``_repr_mimebundle_``):

- ``application/vnd.jupyter.widget-view+json``: live ipywidgets (a dropdown per choice, an
  optional ``FileUpload`` for the reader's own photo), which call ``render`` on every change.
  Jupyter shows this one when a kernel is running.
- ``text/html``: the static explorer. Every combination of the first ``Choice.static`` options
  of each choice is rendered once, stored as WebP data URIs in the page, and ``<select>``
  elements with a dozen lines of inline JavaScript switch between them. No kernel, no CDN, no
  network request. The book's ``_config.yml`` ranks ``text/html`` above the widget view for
  the HTML builder (``nb_mime_priority_overrides``), so the published page shows this one.

Why precomputed views and not the stored widget state: without a kernel the Python callbacks
never run, so stored ipywidgets only ever show their first image (see
``../shared/reference/jupyter-book-notes.md``). The static set is bounded on purpose: each
explorer reports the bytes it adds to the page with :meth:`Explorer.page_bytes`.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

MIME_WIDGET = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Choice:
    """One control of an explorer.

    Attributes:
        name: the keyword ``render`` receives the chosen value as, e.g. "layer".
        label: the text beside the control, e.g. "Layer".
        options: (text shown, value passed to ``render``) pairs, in the order shown.
        static: how many of the first options the static page precomputes (None: all).
    """

    name: str
    label: str
    options: tuple[tuple[str, object], ...]
    static: int | None = None

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError(f"Choice {self.name!r} has no options")
        if self.static is not None and not 1 <= self.static <= len(self.options):
            raise ValueError(
                f"Choice {self.name!r}: static must be between 1 and {len(self.options)} "
                f"(its number of options), got {self.static}"
            )

    @property
    def n_static(self) -> int:
        """The number of options the static page offers."""
        return len(self.options) if self.static is None else self.static


@dataclass(frozen=True)
class View:
    """What an explorer shows for one selection: an image and a caption (plain text)."""

    image: Image.Image
    caption: str = ""


def pil_image(x: torch.Tensor | np.ndarray) -> Image.Image:
    """An RGB (or grey) image from values in 0..1 (clipped): (H, W, 3), (3, H, W) or (H, W)."""
    a = x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3):
        raise ValueError(f"expected (H, W), (H, W, 3) or (3, H, W), got shape {a.shape}")
    return Image.fromarray((np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8))


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 85} if fmt == "WEBP" else {}))
    return buffer.getvalue()


def data_uri(image: Image.Image) -> str:
    """``image`` as a WebP data URI, the form the static page embeds."""
    return "data:image/webp;base64," + base64.b64encode(_encode(image, "WEBP")).decode()


_SCRIPT = """
(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script.ax-views").textContent);
  var selects = root.querySelectorAll("select");
  var img = root.querySelector("img.ax-image"), caption = root.querySelector(".ax-caption");
  function show() {
    var key = Array.prototype.map.call(selects, function (s) { return s.value; }).join("-");
    var view = data.views[key];
    img.src = data.images[view[0]];
    caption.textContent = view[1];
  }
  selects.forEach(function (s) { s.addEventListener("change", show); });
  show();
})();
"""


class Explorer:
    """An interactive figure: choices in, one image and caption out.

    Args:
        title: shown above the controls.
        choices: the controls, in the order shown.
        render: ``render(**{choice.name: value})`` -> :class:`View`.
        upload: ``(choice name, to_value)`` adds a ``FileUpload`` to the live widget: the
            reader's photo (a PIL RGB image) joins that choice's options as
            ``to_value(photo)``. The static page has no upload.
    """

    def __init__(
        self,
        title: str,
        choices: Sequence[Choice],
        render: Callable[..., View],
        upload: tuple[str, Callable[[Image.Image], object]] | None = None,
    ) -> None:
        names = [c.name for c in choices]
        if len(set(names)) != len(names):
            raise ValueError(f"choice names must differ, got {names}")
        if upload is not None and upload[0] not in names:
            raise ValueError(f"upload names choice {upload[0]!r}, which is not one of {names}")
        self.title, self.choices, self.render, self.upload = title, list(choices), render, upload
        self._static: str | None = None

    def view(self, indices: Sequence[int]) -> View:
        """The view for the ``indices``-th option of each choice."""
        return self.render(
            **{c.name: c.options[i][1] for c, i in zip(self.choices, indices, strict=True)}
        )

    def widget(self):
        """The live explorer: ipywidgets that call ``render`` whenever a control changes.

        Returns an ``ipywidgets.VBox``; its ``.dropdowns`` (one per choice), ``.image`` and
        ``.caption`` attributes are its parts (tests drive them).
        """
        import ipywidgets as w

        options = [list(c.options) for c in self.choices]  # uploads append here
        dropdowns = [
            w.Dropdown(
                options=[(text, i) for i, (text, _) in enumerate(c.options)],
                value=0,
                description=c.label,
                style={"description_width": "initial"},
            )
            for c in self.choices
        ]
        image, caption = w.Image(format="png"), w.Label()

        def update(_: object = None) -> None:
            picked = zip(self.choices, options, dropdowns, strict=True)
            shown = self.render(**{c.name: opts[d.value][1] for c, opts, d in picked})
            image.value = _encode(shown.image, "PNG")
            caption.value = shown.caption

        controls = list(dropdowns)
        if self.upload is not None:
            which, to_value = self.upload
            k = [c.name for c in self.choices].index(which)
            button = w.FileUpload(accept="image/*", multiple=False, description="Your photo")

            def add(change: dict) -> None:
                for item in change["new"]:
                    photo = Image.open(io.BytesIO(bytes(item["content"]))).convert("RGB")
                    options[k].append((item["name"], to_value(photo)))
                    dropdowns[k].options = [(t, i) for i, (t, _) in enumerate(options[k])]
                    dropdowns[k].value = len(options[k]) - 1  # shows it

            button.observe(add, names="value")
            controls.append(button)
        for d in dropdowns:
            d.observe(update, names="value")
        update()
        title = w.HTML(f"<b>{html.escape(self.title)}</b>")
        box = w.VBox([title, w.HBox(controls), image, caption])
        box.dropdowns, box.image, box.caption = dropdowns, image, caption
        return box

    def static_html(self) -> str:
        """The static explorer: every combination of the static options rendered once, as
        WebP data URIs (identical images stored once), ``<select>`` controls and a script.
        Rendered on the first call, then kept."""
        if self._static is None:
            self._static = self._make_static()
        return self._static

    def _make_static(self) -> str:
        uris: dict[str, int] = {}
        views = {}
        for indices in itertools.product(*(range(c.n_static) for c in self.choices)):
            shown = self.view(indices)
            uri = data_uri(shown.image)
            views["-".join(map(str, indices))] = [uris.setdefault(uri, len(uris)), shown.caption]
        selects = "".join(
            f'<label style="margin-right:1em">{html.escape(c.label)} <select>'
            + "".join(
                f'<option value="{i}">{html.escape(text)}</option>'
                for i, (text, _) in enumerate(c.options[: c.n_static])
            )
            + "</select></label>"
            for c in self.choices
        )
        first = views["-".join("0" * len(self.choices))]
        payload = json.dumps({"images": list(uris), "views": views}).replace("</", "<\\/")
        return (
            '<div class="alexnet-explorer">'
            f"<p><b>{html.escape(self.title)}</b></p><p>{selects}</p>"
            f'<img class="ax-image" alt="{html.escape(self.title)}" src="{list(uris)[first[0]]}"'
            ' style="max-width:100%">'
            f'<p class="ax-caption" style="font-size:90%">{html.escape(first[1])}</p>'
            f'<script type="application/json" class="ax-views">{payload}</script>'
            f"<script>{_SCRIPT}</script></div>"
        )

    def page_bytes(self) -> int:
        """Bytes the static explorer adds to a page."""
        return len(self.static_html().encode())

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {
            "text/plain": f"<Explorer: {self.title}>",
            "text/html": self.static_html(),
        }
        live = self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {}
        if MIME_WIDGET in live:
            bundle[MIME_WIDGET] = live[MIME_WIDGET]
        return bundle
