"""The RGB principal components behind the paper's PCA colour augmentation, and the size of
the shift along each.

:func:`alexnet_lab.augment.pca_colour_shift` moves every pixel of an image by
``sum_i alpha_i * sqrt(lambda_i) * p_i`` with ``alpha_i ~ N(0, 0.1^2)``: along ``p_i`` the
shift has a standard deviation of ``0.1 * sqrt(lambda_i)``. :func:`pca_shifts` gets those
shifts from that function itself, and :func:`describe_pca` lists them.
"""

from __future__ import annotations

import torch

from alexnet_lab.analysis.tables import DisplayTable
from alexnet_lab.augment import PCA_STD, pca_colour_shift


def pca_shifts(stats: dict[str, torch.Tensor], alpha: float = PCA_STD) -> torch.Tensor:
    """Row ``i``: the RGB shift (0..1 scale) for ``alpha_i = alpha`` and the other two 0,
    that is ``alpha * sqrt(lambda_i) * p_i``.

    Args:
        stats: "eigvals" (3,) and "eigvecs" (3, 3) of the training pixels (columns are the
            eigenvectors), see :func:`alexnet_lab.augment.pca_colour_stats`.
        alpha: the weight; the default, the standard deviation of ``alpha``, gives each
            shift's standard deviation as its length.

    Shape: (3, 3).
    """
    eigvals, eigvecs = stats["eigvals"].cpu().float(), stats["eigvecs"].cpu().float()
    return pca_colour_shift(alpha * torch.eye(3), eigvals, eigvecs)


def describe_pca(stats: dict[str, torch.Tensor]) -> DisplayTable:
    """The eigenvalues and eigenvectors of the RGB covariance, and the standard deviation of
    the augmentation's shift along each eigenvector (``0.1 * sqrt(lambda_i)``), on the 0..1
    scale and in grey levels out of 255.

    Args:
        stats: "eigvals" (3,) and "eigvecs" (3, 3), as in :func:`pca_shifts`.
    """
    std = pca_shifts(stats).norm(dim=1)  # the eigenvectors have unit length
    rows = [
        (
            f"p{i + 1}",
            f"{lam:.4f}",
            "(" + ", ".join(f"{v:+.3f}" for v in vec) + ")",
            f"{s:.4f}",
            f"{255 * s:.1f}",
        )
        for i, (lam, vec, s) in enumerate(
            zip(stats["eigvals"].tolist(), stats["eigvecs"].T.tolist(), std.tolist(), strict=True)
        )
    ]
    note = f"std of shift: {PCA_STD} x sqrt(lambda), alpha ~ N(0, {PCA_STD}^2) times the std of"
    note += " the training pixels along p"
    return DisplayTable(
        ("", "lambda", "p (R, G, B)", "std of shift", "grey levels"), rows, (note,), "lrlrr"
    )
