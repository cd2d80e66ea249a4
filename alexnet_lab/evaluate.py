"""Top-1 and top-5 accuracy of a model on packed images, with a centre crop or ten crops."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alexnet_lab.augment import centre_crop, normalize, ten_crop
from alexnet_lab.precision import use_bf16


def top_classes(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` highest scores of each row and their classes, highest first.

    Equal scores rank the lower class first, as ``argmax`` does, whatever ``k`` is
    (``topk`` orders ties differently for different ``k``). bf16 logits do tie now and then,
    and every top-1 and top-k in the project (accuracy, confusion matrix, mistakes) comes
    from here, so they all count the same images as right.

    Shape: scores (N, C) -> values (N, min(k, C)), classes (N, min(k, C)) int64.
    """
    values, classes = scores.sort(dim=1, descending=True, stable=True)
    return values[:, :k], classes[:, :k]


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...] = (1, 5)):
    """How many rows of ``logits`` (N, C) have their label among the top k, for each k.

    Returns:
        A (len(ks),) int64 tensor of counts (k larger than C counts as C).
    """
    top = top_classes(logits, max(ks))[1]  # N x kmax
    hit = top == labels[:, None]
    return torch.stack([hit[:, :k].any(1).sum() for k in ks])


@torch.no_grad()
def predict(
    model: nn.Module,
    images: torch.Tensor,
    size: int,
    stats: dict[str, torch.Tensor],
    ten: bool = False,
    batch_size: int = 256,
    bf16: bool | None = None,
) -> torch.Tensor:
    """Class probabilities of ``images``.

    With ``ten=True`` the softmax is averaged over the paper's ten patches
    (:func:`alexnet_lab.augment.ten_crop`); otherwise it is the softmax of the centre crop.

    Args:
        model: in eval mode, on the device the results should be computed on.
        images: (N, 3, S, S) uint8 (any device; moved batch by batch).
        size: crop side.
        stats: "mean" and "std" of the training pixels.
        bf16: bf16 autocast and channels_last; None: where the hardware has bf16
            (:func:`alexnet_lab.precision.use_bf16`).

    Returns:
        (N, num_classes) float32 probabilities on the CPU.
    """
    dev = next(model.parameters()).device
    fast = use_bf16(dev) if bf16 is None else bf16
    out = []
    for i in range(0, len(images), batch_size):
        batch = images[i : i + batch_size].to(dev, non_blocking=True)
        views = ten_crop(batch, size) if ten else centre_crop(batch, size)[None]
        probs = 0
        for view in views:
            x = normalize(view, stats)
            if fast:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=fast):
                probs = probs + F.softmax(model(x).float(), dim=1)
        out.append((probs / len(views)).cpu())
    return torch.cat(out)


def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    size: int,
    stats: dict[str, torch.Tensor],
    ten: bool = False,
    batch_size: int = 256,
    bf16: bool | None = None,
) -> dict[str, float]:
    """Loss and top-1 / top-5 accuracy (in %) of ``model`` on ``images`` (N, 3, S, S) uint8.

    Puts the model in eval mode (and leaves it there). See :func:`predict` for ``ten`` and
    ``bf16``.

    Returns:
        {"loss", "top1", "top5", "n"}.
    """
    model.eval()
    probs = predict(model, images, size, stats, ten, batch_size, bf16)
    labels = labels.cpu()
    loss = F.nll_loss(probs.clamp_min(1e-12).log(), labels).item()
    top1, top5 = (100 * topk_correct(probs, labels) / len(labels)).tolist()
    return {"loss": loss, "top1": top1, "top5": top5, "n": len(labels)}
