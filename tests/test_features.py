"""fc7 features, nearest neighbours and the t-SNE map (alexnet_lab/analysis/features.py)."""

from __future__ import annotations

import torch

from alexnet_lab.analysis.features import fc7_features, nearest_neighbours, tsne_map
from alexnet_lab.analysis.hooks import activations
from alexnet_lab.augment import centre_crop, normalize
from alexnet_lab.model import AlexNet

STATS = {"mean": torch.tensor([0.5, 0.45, 0.4]), "std": torch.tensor([0.25, 0.25, 0.3])}


def brute_force(queries: torch.Tensor, keys: torch.Tensor, k: int):
    d = torch.cdist(queries.flatten(1).double(), keys.flatten(1).double())
    order = d.argsort(dim=1, stable=True)[:, :k]
    return d.gather(1, order), order


def test_nearest_neighbours_equal_a_brute_force_cdist():
    gen = torch.Generator().manual_seed(0)
    queries, keys = torch.randn(7, 50, generator=gen), torch.randn(300, 50, generator=gen)
    keys[123] = queries[2]  # an exact match is its nearest, at distance 0
    found = nearest_neighbours(queries, keys, k=5, block=64)  # blocks merged across 5 reads
    dist, idx = brute_force(queries, keys, 5)
    assert torch.equal(found.indices, idx)
    torch.testing.assert_close(found.distances.double(), dist, rtol=1e-5, atol=1e-5)
    assert found.indices[2, 0] == 123 and found.distances[2, 0] < 1e-6


def test_pixel_neighbours_read_uint8_images_block_by_block():
    gen = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (40, 3, 9, 9), dtype=torch.uint8, generator=gen)
    queries = images[[3, 17]].float() + torch.randn(2, 3, 9, 9, generator=gen)
    found = nearest_neighbours(queries, images, k=3, block=16)
    dist, idx = brute_force(queries, images.float(), 3)
    assert torch.equal(found.indices, idx) and found.indices[:, 0].tolist() == [3, 17]
    torch.testing.assert_close(found.distances.double(), dist, rtol=1e-5, atol=1e-4)
    assert nearest_neighbours(queries, images[:2], k=3).indices.shape == (2, 2)  # k > N


def test_fc7_features_are_the_act7_outputs_of_centre_crops_in_eval_mode():
    torch.manual_seed(0)
    model = AlexNet(10, init="kaiming").train()  # dropout on: must be switched off
    images = torch.randint(0, 256, (5, 3, 73, 73), dtype=torch.uint8)
    features = fc7_features(model, images, 64, STATS, batch_size=2)
    assert features.shape == (5, 4096) and model.training  # its mode is given back
    model.eval()
    expected = activations(model, normalize(centre_crop(images, 64), STATS), ("act7",))["act7"]
    torch.testing.assert_close(features, expected, rtol=1e-4, atol=1e-5)
    assert (features >= 0).all() and (features > 0).any()  # after the ReLU
    pool5 = fc7_features(model, images, 64, STATS, layer="pool5")
    assert pool5.shape == (5, 256 * 1 * 1)  # 64 px: pool5 is 1x1, flattened


def test_tsne_keeps_separate_clusters_apart():
    gen = torch.Generator().manual_seed(2)
    a = torch.randn(20, 300, generator=gen)
    b = torch.randn(20, 300, generator=gen) + 4.0
    points = tsne_map(torch.cat([a, b]), pca_dims=10)
    assert points.shape == (40, 2)
    nearest = nearest_neighbours(points, points, k=2).indices[:, 1]  # [:, 0] is itself
    assert ((nearest < 20) == (torch.arange(40) < 20)).all()
