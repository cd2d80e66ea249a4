"""What the layer chapters feed the network and read out of it.

:func:`chapter_model` is the one network every layer chapter looks at: the AlexNet trained
with the chapter's profile (:func:`alexnet_lab.trained.load_trained`); :func:`model_summary`
says which run it is and how well it does, and :func:`initial_model` rebuilds its weights
from before training; :func:`colour_share` measures how much of a first-layer kernel is
colour. :func:`imagenette_image` and :func:`imagenette_batch` load real
Imagenette validation images at the profile's size, prepared as the trainer evaluates them
(centre crop, normalized with ``model.stats``), and :func:`activations` records the outputs
of named layers with forward hooks.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from alexnet_lab.augment import eval_transform
from alexnet_lab.classes import IMAGENETTE_WNIDS
from alexnet_lab.data import ImageFolder, find_dataset, load_rgb
from alexnet_lab.model import AlexNet
from alexnet_lab.profiles import Profile
from alexnet_lab.train import build_model
from alexnet_lab.trained import load_history, load_trained


def chapter_model(profile: Profile) -> AlexNet:
    """The network the layer chapters look at: ``load_trained(profile.name)``.

    The AlexNet trained on Imagenette (10 classes) with ``profile``, in eval mode on the
    CPU, with ``model.classes``, ``model.profile`` and ``model.stats`` (the per-channel
    "mean" and "std" of the training pixels, on the 0..1 scale, that its inputs are
    normalized with). Trains it first if ``runs/<profile>/`` has no finished run.
    """
    return load_trained(profile.name)


def model_summary(model: AlexNet) -> str:
    """One line on a trained model: profile, epochs, image size, final validation accuracy.

    Reads the run's history (:func:`alexnet_lab.trained.load_history`); the accuracies are
    those of the last epoch, on the centre crops of the profile's validation images.
    """
    p = model.profile
    last = load_history(p.name)[-1]
    return (
        f"AlexNet trained with the '{p.name}' profile: {last['epoch']} epochs on Imagenette "
        f"at {p.image_size}px; validation top-1 {last['val_top1']:.1f}%, "
        f"top-5 {last['val_top5']:.1f}%"
    )


def initial_model(model: AlexNet, seed: int = 0) -> AlexNet:
    """The same network with the weights it started training from, in eval mode.

    :func:`alexnet_lab.train.train` seeds torch with ``seed`` (0 unless it was given
    another) and then builds the model, so doing the same gives the initial weights.
    Carries ``model.stats``, ``model.classes`` and ``model.profile`` of ``model``.
    """
    torch.manual_seed(seed)
    start = build_model(model.profile, model.classifier.fc8.out_features)
    start.stats, start.classes, start.profile = model.stats, model.classes, model.profile
    return start.eval()


def colour_share(weight: torch.Tensor) -> torch.Tensor:
    """Share of each RGB kernel's squared norm that is colour rather than brightness.

    A kernel splits into its grey part (the mean of its three channels, the same in R, G
    and B) and the rest; this is ``|rest|^2 / |kernel|^2``: 0 for a kernel that only sees
    brightness (colour-agnostic), 1 for one whose channels cancel out, 2/3 on average for
    random kernels with independent channels.

    Shape: (C_out, 3, k, k) -> (C_out,).
    """
    w = weight.detach().double()
    colour = w - w.mean(dim=1, keepdim=True)
    return (colour.square().sum((1, 2, 3)) / w.square().sum((1, 2, 3))).float()


def to_display(image: torch.Tensor, stats: dict[str, torch.Tensor]) -> torch.Tensor:
    """Undo the normalization for plotting: (3, H, W) -> (H, W, 3) in [0, 1]."""
    mean, std = stats["mean"].view(3, 1, 1), stats["std"].view(3, 1, 1)
    return (image.detach().cpu() * std + mean).clamp(0, 1).permute(1, 2, 0)


def paper_pixel_scale(images: torch.Tensor, stats: dict[str, torch.Tensor]) -> torch.Tensor:
    """Normalized images on the paper's input scale: centred raw RGB values (0..255 range).

    The paper subtracts the mean image and feeds pixel values otherwise unscaled; this
    undoes the division by the per-channel std and multiplies by 255. (The paper subtracts
    a per-pixel mean image; here the mean is per channel.)

    Shape: (N, 3, H, W) -> (N, 3, H, W).
    """
    return images * stats["std"].to(images).view(1, 3, 1, 1) * 255


def _val_files(root: str | os.PathLike | None) -> list[list[str]]:
    """Validation image paths per class, in label order, each list sorted by file name."""
    folder = ImageFolder(find_dataset("imagenette", root) / "val")
    files: list[list[str]] = [[] for _ in folder.classes]
    for path, label in folder.samples:
        files[label].append(path)
    return files


def imagenette_image(
    wnid: str,
    index: int,
    size: int,
    stats: dict[str, torch.Tensor],
    root: str | os.PathLike | None = None,
) -> torch.Tensor:
    """The ``index``-th validation image (sorted by file name) of class ``wnid``.

    Resized and centre-cropped to ``size`` as in evaluation
    (:func:`alexnet_lab.augment.eval_transform`), normalized with ``stats`` (a model's
    ``model.stats``). Returns: (3, size, size).
    """
    label = IMAGENETTE_WNIDS.index(wnid)
    return eval_transform(size, stats)(load_rgb(_val_files(root)[label][index]))


def imagenette_batch(
    n: int, size: int, stats: dict[str, torch.Tensor], root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` validation images taken in turn from the 10 classes (first files first).

    Prepared as by :func:`imagenette_image`. Returns: images (n, 3, size, size) and
    labels (n,) in Imagenette label order.
    """
    files = _val_files(root)
    transform = eval_transform(size, stats)
    images, labels = [], []
    for i in range(n):
        label, index = i % len(files), i // len(files)
        images.append(transform(load_rgb(files[label][index])))
        labels.append(label)
    return torch.stack(images), torch.tensor(labels)


def layer_by_name(model: nn.Module, name: str) -> nn.Module:
    """The module called ``name``: its own name ("conv1") or its full name ("features.0")."""
    found: dict[str, nn.Module] = {}
    for qualname, module in model.named_modules():
        if qualname:
            found[qualname] = module
            found.setdefault(qualname.rsplit(".", 1)[-1], module)
    if name not in found:
        names = [n for n in found if "." not in n]
        raise KeyError(f"no layer {name!r}; the model's layers are {names}")
    return found[name]


def activations(
    model: nn.Module, images: torch.Tensor, layers: tuple[str, ...] | list[str]
) -> dict[str, torch.Tensor]:
    """Outputs of the named layers for a batch of images, recorded with forward hooks.

    Args:
        model: for example :class:`AlexNet`; its train/eval mode is left as it is.
        images: (N, 3, H, W).
        layers: layer names, such as ("conv1", "act1", "lrn1") or "features.0".

    Returns: {name: output (N, ...)}, in the order of ``layers``; detached copies, so
    in-place layers after them do not change them.
    """
    modules = {name: layer_by_name(model, name) for name in layers}
    recorded: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            recorded[name] = output.detach().clone()

        return record

    handles = [modules[name].register_forward_hook(hook(name)) for name in layers]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for h in handles:
            h.remove()
    return {name: recorded[name] for name in layers}
