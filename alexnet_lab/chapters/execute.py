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


def execute(path: Path, timeout: int = 7200) -> float:
    """Run one notebook top to bottom in a fresh kernel, save it, return seconds taken."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    seconds = time.perf_counter() - start
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
