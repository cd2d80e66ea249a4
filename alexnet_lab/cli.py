"""The ``alexnet-lab`` command line."""

from __future__ import annotations

import argparse
import sys

from alexnet_lab import data
from alexnet_lab.classes import imagenet_classes


def _check_data(args: argparse.Namespace) -> int:
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
    print(data.download_imagenette(args.data, args.size))
    return 0


def _layers(args: argparse.Namespace) -> int:
    from alexnet_lab.layer_table import layer_table
    from alexnet_lab.model import AlexNet, TorchvisionAlexNet

    model = AlexNet(args.classes) if args.model == "paper" else TorchvisionAlexNet(args.classes)
    print(layer_table(model, args.size))
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (data.DataNotFoundError, data.UnreadableImageError, ValueError) as e:
        print(f"alexnet-lab {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
