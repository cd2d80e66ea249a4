"""bench/triton_lrn.py computes the library's LRN, forward and backward.

Its kernels run here in Triton's interpreter on the CPU (``TRITON_INTERPRET=1``, set before
Triton compiles anything, hence the separate process); their speed is a GPU benchmark.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import torch
from triton_lrn import lrn
from alexnet_lab.model import LocalResponseNorm

torch.manual_seed(0)
cases = [
    ((2, 7, 3, 5), torch.contiguous_format, torch.float32, 1e-5),
    ((3, 12, 4, 4), torch.channels_last, torch.float32, 1e-5),
    ((2, 96, 3, 3), torch.channels_last, torch.bfloat16, 1e-2),  # conv1's 96 maps, bf16
]
for shape, layout, dtype, tol in cases:
    a = (torch.randn(shape) * 30).relu().to(dtype).contiguous(memory_format=layout)
    g = torch.randn(shape).to(dtype)
    a1, a2 = a.clone().requires_grad_(), a.clone().requires_grad_()
    ours, theirs = lrn(a1), LocalResponseNorm()(a2)
    (d1,), (d2,) = torch.autograd.grad(ours, a1, g), torch.autograd.grad(theirs, a2, g)
    assert ours.dtype == dtype and ours.is_contiguous(memory_format=layout), shape
    torch.testing.assert_close(ours.float(), theirs.float(), rtol=tol, atol=tol)
    torch.testing.assert_close(d1.float(), d2.float(), rtol=tol, atol=tol)
    assert d2.abs().max() > 0.5  # the gradient is not trivially small
print("ok")
"""


def test_triton_lrn_matches_the_module_in_the_interpreter():
    path = f"{ROOT / 'bench'}{os.pathsep}{ROOT}"
    env = os.environ | {"TRITON_INTERPRET": "1", "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
