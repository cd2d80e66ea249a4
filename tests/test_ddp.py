"""DistributedDataParallel on the CPU: 2 gloo processes train like 1 with the same batch."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from test_train import PROFILE, make_dataset

from alexnet_lab.checkpoint import load_checkpoint
from alexnet_lab.model import AlexNet
from alexnet_lab.train import train

# No dropout: its masks are drawn per process, so they cannot match one process.
DDP_PROFILE = dataclasses.replace(PROFILE, dropout=0.0, schedule="cosine")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: Path, data: Path, packs: Path) -> None:
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    torch.set_num_threads(1)
    train(DDP_PROFILE, out, data, packs=packs, bf16=False)
    assert not dist.is_initialized()  # train() closes the process group it opened


def test_two_gloo_processes_match_one_process(tmp_path):
    data, packs = make_dataset(tmp_path / "colours"), tmp_path / "packs"
    # float32: bf16 rounds differently for a batch of 8 and two of 4, which would hide the
    # gradient averaging this test is about.
    single = train(DDP_PROFILE, tmp_path / "one", data, packs=packs, bf16=False)
    mp.spawn(_worker, args=(2, _free_port(), tmp_path / "two", data, packs), nprocs=2)
    one = load_checkpoint(tmp_path / "one" / "checkpoint.pt")
    two = load_checkpoint(tmp_path / "two" / "checkpoint.pt")
    torch.manual_seed(0)
    init = AlexNet(3, init=DDP_PROFILE.init, dropout=0.0).state_dict()
    for name, w in one["model"].items():
        moved = (w - init[name]).abs().max()
        gap = (w - two["model"][name]).abs().max()
        assert moved > 0 and gap <= 1e-3 * moved + 1e-6, (name, moved, gap)
    for a, b in zip(single, two["history"], strict=True):
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-3
        assert a["val_top1"] == b["val_top1"]
        # every step, each process all-reduces every gradient once, in float32
        assert b["allreduce_bytes"] == 4 * sum(w.numel() for w in init.values())
        assert "allreduce_bytes" not in a
