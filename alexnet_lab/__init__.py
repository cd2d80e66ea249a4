"""alexnet_lab: the library behind the alexnet-lab book."""

__version__ = "0.1.0"
