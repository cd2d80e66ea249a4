import torch

from alexnet_lab.model import LRN_ALPHA, LRN_BETA, LRN_K, LRN_N, LocalResponseNorm, _batch_slices


def paper_formula(a: torch.Tensor) -> torch.Tensor:
    """b_i = a_i / (k + alpha * sum_{j=max(0,i-n/2)}^{min(N-1,i+n/2)} a_j^2)^beta, as in [P] 3.3."""
    channels = a.shape[1]
    b = torch.empty_like(a)
    for i in range(channels):
        lo, hi = max(0, i - LRN_N // 2), min(channels - 1, i + LRN_N // 2)
        s = (a[:, lo : hi + 1] ** 2).sum(dim=1)
        b[:, i] = a[:, i] / (LRN_K + LRN_ALPHA * s) ** LRN_BETA
    return b


def test_constants_are_the_papers():
    assert (LRN_K, LRN_N, LRN_ALPHA, LRN_BETA) == (2.0, 5, 1e-4, 0.75)


def test_library_lrn_equals_the_paper_formula():
    torch.manual_seed(0)
    a = torch.relu(torch.randn(2, 16, 7, 7, dtype=torch.float64)) * 30  # large enough to matter
    expected = paper_formula(a)
    got = LocalResponseNorm().double()(a)
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(a / LRN_K**LRN_BETA, expected)  # the sum term is not negligible


def test_pytorch_default_alpha_convention_differs():
    a = torch.relu(torch.randn(1, 8, 3, 3, dtype=torch.float64)) * 30
    naive = torch.nn.LocalResponseNorm(LRN_N, alpha=LRN_ALPHA, beta=LRN_BETA, k=LRN_K)(a)
    assert not torch.allclose(naive, paper_formula(a))


def test_pytorch_module_with_alpha_times_n_is_the_same():
    a = torch.relu(torch.randn(2, 12, 5, 5, dtype=torch.float64)) * 30
    torch_lrn = torch.nn.LocalResponseNorm(LRN_N, alpha=LRN_ALPHA * LRN_N, beta=LRN_BETA, k=LRN_K)
    torch.testing.assert_close(LocalResponseNorm()(a), torch_lrn(a))


def test_written_out_backward_matches_autograd():
    a = (torch.randn(2, 12, 3, 3, dtype=torch.float64) * 20).requires_grad_()
    assert torch.autograd.gradcheck(LocalResponseNorm(), (a,))
    g = torch.randn(2, 12, 3, 3, dtype=torch.float64)
    (expected,) = torch.autograd.grad(paper_formula(a), a, g)
    (got,) = torch.autograd.grad(LocalResponseNorm()(a), a, g)
    torch.testing.assert_close(got, expected)


def test_bf16_input_is_normalized_in_float32():
    a = torch.relu(torch.randn(2, 16, 7, 7)) * 30
    out = LocalResponseNorm()(a.bfloat16())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(
        out.float(), paper_formula(a.bfloat16().double()).float(), rtol=1e-2, atol=1e-2
    )
    a.requires_grad_()
    LocalResponseNorm()(a.bfloat16()).float().sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_batch_cut_into_slices_on_the_cpu_gives_the_same_result():
    torch.manual_seed(0)
    a = (torch.relu(torch.randn(11, 96, 27, 27, dtype=torch.float64)) * 30).requires_grad_()
    assert len(_batch_slices(a)) > 1  # conv1's maps: 7 images per slice
    g = torch.randn_like(a)
    got = LocalResponseNorm()(a)
    (got_grad,) = torch.autograd.grad(got, a, g)
    expected = paper_formula(a)
    (expected_grad,) = torch.autograd.grad(expected, a, g)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(got_grad, expected_grad)


def test_plain_and_torch_lrn_compute_the_papers_formula():
    from alexnet_lab.model import PlainLRN, torch_lrn

    a = torch.randn(2, 96, 7, 7, dtype=torch.float64) * 30
    reference = LocalResponseNorm()(a)
    torch.testing.assert_close(PlainLRN()(a.float()), reference.float())
    torch.testing.assert_close(torch_lrn()(a), reference)
