"""Where the repository keeps what it makes: run folders, packed datasets, the data root."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = REPO / "runs"  # runs/<profile>/<variant>/: checkpoint.pt and history.json
PACKS = REPO / "packs"  # decoded datasets, see alexnet_lab.pack
REPO_DATA = REPO / "data"  # the data root when neither --data nor $ALEXNET_LAB_DATA is set
