"""The paper's data augmentation: random crops, flips and PCA colour shifts.

Two implementations of the same pipeline:

* **Batched** (:func:`train_batch`, :func:`centre_crop`, :func:`ten_crop`): whole batches of
  ``uint8`` images that already sit on the training device, with no per-image Python.
  Training and evaluation use this path, on the CPU and on a GPU alike. The random
  parameters are drawn on the CPU (reproducible on any device) and copied to the device
  with ``non_blocking=True``: a blocking copy would wait until the GPU has run everything
  queued before it, once per tensor and step.
* **Per image** (:func:`train_transform`, :func:`eval_transform`): torchvision
  ``transforms.v2`` pipelines for PIL images, the textbook form of the same steps, for
  pictures and for checking the batched path.

Scale. The paper rescales every image so its short side is 256, then takes 224x224 crops, so
a crop covers 224/256 = 87.5% of the side. The book's Imagenette copy is already 224x224, so
it is first resized to 256x256 (:func:`resize_for`) and then cropped to 224, the paper's
geometry. Smaller profiles keep the ratio: resize to ``round(size * 256 / 224)``, crop
``size``.

Normalization. The paper subtracts the mean image from pixels in 0..255. We scale pixels to
0..1, subtract the per-channel mean and divide by the per-channel standard deviation of the
training pixels, so that He-initialized layers see unit-variance inputs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.transforms import v2

PCA_STD = 0.1  # the paper's standard deviation of alpha


def resize_for(size: int) -> int:
    """Side to resize images to before cropping ``size`` (the paper's 256 for 224)."""
    return round(size * 256 / 224)


def pca_colour_stats(
    images: torch.Tensor, max_pixels: int = 1_000_000, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean, standard deviation and principal components of the RGB values of ``images``.

    The statistics come from all pixels, or from a seeded random sample of ``max_pixels`` of
    them if there are more, which gives them to about three decimals.

    Args:
        images: (N, 3, H, W) uint8 (0..255) or float (0..1) images.

    Returns:
        mean (3,), std (3,), eigvals (3,) and eigvecs (3, 3), on the 0..1 scale: ``eigvals``
        are the eigenvalues of the 3x3 RGB covariance in decreasing order and column ``i`` of
        ``eigvecs`` is the unit eigenvector ``p_i``.
    """
    n, c, h, w = images.shape
    if n * h * w <= max_pixels:
        flat = torch.arange(n * h * w)
    else:  # a random sample, with replacement
        flat = torch.randint(
            n * h * w, (max_pixels,), generator=torch.Generator().manual_seed(seed)
        )
    img, pix = flat // (h * w), flat % (h * w)
    rgb = images.reshape(n, c, h * w)[img, :, pix].double()  # count x 3
    if not images.is_floating_point():
        rgb = rgb / 255
    eigvals, eigvecs = torch.linalg.eigh(torch.cov(rgb.T))  # ascending
    return (
        rgb.mean(0).float(),
        rgb.std(0).float(),
        eigvals.flip(0).clamp(min=0).float(),
        eigvecs.flip(1).float(),
    )


def pca_colour_shift(
    alpha: torch.Tensor, eigvals: torch.Tensor, eigvecs: torch.Tensor
) -> torch.Tensor:
    """The RGB offsets ``sum_i alpha_i * sqrt(lambda_i) * p_i``, one per image.

    The paper writes ``alpha_i * lambda_i`` with ``lambda_i`` the eigenvalues of the 3x3 RGB
    covariance. An eigenvalue is a variance, in squared pixel units, so ``alpha * lambda``
    would depend on the pixel scale (0..1 or 0..255). Krizhevsky's cuda-convnet multiplies
    by the eigenvalues' square roots, the standard deviations along each principal axis,
    and so does this function: the shift along ``p_i`` has a standard deviation of
    ``0.1 * sqrt(lambda_i)``, a tenth of the spread of the training pixels along that axis,
    on any pixel scale.

    Args:
        alpha: (N, 3) random weights, in the paper N(0, 0.1^2).
        eigvals: (3,) eigenvalues of the RGB covariance (variances, see
            :func:`pca_colour_stats`).
        eigvecs: (3, 3) eigenvectors, one per column.

    Returns:
        (N, 3) offsets, to add to every pixel of each image.
    """
    return (alpha * eigvals.to(alpha).clamp(min=0).sqrt()) @ eigvecs.to(alpha).T


def draw_augmentation(
    n: int,
    side: int,
    size: int,
    min_area: float | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, ...]:
    """Random parameters for ``n`` training images of ``side`` x ``side`` pixels, drawn on the
    CPU from ``generator``.

    The crop boxes are the paper's ``size`` x ``size`` windows at random offsets, or, with
    ``min_area``, boxes of ``min_area``..1 of the image area and aspect ratio 3/4..4/3 at random
    places, as torchvision's ``RandomResizedCrop`` (:func:`train_batch` resizes them to
    ``size``).

    Returns:
        top, left, height, width (n,) of the boxes in pixels, flip (n,) bool and alpha (n, 3)
        from N(0, 0.1^2).
    """
    if min_area is None:
        height = width = torch.full((n,), size)
        top = torch.randint(side - size + 1, (n,), generator=generator)
        left = torch.randint(side - size + 1, (n,), generator=generator)
    else:
        area = torch.empty(n).uniform_(min_area, 1.0, generator=generator) * side**2
        aspect = (
            torch.empty(n).uniform_(math.log(3 / 4), math.log(4 / 3), generator=generator).exp()
        )
        width = (area * aspect).sqrt().round().clamp(1, side).long()
        height = (area / aspect).sqrt().round().clamp(1, side).long()
        top = (torch.rand(n, generator=generator) * (side - height + 1)).long()
        left = (torch.rand(n, generator=generator) * (side - width + 1)).long()
    flip = torch.rand(n, generator=generator) < 0.5
    alpha = torch.randn(n, 3, generator=generator) * PCA_STD
    return top, left, height, width, flip, alpha


def resized_crop(
    images: torch.Tensor,
    size: int,
    top: torch.Tensor,
    left: torch.Tensor,
    height: torch.Tensor,
    width: torch.Tensor,
    flip: torch.Tensor,
) -> torch.Tensor:
    """Cut a box out of each image and resize it to ``size`` x ``size`` (bilinear), mirrored
    where ``flip`` is set: one ``grid_sample`` for the whole batch.

    Args:
        images: (N, C, S, S) uint8 or float.
        top, left, height, width: (N,) boxes in pixels.
        flip: (N,) bool.

    Returns:
        (N, C, size, size) float32, on the 0..255 scale for uint8 input.
    """
    n, c, side = images.shape[0], images.shape[1], images.shape[-1]
    theta = torch.zeros(n, 2, 3)
    top, left, height, width = (t.float() for t in (top, left, height, width))
    theta[:, 0, 0] = width / side * torch.where(flip, -1.0, 1.0)
    theta[:, 0, 2] = (2 * left + width) / side - 1
    theta[:, 1, 1] = height / side
    theta[:, 1, 2] = (2 * top + height) / side - 1
    grid = F.affine_grid(
        theta.to(images.device, non_blocking=True), [n, c, size, size], align_corners=False
    )
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border",
                         align_corners=False)  # fmt: skip


def crop(
    images: torch.Tensor,
    size: int,
    top: torch.Tensor,
    left: torch.Tensor,
    flip: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cut a ``size`` x ``size`` window out of each image, mirrored where ``flip`` is set.

    One advanced-indexing gather does the whole batch.

    Args:
        images: (N, C, H, W), any dtype, any device.
        top, left: (N,) integer offsets of the windows.
        flip: (N,) bool, or None for no flips.

    Returns:
        (N, C, size, size), same dtype and device as ``images``.
    """
    dev = images.device
    n, c = images.shape[:2]
    r = torch.arange(size, device=dev)
    rows = top.to(dev, non_blocking=True)[:, None] + r  # N x size
    cols = left.to(dev, non_blocking=True)[:, None] + r
    if flip is not None:
        cols = torch.where(flip.to(dev, non_blocking=True)[:, None], cols.flip(1), cols)
    return images[
        torch.arange(n, device=dev)[:, None, None, None],
        torch.arange(c, device=dev)[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]


def normalize(images: torch.Tensor, stats: dict[str, torch.Tensor]) -> torch.Tensor:
    """Scale to 0..1 (uint8 input), subtract the mean, divide by the std, per channel.

    Args:
        images: (N, 3, H, W) uint8 (0..255) or float (0..1).
        stats: holds "mean" (3,) and "std" (3,), see :func:`pca_colour_stats`.

    Returns:
        (N, 3, H, W) float32.
    """
    x = images.float() / 255 if not images.is_floating_point() else images.float()
    mean, std = stats["mean"].to(x), stats["std"].to(x)
    return (x - mean[:, None, None]) / std[:, None, None]


def train_batch(
    images: torch.Tensor,
    size: int,
    stats: dict[str, torch.Tensor],
    generator: torch.Generator | None = None,
    params: tuple[torch.Tensor, ...] | None = None,
) -> torch.Tensor:
    """Augment a batch as in the paper: random crop, random flip, PCA colour, normalization.

    Crop boxes larger or smaller than ``size`` (from ``draw_augmentation(min_area=...)``) are
    resized to ``size`` by :func:`resized_crop`.

    Args:
        images: (N, 3, S, S) uint8, on the training device, S >= size.
        size: side of the crops.
        stats: the pack's "mean", "std", "eigvals" and "eigvecs" (see :func:`pca_colour_stats`).
        generator: CPU generator for the random parameters (reproducible augmentation).
        params: parameters from :func:`draw_augmentation` to use instead of drawing them.

    Returns:
        (N, 3, size, size) float32 on the device of ``images``.
    """
    if params is None:
        params = draw_augmentation(len(images), images.shape[-1], size, generator=generator)
    top, left, height, width, flip, alpha = params
    if (height == size).all() and (width == size).all():  # the paper's crops: exact and fast
        x = crop(images, size, top, left, flip).float().div_(255)
    else:
        x = resized_crop(images, size, top, left, height, width, flip).div_(255)
    shift = pca_colour_shift(
        alpha.to(x.device, non_blocking=True), stats["eigvals"], stats["eigvecs"]
    )
    return normalize(x.add_(shift[:, :, None, None]), stats)


def _centre(images: torch.Tensor, size: int) -> int:
    return (images.shape[-1] - size) // 2


def centre_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """The centre ``size`` x ``size`` window: (N, C, S, S) -> (N, C, size, size)."""
    o = _centre(images, size)
    return images[..., o : o + size, o : o + size]


def ten_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """The paper's ten test patches: four corners and the centre, each also mirrored.

    Order as torchvision's ``TenCrop``: top-left, top-right, bottom-left, bottom-right,
    centre, then the same five of the mirrored image (whose top-left is the mirrored
    top-right patch).

    Args:
        images: (N, C, S, S).

    Returns:
        (10, N, C, size, size).
    """
    far, c = images.shape[-1] - size, _centre(images, size)
    views = [
        images[..., t : t + size, s : s + size]
        for t, s in ((0, 0), (0, far), (far, 0), (far, far), (c, c))
    ]
    tl, tr, bl, br, centre = views
    return torch.stack(views + [v.flip(-1) for v in (tr, tl, br, bl, centre)])


class PCAColour(v2.Transform):
    """Per-image PCA colour augmentation for float (3, H, W) images in 0..1.

    Adds :func:`pca_colour_shift` with alpha ~ N(0, 0.1^2) drawn once per call (image).
    """

    def __init__(
        self, eigvals: torch.Tensor, eigvecs: torch.Tensor, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.eigvals, self.eigvecs, self.generator = eigvals, eigvecs, generator

    def make_params(self, flat_inputs: list) -> dict:
        return {"alpha": torch.randn(1, 3, generator=self.generator) * PCA_STD}

    def transform(self, inpt, params: dict):
        if not isinstance(inpt, torch.Tensor) or not inpt.is_floating_point():
            return inpt
        shift = pca_colour_shift(params["alpha"], self.eigvals, self.eigvecs)[0]
        return inpt + shift.to(inpt)[:, None, None]


def train_transform(size: int, stats: dict[str, torch.Tensor]) -> v2.Compose:
    """Per-image version of :func:`train_batch` for PIL images (seed with torch.manual_seed).

    Resize the short side to :func:`resize_for` ``(size)`` and take the centre square (as
    :mod:`alexnet_lab.pack` stores images), random ``size`` crop, random flip, to float, PCA
    colour, normalization. PIL image -> (3, size, size) float32.
    """
    return v2.Compose(
        [
            v2.Resize(resize_for(size)),
            v2.CenterCrop(resize_for(size)),
            v2.RandomCrop(size),
            v2.RandomHorizontalFlip(),
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            PCAColour(stats["eigvals"], stats["eigvecs"]),
            v2.Normalize(stats["mean"].tolist(), stats["std"].tolist()),
        ]
    )


def eval_transform(size: int, stats: dict[str, torch.Tensor]) -> v2.Compose:
    """Per-image centre-crop evaluation: PIL image -> (3, size, size) float32."""
    return v2.Compose(
        [
            v2.Resize(resize_for(size)),
            v2.CenterCrop(resize_for(size)),
            v2.CenterCrop(size),
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(stats["mean"].tolist(), stats["std"].tolist()),
        ]
    )
