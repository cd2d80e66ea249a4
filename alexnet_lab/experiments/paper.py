"""The paper's numbers that the studies re-measure, and ours beside them.

:data:`CLAIMS` holds one :class:`Claim` per number of Krizhevsky, Sutskever & Hinton (2012)
that a study checks: what it is, the paper's value and section, the book chapter that
explains the trick, and how our number comes out of the study's results JSON (see
:func:`alexnet_lab.experiments.run_experiment`). The arithmetic is
:mod:`alexnet_lab.experiments.summary`'s.

- :func:`check_claims` measures every claim from {study name: results JSON}
  (:func:`check_study` those of one study);
  :func:`claims_table` shows the paper's number beside ours, :func:`verdict` says in words
  whether ours stands out of the seed noise;
- :func:`ten_crop_results` turns the centre-crop and ten-crop evaluation of one model
  (:data:`TEN_CROP_BENCH`) into a results dict the claims read like a study's;
- :func:`variant_errors`, :func:`time_to_error_table` and :func:`sweep_display` are one
  study's tables, :func:`error_curves` the error bands of the Figure 1 plot,
  :func:`describe_results` says where a results JSON comes from.

"Error saved" is the sign convention of every change: the error without the trick minus the
error with it, in points, so a positive number means the trick helps, as all the paper's do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from alexnet_lab.analysis.tables import DisplayTable
from alexnet_lab.experiments.summary import (
    curve_band,
    finished,
    labels,
    mean_std,
    paired_p,
    sweep_table,
    time_to_error,
    variant_table,
)
from alexnet_lab.paths import REPO

TARGET = 25.0  # Figure 1: training error (%) both nets are timed to
NOT_RUN = "not run yet"
TEN_CROP = "ten_crop"  # the results key of the ten-crop claims (see ten_crop_results)
# The cpu profile's model evaluated with a centre crop and with ten crops (`alexnet-lab
# evaluate --checkpoint runs/cpu/base [--ten-crop] --json`): the numbers the training chapter
# shows.
TEN_CROP_BENCH = REPO / "bench" / "results" / "vm-cpu-profile-sqrt-pca.json"


@dataclass(frozen=True)
class Claim:
    """One number of the paper and how a study re-measures it.

    Attributes:
        name: a short id (a glue name in the chapter).
        what: the claim in a few words.
        paper: the paper's number, None where it gives none.
        unit: "points" (of error), "%" (an error rate), "x" (a ratio) or "epochs".
        section: the paper's section that states it.
        chapter: the book chapter that explains the trick (notebook name).
        study: the key of its results in the dict :func:`check_claims` reads.
        kind: how ours is computed from the study's "runs":
            "saved": error of ``variant`` minus error of ``baseline``, paired by seed;
            "error": the error of ``variant``;
            "time": epochs of ``variant`` until its training error reaches :data:`TARGET`;
            "speedup": ``variant``'s epochs (``key`` "epochs") or seconds ("seconds") to
            :data:`TARGET` over ``baseline``'s, per seed.
        variant: the run label measured (for "saved": the one without the trick).
        baseline: the label it is compared with (for "saved": the one with the trick).
        key: the final metric ("val_top1", "val_top5", or "gap" for train_top1 - val_top1)
            for "saved" and "error"; "epochs" or "seconds" for "speedup".
        at_least: the paper says "more than" its number.
    """

    name: str
    what: str
    paper: float | None
    unit: str
    section: str
    chapter: str
    study: str
    kind: str
    variant: str
    baseline: str = ""
    key: str = "val_top1"
    at_least: bool = False

    @property
    def null(self) -> float:
        """Ours if the trick changed nothing: 1 for a ratio, else 0."""
        return 1.0 if self.kind == "speedup" else 0.0

    def paper_text(self) -> str:
        if self.paper is None:
            return "-"
        return f"{'> ' if self.at_least else ''}{self.paper:g}"


def _saved(
    name: str,
    what: str,
    paper: float | None,
    section: str,
    chapter: str,
    study: str,
    variant: str,
    baseline: str = "baseline",
    key: str = "val_top1",
    at_least: bool = False,
) -> Claim:
    """A claim of kind "saved": ``variant``'s error minus ``baseline``'s, in points."""
    return Claim(
        name, what, paper, "points", section, chapter, study, "saved", variant, baseline, key,
        at_least,
    )  # fmt: skip


# The paper's numbers (/work/shared/reference/alexnet-facts.md, checked against [P]).
CLAIMS: tuple[Claim, ...] = (
    # Section 3.1, Figure 1: the four-layer CIFAR-10 net reaches 25% training error six times
    # faster with ReLUs than with tanh units. The figure counts epochs.
    Claim("relu_epochs", "ReLU: epochs to 25% training error", None, "epochs", "3.1",
          "layers_relu", "relu_vs_tanh", "time", "ReLU"),
    Claim("tanh_epochs", "tanh: epochs to 25% training error", None, "epochs", "3.1",
          "layers_relu", "relu_vs_tanh", "time", "tanh"),
    Claim("speedup_epochs", "tanh / ReLU: epochs to 25% training error", 6.0, "x", "3.1",
          "layers_relu", "relu_vs_tanh", "speedup", "tanh", "ReLU", "epochs"),
    Claim("speedup_seconds", "tanh / ReLU: seconds to 25% training error", None, "x", "3.1",
          "layers_relu", "relu_vs_tanh", "speedup", "tanh", "ReLU", "seconds"),
    # Section 3.3: LRN on the four-layer CIFAR-10 net, 13% test error without, 11% with.
    Claim("cifar_no_lrn", "CIFAR-10 test error without LRN", 13.0, "%", "3.3",
          "layers_lrn_pooling", "lrn_cifar10", "error", "no LRN"),
    Claim("cifar_lrn", "CIFAR-10 test error with LRN", 11.0, "%", "3.3",
          "layers_lrn_pooling", "lrn_cifar10", "error", "LRN"),
    _saved("cifar_lrn_saved", "LRN: CIFAR-10 test error saved", 2.0, "3.3", "layers_lrn_pooling",
           "lrn_cifar10", "no LRN", "LRN"),
    # The tricks toggled one at a time (ImageNet in the paper, Imagenette here).
    _saved("lrn_top1", "LRN: top-1 error saved", 1.4, "3.3", "layers_lrn_pooling", "ablations",
           "no LRN"),
    _saved("lrn_top5", "LRN: top-5 error saved", 1.2, "3.3", "layers_lrn_pooling", "ablations",
           "no LRN", key="val_top5"),
    _saved("overlap_top1", "overlapping pooling: top-1 error saved", 0.4, "3.4",
           "layers_lrn_pooling", "ablations", "non-overlapping pooling"),
    _saved("overlap_top5", "overlapping pooling: top-5 error saved", 0.3, "3.4",
           "layers_lrn_pooling", "ablations", "non-overlapping pooling", key="val_top5"),
    _saved("dropout_top1", "dropout: top-1 error saved", None, "4.2",
           "layers_fc_dropout_softmax", "ablations", "no dropout"),
    _saved("dropout_gap", "dropout: train - val top-1 gap closed", None, "4.2",
           "layers_fc_dropout_softmax", "ablations", "no dropout", key="gap"),
    _saved("pca_top1", "PCA colour: top-1 error saved", 1.0, "4.1", "training", "ablations",
           "no PCA colour", at_least=True),
    _saved("pca_gap", "PCA colour: train - val top-1 gap closed", None, "4.1", "training",
           "ablations", "no PCA colour", key="gap"),
    _saved("columns_top1", "two columns, not one of half width: top-1 error saved", 1.7, "3.2",
           "layers_conv2_5", "ablations", "one column, half width"),
    _saved("columns_top5", "two columns, not one of half width: top-5 error saved", 1.2, "3.2",
           "layers_conv2_5", "ablations", "one column, half width", key="val_top5"),
    # LRN at the paper's input scale (mean only) and at ours (mean/std), each lr swept.
    _saved("lrn_mean_top1", "LRN, mean-only inputs: top-1 error saved", 1.4, "3.3",
           "layers_lrn_pooling", "normalization", "mean only, no LRN", "mean only"),
    _saved("lrn_mean_std_top1", "LRN, mean/std inputs: top-1 error saved", 1.4, "3.3",
           "layers_lrn_pooling", "normalization", "mean/std, no LRN", "mean/std"),
    # The profile's own budget, one seed.
    _saved("lrn_full_top1", "LRN, full budget: top-1 error saved", 1.4, "3.3",
           "layers_lrn_pooling", "ablations_full", "no LRN"),
    _saved("dropout_full_top1", "dropout, full budget: top-1 error saved", None, "4.2",
           "layers_fc_dropout_softmax", "ablations_full", "no dropout"),
    _saved("dropout_full_gap", "dropout, full budget: train - val top-1 gap closed", None,
           "4.2", "layers_fc_dropout_softmax", "ablations_full", "no dropout", key="gap"),
    # Sections 4.1 and 6: ten patches at test time, 39.0 -> 37.5 top-1, 18.3 -> 17.0 top-5
    # (ILSVRC-2010 test).
    _saved("ten_crop_top1", "ten patches, not the centre: top-1 error saved", 1.5, "4.1, 6",
           "training", TEN_CROP, "centre crop", "ten crops"),
    _saved("ten_crop_top5", "ten patches, not the centre: top-5 error saved", 1.3, "4.1, 6",
           "training", TEN_CROP, "centre crop", "ten crops", key="val_top5"),
)  # fmt: skip


def get_claim(name: str) -> Claim:
    """The claim called ``name``."""
    for c in CLAIMS:
        if c.name == name:
            return c
    raise ValueError(f"Unknown claim {name!r}; choose one of {', '.join(c.name for c in CLAIMS)}")


@dataclass(frozen=True)
class Checked:
    """A claim and our number for it.

    Attributes:
        claim: the :class:`Claim`.
        ours: mean over the seeds (for "saved" and "speedup": of the per-seed changes or
            ratios); nan where not measured.
        std: their sample std (nan with one seed).
        n: seeds (pairs of seeds) it is computed from.
        p: paired t-test against the baseline over those seeds (nan where there is none).
        bound: ours is a lower bound (some run never reached the target error).
        note: why ours is missing ("not run yet", ...) or what limits it.
    """

    claim: Claim
    ours: float = math.nan
    std: float = math.nan
    n: int = 0
    p: float = math.nan
    bound: bool = False
    note: str = ""

    @property
    def label(self) -> str:
        return self.claim.what

    @property
    def paper(self) -> float | None:
        return self.claim.paper

    @property
    def measured(self) -> bool:
        return not math.isnan(self.ours)

    def ours_text(self) -> str:
        """Ours as a table cell: "2.2 ± 0.5" (ratios: "0.74 ± 0.02"), "≥ 1.2" for a bound, or
        the note."""
        if not self.measured:
            return self.note
        d = 2 if self.claim.unit == "x" else 1
        text = f"{'≥ ' if self.bound else ''}{self.ours:.{d}f}"
        return text + (f" ± {self.std:.{d}f}" if self.n > 1 and not math.isnan(self.std) else "")


def _error(run: dict, key: str) -> float:
    """A finished run's final error (%) for ``key``, or its train - val top-1 gap."""
    f = run["final"]
    return f["train_top1"] - f["val_top1"] if key == "gap" else 100 - f[key]


def _missing(runs: Sequence[dict], label: str) -> str:
    if label not in labels(runs):
        return f"no runs of {label!r}"
    return f"all {sum(r['label'] == label for r in runs)} runs of {label!r} diverged"


def _pairs(runs: Sequence[dict], a: str, b: str) -> list[tuple[dict, dict]]:
    """(run of ``a``, run of ``b``) for each seed both finished, by seed."""
    other = {r["seed"]: r for r in finished(runs, b)}
    return [(r, other[r["seed"]]) for r in finished(runs, a) if r["seed"] in other]


def _time(history: Sequence[dict], key: str) -> tuple[float, bool]:
    """(epochs or seconds to :data:`TARGET`, reached); a run that never reaches it gives its
    full length, a lower bound."""
    t = time_to_error(history, TARGET)[0 if key == "epochs" else 1]
    if t is None:
        return float(history[-1]["epoch" if key == "epochs" else "seconds"]), False
    return t, True


def measure(claim: Claim, results: Mapping | None) -> Checked:
    """Our number for ``claim`` from its study's results JSON (None: not run yet)."""
    if results is None:
        return Checked(claim, note=NOT_RUN)
    runs, c = results["runs"], claim
    if c.kind in ("saved", "speedup"):
        for label in (c.variant, c.baseline):
            if not finished(runs, label):
                return Checked(c, note=_missing(runs, label))
        pairs = _pairs(runs, c.variant, c.baseline)
        if not pairs:
            return Checked(c, note=f"no seed finished both {c.variant!r} and {c.baseline!r}")
    if c.kind == "saved":
        a = [_error(v, c.key) for v, _ in pairs]
        b = [_error(base, c.key) for _, base in pairs]
        mean, std = mean_std(np.subtract(a, b))
        return Checked(c, mean, std, len(pairs), paired_p(a, b))
    if c.kind == "speedup":
        var_t, base_t, missed = [], [], 0
        for v, b in pairs:
            tv, reached = _time(v["history"], c.key)
            tb, base_reached = _time(b["history"], c.key)
            if base_reached:
                var_t.append(tv)
                base_t.append(tb)
                missed += not reached
        if not base_t:
            epochs = pairs[0][1]["history"][-1]["epoch"]
            return Checked(c, note=f"{c.baseline} never reached {TARGET:g}% in {epochs} epochs")
        notes = []
        if missed:
            notes.append(f"{missed} of {len(var_t)} {c.variant} runs never reached {TARGET:g}%")
        if len(base_t) < len(pairs):
            notes.append(f"{len(pairs) - len(base_t)} {c.baseline} runs never reached it")
        mean, std = mean_std(np.divide(var_t, base_t))
        p = math.nan if missed else paired_p(var_t, base_t)
        return Checked(c, mean, std, len(base_t), p, bound=missed > 0, note="; ".join(notes))
    done = finished(runs, c.variant)
    if not done:
        return Checked(c, note=_missing(runs, c.variant))
    if c.kind == "error":
        mean, std = mean_std([_error(r, c.key) for r in done])
        return Checked(c, mean, std, len(done))
    if c.kind == "time":
        times = [_time(r["history"], "epochs") for r in done]
        missed = sum(not reached for _, reached in times)
        mean, std = mean_std([t for t, _ in times])
        note = f"{missed} of {len(done)} runs never reached {TARGET:g}%" if missed else ""
        return Checked(c, mean, std, len(done), bound=bool(missed), note=note)
    raise ValueError(f"unknown kind {c.kind!r} of claim {c.name!r}")


def check_claims(results: Mapping[str, Mapping], claims: Sequence[Claim] = CLAIMS) -> list[Checked]:
    """Every claim measured from ``results``, {study name: results JSON}; a claim whose study
    is not in ``results`` is "not run yet"."""
    return [measure(c, results.get(c.study)) for c in claims]


def check_study(name: str, results: Mapping | None) -> list[Checked]:
    """The claims of study ``name`` measured from its results JSON (None: not run yet)."""
    return [measure(c, results) for c in CLAIMS if c.study == name]


def describe_results(results: Mapping) -> str:
    """One line on a results JSON: study, profile, runs (diverged, trained now), sweep runs,
    when, where and at which commit it finished."""
    runs = results["runs"]
    sweep = results.get("sweep", {}).get("runs", [])
    diverged = sum("diverged" in r for r in runs)
    now = sum(bool(r.get("trained_now")) for r in [*runs, *sweep])
    machine = results.get("machine", {})
    where = f" on {machine['device']}, {machine['threads']} threads" if machine else ""
    commit = f", commit {results['commit'][:12]}" if results.get("commit") else ""
    swept = f"{len(sweep)} sweep runs and " if sweep else ""
    return (
        f"{results['study']}, {results['profile']} profile: {swept}{len(runs)} runs ({diverged} "
        f"diverged; {now} trained by this call, the others recorded by earlier calls); "
        f"finished {results.get('finished', '?')}{where}{commit}"
    )


def _p_text(p: float) -> str:
    if math.isnan(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def verdict(checked: Checked, alpha: float = 0.05) -> str:
    """In words: is our change or ratio out of the seed noise (paired t-test at ``alpha``),
    and on the paper's side of no effect? "" for the claims that compare nothing."""
    c = checked.claim
    if not checked.measured:
        return checked.note
    if c.kind not in ("saved", "speedup"):
        return ""
    if math.isnan(checked.p):
        why = "one seed" if checked.n < 2 else "a lower bound"
        return f"{why}: no test against the seed noise"
    if checked.p >= alpha:
        return f"within the seed noise (p = {_p_text(checked.p)})"
    side = ""
    if c.paper is not None:
        agree = (checked.ours > c.null) == (c.paper > c.null)
        side = ", on the paper's side" if agree else ", against the paper"
    return f"beyond the seed noise (p = {_p_text(checked.p)}){side}"


def _origin(name: str, r: Mapping) -> str:
    if r.get("source"):
        return f"{name}: {r['source']}"
    when = str(r.get("finished", "?"))[:10]
    return f"{name}: {r.get('profile', '?')} profile, {len(r['runs'])} runs, finished {when}"


def claims_table(results: Mapping[str, Mapping], claims: Sequence[Claim] = CLAIMS) -> DisplayTable:
    """The paper's number beside ours for every claim, given {study name: results JSON}
    (the ten-crop claims read :func:`ten_crop_results` under :data:`TEN_CROP`). In HTML the
    last column links to the chapter's page of the built book."""
    checked = check_claims(results, claims)
    rows = [
        (k.label, k.claim.study, k.claim.section, k.claim.unit, k.claim.paper_text(),
         k.ours_text(), k.n or "", _p_text(k.p), k.claim.chapter)
        for k in checked
    ]  # fmt: skip
    notes = (
        "Paper: Krizhevsky, Sutskever & Hinton (2012), section §. Ours: mean ± std over seeds "
        "(of the per-seed changes and ratios); p: paired t-test against the baseline.",
        "Error saved: the error without the trick minus the error with it (points); positive "
        "means the trick helps, as all the paper's numbers do.",
        "relu_vs_tanh, lrn_cifar10: the four-layer net on CIFAR-10 (test split). ablations, "
        "normalization, ablations_full, ten_crop: AlexNet on Imagenette (10 classes, val "
        "split). The paper: ImageNet, 1000 classes.",
        *(f"{k.label}: {k.note}." for k in checked if k.measured and k.note),
        *(_origin(name, results[name]) for name in dict.fromkeys(c.study for c in claims)
          if name in results),
    )  # fmt: skip
    return DisplayTable(
        columns=("claim", "study", "§", "unit", "paper", "ours", "seeds", "p", "explained in"),
        rows=tuple(rows),
        notes=notes,
        align="lllllrrrl",
        links=tuple((None,) * 8 + (f"{k.claim.chapter}.html",) for k in checked),
    )


def ten_crop_results(bench: Mapping, source: str = "") -> dict:
    """One model's centre-crop and ten-crop evaluation as a results dict the claims read.

    Args:
        bench: {"centre_crop": {"top1", "top5", ...}, "ten_crop": {...}} (as in
            :data:`TEN_CROP_BENCH`; each as ``alexnet-lab evaluate --json`` prints it).
        source: where it comes from, for the notes of :func:`claims_table`.

    Returns:
        {"study": "ten_crop", "profile", "source", "runs"}: one run per way to crop,
        labelled "ten crops" and "centre crop", seed 0, with "final" val_top1 and val_top5.
    """
    runs = [
        {"label": label, "seed": 0,
         "final": {"val_top1": bench[key]["top1"], "val_top5": bench[key]["top5"]}}
        for label, key in (("ten crops", "ten_crop"), ("centre crop", "centre_crop"))
    ]  # fmt: skip
    profile = bench.get("config", {}).get("name", "?")
    return {"study": TEN_CROP, "profile": profile, "source": source, "runs": runs}


# --- one study's tables and curves ---------------------------------------------------------


def _name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")


def study_facts(results: Mapping) -> dict[str, int | str]:
    """The facts about a results JSON that a chapter's prose quotes, for ``glue``.

    Returns:
        "budget_epochs", "image_size", "seeds" and "minutes" (the range of their wall
        times, "25 to 39") of the main runs; with a sweep also
        "sweep_epochs", "lr_<label>" (each variant's chosen value), "top_lr" (the largest
        value swept) and "top_lr_<label>" (each variant's score there, "-" if it diverged).
        In labels, each run of characters other than letters and digits becomes one
        underscore ("mean/std, no LRN" -> "mean_std_no_LRN").
    """
    runs = results["runs"]
    facts: dict[str, int | str] = {
        "budget_epochs": runs[0]["config"]["epochs"],
        "image_size": runs[0]["config"]["image_size"],
        "seeds": len({r["seed"] for r in runs}),
    }
    minutes = [r["wall_seconds"] / 60 for r in runs if "wall_seconds" in r]
    if minutes:
        facts["minutes"] = f"{min(minutes):.0f} to {max(minutes):.0f}"
    if "sweep" not in results:
        return facts
    sweep = results["sweep"]["runs"]
    top = max(r["value"] for r in sweep)
    facts.update(sweep_epochs=sweep[0]["config"]["epochs"], top_lr=f"{top:g}")
    for label, value in results["sweep"]["chosen"].items():
        facts[f"lr_{_name(label)}"] = f"{value:g}"
    for r in sweep:
        if r["value"] == top:
            score = "-" if r["score"] is None else f"{r['score']:.0f}"
            facts[f"top_lr_{_name(r['label'])}"] = score
    return facts


def _pm(mean: float, std: float, digits: int = 1) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def variant_errors(
    runs: Sequence[dict],
    keys: Sequence[str] = ("val_top1", "val_top5"),
    baseline: str | None = None,
    split: str = "val",
) -> DisplayTable:
    """One row per variant: its final errors (mean ± std over seeds), their change against
    ``baseline`` (default: the first variant) and the paired p-value.

    Args:
        runs: a results JSON's "runs".
        keys: final metrics, "val_top1" or "val_top5" (shown as errors), or "gap" (train
            top-1 minus val top-1, in points; see :func:`variant_table`).
        split: what to call the evaluation split in the headers ("test" for CIFAR-10, which
            the trainer evaluates on its test split).
    """
    tables = [variant_table(runs, key, baseline) for key in keys]
    base = baseline or tables[0][0].label
    rows = []
    for i, row in enumerate(tables[0]):
        cells = [row.label, row.n, row.diverged]
        for key, t in zip(keys, tables, strict=True):
            r, sign = t[i], 1.0 if key == "gap" else -1.0  # a gap is shown as is, not as error
            if r.label == base:
                change, p = "", ""
            else:
                change = "-" if math.isnan(r.delta) else f"{sign * r.delta + 0.0:+.1f}"  # no -0.0
                p = _p_text(r.p)
            cells += [_pm(r.mean if key == "gap" else 100 - r.mean, r.std), change, p]
        rows.append(tuple(cells))
    heads = [f"train - {split} top-1 (points)" if k == "gap" else f"{split} top-{k[-1]} error (%)"
             for k in keys]  # fmt: skip
    return DisplayTable(
        columns=("variant", "seeds", "diverged",
                 *(h for head in heads for h in (head, "change", "p"))),
        rows=tuple(rows),
        notes=(f"Change: the variant's error minus that of {base!r}, in points, "
               "mean over the seeds both have; p: paired t-test over those seeds.",),
        align="lrr" + "rrr" * len(keys),
    )  # fmt: skip


def time_to_error_table(runs: Sequence[dict], target: float = TARGET) -> DisplayTable:
    """One row per variant: its learning rate, how many seeds reached ``target`` % training
    error, the epochs and seconds they took (mean ± std), and the final training error."""
    rows = []
    for label in labels(runs):
        done = finished(runs, label)
        times = [time_to_error(r["history"], target) for r in done]
        reached = [t for t in times if t[0] is not None]
        lrs = sorted({r["config"]["lr"] for r in done}) if done else []
        rows.append((
            label, ", ".join(f"{lr:g}" for lr in lrs) or "-", f"{len(reached)} of {len(done)}",
            _pm(*mean_std([e for e, _ in reached])), _pm(*mean_std([s for _, s in reached]), 0),
            _pm(*mean_std([100 - r["final"]["train_top1"] for r in done])),
        ))  # fmt: skip
    return DisplayTable(
        columns=("variant", "lr", f"reached {target:g}%", "epochs", "seconds",
                 "final training error (%)"),
        rows=tuple(rows),
        notes=(f"Epochs and seconds until the training error first reaches {target:g}% "
               "(linear between epochs), over the seeds that reach it.",),
        align="lrrrrr",
    )  # fmt: skip


def sweep_display(sweep: Mapping) -> DisplayTable:
    """A study's sweep (its results JSON's "sweep"): what each value scored, per variant."""
    rows = [
        (r["label"], f"{r['value']:g}", "diverged" if r["score"] is None else f"{r['score']:.2f}",
         "yes" if r["chosen"] else "",
         "-" if r["train_top1"] is None else f"{r['train_top1']:.1f}",
         "-" if r["val_top1"] is None else f"{r['val_top1']:.1f}")
        for r in sweep_table(sweep)
    ]  # fmt: skip
    return DisplayTable(
        columns=("variant", sweep["over"], "score", "chosen", "train top-1", "held-out top-1"),
        rows=tuple(rows),
        notes=(f"Score: {sweep['score']} of the run's history, lower is better; the runs "
               "evaluate on images held out of the training split.",),
        align="lrrlrr",
    )  # fmt: skip


def error_curves(
    runs: Sequence[dict], metric: str = "train_error"
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{variant: (epochs (E,), mean (E,), std (E,))} of a history column over the seeds
    (:func:`curve_band`), for the variants with a finished run.

    ``metric`` is "train_error" or "val_error" (100 - train_top1 or val_top1, %), or any
    history column, as it is.
    """
    error = metric.endswith("_error")
    key = metric.removesuffix("_error") + "_top1" if error else metric
    return {label: curve_band(runs, label, key, error) for label in labels(runs)
            if finished(runs, label)}  # fmt: skip
