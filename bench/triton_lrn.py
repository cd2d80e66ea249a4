"""The paper's LRN as two fused Triton kernels, for the GPU speed benchmark.

``alexnet_lab.model.LocalResponseNorm`` runs as a chain of tensor operations: in one piece
(on a GPU) its forward pass writes float32 temporaries (x^2, the window sums, s, d) and keeps
s and d for the backward pass, which writes more. Compiled, the paper net still ran at 20.2k
img/s on an H100 against 25.9k without LRN (``bench/README.md``). Here the forward kernel
reads the LRN input once and writes the output; the backward kernel reads the input and the
incoming gradient once and writes the gradient, recomputing the window sums in registers.
Nothing else is kept: the input is already saved for the ReLU before it.

The kernels compute what :func:`alexnet_lab.model.lrn_scale` and ``_lrn_grad`` compute, in
float32 whatever the input dtype (tests/test_triton_lrn.py checks them against the module in
Triton's interpreter, ``TRITON_INTERPRET=1``, on a CPU). Their speed is measured by
``bench/model_speed.py --only paper_triton_lrn paper_triton_lrn_compiled`` on a GPU; the
library does not use them until that measurement says they pay.

``torch.library.triton_op`` makes them operators that ``torch.compile`` traces into.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import nn
from torch.library import triton_op, wrap_triton

from alexnet_lab.model import LRN_ALPHA, LRN_BETA, LRN_K, LRN_N

assert LRN_BETA == 0.75, "the kernels compute s^-3/4 as rsqrt(s) * sqrt(rsqrt(s))"


@triton.jit
def _load(ptr, base, c, C, s_c, p_ok):
    """A (BLOCK_P, BLOCK_C) tile of channels ``c`` at the positions ``base``, as float32
    (zeros outside 0 <= c < C)."""
    ok = p_ok[:, None] & ((c >= 0) & (c < C))[None, :]
    return tl.load(ptr + base[:, None] + c[None, :] * s_c, mask=ok, other=0.0).to(tl.float32)


@triton.jit
def _store(ptr, base, c, C, s_c, p_ok, value):
    """Write the (BLOCK_P, BLOCK_C) tile ``value`` to channels ``c`` < C, in ``ptr``'s dtype."""
    ok = p_ok[:, None] & (c < C)[None, :]
    tl.store(ptr + base[:, None] + c[None, :] * s_c, value.to(ptr.dtype.element_ty), mask=ok)


@triton.jit
def _scale(x_ptr, base, c, C, s_c, p_ok, alpha, k, HALF: tl.constexpr):
    """s = k + alpha * sum of x^2 over the channels c - HALF .. c + HALF, and d = s^-3/4."""
    total = _load(x_ptr, base, c, C, s_c, p_ok)
    total = total * total
    for j in tl.static_range(1, HALF + 1):
        lo = _load(x_ptr, base, c - j, C, s_c, p_ok)
        hi = _load(x_ptr, base, c + j, C, s_c, p_ok)
        total += lo * lo + hi * hi
    s = k + alpha * total
    r = tl.rsqrt(s)
    return s, r * tl.sqrt(r)


@triton.jit
def _positions(P, HW, s_n, s_hw, BLOCK_P: tl.constexpr):
    p = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)  # int32: N*H*W < 2^31
    return (p // HW).to(tl.int64) * s_n + (p % HW).to(tl.int64) * s_hw, p < P


@triton.jit
def _lrn_forward_kernel(
    x_ptr,
    y_ptr,
    P,
    C,
    HW,
    s_n,
    s_hw,
    s_c,
    alpha,
    k,
    HALF: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    base, p_ok = _positions(P, HW, s_n, s_hw, BLOCK_P)
    c = tl.arange(0, BLOCK_C)
    _, d = _scale(x_ptr, base, c, C, s_c, p_ok, alpha, k, HALF)
    x = _load(x_ptr, base, c, C, s_c, p_ok)
    _store(y_ptr, base, c, C, s_c, p_ok, x * d)


@triton.jit
def _lrn_backward_kernel(
    x_ptr,
    g_ptr,
    dx_ptr,
    P,
    C,
    HW,
    s_n,
    s_hw,
    s_c,
    alpha,
    k,
    coef,
    HALF: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    # dx_c = g_c d_c - 2 alpha beta x_c sum_{j in window(c)} g_j x_j d_j / s_j. The window sum
    # of x^2 slides over the channels c - 2 HALF .. c + 2 HALF: each tile is loaded once (an
    # offline sm_90a compile: 14 loads, 160 registers, against 26 and 255 when each s_j summed
    # its own window). Keep the parentheses in c + (j + HALF): they let the compiler reuse loads.
    base, p_ok = _positions(P, HW, s_n, s_hw, BLOCK_P)
    c = tl.arange(0, BLOCK_C)
    window = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
    for i in tl.static_range(-2 * HALF, 0):
        x_i = _load(x_ptr, base, c + i, C, s_c, p_ok)
        window += x_i * x_i
    total = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
    x_c = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
    g_c = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
    d_c = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
    for j in tl.static_range(-HALF, HALF + 1):  # the window of channel c + j
        hi = _load(x_ptr, base, c + (j + HALF), C, s_c, p_ok)
        window += hi * hi
        r = tl.rsqrt(k + alpha * window)  # s_j^-1/2
        d_j = r * tl.sqrt(r)
        x_j = _load(x_ptr, base, c + j, C, s_c, p_ok)  # 0 outside the channels
        g_j = _load(g_ptr, base, c + j, C, s_c, p_ok)
        total += g_j * x_j * d_j * r * r  # d_j / s_j without a division
        if j == 0:
            x_c, g_c, d_c = x_j, g_j, d_j
        lo = _load(x_ptr, base, c + (j - HALF), C, s_c, p_ok)
        window -= lo * lo
    _store(dx_ptr, base, c, C, s_c, p_ok, g_c * d_c - coef * x_c * total)


def _layout(x: torch.Tensor) -> torch.memory_format:
    """channels_last if ``x`` is stored so, else the contiguous (N, C, H, W) layout."""
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format


def _launch(kernel, *tensors: torch.Tensor, coef: tuple[float, ...] = ()) -> None:
    """Run ``kernel`` on ``tensors`` (N, C, H, W) over every (n, h, w) position, all C channels
    in one program. The tensors share one layout (:func:`_layout`), in which position
    p = n * H * W + h * W + w starts at n * stride(0) + (h * W + w) * stride(3)."""
    x = tensors[0]
    n, c, h, w = x.shape
    block_c = triton.next_power_of_2(c)
    block_p = max(1, 2048 // block_c)  # 16 values per thread and tile (4 warps); untuned
    grid = (triton.cdiv(n * h * w, block_p),)
    wrap_triton(kernel)[grid](
        *tensors, n * h * w, c, h * w, x.stride(0), x.stride(3), x.stride(1), LRN_ALPHA, LRN_K,
        *coef, HALF=LRN_N // 2, BLOCK_P=block_p, BLOCK_C=block_c,
    )  # fmt: skip


@triton_op("alexnet_lab_bench::lrn", mutates_args=())
def lrn(a: torch.Tensor) -> torch.Tensor:
    """The paper's LRN of ``a`` (N, C, H, W) -> (N, C, H, W), same dtype and layout."""
    a = a.contiguous(memory_format=_layout(a))
    b = torch.empty_like(a)
    _launch(_lrn_forward_kernel, a, b)
    return b


@triton_op("alexnet_lab_bench::lrn_backward", mutates_args=())
def lrn_backward(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """The gradient of :func:`lrn` at ``a`` for the incoming gradient ``g``, both
    (N, C, H, W) -> (N, C, H, W)."""
    layout = _layout(a)
    a, g = a.contiguous(memory_format=layout), g.contiguous(memory_format=layout)
    da = torch.empty_like(a)
    _launch(_lrn_backward_kernel, a, g, da, coef=(2 * LRN_ALPHA * LRN_BETA,))
    return da


def _setup_context(ctx, inputs, output) -> None:
    ctx.save_for_backward(inputs[0])


def _backward(ctx, g: torch.Tensor) -> torch.Tensor:
    return lrn_backward(ctx.saved_tensors[0], g)


lrn.register_autograd(_backward, setup_context=_setup_context)


class TritonLRN(nn.Module):
    """Drop-in for :class:`alexnet_lab.model.LocalResponseNorm`, running :func:`lrn`."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return lrn(a)
