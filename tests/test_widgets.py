"""The explorer mechanism (alexnet_lab/viz/widgets.py): live widgets recompute on every
change, the static page holds one view per combination and nothing else.

The browser half (every static control of every built chapter, offline) is in
tests/test_book_browser.py.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from alexnet_lab.viz.widgets import MIME_WIDGET, Choice, Explorer, View, pil_image

CALLS: list[dict] = []


def render(colour: int, size: int) -> View:
    CALLS.append({"colour": colour, "size": size})
    a = np.zeros((size, size, 3))
    a[..., colour] = 1.0
    return View(pil_image(a), f"colour {colour}, size {size}")


def explorer(upload: bool = False) -> Explorer:
    colours = Choice("colour", "Colour", (("red", 0), ("green", 1), ("blue", 2)), static=2)
    sizes = Choice("size", "Size", (("8", 8), ("16", 16)))
    return Explorer(
        "Squares", [colours, sizes], render, upload=("colour", lambda im: 2) if upload else None
    )


def png(image_bytes: bytes) -> Image.Image:
    return Image.open(io.BytesIO(image_bytes))


def test_the_live_widget_recomputes_when_a_control_changes() -> None:
    box = explorer().widget()
    first = png(box.image.value)
    assert first.getpixel((0, 0)) == (255, 0, 0) and first.size == (8, 8)
    box.dropdowns[0].value = 2  # blue: not in the static set, but live has every option
    assert png(box.image.value).getpixel((0, 0)) == (0, 0, 255)
    box.dropdowns[1].value = 1
    assert png(box.image.value).size == (16, 16)
    assert box.caption.value == "colour 2, size 16"


def test_an_uploaded_photo_joins_the_options_and_is_shown() -> None:
    box = explorer(upload=True).widget()
    buffer = io.BytesIO()
    Image.new("RGB", (5, 5), "white").save(buffer, format="PNG")
    upload = box.children[1].children[-1]
    upload.value = (
        {
            "name": "me.png",
            "type": "image/png",
            "size": len(buffer.getvalue()),
            "content": memoryview(buffer.getvalue()),
            "last_modified": datetime.datetime.now(),
        },
    )
    assert box.dropdowns[0].options[-1] == ("me.png", 3)
    assert box.dropdowns[0].value == 3
    assert box.caption.value == "colour 2, size 8"  # to_value(photo) went to render


def views(page: str) -> dict:
    found = re.search(r'<script type="application/json" class="ax-views">(.*?)</script>', page)
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_the_static_page_has_one_view_per_static_combination() -> None:
    CALLS.clear()
    e = explorer()
    page = e.static_html()
    data = views(page)
    assert sorted(data["views"]) == ["0-0", "0-1", "1-0", "1-1"]
    assert len(data["images"]) == 4 and len(CALLS) == 4  # each rendered once
    assert page.count("<select>") == 2 and page.count("<option") == 2 + 2
    assert e.static_html() is page and len(CALLS) == 4  # kept, not re-rendered
    assert e.page_bytes() == len(page.encode())
    for key, (image, caption) in data["views"].items():
        colour, size = map(int, key.split("-"))
        decoded = Image.open(io.BytesIO(base64.b64decode(data["images"][image][23:])))
        assert decoded.size == ((8, 16)[size],) * 2
        assert caption == f"colour {colour}, size {(8, 16)[size]}"


def test_identical_views_are_stored_once() -> None:
    same = Explorer(
        "Same", [Choice("k", "K", (("a", 1), ("b", 2)))], lambda k: View(pil_image(np.ones((4, 4))))
    )
    data = views(same.static_html())
    assert len(data["views"]) == 2 and len(data["images"]) == 1


def test_the_page_loads_nothing_from_the_network() -> None:
    page = explorer().static_html()
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    assert "http" not in page


def test_a_cell_gives_both_the_live_and_the_static_explorer() -> None:
    bundle = explorer()._repr_mimebundle_()
    assert MIME_WIDGET in bundle and "model_id" in bundle[MIME_WIDGET]
    assert 'class="alexnet-explorer"' in bundle["text/html"]


def test_bad_choices_are_refused_with_their_name() -> None:
    with pytest.raises(ValueError, match="'k' has no options"):
        Choice("k", "K", ())
    with pytest.raises(ValueError, match="static must be between 1 and 2"):
        Choice("k", "K", (("a", 1), ("b", 2)), static=3)
    with pytest.raises(ValueError, match="upload names choice 'x'"):
        Explorer("t", [Choice("k", "K", (("a", 1),))], render, upload=("x", lambda im: 0))


def test_pil_image_takes_channels_first_or_last_and_clips() -> None:
    x = np.random.default_rng(0).random((3, 5, 7)) * 2 - 0.5
    a, b = np.asarray(pil_image(x)), np.asarray(pil_image(x.transpose(1, 2, 0)))
    assert a.shape == (5, 7, 3) and (a == b).all() and a.min() == 0 and a.max() == 255
