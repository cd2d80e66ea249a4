"""A small JPEG copy of a dataset, to carry to a GPU machine that cannot reach the data.

The GPU machine of this project receives at most 64 MiB with the repository. Imagenette at
224 px is 155 MB; re-encoded at 128 px (JPEG quality 85) its whole train split is about
45 MB. Images keep the ``<split>/<class>/<file>`` layout, so every tool reads the copy
with ``--data``. The copy that ``bench/device_check.sh`` used, carried as one tar.gz (many
small files count more towards the limit than one archive):

    .venv/bin/python bench/device_data.py /work/shared/data/imagenette-224 \
        .devdata/imagenette-128 --side 128 --quality 85 --val-per-class 100
    tar czf .devpack/imagenette-128.tgz -C .devdata imagenette-128
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from torchvision.transforms import v2

from alexnet_lab.data import ImageFolder, load_rgb
from alexnet_lab.pack import first_per_class


def copy_split(
    src: Path, dst: Path, side: int, quality: int, per_class: int | None, workers: int = 2
) -> int:
    """Write the first ``per_class`` images of each class of ``src`` (all: None), resized
    so the short side is ``side`` and centre-cropped square, as JPEGs under ``dst``.

    Returns:
        The number of images written.
    """
    resize = v2.Compose([v2.Resize(side), v2.CenterCrop(side)])
    samples = first_per_class(ImageFolder(src), per_class)

    def write(sample: tuple[str, int]) -> None:
        path = Path(sample[0])
        out = dst / path.parent.name / (path.stem + ".JPEG")
        out.parent.mkdir(parents=True, exist_ok=True)
        resize(load_rgb(path)).save(out, "JPEG", quality=quality)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, samples))
    return len(samples)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="dataset folder with train/ and val/")
    p.add_argument("dst", type=Path, help="folder for the copy")
    p.add_argument("--side", type=int, default=128)
    p.add_argument("--quality", type=int, default=85)
    p.add_argument("--train-per-class", type=int, default=None, help="default: all")
    p.add_argument("--val-per-class", type=int, default=None, help="default: all")
    args = p.parse_args(argv)
    for split, n in (("train", args.train_per_class), ("val", args.val_per_class)):
        count = copy_split(args.src / split, args.dst / split, args.side, args.quality, n)
        size = sum(f.stat().st_size for f in (args.dst / split).rglob("*") if f.is_file())
        print(f"{split}: {count} images, {size / 2**20:.1f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
