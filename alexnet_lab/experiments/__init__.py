"""Named studies: lists of variants of one profile, trained with one budget, and a runner.

A :class:`Study` is a set of variants (small overrides of a profile's config, see
:func:`alexnet_lab.config.with_overrides`), the seeds to train each with, and the budget
every variant shares (more overrides, such as ``epochs``), for every profile and per
profile. A study may first choose one field per variant, such as the learning rate, by a
:class:`Sweep` on images held out of the training split. :func:`run_experiment` trains
each (variant, seed) into its own run folder, ``runs/<profile>/<variant>/``, with
:func:`alexnet_lab.trained.load_trained` (which resumes an unfinished run, never re-runs a
finished one and refuses a folder trained with another config), and writes one results
JSON: the numbers and curves of every run, its seed, wall time, the machine and the git
commit::

    alexnet-lab experiment tiny --profile smoke

The studies of the paper's claims (issue "Check the paper's claims by experiment"):
``relu_vs_tanh`` (Figure 1), ``lrn_cifar10`` (LRN on CIFAR-10, section 3.3), ``ablations``
(the tricks toggled one at a time on Imagenette at a short budget), ``normalization``
(mean-only against mean/std inputs, with and without LRN) and ``ablations_full``
(the LRN and dropout toggles at the profile's own budget, to check the short budget's
ranking). :mod:`alexnet_lab.experiments.summary` turns their results into tables.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from alexnet_lab.analysis.columns import colour_share
from alexnet_lab.analysis.filters import conv1_smoothness
from alexnet_lab.checkpoint import HISTORY, write_json
from alexnet_lab.config import Config, variant_name, with_overrides
from alexnet_lab.experiments.summary import speed_score, val_error_score
from alexnet_lab.paths import RUNS, git_commit
from alexnet_lab.train import DivergedError, build_model
from alexnet_lab.trained import TrainedMeta, load_history, load_trained, run_dir

Measure = Callable[[nn.Module, TrainedMeta], dict]  # numbers recorded for a trained run


@dataclass(frozen=True)
class Sweep:
    """One config field chosen per variant among a few values, on training images only.

    Each variant is trained once with each value (seed ``seed``), with the study's budget
    plus this sweep's (which should hold a ``holdout``: the sweep runs then evaluate on
    images held out of the training split and never read the val or test split). The value
    whose run's history scores lowest is the one the variant's main runs use; a run that
    diverged never wins, and ties go to the first value.

    Attributes:
        over: the Config field swept ("lr").
        values: its values.
        score: a run's history -> a number, lower is better
            (:func:`~alexnet_lab.experiments.summary.speed_score`, ...).
        budget: overrides of the sweep runs, on top of the study's.
        profile_budget: more overrides, per profile name.
        profile_values: other values, per profile name (a short list for smoke; an empty
            one skips the sweep there, and the variants keep the budget's value).
        seed: the seed of every sweep run.
    """

    over: str
    values: tuple
    score: Callable[[list[dict]], float]
    budget: dict = field(default_factory=dict)
    profile_budget: dict[str, dict] = field(default_factory=dict)
    profile_values: dict[str, tuple] = field(default_factory=dict)
    seed: int = 0


@dataclass(frozen=True)
class Study:
    """A named experiment.

    Attributes:
        name: what ``alexnet-lab experiment NAME`` calls it.
        question: what it measures and how, in a few sentences.
        variants: {label: overrides}; the baseline is ``{}``.
        seeds: every variant is trained once per seed.
        budget: overrides every variant shares (for example ``{"epochs": 10}``).
        profile_budget: more shared overrides, per profile name (on top of ``budget``).
        profile_seeds: other seeds, per profile name (one seed for smoke).
        sweep: None, or a :class:`Sweep` that chooses one field per variant first.
        measure: None, or ``measure(model, meta)`` -> numbers recorded for each trained run.
    """

    name: str
    question: str
    variants: dict[str, dict] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    budget: dict = field(default_factory=dict)
    profile_budget: dict[str, dict] = field(default_factory=dict)
    profile_seeds: dict[str, tuple[int, ...]] = field(default_factory=dict)
    sweep: Sweep | None = None
    measure: Measure | None = None

    def budget_on(self, profile: Config) -> dict:
        """The overrides every run of the study shares on ``profile``."""
        return {**self.budget, **self.profile_budget.get(profile.name, {})}

    def seeds_on(self, profile: Config) -> tuple[int, ...]:
        """The seeds each variant is trained with on ``profile``."""
        return self.profile_seeds.get(profile.name, self.seeds)

    def configs(
        self, profile: Config, chosen: dict[str, object] | None = None
    ) -> list[tuple[str, int, Config]]:
        """(label, seed, config) of every run of the study on ``profile``.

        ``chosen`` is {label: value} of the sweep's field (see :meth:`choose`); without it the
        variants keep the value that the profile and the budget give.
        """
        budget = self.budget_on(profile)
        pick = {} if chosen is None or self.sweep is None else {
            label: {self.sweep.over: value} for label, value in chosen.items()}  # fmt: skip
        return [
            (label, seed, with_overrides(
                profile, {**budget, **overrides, **pick.get(label, {}), "seed": seed}))
            for label, overrides in self.variants.items()
            for seed in self.seeds_on(profile)
        ]  # fmt: skip

    def sweep_configs(self, profile: Config) -> list[tuple[str, object, Config]]:
        """(label, value, config) of every run of the sweep on ``profile``."""
        s = self.sweep
        if s is None:
            return []
        budget = {**self.budget_on(profile), **s.budget, **s.profile_budget.get(profile.name, {})}
        return [
            (label, value, with_overrides(
                profile, {**budget, **overrides, s.over: value, "seed": s.seed}))
            for label, overrides in self.variants.items()
            for value in s.profile_values.get(profile.name, s.values)
        ]  # fmt: skip

    def choose(self, sweep_runs: list[dict]) -> dict[str, object]:
        """{label: value} with the lowest "score" among each variant's sweep runs (results
        as :func:`run_experiment` records them, with "label", "value" and "score").

        Raises:
            RuntimeError: every run of a variant diverged.
        """
        chosen = {}
        for label in self.variants:
            done = [r for r in sweep_runs if r["label"] == label and r.get("score") is not None]
            if not done:
                raise RuntimeError(
                    f"{self.name}: every {self.sweep.over} of the sweep diverged for {label!r}; "
                    "add smaller values to the sweep."
                )
            chosen[label] = min(done, key=lambda r: r["score"])["value"]
        return chosen


def conv1_measures(model: nn.Module, meta: TrainedMeta) -> dict[str, float]:
    """The "filters" study's numbers for one run: :func:`conv1_smoothness` of its trained
    conv1 against the initial one (rebuilt as the trainer built it: seed, then model)."""
    torch.manual_seed(meta.config.seed)
    initial = build_model(meta.config, len(meta.classes)).features.conv1.weight
    columns = 2 if meta.config.two_columns else 1
    return conv1_smoothness(model.features.conv1.weight, initial, columns)


def conv1_colour(model: nn.Module, meta: TrainedMeta) -> dict[str, list[float]]:
    """The "colour" study's numbers for one run: the :func:`colour_share` of each of its
    96 conv1 kernels, in kernel order (the first 48 feed column 1 of a two-column net)."""
    return {"colour_share": colour_share(model.features.conv1.weight).tolist()}


# CIFAR-10 with the paper's four-layer net (alexnet_lab.model.CifarNet): the trainer's crop
# geometry (224 of 256) takes 28x28 crops of the unresized 32x32 images; no PCA colour, no
# label smoothing, and the net has no dropout.
CIFAR = {"dataset": "cifar10", "arch": "cifar", "image_size": 28, "min_crop_area": None,
         "label_smoothing": 0.0, "pca_colour": False, "dropout": 0.0}  # fmt: skip
# Images per class held out of CIFAR-10's training split for the learning-rate sweeps, which
# so never read the test split (the trainer evaluates on test/ otherwise: CIFAR-10 has no val/).
HOLDOUT = {"holdout": 500}

RELU_VS_TANH = Study(
    "relu_vs_tanh",
    "Figure 1: how many times fewer epochs (and seconds) does the four-layer CIFAR-10 net "
    "need to reach 25% training error with ReLUs than with tanh units (the paper: six)? "
    "The net is cuda-convnet's layers-conv-local-13pct (conv 5x5x64, pool, conv 5x5x64, "
    "pool, two locally connected 3x3x32 layers, fc10; alexnet_lab.model.CifarNet without "
    "LRN): the paper does not say which net Figure 1 used, and its section 3.3 calls this "
    "net 'a four-layer CNN' too, so both CIFAR-10 claims are checked on one net. No "
    "regularization, as in the paper: no weight decay, dropout, augmentation (centre "
    "crops, no flips, no PCA colour) or label smoothing; a constant learning rate, chosen "
    "for each activation by a sweep (0.001 to 0.1) as the one that reaches 25% training "
    "error in the fewest epochs, on 4,500 images per class with 500 held out (the sweep "
    "never reads the test split). He-normal init with each activation's gain and "
    "mean/std inputs, so that both nets start at unit scale. Training error is the "
    "trainer's per-epoch mean over the batches, as cuda-convnet reported it.",
    variants={"ReLU": {}, "tanh": {"activation": "tanh"}},
    seeds=(0, 1, 2),
    budget={**CIFAR, "lrn": False, "augment": False, "weight_decay": 0.0,
            "schedule": "constant", "init": "kaiming", "normalize": "mean_std"},
    profile_budget={"smoke": {"epochs": 2}, "cpu": {"epochs": 30}, "gpu": {"epochs": 60}},
    profile_seeds={"smoke": (0,)},
    sweep=Sweep(
        # 0.001 joined when the first sweep's fastest ReLU rate was its smallest value.
        "lr", (0.001, 0.003, 0.01, 0.03, 0.1), speed_score, budget=HOLDOUT,
        profile_budget={"smoke": {"holdout": 2}, "cpu": {"epochs": 10}, "gpu": {"epochs": 20}},
        profile_values={"smoke": (0.01, 0.1)},
    ),
)  # fmt: skip

LRN_CIFAR10 = Study(
    "lrn_cifar10",
    "Does LRN lower the test error of the four-layer CIFAR-10 net (the paper: 13% without, "
    "11% with)? The nets are cuda-convnet's layers-conv-local-13pct and -11pct "
    "(alexnet_lab.model.CifarNet with and without the paper's LRN after conv1 and conv2), "
    "trained as cuda-convnet's recipe as far as the trainer goes: its initialization "
    "(init=paper), inputs in 0..255 minus the mean (normalize=mean, the scale the LRN "
    "constants were set for), random 28x28 crops and flips, SGD with momentum 0.9 and "
    "weight decay 0.004 (the config's value for its locally connected and fc layers, here "
    "on every layer), over a much shorter cosine schedule than its ~350 epochs. Each "
    "variant's learning rate is chosen by a sweep (0.001 to 0.1) on 500 images per class "
    "held out of the training split; the test split is read only by the final runs.",
    variants={"LRN": {}, "no LRN": {"lrn": False}},
    seeds=(0, 1, 2),
    budget={**CIFAR, "lrn": True, "init": "paper", "normalize": "mean",
            "weight_decay": 0.004, "schedule": "cosine"},
    profile_budget={"smoke": {"epochs": 2}, "cpu": {"epochs": 30}, "gpu": {"epochs": 100}},
    profile_seeds={"smoke": (0,)},
    sweep=Sweep(
        # 0.1 joined when the first sweep's best LRN rate was its largest value.
        "lr", (1e-3, 3e-3, 1e-2, 3e-2, 0.1), val_error_score, budget=HOLDOUT,
        profile_budget={"smoke": {"holdout": 2}, "cpu": {"epochs": 10}, "gpu": {"epochs": 30}},
        profile_values={"smoke": (1e-3, 1e-2)},
    ),
)  # fmt: skip

# The ablations' budget: shorter than the cpu profile (3 seeds of every variant in a few
# hours on 2 cores). Smoke: one step of 40 images, so that the chapter re-runs the three
# Imagenette studies (17 runs) under nbval in well under a minute.
ABLATION_BUDGET = {
    "smoke": {"train_per_class": 4, "batch_size": 40},
    "cpu": {"image_size": 96, "epochs": 12},
    "gpu": {"epochs": 30},
}

ABLATIONS = Study(
    "ablations",
    "How much does each of the paper's tricks change AlexNet's val top-1 and top-5 on "
    "Imagenette, toggled one at a time against the profile's recipe, and is the change "
    "larger than the seed noise? LRN; overlapping (3/2) against non-overlapping (2/2) "
    "pooling; dropout; PCA colour augmentation; two columns against the paper's one-GPU "
    "net (one column, half the kernels in conv1-conv4, conv5 and the fc layers whole). "
    "Input normalization is the study 'normalization'. Every variant has the same budget "
    "(ABLATION_BUDGET), shorter than the cpu profile so that 3 seeds of each fit in a few "
    "hours on 2 cores: 96 px crops, 12 epochs of the cosine schedule (smoke: one step of "
    "40 images; gpu: 224 px, 30 epochs). Seeds pair the runs: seed s of a variant and of the "
    "baseline share the data order and augmentation.",
    variants={
        "baseline": {},
        "no LRN": {"lrn": False},
        "non-overlapping pooling": {"overlap_pool": False},
        "no dropout": {"dropout": 0.0},
        "no PCA colour": {"pca_colour": False},
        "one column, half width": {"two_columns": False, "width": 0.5},
    },
    seeds=(0, 1, 2),
    profile_budget=ABLATION_BUDGET,
    profile_seeds={"smoke": (0,)},
)

NORMALIZATION = Study(
    "normalization",
    "Input normalization, mean only (the paper: 0..255 pixels minus the mean) against "
    "mean/std (ours: unit variance), each with and without LRN: does LRN matter more at the "
    "paper's input scale, as the LRN chapter suggests (with unit-variance inputs "
    "alpha * sum a^2 is far below k, and LRN divides by a near constant)? The ablations' "
    "budget. Mean-only inputs start from the paper's init (N(0, 0.01^2) weights), as in the "
    "paper: He init assumes unit-variance inputs, and with inputs 60 times larger the net "
    "without LRN learned best at the smallest rate tried, 1e-5, and poorly (a first run of "
    "this study). At "
    "the cpu recipe's learning rate (0.04) mean-only inputs diverge in the first epochs (a "
    "pilot), so each variant gets its own learning rate, chosen by a sweep (1e-5 to 0.1) on "
    "100 images per class held out of the training split (5 epochs).",
    variants={
        "mean/std": {},
        "mean/std, no LRN": {"lrn": False},
        "mean only": {"normalize": "mean", "init": "paper"},
        "mean only, no LRN": {"normalize": "mean", "init": "paper", "lrn": False},
    },
    seeds=(0, 1, 2),
    profile_budget=ABLATION_BUDGET,
    profile_seeds={"smoke": (0,)},
    sweep=Sweep(
        # Four decades, so that no variant's choice sits on the edge: 0.1 above the recipe's
        # 0.04; down to 1e-5 because mean-only inputs with He init chose each lower edge.
        "lr", (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 1e-2, 0.04, 0.1), val_error_score,
        budget={"holdout": 100},
        profile_budget={"smoke": {"holdout": 2}, "cpu": {"epochs": 5}, "gpu": {"epochs": 10}},
        profile_values={"smoke": (1e-2,)},
    ),
)  # fmt: skip

ABLATIONS_FULL = Study(
    "ablations_full",
    "Does the short budget's ranking of the LRN and dropout toggles (study 'ablations') "
    "hold at the profile's own budget? The baseline is the profile's model itself "
    "(runs/<profile>/base), one seed.",
    variants={"baseline": {}, "no LRN": {"lrn": False}, "no dropout": {"dropout": 0.0}},
    profile_budget={"smoke": ABLATION_BUDGET["smoke"]},  # smoke: the ablations' own runs
)

STUDIES = {
    s.name: s
    for s in (
        Study(
            "tiny",
            "Does the runner train, record and skip finished runs? LRN on and off, one seed.",
            variants={"baseline": {}, "no LRN": {"lrn": False}},
        ),
        Study(
            "filters",
            "What makes the trained conv1 kernels smooth rather than noisy at a short budget: "
            "conv1's initial scale or weight decay? Each run records the high-frequency share "
            "of its conv1 kernels (alexnet_lab.analysis.filters.conv1_smoothness).",
            variants={
                "baseline": {},
                "conv1 init N(0, 0.01^2)": {"conv1_std": 0.01},
                "weight decay 5e-3": {"weight_decay": 5e-3},
            },
            budget={"epochs": 6},
            measure=conv1_measures,
        ),
        Study(
            "colour",
            "Does one column of conv1 come out colour-agnostic and the other colour-specific, "
            "as the paper says happens in every run (its Figure 3)? Each run records the "
            "colour share of its 96 conv1 kernels (alexnet_lab.analysis.columns.colour_share); "
            "a one-column net, whose two halves of conv1 are interchangeable, is the control. "
            "conv1 starts from N(0, 0.01^2), which the 'filters' study found makes the kernels "
            "smooth at this budget (He-init kernels are mostly their initial noise); the "
            "filters study's budget of 6 epochs.",
            variants={"two columns": {}, "one column": {"two_columns": False}},
            seeds=(0, 1, 2),
            budget={"epochs": 6, "conv1_std": 0.01},
            profile_budget={"smoke": {"epochs": 1}},
            profile_seeds={"smoke": (0,)},
            measure=conv1_colour,
        ),
        RELU_VS_TANH,
        LRN_CIFAR10,
        ABLATIONS,
        NORMALIZATION,
        ABLATIONS_FULL,
    )
}


def get_study(name: str) -> Study:
    """The study called ``name``; the error lists the known ones."""
    if name not in STUDIES:
        raise ValueError(f"Unknown experiment {name!r}; choose one of {', '.join(STUDIES)}")
    return STUDIES[name]


def provenance() -> dict:
    """What a results JSON records about where and when it was made: {"machine" (see
    :func:`machine`), "commit" (of the code now, see :func:`alexnet_lab.paths.git_commit`),
    "finished" (UTC, ISO 8601)}."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {"machine": machine(), "commit": git_commit(),
            "finished": now.isoformat(timespec="seconds")}  # fmt: skip


def machine() -> dict[str, str | int]:
    """The machine a result was measured on: CPU or GPU, threads, torch version."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "device": gpu or f"CPU ({platform.processor() or platform.machine()})",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


# Beside a study's results file while it runs: the records of its finished runs, written after
# each one. A run recorded there is not trained again even when its run folder is gone (run
# folders hold 435 MB checkpoints and are not kept; this small file can be), and the file is
# deleted when the results file is written.
PROGRESS = ".progress.json"

DIVERGED = "diverged.txt"  # in a run folder: the message of a run whose loss became NaN


def train_run(
    label: str,
    seed: int,
    config: Config,
    data: str | os.PathLike | None,
    runs: Path,
    tag: str = "",
    measure: Measure | None = None,
) -> dict:
    """Train one run of a study (or load it, finished) and return its record: {"label",
    "variant", "seed", "config", "final", "history", "wall_seconds", "trained_now"}, or
    {"label", "variant", "seed", "config", "diverged"} for a run whose loss became NaN.

    A run that diverged leaves :data:`DIVERGED` in its folder, so it is not trained again.
    ``tag`` starts the lines it prints; ``measure(model, meta)``, if given, adds its numbers
    to the record as "measures".
    """
    folder = run_dir(config, runs)
    history = folder / HISTORY
    finished = history.exists() and len(load_history(config, runs)) >= config.epochs
    failed = {"label": label, "variant": variant_name(config), "seed": seed,
              "config": asdict(config)}  # fmt: skip
    print(f"{tag}{label}, seed {seed}", flush=True)
    if not finished and (folder / DIVERGED).exists():
        return {**failed, "diverged": (folder / DIVERGED).read_text()}
    try:
        model, meta = load_trained(config, data, runs)  # trains or resumes it if unfinished
    except DivergedError as e:  # a result too: this recipe does not train
        print(f"{tag}{label}, seed {seed} diverged: {e}", flush=True)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DIVERGED).write_text(str(e))
        return {**failed, "diverged": str(e)}
    curves = load_history(config, runs)
    return {
        "label": label,
        "variant": meta.variant,
        "seed": seed,
        "config": asdict(meta.config),
        "final": meta.metrics,
        "history": curves,
        "wall_seconds": curves[-1]["seconds"],
        "trained_now": not finished,
        "commits": list(meta.commits),
        **({"measures": measure(model, meta)} if measure else {}),
    }


def run_experiment(
    name: str,
    profile: Config,
    data: str | os.PathLike | None = None,
    runs: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
) -> Path:
    """Train every run of study ``name`` on ``profile`` and write its results JSON.

    A study with a :class:`Sweep` trains the sweep first, picks each variant's value
    (:meth:`Study.choose`) and then trains the main runs with it. Every run has its own
    folder, so an interrupted study continues where it stopped and finished runs are loaded,
    not trained again. Each finished run is also recorded in ``<out stem>.progress.json``
    (:data:`PROGRESS`), which keeps it from being trained again when its folder is gone
    (another machine, a fresh checkout): keep that file with the results to resume there.

    Args:
        name: a key of :data:`STUDIES`.
        profile: the profile the variants override.
        data: data root or dataset folder (default ``$ALEXNET_LAB_DATA``).
        runs: folder of the run folders (default ``runs/`` in the repository).
        out: the results file (default ``<runs>/<profile>/experiments/<name>.json``).

    Returns:
        The path of the results JSON: {"study", "question", "profile", "machine", "commit"
        (of this call's code), "finished", "runs": [{"label", "variant", "seed", "config",
        "final", "history", "wall_seconds", "trained_now", "commits" (of the code that
        trained the run: it may have been trained by an earlier call, or by another study
        sharing its folder)}]}; a run whose loss became NaN has "diverged" (the message)
        instead of "final", "history", "wall_seconds", "trained_now" and "commits". A study
        with a sweep also has "sweep": {"over", "score", "runs" (as "runs", each with its
        "value" and "score", None if it diverged), "chosen": {label: value}}.
    """
    study = get_study(name)
    runs = Path(runs or RUNS)
    out = Path(out or runs / profile.name / "experiments" / f"{name}.json")
    progress = out.with_name(out.name.removesuffix(".json") + PROGRESS)
    kept = _recorded(progress)
    record = {"study": study.name, "question": study.question, "profile": profile.name}

    def run(
        label: str, seed: int, config: Config, tag: str, measure: Measure | None = None
    ) -> dict:
        """The run's record: from the progress file, else trained (or loaded) and added."""
        key = _key(label, asdict(config))
        if key in kept:
            print(f"{tag}{label}, seed {seed}: recorded in {progress.name}", flush=True)
            return {**kept[key], **({"trained_now": False} if "final" in kept[key] else {})}
        result = train_run(label, seed, config, data, runs, tag, measure)
        kept[key] = result
        write_json({**record, "runs": list(kept.values())}, progress)
        return result

    sweep, chosen = None, None
    if study.sweep_configs(profile):
        s = study.sweep
        done = []
        for label, value, config in study.sweep_configs(profile):
            tag = f"{study.name}: sweep {s.over}={value}, "
            result = {**run(label, s.seed, config, tag), "value": value}
            done.append(
                {**result, "score": s.score(result["history"]) if "final" in result else None}
            )
        chosen = study.choose(done)
        print(f"{study.name}: chose {s.over} {chosen}", flush=True)
        sweep = {"over": s.over, "score": s.score.__name__, "runs": done, "chosen": chosen}
    results = [run(label, seed, config, f"{study.name}: ", study.measure)
               for label, seed, config in study.configs(profile, chosen)]  # fmt: skip
    record = {**record, **provenance(), "runs": results}
    if sweep is not None:
        record["sweep"] = sweep
    write_json(record, out)
    progress.unlink(missing_ok=True)
    return out


def _key(label: str, config: dict) -> str:
    """A run's identity in a progress file: its label and its whole config (as a dict)."""
    return json.dumps([label, config], sort_keys=True)


def _recorded(progress: Path) -> dict[str, dict]:
    """{key: record} of the runs a progress file holds (none if there is no file)."""
    if not progress.exists():
        return {}
    try:
        runs = json.loads(progress.read_text())["runs"]
    except (json.JSONDecodeError, KeyError) as e:
        raise ValueError(
            f"{progress} is not a study's progress file ({e}); move it away to start the "
            "study's record again (its finished runs are still loaded from their run folders)"
        ) from e
    return {_key(r["label"], r["config"]): r for r in runs}
