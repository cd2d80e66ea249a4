"""What every chapter notebook prints first and last: its profile and its run time."""

from __future__ import annotations

import platform
import time

import torch

from alexnet_lab.profiles import Profile, get_profile


def device() -> torch.device:
    """The device chapters compute on: the first CUDA GPU if there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


class Chapter:
    """A running chapter: ``chapter.profile`` holds its sizes, ``chapter.done()`` its time."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.start = time.perf_counter()

    def done(self) -> None:
        """Print how long the chapter took to execute, and where."""
        seconds = time.perf_counter() - self.start
        print(
            f"Executed with profile '{self.profile.name}' in {seconds:.1f} s on {_device_name()}."
        )


def begin_chapter(profile: str | None = None, seed: int = 0) -> Chapter:
    """Seed torch, pick the profile (see :func:`get_profile`) and say which it is."""
    torch.manual_seed(seed)
    p = get_profile(profile)
    print(f"Profile '{p.name}': {p.image_size}px images, torch {torch.__version__.split('+')[0]}")
    return Chapter(p)
