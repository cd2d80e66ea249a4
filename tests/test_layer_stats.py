import pytest
import torch
from torch import nn

from alexnet_lab.analysis.layer_stats import (
    activation_stats,
    check_dropout,
    lrn_divisor,
    stats_table,
    top_k_error,
    top_k_table,
    train_mode_outputs,
)
from alexnet_lab.model import LRN_BETA, LRN_K, LocalResponseNorm


def test_activation_stats():
    s = activation_stats(torch.tensor([0.0, 0.0, 2.0, 6.0]))
    assert (s.mean, s.zeros, s.max) == (2.0, 0.5, 6.0)
    assert s.std == pytest.approx(torch.tensor([0.0, 0.0, 2.0, 6.0]).std().item())
    table = stats_table({"act1": torch.zeros(2, 3, 4, 5)})
    assert "3x4x5" in table and "100.0%" in table


def test_lrn_divisor_is_what_the_lrn_module_divides_by():
    torch.manual_seed(0)
    a = torch.relu(torch.randn(2, 12, 5, 5, dtype=torch.float64)) * 80
    torch.testing.assert_close(a / lrn_divisor(a), LocalResponseNorm().double()(a))
    quiet = lrn_divisor(torch.full((1, 7, 2, 2), 1e-3, dtype=torch.float64))
    torch.testing.assert_close(quiet, torch.full_like(quiet, LRN_K**LRN_BETA))
    assert lrn_divisor(a).max() > 3  # large neighbours divide by much more than k^beta


def test_train_mode_outputs_restores_the_mode():
    drop = nn.Dropout(0.5).eval()
    out = train_mode_outputs(drop, torch.ones(100), trials=3)
    assert out.shape == (3, 100) and not drop.training
    assert not torch.equal(out[0], out[1])


def test_dropout_scales_kept_units_and_matches_eval_on_average():
    torch.manual_seed(0)
    x = torch.rand(500) + 0.5  # no zeros
    check = check_dropout(nn.Dropout(0.5), x, trials=2000)
    assert check.dropped == pytest.approx(0.5, abs=0.01)
    assert check.kept_scale == pytest.approx(2.0)
    assert not check.eval_changes_input
    # the mean of 2000 passes is within a few 1/sqrt(2000) = 2.2% of eval
    assert check.mean_gap < 0.03
    assert "multiplies the rest by 2.000" in str(check)
    x[::2] = 0  # like the output of a ReLU: the zeros do not count as dropped
    check = check_dropout(nn.Dropout(0.2), x, trials=200)
    assert check.kept_scale == pytest.approx(1.25) and check.dropped == pytest.approx(0.2, abs=0.01)


def test_top_k():
    logits = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    labels = torch.tensor([4, 0])
    assert top_k_error(logits, labels, k=5) == 0.5
    assert top_k_error(logits, labels, k=1) == 1.0
    names = ["a", "b", "c", "d", "e", "f"]
    lines = top_k_table(logits, labels, names, k=5).splitlines()
    assert "top-5 hit" in lines[0] and "*e" in lines[0]
    assert "top-5 miss" in lines[1] and lines[1].index("f ") < lines[1].index("e ")
