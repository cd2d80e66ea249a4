"""The network's 4096-d fc7 code: features of many images, nearest neighbours, a 2-D map.

The paper's Figure 4 (right) finds, for a test image, the training images whose fc7
activations (after the ReLU) are nearest in Euclidean distance; :func:`fc7_features` computes
them for a whole set of images in batches and :func:`nearest_neighbours` finds the nearest.
:func:`tsne_map` lays the features out in 2-D with scikit-learn's t-SNE.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from torch import nn

from alexnet_lab.analysis.hooks import activations
from alexnet_lab.augment import centre_crop, normalize


def fc7_features(
    model: nn.Module,
    images: torch.Tensor,
    size: int,
    stats: dict[str, torch.Tensor],
    layer: str = "act7",
    batch_size: int = 256,
) -> torch.Tensor:
    """The output of ``layer`` (default fc7 after its ReLU) for every image, batch by batch.

    Images are prepared as for evaluation: the centre ``size`` crop, normalized with
    ``stats``. The model runs in eval mode (dropout off) under ``torch.inference_mode``,
    on the device its parameters are on; its mode is restored afterwards.

    Args:
        images: (N, 3, S, S) uint8 with S >= size, as :mod:`alexnet_lab.pack` stores them
            (any device; moved batch by batch).

    Returns: (N, D) float32 on the CPU (D = 4096 for fc7).
    """
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for i in range(0, len(images), batch_size):
                x = normalize(centre_crop(images[i : i + batch_size].to(dev), size), stats)
                out.append(activations(model, x, (layer,))[layer].flatten(1).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, 0)


class Neighbours(NamedTuple):
    """The ``k`` nearest keys of each query, nearest first."""

    distances: torch.Tensor  # (Q, k) Euclidean distances
    indices: torch.Tensor  # (Q, k) int64 rows of the keys


def nearest_neighbours(
    queries: torch.Tensor, keys: torch.Tensor, k: int, block: int | None = None
) -> Neighbours:
    """The ``k`` keys nearest to each query in Euclidean distance.

    Keys are read ``block`` rows at a time (default: about 2^24 values per block) and
    flattened and converted there, so ``keys`` may be a large uint8 tensor of images
    (pixel-space neighbours) without a float copy of all of it. Distances are computed in
    float64 as sqrt(|q|^2 + |x|^2 - 2 q.x); equal distances rank the lower index first.

    Shape: queries (Q, ...), keys (N, ...) with the same number of values per row ->
    distances (Q, min(k, N)) float32, indices (Q, min(k, N)) int64.
    """
    q = queries.flatten(1).double()
    qq = q.square().sum(1, keepdim=True)
    block = block or max(1, (1 << 24) // max(1, q.shape[1]))
    best_d = torch.empty(len(q), 0, dtype=torch.float64)
    best_i = torch.empty(len(q), 0, dtype=torch.int64)
    for start in range(0, len(keys), block):
        part = keys[start : start + block].flatten(1).double()
        d = (qq + part.square().sum(1) - 2 * q @ part.T).clamp_min(0).sqrt()
        idx = torch.arange(start, start + len(part)).expand(len(q), -1)
        d, i = torch.cat([best_d, d], 1), torch.cat([best_i, idx], 1)
        order = d.sort(dim=1, stable=True).indices[:, :k]  # stable: lower index first
        best_d, best_i = d.gather(1, order), i.gather(1, order)
    return Neighbours(best_d.float(), best_i)


def tsne_map(
    features: torch.Tensor, perplexity: float = 30.0, pca_dims: int = 50, seed: int = 0
) -> torch.Tensor:
    """A 2-D t-SNE map of ``features`` (scikit-learn), after a PCA to ``pca_dims``.

    The PCA step (the usual practice for high-dimensional features) makes t-SNE faster and
    less noisy. ``perplexity`` is lowered to ``(N - 1) / 3`` for small sets, which t-SNE
    needs. The axes of the map have no meaning; nearby points had nearby features.

    Shape: (N, D) -> (N, 2) float32.
    """
    x = features.double().numpy()
    dims = min(pca_dims, *x.shape)
    if dims < x.shape[1]:
        x = PCA(dims, random_state=seed).fit_transform(x)
    perplexity = min(perplexity, max(1.0, (len(x) - 1) / 3))
    tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
    return torch.from_numpy(tsne.fit_transform(x)).float()
