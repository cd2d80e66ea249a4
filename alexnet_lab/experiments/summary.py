"""Numbers from a study's results: means and spreads over seeds, deltas, time to an error.

Every function takes plain lists and dicts: a run's history (one dict per epoch, as
:func:`alexnet_lab.train.train` returns it) or a results JSON's ``"runs"`` (see
:func:`alexnet_lab.experiments.run_experiment`), so they work on committed results without
torch or a trained model. Runs that diverged (``"diverged"`` instead of ``"final"``) are left
out of every mean and test.

- :func:`mean_std`, :func:`paired_p`: a sample's mean and spread, a paired t-test;
- :func:`time_to_error`: epochs and seconds until the training error reaches a target
  (the paper's Figure 1 measure);
- :func:`variant_table`: one row per variant with mean, std, the delta against a baseline
  and whether it stands out of the seed noise;
- :func:`curve_band`: a metric's mean and std over seeds, epoch by epoch (for bands);
- :func:`sweep_table`: what each value of a sweep scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of ``values``; the std is nan for one
    value, both are nan for none."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else math.nan


def paired_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of a paired t-test that ``a`` and ``b`` (same seeds, same order) have
    the same mean (:func:`scipy.stats.ttest_rel`).

    Where every difference is the same the t statistic is 0/0 or x/0; this returns 1.0 for
    identical pairs and 0.0 for a constant non-zero shift. Fewer than two pairs: nan.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        return math.nan
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_rel(a, b).pvalue)


def _crossing(xs: Sequence[float], errors: Sequence[float], target: float) -> float | None:
    """The x where the piecewise linear curve (xs, errors) first reaches ``target`` or below;
    the first x if the curve starts there already; None if it never does."""
    for i, e in enumerate(errors):
        if e <= target:
            if i == 0:
                return float(xs[0])
            e0, x0, x1 = errors[i - 1], xs[i - 1], xs[i]
            return float(x0 + (x1 - x0) * (e0 - target) / (e0 - e))
    return None


def time_to_error(
    history: Sequence[dict], target: float = 25.0, key: str = "train_top1"
) -> tuple[float | None, float | None]:
    """Epochs and wall seconds until the error ``100 - history[key]`` first reaches ``target``
    (%), as the paper's Figure 1 measures it (training error, 25%).

    Each epoch's error is the one the trainer logged at its end (for "train_top1", the mean
    over that epoch's batches), and the curve is linear in between, so the answer is a
    fraction of an epoch (and of the seconds) when the target falls between two epochs. An
    error already at the target after the first epoch gives 1 epoch and that epoch's
    seconds, an upper bound.

    Returns:
        (epochs, seconds), or (None, None) if the run never reaches the target.
    """
    errors = [100 - row[key] for row in history]
    epochs = _crossing([row["epoch"] for row in history], errors, target)
    seconds = _crossing([row["seconds"] for row in history], errors, target)
    return epochs, seconds


def finished(runs: Sequence[dict], label: str | None = None) -> list[dict]:
    """The runs that did not diverge, of variant ``label`` (all variants for None), by seed."""
    kept = [r for r in runs if "final" in r and (label is None or r["label"] == label)]
    return sorted(kept, key=lambda r: r["seed"])


def labels(runs: Sequence[dict]) -> list[str]:
    """The variant labels of ``runs``, in their first-seen order."""
    return list(dict.fromkeys(r["label"] for r in runs))


@dataclass(frozen=True)
class VariantRow:
    """One variant of a study, summarized over its seeds.

    Attributes:
        label: the variant.
        n: seeds that finished (diverged runs left out); diverged: seeds that diverged.
        mean, std: of ``key`` over those seeds.
        delta: mean of (variant - baseline) over the seeds both have; 0 for the baseline.
        p: paired t-test of the variant against the baseline over those seeds (nan with
            fewer than two, and for the baseline itself).
    """

    label: str
    n: int
    diverged: int
    mean: float
    std: float
    delta: float
    p: float


def variant_table(
    runs: Sequence[dict], key: str = "val_top1", baseline: str | None = None
) -> list[VariantRow]:
    """Mean and std of ``final[key]`` per variant, and its delta against ``baseline``.

    Args:
        runs: a results JSON's "runs".
        key: a history column ("val_top1", "val_top5", "train_top1", ...), or "gap" for
            train_top1 - val_top1 (the train-val gap; train_top1 is measured on augmented
            batches with dropout on, so it understates the fit).
        baseline: the label to compare with (default: the first variant).

    Returns:
        One :class:`VariantRow` per variant, in the study's order.
    """

    def value(run: dict) -> float:
        f = run["final"]
        return f["train_top1"] - f["val_top1"] if key == "gap" else f[key]

    names = labels(runs)
    baseline = baseline or names[0]
    base = {r["seed"]: value(r) for r in finished(runs, baseline)}
    rows = []
    for label in names:
        done = finished(runs, label)
        seeds = [r["seed"] for r in done if r["seed"] in base]
        mine = {r["seed"]: value(r) for r in done}
        a, b = [mine[s] for s in seeds], [base[s] for s in seeds]
        rows.append(VariantRow(
            label=label,
            n=len(done),
            diverged=sum(r["label"] == label and "final" not in r for r in runs),
            mean=mean_std(list(mine.values()))[0],
            std=mean_std(list(mine.values()))[1],
            delta=float(np.mean(np.subtract(a, b))) if seeds else math.nan,
            p=math.nan if label == baseline else paired_p(a, b),
        ))  # fmt: skip
    return rows


def ranking(runs: Sequence[dict], among: Sequence[str] | None = None) -> list[str]:
    """Variant labels from the lowest mean val top-1 error to the highest (those in ``among``
    only, if given)."""
    rows = [r for r in variant_table(runs) if among is None or r.label in among]
    return [r.label for r in sorted(rows, key=lambda r: -r.mean)]


def curve_band(
    runs: Sequence[dict], label: str, key: str = "train_top1", error: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A history column of variant ``label`` over its seeds, epoch by epoch.

    Args:
        runs: a results JSON's "runs".
        key: the history column.
        error: give ``100 - value`` (an error rate, as the paper plots) instead of the value.

    Returns:
        epochs (E,), mean (E,) and std (E,) over the seeds (std 0 with one seed), for the
        epochs every finished seed has.
    """
    histories = [r["history"] for r in finished(runs, label)]
    if not histories:
        raise ValueError(f"no finished run of {label!r}")
    length = min(len(h) for h in histories)
    values = np.array([[row[key] for row in h[:length]] for h in histories], dtype=float)
    values = 100 - values if error else values
    std = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(length)
    return np.arange(1, length + 1), values.mean(axis=0), std


def sweep_table(sweep: dict) -> list[dict]:
    """What each run of a study's sweep (the results JSON's "sweep") scored.

    Returns:
        One dict per sweep run, in run order: "label", the swept field's value ("value"),
        "score" (lower is better; None if it diverged), "chosen" (whether this value was
        picked for its variant), and the final "train_top1" and "val_top1" (None if it
        diverged).
    """
    rows = []
    for r in sweep["runs"]:
        final = r.get("final", {})
        rows.append({
            "label": r["label"],
            "value": r["value"],
            "score": r.get("score"),
            "chosen": sweep["chosen"].get(r["label"]) == r["value"],
            "train_top1": final.get("train_top1"),
            "val_top1": final.get("val_top1"),
        })  # fmt: skip
    return rows


def speed_score(history: Sequence[dict], target: float = 25.0) -> float:
    """How fast a run trains, lower is faster (the paper's criterion for Figure 1's learning
    rates, "to make training as fast as possible"): the epochs until its training error
    reaches ``target`` (:func:`time_to_error`); a run that never does scores its epochs plus
    its last training error / 100, so it ranks after every run that does, and among such runs
    the lower final error ranks first."""
    epochs = time_to_error(history, target)[0]
    if epochs is not None:
        return epochs
    return len(history) + (100 - history[-1]["train_top1"]) / 100


def val_error_score(history: Sequence[dict]) -> float:
    """The last epoch's validation error (%), lower is better."""
    return 100 - history[-1]["val_top1"]
