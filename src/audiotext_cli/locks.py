"""Writer locks: OS file locks (flock) on a lock file inside the folder being written.

The kernel drops a flock when its holder dies, even by kill -9, so a stale lock never
needs cleaning: the next writer simply gets it. Two locks per folder:

- `writer_lock`: held for a whole write job (an `embed folder` run, an `index add`). A
  second writer is refused with one line (`wait=False`) or waits its turn (`wait=True`).
- `install_lock`: held exclusively while a writer renames files in, and shared by readers
  while they read, so a reader sees the old files or the new ones, never a mix.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audiotext_cli.errors import AudiotextError

WRITE_LOCK = ".write.lock"
INSTALL_LOCK = ".install.lock"


class LockedError(AudiotextError):
    """Another process is writing the same store or index."""


_held: dict[Path, int] = {}  # folders whose writer lock this process holds, with depth


def _open_lock(folder: Path, name: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    return os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o666)


@contextmanager
def writer_lock(folder: str | Path, *, wait: bool = False, what: str = "folder") -> Iterator[None]:
    """Hold the folder's writer lock; refuse (LockedError) when held and `wait` is False.

    Re-entrant within a process (a job holding the lock may call `append`, which takes it)."""
    folder = Path(folder)
    key = folder.resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    fd = _open_lock(folder, WRITE_LOCK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise LockedError(
                f"another process (pid {holder}) is writing this {what}; wait for it to finish",
                folder,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def install_lock(folder: str | Path, *, shared: bool) -> Iterator[None]:
    """Exclusive while files are renamed in; shared while a reader reads them.

    A reader of a folder it cannot write (read-only share) reads without the lock."""
    folder = Path(folder)
    if shared:
        try:
            fd = os.open(folder / INSTALL_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            yield
            return
    else:
        fd = _open_lock(folder, INSTALL_LOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
