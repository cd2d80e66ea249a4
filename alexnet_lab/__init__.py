"""alexnet_lab: the library behind the alexnet-lab book.

The core is flat (model, data, pack, augment, train, evaluate, checkpoint, config,
trained, cli); ``analysis`` computes, ``viz`` draws, ``chapters`` glues them into the
book's notebooks and ``experiments`` holds named studies. The names a reader types first:

    from alexnet_lab import AlexNet, get_profile, load_trained, train
"""

from alexnet_lab.config import get_profile
from alexnet_lab.model import AlexNet
from alexnet_lab.train import train
from alexnet_lab.trained import load_trained

__all__ = ["AlexNet", "get_profile", "load_trained", "train"]
__version__ = "0.1.0"
