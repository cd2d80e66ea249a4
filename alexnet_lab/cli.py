"""The ``alexnet-lab`` command line.

Only the standard library is imported at the top: torch loads inside :func:`main`, so a
Ctrl-C during start-up ends with one line, like a Ctrl-C later.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path


class UsageError(Exception):
    """A bad argument: main() prints the message and returns 2."""


def _in_the_way(path: Path) -> Path | None:
    """The nearest of ``path`` and its parents that exists (or is a dangling link) but is
    not a folder, or None when that one is a folder: what stops ``path`` being made."""
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            return None if p.is_dir() else p
    return None


def _writable_folder(folder: str | os.PathLike, name: str, flag: str) -> Path:
    """``folder`` if it is, or can be made, a folder this process can write to; else a
    :class:`UsageError` naming ``name`` (how the user gave it) and ``flag`` (how to change it).

    ``os.access`` tells nothing for root, who may write anywhere; a file standing where a
    folder is needed stops root too.
    """
    folder = Path(folder).expanduser()
    blocker = _in_the_way(folder)
    if blocker is not None:
        kind = "a broken link" if blocker.is_symlink() and not blocker.exists() else "a file"
        where = f"is {kind}" if blocker == folder else f"cannot be made: {blocker} is {kind}"
        raise UsageError(f"{name} {where}, not a folder. Pass a folder with {flag}.")
    existing = next(p for p in (folder, *folder.parents) if p.exists())  # made from here on
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"{name} cannot be written: no write permission on {existing}. Pass a folder "
            f"you can write to with {flag}, or fix the permissions of {existing}."
        )
    return folder


def _os_error(e: OSError, args: argparse.Namespace) -> str:
    """One line for an OSError: the file, the reason, and what to do."""
    if e.filename is None:
        return f"{type(e).__name__}: {e}"
    files = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None)
    path = Path(os.fsdecode(e.filename)) if isinstance(e.filename, (str, bytes)) else None
    out = getattr(args, "out_dir", None)  # the folder --out named, or its default
    inside = path is not None and out is not None
    inside = inside and (path.is_relative_to(out) or out.is_relative_to(path))
    flag = " (--out)" if inside else ""
    try:
        blocker = _in_the_way(path) if path is not None else None
    except OSError:  # a parent we may not look into
        blocker = None
    if isinstance(e, PermissionError):
        fix = f"fix its permissions or choose a folder you can write to{flag}"
    elif e.errno == errno.EROFS:
        fix = f"the file system is read-only; choose another folder{flag}"
    elif e.errno == errno.ENOSPC:
        fix = f"free some space or choose a folder on another disk{flag}"
    elif isinstance(e, (NotADirectoryError, FileExistsError)) and blocker is not None:
        fix = f"{blocker} is in the way: it is not a folder; choose another path{flag}"
    elif isinstance(e, FileNotFoundError):
        fix = "check the path"
    else:
        fix = f"check the path and the disk{flag}"
    return f"{files}: {e.strerror or type(e).__name__}; {fix}."


def _check_data(args: argparse.Namespace) -> int:
    from alexnet_lab import data
    from alexnet_lab.classes import imagenet_classes

    report = data.check_data(args.path)
    names = dict(imagenet_classes())
    for split, classes in report.counts.items():
        print(f"{split}: {sum(classes.values())} images in {len(classes)} classes")
        for cls, n in classes.items():
            print(f"  {cls:<12} {names.get(cls, ''):<28} {n:>6}")
    print(f"{report.not_rgb} readable images are not RGB (converted when loaded)")
    for folder in report.empty:
        print(f"EMPTY class folder: {folder}")
    for path, reason in report.unreadable:
        print(f"UNREADABLE: {path}: {reason}")
    if not report.ok:
        print(f"{len(report.unreadable)} unreadable files, {len(report.empty)} empty folders")
    return 0 if report.ok else 1


def _download(args: argparse.Namespace) -> int:
    from alexnet_lab import data

    root = data.data_root(args.data)
    name = f"--data {root}" if args.data is not None else f"the data root {root}"
    if args.data is None and os.environ.get(data.DATA_ENV):
        name = f"${data.DATA_ENV}={root}"
    _writable_folder(root, name, "--data")
    print(data.download_imagenette(root, args.size))
    return 0


def _layers(args: argparse.Namespace) -> int:
    from alexnet_lab.analysis.layer_table import layer_table
    from alexnet_lab.model import AlexNet, TorchvisionAlexNet

    least = (AlexNet if args.model == "paper" else TorchvisionAlexNet).min_size
    if args.size < least:
        raise UsageError(
            f"--size {args.size} is too small: the {args.model} AlexNet needs images of at "
            f"least {least}x{least} pixels (the paper uses 224). Pass --size {least} or more."
        )
    if args.classes < 1:
        raise UsageError(f"--classes {args.classes}: pass 1 or more classes (ImageNet: 1000).")
    model = AlexNet(args.classes) if args.model == "paper" else TorchvisionAlexNet(args.classes)
    print(layer_table(model, args.size))
    return 0


def _config(args: argparse.Namespace):
    from alexnet_lab.config import get_profile, with_overrides

    return with_overrides(get_profile(args.profile), args.set or [])


def _pack(args: argparse.Namespace) -> int:
    from alexnet_lab.augment import resize_for
    from alexnet_lab.data import eval_split, find_data
    from alexnet_lab.pack import PACKS, ensure_pack

    c = _config(args)
    name = f"--out {args.out}" if args.out else f"the packs folder {PACKS}"
    out = args.out_dir = _writable_folder(args.out or PACKS, name, "--out")
    dataset = find_data(args.data, c.dataset)
    for split, n in (("train", c.train_per_class), (eval_split(dataset), c.val_per_class)):
        print(ensure_pack(dataset, split, resize_for(c.image_size), n, out))
    return 0


def _train(args: argparse.Namespace) -> int:
    from alexnet_lab.train import train
    from alexnet_lab.trained import run_dir

    config = _config(args)
    out = Path(args.out or run_dir(config))
    name = f"--out {out}" if args.out else f"the run folder {out}"
    args.out_dir = _writable_folder(out, name, "--out")
    history = train(config, out, args.data, resume=args.resume, compile=args.compile)
    if history:
        last = history[-1]
        print(f"val top-1 {last['val_top1']:.1f}%, top-5 {last['val_top5']:.1f}% ({out})")
    return 0


def _experiment(args: argparse.Namespace) -> int:
    from alexnet_lab.config import get_profile
    from alexnet_lab.experiments import run_experiment

    path = run_experiment(args.name, get_profile(args.profile), args.data, args.runs, args.out)
    print(f"results: {path}")
    return 0


def _scaling(args: argparse.Namespace) -> int:
    from alexnet_lab.config import get_profile
    from alexnet_lab.experiments.scaling import data_parallel_scaling

    path = data_parallel_scaling(get_profile(args.profile), args.processes, None, args.data,
                                 args.runs, args.out)  # fmt: skip
    print(f"results: {path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from alexnet_lab.augment import resize_for
    from alexnet_lab.chapters import device
    from alexnet_lab.data import eval_split, find_data
    from alexnet_lab.evaluate import evaluate
    from alexnet_lab.pack import PACKS, ensure_pack, load_pack
    from alexnet_lab.trained import load_run

    model, meta = load_run(args.checkpoint)
    model.to(device())  # the first GPU if there is one
    c = meta.config
    dataset = find_data(args.data, c.dataset)
    split = eval_split(dataset) if args.split == "val" else "train"
    path = ensure_pack(dataset, split, resize_for(c.image_size), None, PACKS)
    pack = load_pack(path)
    if pack["classes"] != meta.classes:
        raise ValueError(
            f"{dataset} has other classes than the checkpoint {args.checkpoint} was trained on"
        )
    result = evaluate(
        model, pack["images"], pack["labels"], c.image_size, meta.stats, ten=args.ten_crop
    )
    result.update(crops="ten" if args.ten_crop else "centre", split=split)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{split} ({result['n']} images, {result['crops']} crop): "
            f"top-1 {result['top1']:.2f}%, top-5 {result['top5']:.2f}%, loss {result['loss']:.3f}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from alexnet_lab import data

    parser = argparse.ArgumentParser(prog="alexnet-lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check-data", help="count images per split and class, list bad files")
    p.add_argument("path", help="a dataset folder (<path>/<split>/<class>/) or one split")
    p.set_defaults(func=_check_data)

    p = sub.add_parser("download", help="download the official Imagenette archive")
    p.add_argument("--data", help=f"data root (default: ${data.DATA_ENV} or data/)")
    p.add_argument("--size", default="160px", choices=sorted(data.IMAGENETTE_ARCHIVES))
    p.set_defaults(func=_download)

    p = sub.add_parser("layers", help="print the layer table (shapes, params, MACs, RF)")
    p.add_argument("--model", default="paper", choices=["paper", "torchvision"])
    p.add_argument("--size", type=int, default=224, help="input image side")
    p.add_argument("--classes", type=int, default=1000)
    p.set_defaults(func=_layers)

    profiles = ["smoke", "cpu", "gpu"]
    data_help = "a dataset folder, or the data root holding it (default: $ALEXNET_LAB_DATA)"
    p = sub.add_parser("pack", help="decode a profile's train and val images into packs/")
    p.add_argument("--profile", choices=profiles, help="default: $ALEXNET_LAB_PROFILE")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="override a field")
    p.add_argument("--data", help=data_help)
    p.add_argument("--out", help="folder for the packs (default: packs/ in the repository)")
    p.set_defaults(func=_pack)

    set_help = "override a config field, e.g. --set lrn=false --set seed=1 (repeatable)"
    p = sub.add_parser("train", help="train AlexNet with a profile's recipe and overrides")
    p.add_argument("--profile", choices=profiles, help="default: $ALEXNET_LAB_PROFILE")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help=set_help)
    p.add_argument("--data", help=data_help)
    p.add_argument("--out", help="run folder (default: runs/<profile>/<variant>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--compile", action="store_true", help="use torch.compile")
    p.set_defaults(func=_train)

    p = sub.add_parser("experiment", help="train every variant of a named study")
    p.add_argument("name", help="the study (see alexnet_lab.experiments.STUDIES)")
    p.add_argument("--profile", choices=profiles, help="default: $ALEXNET_LAB_PROFILE")
    p.add_argument("--data", help=data_help)
    p.add_argument("--runs", help="folder of the run folders (default: runs/)")
    p.add_argument("--out", help="results JSON (default: <runs>/<profile>/experiments/NAME.json)")
    p.set_defaults(func=_experiment)

    p = sub.add_parser(
        "scaling", help="time data-parallel training (torchrun, DDP) on 1, 2, 4 processes"
    )
    p.add_argument("--profile", choices=profiles, help="default: $ALEXNET_LAB_PROFILE")
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4], metavar="N")
    p.add_argument("--data", help=data_help)
    p.add_argument("--runs", help="folder of the run folders (default: runs/)")
    p.add_argument(
        "--out", help="results JSON (default: <runs>/<profile>/experiments/scaling.json)"
    )
    p.set_defaults(func=_scaling)

    p = sub.add_parser(
        "evaluate", help="top-1 and top-5 accuracy of a checkpoint (on a GPU if there is one)"
    )
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt or its run folder")
    p.add_argument("--data", help=data_help)
    p.add_argument("--split", default="val", choices=["train", "val"])
    p.add_argument("--ten-crop", action="store_true", help="average softmax over 10 patches")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 for a bad argument, file or folder (one line on
    stderr, no traceback), 130 when interrupted (Ctrl-C), start-up included. Other
    exceptions are bugs and propagate with their traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before the command started: while torch was loading
        print("\nalexnet-lab: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    from alexnet_lab import data
    from alexnet_lab.checkpoint import CheckpointError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"\nalexnet-lab {args.command}: interrupted", file=sys.stderr)
        return 130
    except (
        UsageError,
        data.DataNotFoundError,
        data.UnreadableImageError,
        ValueError,
        CheckpointError,
    ) as e:
        error = str(e)
    except OSError as e:  # a folder that cannot be written, a full disk, ...
        error = _os_error(e, args)
    print(f"alexnet-lab {args.command}: error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
