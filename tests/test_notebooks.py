"""The chapters as committed: outputs from a real profile, glued numbers, a learner's ending."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from alexnet_lab.config import PROFILES

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))
PROFILE_LINE = re.compile(r"Profile '(\w+)': (\d+)px images")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def text_outputs(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def source(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_stored_outputs_name_a_real_profile_with_its_settings(path):
    shown = [m for c in cells(path) for m in PROFILE_LINE.findall(text_outputs(c))]
    assert shown, f"{path.name} does not print its profile (begin_chapter)"
    for name, size in shown:
        assert name != "smoke", f"{path.name} was committed with smoke-profile outputs"
        assert int(size) == PROFILES[name].image_size, (
            f"{path.name} shows profile {name!r} at {size}px, but PROFILES says "
            f"{PROFILES[name].image_size}px: re-run it (make execute PROFILE={name} NB={path})"
        )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_number_is_in_the_stored_outputs(path):
    """The prose quotes numbers through myst-nb's glue: each key it quotes must be stored by
    a cell's output (otherwise the book build fails, or shows a stale number)."""
    stored = {
        out["metadata"]["scrapbook"]["name"]
        for c in cells(path)
        for out in c.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    }
    md = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    used = set(re.findall(r"\{glue(?::\w+)?\}`(\w+)", md))
    assert used <= stored, f"{path.name} quotes glue keys no stored output holds: {used - stored}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_end_with_what_to_remember_and_exercises(path):
    headings = [line for c in cells(path) if c["cell_type"] == "markdown"
                for line in source(c).splitlines() if line.startswith("## ")]  # fmt: skip
    assert "## What to remember" in headings and "## Exercises" in headings, path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_nbval_markers_are_cell_tags_not_comments(path):
    for c in cells(path):
        assert "# NBVAL_" not in source(c), f"{path.name}: use the nbval cell tags instead"
