"""Where a classifier goes wrong: the confusion matrix and its most confident mistakes."""

from __future__ import annotations

import torch

from alexnet_lab.evaluate import top_classes


def confusion_matrix(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Counts of (true class, predicted class): row = truth, column = top-1 prediction.

    Shape: probs (N, C), labels (N,) -> (C, C) int64.
    """
    c = probs.shape[1]
    pred = top_classes(probs.cpu(), 1)[1][:, 0]
    return torch.bincount(labels.cpu() * c + pred, minlength=c * c).reshape(c, c)


def most_confident_mistakes(probs: torch.Tensor, labels: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of up to ``n`` wrongly classified images, highest top-1 probability first.

    Shape: probs (N, C), labels (N,) -> (min(n, number of mistakes),) int64.
    """
    conf, pred = (t[:, 0] for t in top_classes(probs, 1))
    wrong = (pred != labels.to(pred.device)).nonzero().flatten()
    order = conf[wrong].argsort(descending=True, stable=True)
    return wrong[order[:n]].cpu()
