"""Why the network decides: attribution maps, their sanity check and their faithfulness.

An attribution map gives every pixel of an image a score for how much it mattered to one
class score (fc8's output, before the softmax). Six methods, all computed with captum:

- :data:`METHODS` names them and says how their maps are shown (:func:`methods_table`);
  :func:`attribute` computes any of them for a batch, (N, 3, H, W) images -> (N, H, W) maps.
  :func:`without_inplace` is the copy of a model they run on when it has in-place ReLUs;
  :func:`class_probabilities` gives the softmax the maps are read against.
- :func:`cascading_randomization`: the sanity check of Adebayo et al. (2018). Randomize the
  weights from fc8 down to conv1, one layer more at a time, and measure how much each
  method's maps change (:class:`SanityCheck`). A map that explains what the network learned
  must change when what it learned is destroyed.
- :func:`deletion_insertion`: faithfulness (Petsiuk et al. 2018, RISE). Delete the pixels a
  map ranks highest first and watch the class probability fall; insert them into a blurred
  image and watch it rise (:class:`Faithfulness`, areas under the curves).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import (
    GuidedBackprop,
    GuidedGradCam,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity
from torch import nn
from torchvision.transforms.v2.functional import gaussian_blur

from alexnet_lab.analysis.hooks import layer_by_name
from alexnet_lab.analysis.tables import DisplayTable, ShownAsTable


@dataclass(frozen=True)
class Method:
    """One attribution method.

    Attributes:
        name: its key in :data:`METHODS` and :func:`attribute`, e.g. "grad_cam".
        label: its name in figures and tables, e.g. "Grad-CAM".
        sign: which values its maps show, by captum's ``visualize_image_attr`` names:
            "absolute_value" (the size of the values), "positive" (values above 0) or "all"
            (signed: for the class, and against it).
        about: what it computes, in one line.
    """

    name: str
    label: str
    sign: str
    about: str


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "saliency", "Saliency", "absolute_value",
            "|gradient of the class score|, summed over R, G and B (Simonyan et al. 2014)",
        ),
        Method(
            "integrated_gradients", "Integrated gradients", "all",
            "gradient x (image - mean colour) integrated along the straight path from the "
            "mean-colour image, averaged over noisy copies (Sundararajan et al. 2017, SmoothGrad)",
        ),
        Method(
            "occlusion", "Occlusion", "all",
            "how much the class score drops when a square patch is set to the mean colour "
            "(Zeiler & Fergus 2014)",
        ),
        Method(
            "guided_backprop", "Guided backprop", "absolute_value",
            "the gradient with every ReLU passing back only positive gradients "
            "(Springenberg et al. 2015)",
        ),
        Method(
            "grad_cam", "Grad-CAM", "positive",
            "conv5's maps (after the ReLU) weighted by their mean gradient, upsampled "
            "(Selvaraju et al. 2017)",
        ),
        Method(
            "guided_grad_cam", "Guided Grad-CAM", "absolute_value",
            "guided backprop times Grad-CAM: fine detail where Grad-CAM points",
        ),
    )
}  # fmt: skip


def methods_table(methods: Sequence[str] = tuple(METHODS)) -> DisplayTable:
    """The methods, what their maps show and what they compute."""
    shows = {"absolute_value": "size", "positive": "positive part", "all": "sign (+ and -)"}
    rows = [(METHODS[m].label, shows[METHODS[m].sign], METHODS[m].about) for m in methods]
    return DisplayTable(("method", "the map shows", "what it computes"), rows)


def without_inplace(model: nn.Module) -> nn.Module:
    """``model`` itself if none of its modules computes in place, else a copy (same weights)
    whose in-place modules (``nn.ReLU(inplace=True)``, dropout) compute out of place.

    Guided backprop and guided Grad-CAM replace the ReLUs' gradients through hooks on the
    ReLU modules, and layer methods keep a layer's output for the backward pass; a ReLU that
    overwrites its input can change what those hooks and saved tensors see. torchvision's
    AlexNet (:class:`alexnet_lab.model.TorchvisionAlexNet`) uses in-place ReLUs; the book's
    :class:`~alexnet_lab.model.AlexNet` does not. The original model is never changed.
    """
    if not any(getattr(m, "inplace", False) for m in model.modules()):
        return model
    clone = copy.deepcopy(model)
    for m in clone.modules():
        if getattr(m, "inplace", False):
            m.inplace = False
    return clone


def last_conv_relu(model: nn.Module) -> nn.Module:
    """The last ReLU of ``model.features``: conv5's ReLU in AlexNet (``act5``) and in
    torchvision's AlexNet (``features.11``), the layer Grad-CAM reads."""
    relus = [m for m in model.features.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError("model.features has no nn.ReLU module for Grad-CAM to read")
    return relus[-1]


def occlusion_window(size: int) -> tuple[int, int]:
    """The default occlusion patch side and stride for ``size``-pixel images: an eighth of
    the side (16 pixels at 128, 28 at 224), moved by a whole patch, so 8 x 8 = 64 forward
    passes per image whatever the size. (Half a patch gives smoother maps for 225 passes.)"""
    window = max(2, size // 8)
    return window, window


def attribute(
    model: nn.Module,
    images: torch.Tensor,
    target: int | torch.Tensor,
    method: str,
    *,
    layer: str | None = None,
    n_steps: int = 4,
    nt_samples: int = 4,
    noise: float = 0.15,
    window: int | None = None,
    stride: int | None = None,
    batch_size: int = 16,
    seed: int = 0,
) -> torch.Tensor:
    """Attribution maps of ``images`` for the class scores ``target``, by one of
    :data:`METHODS`.

    Every map is summed over the three colour channels (as captum's ``visualize_image_attr``
    does), so it has one value per pixel; Grad-CAM's conv5-sized map is upsampled
    bilinearly to the image size. The model runs in eval mode (its mode is restored), on a
    copy without in-place modules if it has any (:func:`without_inplace`).

    Args:
        model: a classifier with a ``features`` part (the ReLU of conv5 is its last ReLU),
            such as :class:`~alexnet_lab.model.AlexNet`.
        images: (N, 3, H, W), normalized as the model was trained.
        target: the class of each image: one int for all, or (N,) int64.
        method: a key of :data:`METHODS`.
        layer: the layer Grad-CAM and guided Grad-CAM read (a name for
            :func:`~alexnet_lab.analysis.hooks.layer_by_name`); None: :func:`last_conv_relu`.
        n_steps: integrated gradients: points on the path from the baseline (the all-zero
            normalized image, i.e. the training set's mean colour) to the image (captum's
            Gauss-Legendre rule).
        nt_samples, noise: integrated gradients: averaged over ``nt_samples`` copies of the
            image with Gaussian noise of std ``noise`` x (max - min of the batch's values; for
            photographs about each one's own range) added (SmoothGrad, whose paper finds
            10-20% of the range best; ``nt_samples * n_steps`` backward passes per image).
        window, stride: occlusion: side and step of the square patch set to the mean colour
            (0); None: :func:`occlusion_window` of the image size (``stride`` None: the
            window).
        batch_size: images attributed together (they expand to 64 or more images per pass
            for integrated gradients and occlusion; the fully connected layers' weights are
            read once per pass, so large passes are much faster on a CPU).
        seed: seeds SmoothGrad's noise: the same images in the same batches get the same
            maps (the global random state is left alone).

    Returns: (N, H, W) float32 on the CPU, signed (see :attr:`Method.sign` for what the
    figures show).
    """
    if method not in METHODS:
        raise KeyError(f"unknown attribution method {method!r}; the methods are {list(METHODS)}")
    net = without_inplace(model)
    n, size = len(images), images.shape[-1]
    targets = torch.as_tensor(target, dtype=torch.int64).expand(n)
    relu = last_conv_relu(net) if layer is None else layer_by_name(net, layer)
    window, stride = (window, stride) if window else occlusion_window(size)
    stride = stride or window
    was_training = net.training
    net.eval()
    out = []
    try:
        with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
            warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
            warnings.filterwarnings("ignore", message=".*required_grads has been set")
            for i in range(0, n, batch_size):
                x, t = images[i : i + batch_size].float(), targets[i : i + batch_size]
                out.append(_attribute(net, x, t, method, relu, n_steps, nt_samples, noise,
                                      window, stride, seed))  # fmt: skip
    finally:
        net.train(was_training)
    return torch.cat(out)


def _attribute(
    net: nn.Module,
    x: torch.Tensor,
    t: torch.Tensor,
    method: str,
    relu: nn.Module,
    n_steps: int,
    nt_samples: int,
    noise: float,
    window: int,
    stride: int,
    seed: int,
) -> torch.Tensor:
    """One batch of :func:`attribute`: (n, 3, H, W) -> (n, H, W)."""
    if method == "saliency":
        a = Saliency(net).attribute(x, target=t, abs=True)
    elif method == "integrated_gradients":
        torch.manual_seed(seed)  # the same noise for the same batch
        a = NoiseTunnel(IntegratedGradients(net)).attribute(
            x,
            nt_type="smoothgrad",
            nt_samples=nt_samples,
            stdevs=noise * (x.max() - x.min()).item(),
            target=t,
            n_steps=n_steps,
            internal_batch_size=max(64, len(x) * nt_samples),
        )
    elif method == "occlusion":
        a = Occlusion(net).attribute(
            x,
            sliding_window_shapes=(3, window, window),
            strides=(3, stride, stride),
            baselines=0.0,
            target=t,
            perturbations_per_eval=max(1, 64 // len(x)),
        )
    elif method == "guided_backprop":
        a = GuidedBackprop(net).attribute(x, target=t)
    elif method == "grad_cam":
        cam = LayerGradCam(net, relu).attribute(x, target=t, relu_attributions=True)
        a = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), "bilinear")
    else:  # guided_grad_cam
        a = GuidedGradCam(net, relu).attribute(x, target=t, interpolate_mode="bilinear")
    return a.detach().sum(1).float().cpu()


def shown_values(maps: torch.Tensor, method: str) -> torch.Tensor:
    """The values a method's maps are shown and ranked by (:attr:`Method.sign`): the absolute
    values, the positive part, or the signed values (most positive = most for the class)."""
    sign = METHODS[method].sign
    if sign == "absolute_value":
        return maps.abs()
    return maps.clamp_min(0) if sign == "positive" else maps


@torch.no_grad()
def class_probabilities(
    model: nn.Module, images: torch.Tensor, batch_size: int = 64
) -> torch.Tensor:
    """Softmax of the model's scores for normalized images, batch by batch, in eval mode
    (the model's mode is restored).

    Shape: (N, 3, H, W) -> (N, num_classes) float32 on the CPU.
    """
    was_training = model.training
    model.eval()
    try:
        return torch.cat(
            [F.softmax(model(images[i : i + batch_size]).float(), 1).cpu()
             for i in range(0, len(images), batch_size)]
        )  # fmt: skip
    finally:
        model.train(was_training)


# The sanity check ------------------------------------------------------------------------


def weight_layers(model: nn.Module) -> list[str]:
    """Names of the model's convolutions and linear layers, input to output: "conv1" ...
    "fc8" for AlexNet (full names such as "features.0" where the short ones repeat)."""
    full = [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    short = [n.rsplit(".", 1)[-1] for n in full]
    return short if len(set(short)) == len(short) else full


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation of two maps; 0 where one is constant (it ranks nothing)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def _unit(a: np.ndarray) -> np.ndarray:
    top = a.max()
    return a / top if top > 0 else np.zeros_like(a)


def map_similarity(reference: torch.Tensor, maps: torch.Tensor) -> tuple[float, float]:
    """How alike two sets of maps are, by their absolute values (Adebayo et al. 2018):
    the mean over images of the Spearman rank correlation, and of the SSIM of the maps
    scaled to 0..1 (each divided by its maximum).

    Shape: reference (N, H, W), maps (N, H, W) -> (Spearman, SSIM), each at most 1.
    """
    ranks, ssims = [], []
    for r, m in zip(reference.abs().double().numpy(), maps.abs().double().numpy(), strict=True):
        ranks.append(_spearman(r, m))
        ssims.append(structural_similarity(_unit(r), _unit(m), data_range=1.0))
    return float(np.mean(ranks)), float(np.mean(ssims))


@dataclass(frozen=True, repr=False)
class SanityCheck(ShownAsTable):
    """The maps of a model randomized layer by layer from the top, against its own maps.

    Attributes:
        methods: the methods checked, keys of :data:`METHODS`.
        steps: "none" (the trained model), then the last layer randomized at each step:
            "fc8", "fc7", ... "conv1" (each step keeps the layers randomized before it).
        spearman: (methods, steps) mean rank correlation of |map| with the trained model's.
        ssim: (methods, steps) mean SSIM of the maps scaled to 0..1.
        maps: {method: (steps, N, H, W)} the maps at every step (signed).
        classifier: how many of the first randomized steps are the classifier's layers
            (3 for AlexNet: fc8, fc7, fc6).
    """

    methods: tuple[str, ...]
    steps: tuple[str, ...]
    spearman: torch.Tensor
    ssim: torch.Tensor
    maps: dict[str, torch.Tensor] = field(repr=False)
    classifier: int = 3

    def __repr__(self) -> str:
        return str(self)

    def passes(self, method: str) -> bool:
        """Whether the maps decorrelate when what the network learned about the classes is
        destroyed: once the classifier is random, the rank correlation has fallen at least
        halfway from 1 (the trained model's map) to its value with every layer random (and
        that value is below 0.9: the map changes at all).

        Halfway, not to 0: even two unrelated networks' maps of one image share some ranking
        (textured regions get large gradients in both), so the fully random network sets
        the floor a method can reach.
        """
        s = self.spearman[self.methods.index(method)]
        top, floor = s[self.classifier].item(), s[-1].item()
        return floor < 0.9 and top <= (1 + floor) / 2

    def display_table(self) -> DisplayTable:
        rows = []
        for i, m in enumerate(self.methods):
            cells = [f"{v:.2f}" for v in self.spearman[i, 1:].tolist()]
            verdict = "yes" if self.passes(m) else "no"
            rows.append((METHODS[m].label, *cells, f"{self.ssim[i, -1]:.2f}", verdict))
        top = self.steps[self.classifier]
        return DisplayTable(
            ("method", *self.steps[1:], "SSIM all", "passes"),
            rows,
            notes=(
                "Rank correlation (Spearman) of |map| with the trained model's map, after "
                "randomizing the weights from fc8 down to the layer named (cumulative); SSIM "
                "all: structural similarity once every layer is random.",
                f"passes: after {top} (the classifier random), the rank correlation has fallen "
                "at least halfway from 1 to its value with every layer random.",
            ),
            align="l" + "r" * len(self.steps) + "l",
        )


def cascading_randomization(
    model: nn.Module,
    images: torch.Tensor,
    target: int | torch.Tensor,
    methods: Sequence[str] = tuple(METHODS),
    seed: int = 0,
    **options,
) -> SanityCheck:
    """Adebayo et al.'s (2018) cascading model-parameter randomization test.

    Re-draws the weights and biases of the layers from the last (fc8) down to the first
    (conv1), one more at each step, with each layer's default PyTorch initialization
    (``reset_parameters``, seeded with ``seed``), and computes every method's maps at each
    step for the same images and classes. ``model`` is not changed (a copy is randomized).

    Args:
        images: (N, 3, H, W) normalized.
        target: the classes to explain (one int, or (N,)), the same at every step.
        options: passed on to :func:`attribute` (e.g. ``n_steps``).
    """
    net = copy.deepcopy(without_inplace(model)).eval()
    layers = weight_layers(net)[::-1]
    maps: dict[str, list[torch.Tensor]] = {m: [] for m in methods}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for step in [None, *layers]:
            if step is not None:
                layer_by_name(net, step).reset_parameters()
            for m in methods:
                maps[m].append(attribute(net, images, target, m, **options))
    stacked = {m: torch.stack(v) for m, v in maps.items()}
    sims = torch.tensor(
        [[map_similarity(v[0], s) for s in v] for v in stacked.values()], dtype=torch.float64
    )  # (methods, steps, 2)
    return SanityCheck(
        methods=tuple(methods),
        steps=("none", *layers),
        spearman=sims[..., 0],
        ssim=sims[..., 1],
        maps=stacked,
        classifier=sum(isinstance(layer_by_name(net, n), nn.Linear) for n in layers),
    )


# Faithfulness: deletion and insertion ----------------------------------------------------

RANDOM = "random"  # the reference ordering in :class:`Faithfulness`


@dataclass(frozen=True, repr=False)
class Faithfulness(ShownAsTable):
    """Deletion and insertion curves (Petsiuk et al. 2018) of several methods.

    Attributes:
        fractions: (steps + 1,) the share of pixels deleted or inserted, 0 to 1.
        deletion: {method: (N, steps + 1)} the target's probability as the pixels the map
            ranks highest are set to the mean colour first (:data:`RANDOM`: in random order).
        insertion: {method: (N, steps + 1)} the target's probability as those pixels are put
            back first into a blurred copy of the image.
    """

    fractions: torch.Tensor
    deletion: dict[str, torch.Tensor] = field(repr=False)
    insertion: dict[str, torch.Tensor] = field(repr=False)

    def __repr__(self) -> str:
        return str(self)

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.deletion)

    def auc(self, curve: str) -> dict[str, float]:
        """Area under the mean ``curve`` ("deletion" or "insertion") of each method: low is
        good for deletion (the probability falls fast), high for insertion."""
        x = self.fractions.double().numpy()
        curves = self.deletion if curve == "deletion" else self.insertion
        return {m: float(np.trapezoid(c.double().mean(0).numpy(), x)) for m, c in curves.items()}

    def display_table(self) -> DisplayTable:
        dele, ins = self.auc("deletion"), self.auc("insertion")
        rows = [
            (METHODS[m].label if m in METHODS else "random order",
             f"{dele[m]:.3f}", f"{ins[m]:.3f}", f"{ins[m] - dele[m]:+.3f}")
            for m in self.methods
        ]  # fmt: skip
        n, steps = len(next(iter(self.deletion.values()))), len(self.fractions) - 1
        return DisplayTable(
            ("method", "deletion AUC", "insertion AUC", "insertion - deletion"),
            rows,
            notes=(
                f"Areas under the mean curves of {n} images, {steps} steps of "
                f"{1 / steps:.0%} of the pixels. Deletion: lower is better; insertion: higher "
                "is better.",
            ),
            align="lrrr",
        )


def _ranks(values: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each pixel's place when sorted by value, highest first; ties in random order.

    Shape: (N, P) -> (N, P) int64 (0 = the highest).
    """
    shuffle = torch.randperm(values.shape[1], generator=generator)
    order = shuffle[values[:, shuffle].argsort(dim=1, descending=True, stable=True)]
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(values.shape[1]).expand_as(order).contiguous())
    return ranks


def blurred(images: torch.Tensor) -> torch.Tensor:
    """The images under a strong Gaussian blur (sigma = side / 32, kernel 4 sigma either
    side), the start of an insertion curve: the shapes are gone, the colours stay.

    Shape: (N, 3, H, W) -> (N, 3, H, W).
    """
    sigma = images.shape[-1] / 32
    k = 2 * int(4 * sigma) + 1
    return gaussian_blur(images, [k, k], [sigma, sigma])


@torch.no_grad()
def deletion_insertion(
    model: nn.Module,
    images: torch.Tensor,
    target: torch.Tensor,
    maps: dict[str, torch.Tensor],
    steps: int = 20,
    batch_size: int = 128,
    seed: int = 0,
) -> Faithfulness:
    """Deletion and insertion curves of each method's maps, and of a random order.

    Pixels are ranked by :func:`shown_values` of each map (keys of ``maps`` are keys of
    :data:`METHODS`), highest first. Deletion sets them to 0 (the mean colour of the
    normalized images), ``1 / steps`` of the pixels at a time; insertion copies them, in
    the same order, into :func:`blurred` images. The probability of ``target`` is read after
    every step, with the perturbed images of a whole step range run as one batch.

    Args:
        images: (N, 3, H, W) normalized.
        target: (N,) int64, the class of each image to follow (usually the predicted one).
        maps: {method: (N, H, W)} from :func:`attribute`.
        seed: orders tied pixels and the random reference.
    """
    n, _, h, w = images.shape
    counts = torch.linspace(0, h * w, steps + 1).round().long()
    gen = torch.Generator().manual_seed(seed)
    orders = {m: shown_values(v, m).flatten(1) for m, v in maps.items()}
    orders[RANDOM] = torch.rand(n, h * w, generator=gen)
    was_training = model.training
    model.eval()
    per_batch = max(1, batch_size // (steps + 1))
    curves: dict[str, dict[str, list[torch.Tensor]]] = {"deletion": {}, "insertion": {}}
    try:
        for m, values in orders.items():
            for i in range(0, n, per_batch):
                x, t = images[i : i + per_batch], target[i : i + per_batch]
                k = len(x)
                ranks = _ranks(values[i : i + per_batch], gen)  # (k, P)
                keep = ranks[:, None, :] >= counts[None, :, None]  # (k, S+1, P): not yet moved
                keep = keep.view(k, steps + 1, 1, h, w)
                for name, start, end in (("deletion", x, torch.zeros_like(x)),
                                         ("insertion", blurred(x), x)):  # fmt: skip
                    batch = torch.where(keep, start[:, None], end[:, None]).flatten(0, 1)
                    probs = F.softmax(model(batch).float(), 1).view(k, steps + 1, -1)
                    picked = probs.gather(2, t.view(k, 1, 1).expand(k, steps + 1, 1))[..., 0]
                    curves[name].setdefault(m, []).append(picked.cpu())
    finally:
        model.train(was_training)
    return Faithfulness(
        fractions=counts.double() / (h * w),
        deletion={m: torch.cat(v) for m, v in curves["deletion"].items()},
        insertion={m: torch.cat(v) for m, v in curves["insertion"].items()},
    )
