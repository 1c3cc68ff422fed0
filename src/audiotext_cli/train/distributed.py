"""torchrun integration: rank/world from the environment, gloo on CPU, nccl on GPU."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_world(device: str) -> World:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend)
    return World(torch.distributed.get_rank(), size, int(os.environ.get("LOCAL_RANK", "0")))


def barrier(world: World) -> None:
    if world.size > 1:
        torch.distributed.barrier()


def all_gather_ids(ids: torch.Tensor, world: World) -> torch.Tensor:
    """Concatenate a small integer tensor from every rank (no gradient needed)."""
    if world.size == 1:
        return ids
    parts = [torch.empty_like(ids) for _ in range(world.size)]
    torch.distributed.all_gather(parts, ids)
    return torch.cat(parts)


@contextmanager
def joined_world(device: str) -> Iterator[World]:
    """The process group for the duration of a run, torn down even when the run fails."""
    world = init_world(device)
    try:
        yield world
    finally:
        if world.size > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
