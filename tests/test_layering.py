"""The package's layers: imports run one way, core <- analysis <- viz <- chapters.

core (``alexnet_lab/*.py``) imports only core; ``analysis`` imports core; ``experiments``
imports analysis (to measure the runs it trains) and core; ``viz`` imports analysis and core;
``chapters`` may import all of these. ``analysis`` and ``viz`` never train (they do not
import the trainer). ``cli`` is the entry point, above everything; nothing in the package
imports it. bench/ imports the library, never the reverse.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "alexnet_lab"
RANK = {"core": 0, "analysis": 1, "experiments": 1.5, "viz": 2, "chapters": 3, "cli": 4}
TRAINS = {"alexnet_lab.train", "alexnet_lab.trained", "alexnet_lab.experiments"}


def layer(module: str) -> str:
    """The layer of a module name such as ``alexnet_lab.viz.layers``."""
    parts = module.split(".")
    if parts[1:2] == ["cli"]:
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in RANK else "core"


def imports(path: Path, root: Path = PKG) -> list[tuple[int, str]]:
    """(line, module) of every alexnet_lab import in a file, at any depth (lazy ones too)."""
    package = "alexnet_lab." + ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                base = ".".join(package.rstrip(".").split(".")[: 1 - node.level or None]) + base
            if base.split(".")[0] == "alexnet_lab":
                names = [base + "." + a.name for a in node.names] if base == "alexnet_lab" else []
                found += [(node.lineno, n) for n in names] or [(node.lineno, base)]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("alexnet_lab")]
    return found


def violations(root: Path = PKG) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        name = "alexnet_lab." + ".".join(path.relative_to(root).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        if name == "alexnet_lab":
            continue  # __init__ re-exports core names
        own = layer(name)
        for line, target in imports(path, root):
            other = layer(target)
            where = f"{path.relative_to(root.parent)}:{line} imports {target}"
            if other == "cli" and own != "cli":
                bad.append(f"{where}: nothing imports the CLI")
            elif own != other and RANK[other] >= RANK[own]:
                bad.append(f"{where}: {own} may not import {other}")
            elif own in ("analysis", "viz") and any(target.startswith(t) for t in TRAINS):
                bad.append(f"{where}: {own} never trains")
    return bad


def test_imports_run_one_way():
    assert violations() == []


def test_the_rule_catches_a_wrong_way_import(tmp_path):
    pkg = tmp_path / "alexnet_lab"
    (pkg / "analysis").mkdir(parents=True)
    (pkg / "model.py").write_text("from alexnet_lab.viz.style import COLOURS\n")
    (pkg / "analysis" / "x.py").write_text("def f():\n    from alexnet_lab.train import train\n")
    found = violations(pkg)
    assert any("model.py:1 imports alexnet_lab.viz.style: core may not import viz" in v
               for v in found)  # fmt: skip
    assert any("analysis never trains" in v for v in found)


def test_bench_is_not_imported_by_the_library():
    for path in PKG.rglob("*.py"):
        assert "bench" not in {m.split(".")[0] for _, m in imports(path)}, path


def test_the_package_exports_the_names_a_reader_types_first():
    """They load on first use: importing the package (or its CLI) does not import torch."""
    import alexnet_lab

    assert set(alexnet_lab.__all__) == {"AlexNet", "get_profile", "load_trained"}
    script = "import sys, alexnet_lab, alexnet_lab.cli; print('torch' in sys.modules)"
    light = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert light.stdout.strip() == "False", light.stderr
    from importlib import import_module

    homes = {"AlexNet": "model", "get_profile": "config", "load_trained": "trained"}
    for name, module in homes.items():
        assert getattr(alexnet_lab, name) is getattr(import_module(f"alexnet_lab.{module}"), name)


@pytest.mark.parametrize("sub", ["analysis", "viz", "chapters", "experiments"])
def test_every_sub_package_exists(sub):
    assert (PKG / sub / "__init__.py").exists()
