"""Figures: everything here draws (matplotlib) and nothing trains.

Every ``plot_*`` function returns the matplotlib Figure and takes ``ax=``: None for a new
figure, else the caller's Axes (one, or as many as the figure has panels, in an array or
sequence). Colours, the figure resolution, the axes helper and the tensor-to-image
conversion are in :mod:`alexnet_lab.viz.style`.
"""
