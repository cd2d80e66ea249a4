"""alexnet_lab: the library behind the alexnet-lab book.

The core is flat (model, data, pack, augment, train, evaluate, checkpoint, config,
trained, cli); ``analysis`` computes, ``viz`` draws, ``chapters`` glues them into the
book's notebooks and ``experiments`` holds named studies. The names a reader types first:

    from alexnet_lab import AlexNet, get_profile, load_trained
    from alexnet_lab.train import train

They load on first use (PEP 562), so importing the package, or starting the
``alexnet-lab`` command, does not import torch until it is needed.
"""

from __future__ import annotations

import importlib

__all__ = ["AlexNet", "get_profile", "load_trained"]
__version__ = "0.1.0"
_HOME = {"AlexNet": "model", "get_profile": "config", "load_trained": "trained"}


def __getattr__(name: str) -> object:
    if name in _HOME:
        return getattr(importlib.import_module(f"alexnet_lab.{_HOME[name]}"), name)
    raise AttributeError(f"module 'alexnet_lab' has no attribute {name!r}")
