"""The paper's augmentation: PCA colour, crops and flips, ten-crop evaluation."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torch import nn
from torchvision.transforms.v2 import functional as TF

from alexnet_lab import augment
from alexnet_lab.evaluate import evaluate, predict, topk_correct


def _stats(eigvals=(0.04, 0.01, 0.0)) -> dict[str, torch.Tensor]:
    q, _ = torch.linalg.qr(torch.tensor([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [2.0, 0.1, -1.0]]))
    return {
        "mean": torch.tensor([0.5, 0.45, 0.4]),
        "std": torch.tensor([0.25, 0.24, 0.26]),
        "eigvals": torch.tensor(eigvals),
        "eigvecs": q,
    }


def _images(n: int = 6, side: int = 20, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, side, side), dtype=torch.uint8, generator=g)


def test_resize_keeps_the_papers_ratio():
    assert augment.resize_for(224) == 256
    assert augment.resize_for(112) == 128


def test_pca_stats_are_the_eigen_decomposition_of_the_pixel_covariance():
    g = torch.Generator().manual_seed(0)
    mix = torch.tensor([[0.2, 0.0, 0.0], [0.1, 0.1, 0.0], [0.05, 0.02, 0.03]])
    rgb = (0.5 + torch.randn(4000, 3, generator=g) @ mix.T).clamp(0, 1)  # correlated colours
    images = rgb.T.reshape(3, 40, 100)[None]  # 1 x 3 x 40 x 100, float in 0..1
    mean, std, eigvals, eigvecs = augment.pca_colour_stats(images)
    cov = torch.cov(rgb.T.double()).float()
    assert torch.allclose(mean, rgb.mean(0), atol=1e-5)
    assert torch.allclose(std, rgb.std(0), atol=1e-5)
    assert torch.all(eigvals[:-1] >= eigvals[1:])
    assert torch.allclose(eigvecs.T @ eigvecs, torch.eye(3), atol=1e-5)
    assert torch.allclose(cov @ eigvecs, eigvecs * eigvals, atol=1e-5)
    # uint8 input gives the same statistics on the 0..1 scale
    u8 = (images * 255).round().to(torch.uint8)
    assert torch.allclose(augment.pca_colour_stats(u8)[2], eigvals, rtol=0.02)


def test_pca_shift_is_a_tenth_of_the_pixel_spread_along_each_eigenvector():
    stats = _stats(eigvals=(0.04, 0.01, 0.0))  # rank 2: no shift along p_3
    g = torch.Generator().manual_seed(0)
    alpha = augment.draw_augmentation(20_000, 12, 12, generator=g)[5]
    shift = augment.pca_colour_shift(alpha, stats["eigvals"], stats["eigvecs"])  # N x 3
    coords = shift @ stats["eigvecs"]  # coordinates along p_1, p_2, p_3
    assert coords[:, 2].abs().max() < 1e-6
    spread = stats["eigvals"].sqrt()  # std of the pixels along p_i
    assert torch.allclose(coords[:, :2].std(0), augment.PCA_STD * spread[:2], rtol=0.03)
    assert torch.allclose(coords[:, :2] / spread[:2], alpha[:, :2], atol=1e-4)


def test_pca_shift_does_not_depend_on_the_pixel_scale():
    """sqrt(lambda) has the units of a pixel, so the shift scales with the pixels."""
    images = torch.rand(4, 3, 10, 10)
    alpha = torch.randn(5, 3) * augment.PCA_STD
    _, _, vals, vecs = augment.pca_colour_stats(images)
    _, _, vals255, vecs255 = augment.pca_colour_stats(images * 255)
    vecs255 = vecs255 * (vecs255 * vecs).sum(0).sign()  # eigenvectors up to their sign
    shift = augment.pca_colour_shift(alpha, vals, vecs)
    shift255 = augment.pca_colour_shift(alpha, vals255, vecs255)
    torch.testing.assert_close(shift255, 255 * shift, rtol=1e-3, atol=1e-3)


def test_pca_colour_transform_shifts_every_pixel_by_one_vector():
    stats = _stats()
    image = torch.rand(3, 8, 8)
    out = augment.PCAColour(stats["eigvals"], stats["eigvecs"])(image)
    delta = (out - image).reshape(3, -1)
    assert delta.abs().sum() > 0
    assert torch.allclose(delta, delta[:, :1].expand_as(delta), atol=1e-6)
    assert delta[:, 0].norm() < 5 * augment.PCA_STD * stats["eigvals"].sqrt().sum()


def test_batched_crop_matches_a_per_image_reference():
    images = _images()
    params = augment.draw_augmentation(6, 20, 12, generator=torch.Generator().manual_seed(1))
    top, left, _, _, flip, _ = params
    out = augment.crop(images, 12, top, left, flip)
    assert out.shape == (6, 3, 12, 12) and out.dtype == torch.uint8
    assert flip.any() and not flip.all()
    for i in range(6):
        ref = TF.crop(images[i], int(top[i]), int(left[i]), 12, 12)
        assert torch.equal(out[i], TF.horizontal_flip(ref) if flip[i] else ref)


def test_resized_crop_of_a_box_of_the_output_size_is_the_plain_crop():
    images = _images()
    params = augment.draw_augmentation(6, 20, 12, generator=torch.Generator().manual_seed(1))
    top, left, _, _, flip, _ = params
    side = torch.full((6,), 12)
    out = augment.resized_crop(images, 12, top, left, side, side, flip)
    assert out.dtype == torch.float32 and out.shape == (6, 3, 12, 12)
    torch.testing.assert_close(
        out, augment.crop(images, 12, top, left, flip).float(), atol=1e-3, rtol=0
    )


def test_resized_crop_of_a_box_twice_the_output_size_averages_2x2_pixels():
    images = _images(2, side=20)
    top, left, box = torch.tensor([0, 3]), torch.tensor([2, 0]), torch.full((2,), 16)
    out = augment.resized_crop(images, 8, top, left, box, box, torch.tensor([False, True]))
    for i in range(2):
        window = images[
            i : i + 1, :, int(top[i]) : int(top[i]) + 16, int(left[i]) : int(left[i]) + 16
        ]
        ref = nn.functional.avg_pool2d(window.float(), 2)[0]
        torch.testing.assert_close(out[i], ref.flip(-1) if i else ref, atol=1e-3, rtol=0)


def test_resized_crop_boxes_cover_the_area_and_aspect_range():
    top, left, height, width, flip, alpha = augment.draw_augmentation(
        5000, 128, 112, 0.35, torch.Generator().manual_seed(0)
    )
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + height <= 128).all() and (left + width <= 128).all()
    area, aspect = height * width / 128**2, width / height
    assert top.dtype == height.dtype == torch.int64
    assert area.min() > 0.33 and area.max() <= 1 and area.mean() == pytest.approx(0.67, abs=0.03)
    assert aspect.min() > 0.72 and aspect.max() < 1.39
    assert 0.45 < flip.float().mean() < 0.55 and alpha.std().item() == pytest.approx(0.1, rel=0.05)


def test_train_batch_with_box_parameters_resizes_the_boxes():
    images, stats = _images(), _stats()
    params = augment.draw_augmentation(6, 20, 12, 0.35, torch.Generator().manual_seed(3))
    out = augment.train_batch(images, 12, stats, params=params)
    top, left, height, width, flip, alpha = params
    shift = augment.pca_colour_shift(alpha, stats["eigvals"], stats["eigvecs"])
    crops = augment.resized_crop(images, 12, top, left, height, width, flip) / 255
    torch.testing.assert_close(out, augment.normalize(crops + shift[:, :, None, None], stats))


def test_train_batch_is_crop_flip_pca_then_normalize():
    images, stats = _images(), _stats()
    params = augment.draw_augmentation(6, 20, 12, generator=torch.Generator().manual_seed(2))
    out = augment.train_batch(images, 12, stats, params=params)
    top, left, _, _, flip, alpha = params
    shift = augment.pca_colour_shift(alpha, stats["eigvals"], stats["eigvecs"])
    crops = augment.crop(images, 12, top, left, flip).float() / 255 + shift[:, :, None, None]
    assert out.dtype == torch.float32 and out.shape == (6, 3, 12, 12)
    assert torch.allclose(out, augment.normalize(crops, stats), atol=1e-5)


def test_seeded_augmentation_is_reproducible():
    images, stats = _images(), _stats()

    def batch(seed: int) -> torch.Tensor:
        return augment.train_batch(images, 12, stats, torch.Generator().manual_seed(seed))

    assert torch.equal(batch(0), batch(0))
    assert not torch.equal(batch(0), batch(1))
    pil = Image.fromarray(_images(1, 40)[0].permute(1, 2, 0).numpy())
    transform = augment.train_transform(24, stats)

    def one(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        return transform(pil)

    assert one(0).shape == (3, 24, 24)
    assert torch.equal(one(0), one(0))
    assert not torch.equal(one(0), one(1))


def test_ten_crop_gives_the_four_corners_the_centre_and_their_flips():
    images = _images(2, 20)
    views = augment.ten_crop(images, 12)
    assert views.shape == (10, 2, 3, 12, 12)
    for i in range(2):
        ref = TF.ten_crop(images[i], [12, 12])
        for v in range(10):
            assert torch.equal(views[v, i], ref[v])
    assert torch.equal(views[4], augment.centre_crop(images, 12))


def test_evaluator_averages_the_softmax_over_the_ten_views():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 12 * 12, 5)).eval()
    images, labels, stats = _images(7, 16), torch.tensor([0, 1, 2, 3, 4, 0, 1]), _stats()
    probs = predict(model, images, 12, stats, ten=True, batch_size=3, bf16=False)
    with torch.no_grad():
        views = augment.ten_crop(images, 12)
        logits = torch.stack([model(augment.normalize(v, stats)) for v in views])
        each, mean_logits = logits.softmax(2), logits.mean(0)
    assert probs.shape == (7, 5)
    assert torch.allclose(probs, each.mean(0), atol=1e-6)
    assert not torch.allclose(probs, mean_logits.softmax(1), atol=1e-6)
    result = evaluate(model, images, labels, 12, stats, ten=True, bf16=False)
    expected = 100 * (probs.argmax(1) == labels).float().mean().item()
    assert result["top1"] == pytest.approx(expected)
    assert result["n"] == 7


def test_topk_correct_counts_hits():
    logits = torch.tensor([[3.0, 2, 1, 0, -1, -2], [0, 1, 2, 3, 4, 5]])
    assert topk_correct(logits, torch.tensor([1, 0])).tolist() == [0, 1]
    assert topk_correct(logits, torch.tensor([0, 5])).tolist() == [2, 2]
    assert topk_correct(logits[:, :3], torch.tensor([2, 0]), ks=(1, 5)).tolist() == [0, 2]
