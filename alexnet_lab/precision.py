"""Where training and evaluation run in bfloat16, with channels_last memory format."""

from __future__ import annotations

import torch


def use_bf16(device: torch.device) -> bool:
    """True on a CUDA GPU and on CPUs with native bfloat16 arithmetic (AVX512-BF16 or AMX).

    There bf16 autocast with channels_last tensors is faster than float32
    (``bench/README.md`` has the measurements). CPUs without it would emulate bf16, so they
    keep float32.
    """
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    cpu = torch.cpu
    return any(
        getattr(cpu, f, lambda: False)()
        for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )
