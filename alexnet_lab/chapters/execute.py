"""Execute chapter notebooks in place, in a fresh kernel each, and report their run time.

    ALEXNET_LAB_PROFILE=cpu python -m alexnet_lab.chapters.execute book/02_history.ipynb ...

(``make execute PROFILE=cpu NB=...`` does the same.) A folder runs every notebook in it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from alexnet_lab.viz.widgets import MIME_WIDGET


def execute(path: Path, timeout: int = 7200) -> float:
    """Run one notebook top to bottom in a fresh kernel, save it, return seconds taken.

    Explorers (:mod:`alexnet_lab.viz.widgets`) keep only their static HTML in the saved
    notebook: the live widget view needs a kernel, and its stored state would double the
    page weight while showing nothing that works.
    """
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(MIME_WIDGET, None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = []
    for arg in argv or ["book"]:
        p = Path(arg)
        paths += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    profile = os.environ.get("ALEXNET_LAB_PROFILE", "(default)")
    for p in paths:
        print(f"{p}: {execute(p):.1f} s (profile {profile})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
