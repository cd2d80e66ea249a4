"""Where alexnet-lab keeps what it makes: run folders, packed datasets, the data root.

In the repository (a checkout, or an editable install) they sit next to the package:
``runs/``, ``packs/`` and ``data/`` at the top of the repository. A non-editable install
puts the package in ``site-packages``, which is no place for them (and often read-only);
there they go into the user's data directory, e.g. ``~/.local/share/alexnet-lab`` on Linux
(``platformdirs.user_data_dir("alexnet-lab")``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import platformdirs

PACKAGE = Path(__file__).resolve().parent  # the alexnet_lab folder


def in_repository(package_dir: Path) -> bool:
    """Whether the package folder ``package_dir`` sits in the alexnet-lab repository (its
    parent holds ``pyproject.toml`` and the ``book/``), not in an installed copy."""
    repo = Path(package_dir).parent
    return (repo / "pyproject.toml").is_file() and (repo / "book").is_dir()


def home(package_dir: Path = PACKAGE) -> Path:
    """The folder that holds ``runs/``, ``packs/`` and ``data/`` for the package in
    ``package_dir``: the repository, or else the user's data directory for alexnet-lab."""
    if in_repository(package_dir):
        return Path(package_dir).parent
    return Path(platformdirs.user_data_dir("alexnet-lab", appauthor=False))


REPO = home()  # the repository, or the user data directory outside one
RUNS = REPO / "runs"  # runs/<profile>/<variant>/: checkpoint.pt and history.json
PACKS = REPO / "packs"  # decoded datasets, see alexnet_lab.pack
REPO_DATA = REPO / "data"  # the data root when neither --data nor $ALEXNET_LAB_DATA is set


def git_commit() -> str | None:
    """The repository's commit (with "+dirty" for uncommitted changes), or None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")
