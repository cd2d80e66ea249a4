"""AlexNet as in Krizhevsky, Sutskever & Hinton (NIPS 2012).

Layer names follow the paper (conv1 ... fc8). The two "GPU columns" are written as
``groups=2`` in conv2, conv4 and conv5: the columns only exchange data at the inputs of
conv3, fc6, fc7 and fc8, which is exactly what a grouped convolution computes.

Input size, 224 against 227: the paper crops 224x224, but (224 - 11) / 4 + 1 = 54.25 is
not the 55 it reports. Krizhevsky's cuda-convnet rounds the output size up,
1 + ceil((224 - 11) / 4) = 55, so the last window hangs 3 pixels over the right and bottom
border and reads zeros there. This module takes the same convention: conv1 pads the right
and bottom edge with just enough zeros for the rounding up. A 224 crop (the paper) and a
227 crop (Caffe, CS231n) both give 55x55 maps and the same 6x6x256 pool5.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# The paper's LRN constants (section 3.3).
LRN_K, LRN_N, LRN_ALPHA, LRN_BETA = 2.0, 5, 1e-4, 0.75


def lrn_window_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum of ``t`` over the ``LRN_N`` maps centred on each map (zeros past the first and last).

    Shape: (N, C, H, W) -> (N, C, H, W).
    """
    out, c = t.clone(), t.shape[1]
    for i in range(1, LRN_N // 2 + 1):
        out[:, i:] += t[:, : c - i]
        out[:, : c - i] += t[:, i:]
    return out


def lrn_scale(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """s = k + alpha * window sum of x^2, and d = s^-beta, so that the LRN output is x * d.

    d is computed as rsqrt(s) * sqrt(rsqrt(s)), which is s^-3/4 (the paper's beta) and costs
    less than ``pow``. Shape: (N, C, H, W) -> two (N, C, H, W).
    """
    s = lrn_window_sum(x * x).mul_(LRN_ALPHA).add_(LRN_K)
    d = s.rsqrt()
    return s, d.mul_(d.sqrt())


def _batch_slices(a: torch.Tensor, elements: int = 1 << 19) -> list[slice]:
    """The batch in slices of about ``elements`` values on a CPU, in one piece elsewhere.

    On a CPU the float32 temporaries of a 2 MiB slice stay in cache and are reused by the
    allocator; those of a whole batch (36 MB after conv1) are fresh pages from the operating
    system every time, and touching them cost more than the arithmetic.
    """
    if a.device.type != "cpu":
        return [slice(None)]
    step = max(1, elements // max(1, a[0].numel()))
    return [slice(i, i + step) for i in range(0, len(a), step)]


def _lrn_grad(g: torch.Tensor, x: torch.Tensor, s: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """da = g * d - 2 alpha beta * x * window_sum(g * d * x / s) (the window is symmetric)."""
    gd = g.to(x.dtype) * d
    return gd.sub_(lrn_window_sum(gd * x / s).mul_(x).mul_(2 * LRN_ALPHA * LRN_BETA))


class _LRNFunction(torch.autograd.Function):
    """b = a * d (see :func:`lrn_scale`), computed at least in float32, with the backward pass
    written out (:func:`_lrn_grad`).

    In one piece (on a GPU, or a small batch) s and d are kept for the backward pass. A large
    CPU batch goes through in slices (:func:`_batch_slices`) and keeps only ``a``; the backward
    pass recomputes s and d slice by slice (``bench/README.md`` says why each path is faster
    where it is used).
    """

    @staticmethod
    def forward(ctx, a: torch.Tensor) -> torch.Tensor:
        dtype = torch.promote_types(a.dtype, torch.float32)
        parts = _batch_slices(a)
        if len(parts) == 1:
            x = a.to(dtype)
            s, d = lrn_scale(x)
            ctx.save_for_backward(x, s, d)
            return (x * d).to(a.dtype)
        b = torch.empty_like(a)
        for part in parts:
            x = a[part].to(dtype)
            b[part] = x * lrn_scale(x)[1]
        ctx.save_for_backward(a)
        return b

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:
        if len(ctx.saved_tensors) == 3:
            x, s, d = ctx.saved_tensors
            return _lrn_grad(g, x, s, d).to(g.dtype)
        (a,) = ctx.saved_tensors
        dtype = torch.promote_types(a.dtype, torch.float32)
        da = torch.empty_like(a)
        for part in _batch_slices(a):
            x = a[part].to(dtype)
            da[part] = _lrn_grad(g[part], x, *lrn_scale(x))
        return da


class LocalResponseNorm(nn.Module):
    """The paper's local response normalization, b_i = a_i / (k + alpha sum_j a_j^2)^beta.

    The sum runs over the ``n`` maps centred on map i, with k=2, n=5, alpha=1e-4, beta=0.75.
    ``nn.LocalResponseNorm`` divides alpha by n, so it equals this module only with
    ``alpha=5e-4`` (:func:`torch_lrn`); this one also computes in float32 under bf16 autocast
    (in bf16, k + alpha * sum rounds to k) and has a written-out backward pass.
    :class:`PlainLRN` is the same formula left to autograd.

    Shape: (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = LRN_N, LRN_ALPHA, LRN_BETA, LRN_K

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return _LRNFunction.apply(a)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class PlainLRN(nn.Module):
    """The paper's LRN in plain tensor operations, b = a * (k + alpha * sum a^2)^-beta, with
    the backward pass left to autograd (or to ``torch.compile``).

    Shape: (N, C, H, W) -> (N, C, H, W).
    """

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        x = a.float()
        return (x * lrn_scale(x)[1]).to(a.dtype)


def torch_lrn() -> nn.LocalResponseNorm:
    """PyTorch's ``nn.LocalResponseNorm`` with the paper's constants: it divides alpha by the
    window size, so it takes ``alpha * n``."""
    return nn.LocalResponseNorm(LRN_N, alpha=LRN_ALPHA * LRN_N, beta=LRN_BETA, k=LRN_K)


class CeilConv2d(nn.Conv2d):
    """A padding-free convolution whose output size is rounded up, as in cuda-convnet.

    The right and bottom edges get the zeros that the last window needs:
    (N, C, H, W) -> (N, out_channels, 1 + ceil((H - k) / s), 1 + ceil((W - k) / s)).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        pad_h = (s - (x.shape[-2] - k) % s) % s
        pad_w = (s - (x.shape[-1] - k) % s) % s
        return super().forward(F.pad(x, (0, pad_w, 0, pad_h)))


def _check_options(activation: str, init: str) -> None:
    """Refuse an activation or init the networks here do not have, naming the choices."""
    if activation not in ("relu", "tanh"):
        raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
    if init not in ("paper", "kaiming"):
        raise ValueError(f"init must be 'paper' or 'kaiming', got {init!r}")


class AlexNet(nn.Module):
    """The paper's AlexNet: 96-256-384-384-256 conv kernels, 4096-4096 hidden units.

    Every trick of the paper can be switched off for the ablation chapters.

    Args:
        num_classes: size of fc8 (1000 for ImageNet, 10 for Imagenette).
        lrn: local response normalization after conv1 and conv2.
        overlap_pool: 3x3 stride-2 max-pooling (the paper); False gives 2x2 stride 2.
        dropout: drop probability in fc6 and fc7 (the paper: 0.5; 0 turns it off).
        two_columns: conv2, conv4 and conv5 see only their own column (groups=2);
            False gives one column of the same widths.
        activation: "relu" (the paper) or "tanh".
        init: "paper" (weights from N(0, 0.01^2), biases 1 in conv2, conv4, conv5, fc6,
            fc7) or "kaiming" (He-normal weights, zero biases; trains reliably at small
            input sizes, where the paper's init can stall).
        conv1_std: None, or the std of conv1's weights, drawn from N(0, conv1_std^2) after
            ``init`` set the rest (a small value keeps the initial noise out of the learned
            first-layer filters).

    Shape: (N, 3, 224, 224) or (N, 3, 227, 227) -> (N, num_classes). Smaller inputs work
    too (at least :attr:`min_size`): an adaptive average pool brings pool5 to 6x6, and it is
    the identity at 224.
    """

    min_size = 64  # the smallest square input: below it pool5 has no pixels left

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        lrn: bool = True,
        overlap_pool: bool = True,
        dropout: float = 0.5,
        two_columns: bool = True,
        activation: str = "relu",
        init: str = "paper",
        conv1_std: float | None = None,
    ) -> None:
        super().__init__()
        _check_options(activation, init)
        act = nn.ReLU if activation == "relu" else nn.Tanh
        norm = LocalResponseNorm if lrn else nn.Identity
        pool_k = 3 if overlap_pool else 2
        g = 2 if two_columns else 1

        def pool() -> nn.MaxPool2d:
            return nn.MaxPool2d(kernel_size=pool_k, stride=2)

        self.features = nn.Sequential(
            OrderedDict(
                conv1=CeilConv2d(3, 96, kernel_size=11, stride=4),  # 96 x 55 x 55
                act1=act(),
                lrn1=norm(),
                pool1=pool(),  # 96 x 27 x 27
                conv2=nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=g),  # 256 x 27 x 27
                act2=act(),
                lrn2=norm(),
                pool2=pool(),  # 256 x 13 x 13
                conv3=nn.Conv2d(256, 384, kernel_size=3, padding=1),  # 384 x 13 x 13
                act3=act(),
                conv4=nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=g),  # 384 x 13 x 13
                act4=act(),
                conv5=nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=g),  # 256 x 13 x 13
                act5=act(),
                pool5=pool(),  # 256 x 6 x 6
            )
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # identity for 224 and 227 inputs
        self.classifier = nn.Sequential(
            OrderedDict(
                fc6=nn.Linear(256 * 6 * 6, 4096),  # 4096
                act6=act(),
                drop6=nn.Dropout(dropout),
                fc7=nn.Linear(4096, 4096),  # 4096
                act7=act(),
                drop7=nn.Dropout(dropout),
                fc8=nn.Linear(4096, num_classes),  # num_classes (softmax is in the loss)
            )
        )
        self.reset_parameters(init, conv1_std)

    def reset_parameters(self, init: str = "paper", conv1_std: float | None = None) -> None:
        """Initialize as in the paper (section 5) or with He-normal weights; conv1's weights
        from N(0, conv1_std^2) if ``conv1_std`` is given."""
        ones = {"conv2", "conv4", "conv5", "fc6", "fc7"}
        for name, m in [*self.features.named_children(), *self.classifier.named_children()]:
            if not isinstance(m, (nn.Conv2d, nn.Linear)):
                continue
            if init == "paper":
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.constant_(m.bias, 1.0 if name in ones else 0.0)
            else:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        if conv1_std is not None:
            nn.init.normal_(self.features.conv1.weight, mean=0.0, std=conv1_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # N x 256 x 6 x 6
        x = self.avgpool(x)
        x = torch.flatten(x, 1)  # N x 9216
        return self.classifier(x)


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, ceil: bool = False
) -> int:
    """Output length of a convolution or pooling along one axis."""
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size + 2 * padding}")
    return 1 + (math.ceil(span / stride) if ceil else span // stride)


class TorchvisionAlexNet(nn.Module):
    """The one-column AlexNet that torchvision ships (64-192-384-256-256, no LRN).

    Its ``state_dict`` keys and shapes are torchvision's ``alexnet`` ones, so weights load
    one-to-one in both directions. Paper names are given in the comments.

    Shape: (N, 3, 224, 224) -> (N, num_classes); inputs from :attr:`min_size` up work.
    """

    min_size = 63  # the smallest square input: below it pool5 has no pixels left

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # conv1: 64 x 55 x 55
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool1: 64 x 27 x 27
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # conv2: 192 x 27 x 27
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool2: 192 x 13 x 13
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # conv3: 384 x 13 x 13
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # conv4: 256 x 13 x 13
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # conv5: 256 x 13 x 13
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool5: 256 x 6 x 6
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),  # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),  # fc7
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),  # fc8
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class WeightsError(RuntimeError):
    """A cached or downloaded weights file that is not the one its name promises."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hub_weights_path(url: str) -> Path:
    """Where torch hub caches the file of ``url``: ``$TORCH_HOME/hub/checkpoints/<name>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def load_hub_weights(url: str, progress: bool = True) -> dict[str, torch.Tensor]:
    """The state dict at ``url``, from the torch hub cache or downloaded into it, hash-checked.

    The file name must carry the first 8 or more hex digits of the file's sha256, as
    torchvision's do (``alexnet-owt-7be5be79.pth``). torch hub checks that hash only when it
    downloads; a file already in the cache is loaded as it is. So the hash is checked here
    every time, before the file is read, and the file is read with ``weights_only=True``:
    a file planted in the cache can neither pass for the weights nor run code.

    Raises:
        WeightsError: the cached file's hash differs from its name, or it is not a plain
            state dict; the message names the file.
        OSError: the download failed (no internet access, HTTP error).
    """
    path = hub_weights_path(url)
    match = torch.hub.HASH_REGEX.search(path.name)
    if match is None or len(match.group(1)) < 8:
        raise WeightsError(f"{url} has no sha256 prefix in its file name; refusing to load it.")
    prefix = match.group(1)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # checks the hash and leaves nothing in the cache when it differs
            torch.hub.download_url_to_file(url, str(path), prefix, progress=progress)
        except RuntimeError as e:
            if "invalid hash" not in str(e):
                raise
            raise WeightsError(
                f"The download of {url} is not the file its name promises (sha256 should "
                f"start {prefix}); nothing was saved. Try again later."
            ) from e
    digest = _sha256(path)
    if not digest.startswith(prefix):
        raise WeightsError(
            f"{path} is not the file {url}: its sha256 starts {digest[: len(prefix)]}, its "
            f"name says {prefix}. It is corrupt or was put there by hand; it was not loaded. "
            "Delete it and run again to download the real one."
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError, a truncated archive, ...
        raise WeightsError(
            f"{path} is not a plain state dict ({type(e).__name__}); it was not loaded. "
            "Delete it and run again to download the real one."
        ) from e


def torchvision_alexnet(num_classes: int = 1000, weights: str | None = None) -> TorchvisionAlexNet:
    """The torchvision-compatible AlexNet, optionally with torchvision's ImageNet weights.

    Args:
        num_classes: size of the last layer; must be 1000 when ``weights`` is given.
        weights: None (random init) or a torchvision weights name such as "IMAGENET1K_V1".
            The file is downloaded from torchvision's URL and needs internet access the
            first time; afterwards it is read from the torch hub cache. Either way its
            sha256 is checked against the hash in its name and it is read with
            ``weights_only=True`` (:func:`load_hub_weights`).

    Raises:
        WeightsError: the cached file is not torchvision's (wrong hash, or not a state dict).
        RuntimeError: the download failed; the message says how to get the file offline.
    """
    model = TorchvisionAlexNet(num_classes)
    if weights is None:
        return model
    from torchvision.models import AlexNet_Weights

    w = AlexNet_Weights.verify(weights)
    if num_classes != len(w.meta["categories"]):
        raise ValueError(
            f"weights={weights!r} has {len(w.meta['categories'])} classes; "
            f"pass num_classes={len(w.meta['categories'])} (got {num_classes})"
        )
    try:
        state = load_hub_weights(w.url)
    except WeightsError:
        raise
    except Exception as e:  # URLError, socket errors, HTTP errors: all mean "no download"
        path = hub_weights_path(w.url)
        prefix = torch.hub.HASH_REGEX.search(path.name).group(1)
        raise RuntimeError(
            f"Could not download torchvision's AlexNet weights {weights!r} from {w.url} "
            f"({type(e).__name__}: {e}). This needs internet access. Offline, download that "
            f"URL on another machine and copy the file to {path} (set TORCH_HOME to move "
            f"the cache): it is loaded only if its sha256 starts with {prefix}, as its name says. "
            "Or use weights=None and train your own model with `alexnet-lab train`."
        ) from e
    model.load_state_dict(state)
    return model


class ColumnConv(nn.Module):
    """A ``groups=2`` convolution run as the paper ran it: one convolution per column (GPU),
    each on its half of the input maps, outputs concatenated. Shares ``conv``'s weights.

    Shape: (N, C_in, H, W) -> (N, C_out, H', W'), the same as ``conv``.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        if conv.groups != 2:
            raise ValueError(f"ColumnConv splits a groups=2 convolution, got groups={conv.groups}")
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv
        halves = zip(x.chunk(2, 1), c.weight.chunk(2, 0), c.bias.chunk(2, 0), strict=True)
        return torch.cat([F.conv2d(h, w, b, padding=c.padding) for h, w, b in halves], 1)


class NarrowAlexNet(AlexNet):
    """AlexNet with ``width`` times the kernels of conv1-conv4; conv5 and the fully connected
    layers keep their 256 kernels and 4096 units.

    ``width=0.5, two_columns=False`` is the paper's "one-GPU net" (section 3.2 and its
    footnote 2): half the kernels in every convolutional layer but the last, because "most
    of the net's parameters are in the first fully-connected layer, which takes the last
    convolutional layer as input", so conv5 and fc6-fc8 keep their size and the two nets
    have about the same number of parameters (55.7M against 56.9M with 10 classes). The
    paper reports the two-column net better by 1.7 points top-1 and 1.2 top-5.

    Args:
        num_classes: size of fc8.
        width: share of conv1-conv4's kernels (96, 256, 384, 384), rounded to even numbers so
            that ``two_columns`` still splits them.
        **options: the other arguments of :class:`AlexNet` (lrn, overlap_pool, dropout,
            two_columns, activation, init, conv1_std).

    Shape: as :class:`AlexNet`.
    """

    def __init__(self, num_classes: int = 1000, *, width: float = 0.5, **options) -> None:
        super().__init__(num_classes, **options)
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        c1, c2, c3, c4 = (max(2, 2 * round(width * n / 2)) for n in (96, 256, 384, 384))
        f, g = self.features, self.features.conv2.groups
        f.conv1 = CeilConv2d(3, c1, kernel_size=11, stride=4)  # replaces the module in place
        f.conv2 = nn.Conv2d(c1, c2, kernel_size=5, padding=2, groups=g)
        f.conv3 = nn.Conv2d(c2, c3, kernel_size=3, padding=1)
        f.conv4 = nn.Conv2d(c3, c4, kernel_size=3, padding=1, groups=g)
        f.conv5 = nn.Conv2d(c4, 256, kernel_size=3, padding=1, groups=g)
        self.width = width
        self.reset_parameters(options.get("init", "paper"), options.get("conv1_std"))


class LocallyConnected2d(nn.Module):
    """A convolution with its own kernel and bias at every output position (cuda-convnet's
    "local" layer, unshared weights)::

        out[n, o, i, j] = bias[o, i, j]
            + sum over u, v, c of weight[i * S + j, (u * k + v) * C + c, o]
                                  * x_padded[n, c, i * stride + u, j * stride + v]

    with ``k`` the kernel size, ``C`` the input maps and ``S`` the output side. The patches
    are gathered as ``F.unfold`` would (in (u, v, c) order rather than unfold's (c, u, v)),
    from k * k strided slices of the padded input laid out position-first, which is several
    times faster than ``F.unfold`` on a CPU at these sizes; then one batched matrix product
    over the positions. The weights depend on the position, so the layer is built for one
    input size.

    Args:
        in_channels, out_channels: maps in and out.
        in_size: side of the square input it is built for.
        kernel_size, stride, padding: as in ``nn.Conv2d`` (square, zero padding).

    Shape: (N, in_channels, in_size, in_size) -> (N, out_channels, S, S), with
    ``S = conv_output_size(in_size, kernel_size, stride, padding)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        in_size: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.in_size, self.kernel_size, self.stride, self.padding = (
            in_size, kernel_size, stride, padding)  # fmt: skip
        self.out_size = conv_output_size(in_size, kernel_size, stride, padding)
        fan_in = in_channels * kernel_size**2
        self.weight = nn.Parameter(torch.empty(self.out_size**2, fan_in, out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels, self.out_size, self.out_size))
        nn.init.normal_(self.weight, std=math.sqrt(2 / fan_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.in_size, self.in_size):
            raise ValueError(
                f"this locally connected layer is built for {self.in_size}x{self.in_size} "
                f"inputs, got {x.shape[-2]}x{x.shape[-1]}"
            )
        k, s, step, n = self.kernel_size, self.out_size, self.stride, len(x)
        xq = F.pad(x, (self.padding,) * 4).permute(2, 3, 0, 1)  # H x W x N x C
        end = (s - 1) * step + 1
        patches = torch.cat(
            [xq[u : u + end : step, v : v + end : step] for u in range(k) for v in range(k)], -1
        )  # S x S x N x (k * k * C)
        out = torch.bmm(patches.reshape(s * s, n, -1), self.weight)  # S*S x N x out_channels
        return out.permute(1, 2, 0).reshape(n, self.out_channels, s, s) + self.bias

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, in_size={self.in_size}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        )


class CifarNet(nn.Module):
    """The paper's "four-layer CNN" on CIFAR-10: cuda-convnet's layers-conv-local-11pct net
    (``lrn=True``) and layers-conv-local-13pct net (``lrn=False``).

    The paper reports 13% test error without LRN and 11% with it (section 3.3) but does not
    give the net; Krizhevsky's cuda-convnet ships these two configs, named for those errors
    (an inference, see ``alexnet-facts.md``). Four hidden layers with weights, then the
    classifier:

    ========  ===============================================  ===========
    layer     what                                             28 px input
    ========  ===============================================  ===========
    conv1     64 kernels 5x5x3, pad 2; act; LRN; max-pool 3/2  64 x 14 x 14
    conv2     64 kernels 5x5x64, pad 2; act; LRN; max-pool 3/2 64 x 7 x 7
    local3    32 unshared kernels 3x3x64 per position, pad 1   32 x 7 x 7
    local4    32 unshared kernels 3x3x32 per position, pad 1   32 x 7 x 7
    fc10      num_classes                                      10
    ========  ===============================================  ===========

    Differences from the configs: the LRN is the paper's (:class:`LocalResponseNorm`, k=2,
    alpha=1e-4 per map) where the 11pct config has cuda-convnet's k=1 and 0.001 / 5 per map;
    the configs' pooling rounds the output size up, as ``ceil_mode=True`` does here. The
    config trains on 24x24 crops of the 32x32 images; any size from :attr:`min_size` works,
    and the trainer's geometry (crop = 224/256 of the packed side) takes 28x28 crops of the
    unresized 32x32 images (``image_size=28``). The locally connected layers
    (:class:`LocallyConnected2d`) have weights per position, so the net is built for one
    ``image_size``.

    Args:
        num_classes: size of fc10.
        image_size: side of the square inputs.
        lrn: the paper's LRN after conv1 and conv2.
        activation: "relu" or "tanh", after conv1, conv2, local3 and local4.
        init: "paper": the cuda-convnet config's weights, N(0, s^2) with s = 1e-4 (conv1),
            0.01 (conv2), 0.04 (local3, local4), 0.01 (fc10), zero biases; they assume inputs
            in 0..255 minus the mean (``normalize="mean"``). "kaiming": N(0, gain^2 / fan_in)
            with PyTorch's gain for the activation (sqrt(2) for ReLU, 5/3 for tanh), zero
            biases; for any input scale, for unit-variance inputs (``normalize="mean_std"``)
            it keeps the activations near unit scale.
        conv1_std: None, or the std of conv1's weights (as in :class:`AlexNet`).

    Shape: (N, 3, image_size, image_size) -> (N, num_classes).
    """

    min_size = 6  # the smallest square input: below it pool2 has no pixels left
    PAPER_STD = {"conv1": 1e-4, "conv2": 0.01, "local3": 0.04, "local4": 0.04, "fc10": 0.01}

    def __init__(
        self,
        num_classes: int = 10,
        image_size: int = 28,
        *,
        lrn: bool = True,
        activation: str = "relu",
        init: str = "kaiming",
        conv1_std: float | None = None,
    ) -> None:
        super().__init__()
        _check_options(activation, init)
        if image_size < self.min_size:
            raise ValueError(
                f"CifarNet needs inputs of at least {self.min_size} px, got {image_size}"
            )
        act = nn.ReLU if activation == "relu" else nn.Tanh
        norm = LocalResponseNorm if lrn else nn.Identity
        s1 = conv_output_size(image_size, 3, 2, ceil=True)  # after pool1
        s2 = conv_output_size(s1, 3, 2, ceil=True)  # after pool2

        def pool() -> nn.MaxPool2d:
            return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(3, 64, kernel_size=5, padding=2),  # 64 x s x s
                act1=act(),
                lrn1=norm(),
                pool1=pool(),  # 64 x s1 x s1
                conv2=nn.Conv2d(64, 64, kernel_size=5, padding=2),
                act2=act(),
                lrn2=norm(),
                pool2=pool(),  # 64 x s2 x s2
                local3=LocallyConnected2d(64, 32, s2, kernel_size=3, padding=1),  # 32 x s2 x s2
                act3=act(),
                local4=LocallyConnected2d(32, 32, s2, kernel_size=3, padding=1),  # 32 x s2 x s2
                act4=act(),
            )
        )
        self.classifier = nn.Sequential(OrderedDict(fc10=nn.Linear(32 * s2 * s2, num_classes)))
        self.image_size, self.activation = image_size, activation
        self.reset_parameters(init, conv1_std)

    def reset_parameters(self, init: str = "kaiming", conv1_std: float | None = None) -> None:
        """The config's initialization or He-normal with the activation's gain (see the class
        docstring); conv1's weights from N(0, conv1_std^2) if ``conv1_std`` is given."""
        gain = nn.init.calculate_gain(self.activation)
        layers = {**dict(self.features.named_children()), **dict(self.classifier.named_children())}
        for name, paper_std in self.PAPER_STD.items():
            m = layers[name]
            fan_in = m.weight.shape[1] if isinstance(m, LocallyConnected2d) else m.weight[0].numel()
            nn.init.normal_(
                m.weight, std=paper_std if init == "paper" else gain / math.sqrt(fan_in)
            )
            nn.init.zeros_(m.bias)
        if conv1_std is not None:
            nn.init.normal_(self.features.conv1.weight, mean=0.0, std=conv1_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"this CifarNet is built for {self.image_size}x{self.image_size} inputs (its "
                f"locally connected layers have weights per position), got "
                f"{x.shape[-2]}x{x.shape[-1]}"
            )
        return self.classifier(torch.flatten(self.features(x), 1))
