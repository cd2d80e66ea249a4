"""A HOG descriptor: what a "hand-engineered feature" was before 2012.

Histograms of oriented gradients (Dalal & Triggs, CVPR 2005) in four fixed steps:

1. image gradients with the [-1, 0, 1] filter (:func:`image_gradients`);
2. in every cell of ``cell_size`` x ``cell_size`` pixels, a histogram of gradient
   orientations weighted by gradient magnitude (:func:`cell_histograms`);
3. every block of ``block_size`` x ``block_size`` neighbouring cells normalized to unit
   length, clipped at 0.2 and normalized again, "L2-Hys" (:func:`normalize_blocks`), so
   the descriptor does not depend on local contrast;
4. all blocks concatenated (:func:`hog`).

A person chose every step and every constant; nothing is learned from data.

Conventions: images are (C, H, W) float tensors (C = 1 or 3), x grows to the right and y
downwards. Orientations are unsigned, in [0, 180) degrees: a dark-to-light edge and a
light-to-dark edge count the same. 0 degrees is a horizontal gradient, which is what a
vertical edge has. Bin ``b`` is centred on ``b * 180 / bins`` degrees, and a gradient
between two bin centres votes into both, in proportion to how close it is to each.
"""

from __future__ import annotations

import math

import torch

L2HYS_CLIP = 0.2  # Dalal & Triggs' clipping threshold for L2-Hys
EPS = 1e-5  # keeps the normalization of an empty block finite


def image_gradients(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient magnitude and unsigned orientation of an image.

    Gradients are centred differences ([-1, 0, 1]); the one-pixel border gets zero. In a
    colour image each pixel takes the gradient of the channel where it is strongest, as
    Dalal & Triggs do.

    Shape: (C, H, W) or (H, W) -> magnitude (H, W), orientation in degrees (H, W).
    """
    x = image.float()
    if x.dim() == 2:
        x = x[None]
    if x.dim() != 3:
        raise ValueError(f"expected an image of shape (C, H, W) or (H, W), got {tuple(x.shape)}")
    gx = torch.zeros_like(x)
    gy = torch.zeros_like(x)
    gx[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    gy[:, 1:-1, :] = x[:, 2:, :] - x[:, :-2, :]
    magnitude = torch.hypot(gx, gy)
    strongest = magnitude.argmax(0, keepdim=True)
    gx, gy = gx.gather(0, strongest)[0], gy.gather(0, strongest)[0]
    orientation = torch.rad2deg(torch.atan2(gy, gx)) % 180.0
    return magnitude.gather(0, strongest)[0], orientation


def cell_histograms(
    magnitude: torch.Tensor, orientation: torch.Tensor, cell_size: int = 8, bins: int = 9
) -> torch.Tensor:
    """Orientation histogram of every cell, each pixel voting with its gradient magnitude.

    Rows and columns that do not fill a whole cell at the bottom and right are dropped.

    Shape: (H, W), (H, W) -> (H // cell_size, W // cell_size, bins).
    """
    h, w = magnitude.shape[0] // cell_size, magnitude.shape[1] // cell_size
    if h == 0 or w == 0:
        raise ValueError(f"image {tuple(magnitude.shape)} is smaller than one {cell_size}px cell")
    m = magnitude[: h * cell_size, : w * cell_size]
    position = orientation[: h * cell_size, : w * cell_size] / (180.0 / bins)
    below = position.floor()
    share_above = position - below
    below = below.long() % bins  # 180 degrees is bin 0 again
    votes = torch.zeros(*m.shape, bins)
    votes.scatter_add_(-1, below[..., None], (m * (1 - share_above))[..., None])
    votes.scatter_add_(-1, ((below + 1) % bins)[..., None], (m * share_above)[..., None])
    return votes.reshape(h, cell_size, w, cell_size, bins).sum((1, 3))


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.sqrt((v**2).sum(-1, keepdim=True) + EPS**2)


def normalize_blocks(cells: torch.Tensor, block_size: int = 2) -> torch.Tensor:
    """L2-Hys normalization of every block of ``block_size`` x ``block_size`` cells.

    Blocks overlap: they step by one cell, so each cell appears in up to ``block_size**2``
    blocks, each time normalized against different neighbours. A block vector lists its
    cells row by row, each cell's bins in order.

    Shape: (Hc, Wc, bins) -> (Hc - block_size + 1, Wc - block_size + 1, block_size**2 * bins).
    """
    hc, wc, bins = cells.shape
    if hc < block_size or wc < block_size:
        raise ValueError(f"{hc}x{wc} cells do not fill one {block_size}x{block_size} block")
    blocks = cells.unfold(0, block_size, 1).unfold(1, block_size, 1)  # Hb, Wb, bins, b, b
    v = blocks.permute(0, 1, 3, 4, 2).reshape(hc - block_size + 1, wc - block_size + 1, -1)
    return _unit(_unit(v).clamp(max=L2HYS_CLIP))


def hog(
    image: torch.Tensor, cell_size: int = 8, bins: int = 9, block_size: int = 2
) -> torch.Tensor:
    """The HOG descriptor of an image: all normalized blocks, concatenated.

    A 224x224 image with the defaults (8px cells, 9 bins, 2x2-cell blocks) gives
    27 x 27 blocks of 36 numbers, 26,244 in all.

    Shape: (C, H, W) -> (Hb * Wb * block_size**2 * bins,) with Hb = H // cell_size -
    block_size + 1 and Wb likewise.
    """
    cells = cell_histograms(*image_gradients(image), cell_size=cell_size, bins=bins)
    return normalize_blocks(cells, block_size).flatten()


def strongest_cell(cells: torch.Tensor) -> tuple[int, int]:
    """(row, column) of the cell with the largest total gradient magnitude.

    Shape: (Hc, Wc, bins) -> two ints.
    """
    row, col = divmod(int(cells.sum(-1).argmax()), cells.shape[1])
    return row, col


def _strokes(bins: int, size: int) -> torch.Tensor:
    """One anti-aliased line per bin through the centre of a size x size cell, drawn along
    the edge direction (perpendicular to the bin's gradient direction): (bins, size, size)."""
    r = (size - 1) / 2
    offsets = torch.arange(size, dtype=torch.float32) - r
    y, x = torch.meshgrid(offsets, offsets, indexing="ij")
    theta = torch.arange(bins, dtype=torch.float32) * (math.pi / bins)
    ux, uy = -torch.sin(theta)[:, None, None], torch.cos(theta)[:, None, None]
    across = (x * uy - y * ux).abs()
    along = (x * ux + y * uy).abs()
    return (1 - (across - 0.5).clamp(min=0)).clamp(min=0) * (along <= r)


def hog_glyph(cells: torch.Tensor, cell_pixels: int = 16) -> torch.Tensor:
    """Draw cell histograms as the classic HOG picture: a star of strokes in every cell.

    Each cell becomes a ``cell_pixels`` x ``cell_pixels`` square. Each bin is a stroke
    through its centre along the edge direction the bin stands for (perpendicular to the
    gradient), as bright as the bin's vote relative to the largest bin in the image. A
    vertical edge draws a vertical stroke.

    Shape: (Hc, Wc, bins) -> (Hc * cell_pixels, Wc * cell_pixels), values in [0, 1].
    """
    hc, wc, bins = cells.shape
    scaled = cells / cells.max().clamp(min=torch.finfo(cells.dtype).tiny)
    picture = torch.einsum("ijb,bpq->ipjq", scaled, _strokes(bins, cell_pixels))
    return picture.reshape(hc * cell_pixels, wc * cell_pixels).clamp(max=1.0)
